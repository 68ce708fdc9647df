"""Saved plans on plain values: a plan written with `plan --out`, then rebuilt at apply time from
the files and the touched integrations read again, is refused, naming why, whenever it no
longer holds exactly (syncer.planfile.replan_saved, staleness)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from syncer.desired import DesiredState
from syncer.errors import SyncerError
from syncer.live import LiveState
from syncer.plan import make_plan
from syncer.planfile import SavedPlan, plan_key, read_plan_file, replan_saved, staleness, write_plan_file
from syncer.render.jsonplan import change_json
from syncer.secrets import Path as SecretPath
from tests.builders import APP, MQTT, PARTICLE, desired, live

KEY = plan_key({}, "emulator-token")
BROKER_ID = "a" * 24
# the plan: enable the broker, create the trackers
BROKER_LIVE: dict[str, Any] = {**MQTT, "id": BROKER_ID, "enabled": False}
FILES = desired({**MQTT, "enabled": True}, PARTICLE)
LATER = "2026-02-01T00:00:00.000Z"  # the live lastUpdated is 2026-01-01T00:00:00.000Z


@pytest.fixture
def saved(tmp_path: Path) -> SavedPlan:
    path = str(tmp_path / "plan.json")
    plan = make_plan(FILES, live(BROKER_LIVE))
    write_plan_file(path, plan, FILES, key=KEY, paths=["."], api_url="http://127.0.0.1:8765", prune=False)
    return read_plan_file(path, KEY)


def _refusals(saved: SavedPlan, files: DesiredState, now: LiveState, gone: Iterable[str] = ()) -> list[str]:
    """Why the saved plan is refused now (each reason once, without the plan file's path)."""
    with pytest.raises(SyncerError) as refused:
        replan_saved(KEY, saved, files, now, set(gone))
    assert refused.value.message == (
        f"{saved.path}: the saved plan is stale; nothing was changed: make a new plan"
    )
    return [p.message.removeprefix(f"{saved.path}: ") for p in refused.value.problems]


def test_an_unchanged_saved_plan_is_rebuilt_exactly(saved: SavedPlan) -> None:
    now = live(BROKER_LIVE)
    rebuilt = replan_saved(KEY, saved, FILES, now, set())
    assert [(c.action, c.name) for c in rebuilt.changes] == [
        ("update", "Line 1 broker"),
        ("create", "Trackers"),
    ]
    assert [change_json(c)["requests"] for c in rebuilt.changes] == [r["requests"] for r in saved.changes]
    assert staleness(KEY, saved, FILES, make_plan(FILES, now).changes, set()) == []


def test_a_saved_plan_keeps_its_order(saved: SavedPlan) -> None:
    # the fresh plan may come out in another order; apply follows the file
    reordered = DesiredState(tuple(reversed(FILES.integrations)), FILES.files, FILES.applications)
    rebuilt = replan_saved(KEY, saved, reordered, live(BROKER_LIVE), set())
    assert [c.name for c in rebuilt.changes] == [r["name"] for r in saved.changes]


def test_an_integration_edited_live_since_the_plan_is_refused(saved: SavedPlan) -> None:
    touched = {**BROKER_LIVE, "lastUpdated": LATER}
    assert _refusals(saved, FILES, live(touched)) == [
        f"'Line 1 broker' ({BROKER_ID}) was changed in Losant since the plan "
        f"(lastUpdated 2026-01-01T00:00:00.000Z -> {LATER})"
    ]


def test_a_field_changed_live_under_the_same_last_updated_is_refused(saved: SavedPlan) -> None:
    # a field the files leave alone: the requests stay the same, the integration did not
    edited = {**BROKER_LIVE, "credentialName": "broker-cert"}
    assert _refusals(saved, FILES, live(edited)) == [
        f"'Line 1 broker' ({BROKER_ID}) was changed in Losant since the plan "
        "(lastUpdated 2026-01-01T00:00:00.000Z -> 2026-01-01T00:00:00.000Z)"
    ]


def test_an_integration_deleted_live_since_the_plan_is_refused(saved: SavedPlan) -> None:
    assert _refusals(saved, FILES, live(), gone=[BROKER_ID]) == [
        f"'Line 1 broker' ({BROKER_ID}) was deleted since the plan"
    ]


def test_a_change_made_by_hand_meanwhile_is_no_longer_called_for(saved: SavedPlan) -> None:
    fixed = {**BROKER_LIVE, "enabled": True, "lastUpdated": LATER}
    assert _refusals(saved, FILES, live(fixed)) == [
        f"update 'Line 1 broker' in application {APP} is no longer what the files and Losant call for"
    ]


def test_a_change_new_since_the_plan_is_refused(saved: SavedPlan) -> None:
    # the trackers were to be created; someone created them meanwhile, with another token
    created = {**PARTICLE, "id": "b" * 24, "particleConfig": {"accessToken": "tok-by-hand"}}
    assert _refusals(saved, FILES, live(BROKER_LIVE, created)) == [
        f"create 'Trackers' in application {APP} is no longer what the files and Losant call for",
        f"update 'Trackers' in application {APP} is new since the plan",
    ]


def test_files_that_now_ask_for_other_requests_are_refused(saved: SavedPlan) -> None:
    files = desired({**MQTT, "enabled": True, "topics": ["plant/line1", "plant/line2"]}, PARTICLE)
    assert _refusals(saved, files, live(BROKER_LIVE)) == [
        "the requests for 'Line 1 broker' differ from the plan"
    ]


@pytest.mark.parametrize(
    ("variable", "reason"),
    [
        (None, "the secret particleConfig.accessToken of 'Trackers' is not the one planned"),
        (
            "TRACKERS_TOKEN",
            "the secret particleConfig.accessToken of 'Trackers' is not the one planned "
            "(environment variable TRACKERS_TOKEN changed)",
        ),
    ],
    ids=["written in the files", "read from the environment"],
)
def test_a_secret_other_than_the_one_planned_is_refused(
    saved: SavedPlan, variable: str | None, reason: str
) -> None:
    files = desired({**MQTT, "enabled": True}, {**PARTICLE, "particleConfig": {"accessToken": "tok-rotated"}})
    if variable is not None:  # the files read it from the environment
        refs: dict[SecretPath, tuple[str, ...]] = {("particleConfig", "accessToken"): (variable,)}
        files = replace(
            files,
            integrations=tuple(
                replace(i, env_refs=refs) if i.name == "Trackers" else i for i in files.integrations
            ),
        )
    assert _refusals(saved, files, live(BROKER_LIVE)) == [reason]


def test_files_changed_outside_the_plan_are_refused(saved: SavedPlan) -> None:
    # an entry the plan does not touch: its requests are the same, the files are not
    files = desired({**MQTT, "enabled": True}, PARTICLE, {**PARTICLE, "name": "Spare", "absent": True})
    assert _refusals(saved, files, live(BROKER_LIVE)) == [
        "the files (or the variables they read) changed since the plan"
    ]
