"""Who drifted it: `syncer drift` names, from the organisation's audit log, who changed or
deleted each integration outside git and when; without the scope (or the log) it says why not,
and it never shows what the log's request bodies hold."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import ClassVar

import pytest

from syncer.emulator.api import DEFAULT_TOKEN
from syncer.emulator.server import RunningEmulator
from tests.builders import APP, FLEET, particle
from tests.e2e import edit_by_hand, run, tree

JANE = ("Jane Doe", "User", "a1" * 12)
TOKENS = {DEFAULT_TOKEN: ("all.Application",), "ci": ("all.Application", "all.Organization.read")}
HAND_SECRET = "tok-by-hand-4412"


def _drifted(running: RunningEmulator, tmp_path: Path) -> str:
    """One integration edited by Jane (a secret in her request), one she deleted."""
    edited, gone = running.emulator.seed(APP, [particle("edited"), particle("gone")])
    edit_by_hand(running, edited["id"], json.dumps({"particleConfig": {"accessToken": HAND_SECRET}}))
    reply = running.emulator.handle(
        "DELETE",
        f"/applications/{APP}/integrations/{gone['id']}",
        {"authorization": f"Bearer {DEFAULT_TOKEN}"},
        b"",
    )
    assert reply.status == 200
    return str(tree(tmp_path, particle("edited"), particle("gone")))


@pytest.mark.emulator(tokens=TOKENS, actors={DEFAULT_TOKEN: JANE})
def test_drift_names_who_changed_and_who_deleted(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    files = _drifted(losant_emulator, tmp_path)
    result = run(losant_emulator, "drift", files, token="ci")
    assert result.exit_code == 2, result.output
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"
    assert re.search(rf"\n      # changed live by Jane Doe \(user\) at {when}\n", result.stdout)
    assert re.search(rf"\n      # deleted by Jane Doe \(user\) at {when}\n", result.stdout)
    assert HAND_SECRET not in result.output  # the log's request body holds it; it is never shown
    report = json.loads(run(losant_emulator, "drift", files, "--format", "json", token="ci").stdout)
    assert {d["name"]: d["attribution"].split(" at ")[0] for d in report["drift"]} == {
        "edited": "changed live by Jane Doe (user)",
        "gone": "deleted by Jane Doe (user)",
    }


@pytest.mark.emulator(tokens=TOKENS)
def test_without_the_scope_attribution_is_unavailable_and_says_why(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    files = _drifted(losant_emulator, tmp_path)
    result = run(losant_emulator, "drift", files)  # an application token
    assert result.exit_code == 2
    assert (
        "    # attribution unavailable: the token may not read the organization's audit log" in result.stdout
    )


@pytest.mark.emulator(tokens=TOKENS, owners={APP: ("user", "b2" * 12)})
def test_an_application_owned_by_a_user_has_no_log(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    files = _drifted(losant_emulator, tmp_path)
    result = run(losant_emulator, "drift", files, token="ci")
    assert "attribution unavailable: the application belongs to a user" in result.stdout


@pytest.mark.emulator(tokens=TOKENS)
def test_attribution_costs_nothing_without_drift_or_when_off(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [particle("same")])
    assert (
        run(losant_emulator, "drift", str(tree(tmp_path / "a", particle("same"))), token="ci").exit_code == 0
    )
    assert len(losant_emulator.emulator.log) == 1  # the list, nothing else
    losant_emulator.emulator.log.clear()
    files = _drifted(losant_emulator, tmp_path / "b")
    losant_emulator.emulator.log.clear()
    run(losant_emulator, "drift", files, "--attribution-days", "0", token="ci")
    assert len(losant_emulator.emulator.log) == 1


@pytest.mark.emulator(
    tokens={**TOKENS, "mallory": ("all.Application",)},
    actors={"mallory": ("Mallory", "User", "c3" * 12)},
    applications=(APP, FLEET),
    query_objects="json",  # a server that ignores the bracket-notation filter syncer sends
)
def test_someone_who_acted_on_another_application_is_never_named(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    [elsewhere] = losant_emulator.emulator.seed(FLEET, [particle("Dup")])
    reply = losant_emulator.emulator.handle(
        "DELETE",
        f"/applications/{FLEET}/integrations/{elsewhere['id']}",
        {"authorization": "Bearer mallory"},
        b"",
    )
    assert reply.status == 200
    files = str(tree(tmp_path, particle("Dup")))  # declared for APP, where it never existed
    result = run(losant_emulator, "drift", files, token="ci")
    assert result.exit_code == 2, result.output
    assert "Mallory" not in result.output
    assert "# attribution unavailable: no entry in the organization's audit log" in result.stdout


@pytest.mark.parametrize("total", ["abc", [1], {"n": 1}, True, None])
def test_an_audit_log_page_with_no_count_ends_the_search_not_the_run(total: object) -> None:
    """Attribution is a supplement: an audit-log page whose totalCount is no count stops the
    paging, and what was found stands; drift itself goes on."""
    from syncer.attribution import Wanted, attribute

    class Client:
        pages: ClassVar[list[int]] = []

        def application(self, app: str) -> dict[str, str]:
            return {"ownerType": "organization", "ownerId": "c3" * 12}

        def audit_logs_page(self, org: str, page: int, params: object) -> dict[str, object]:
            self.pages.append(page)
            return {"items": [{"creationDate": 0}], "totalCount": total}

    wanted = {APP: [Wanted(f"{APP}\x00x", "d4" * 12, "x", False)]}
    found = attribute(Client(), wanted, days=1, now_ms=86_400_000)  # type: ignore[arg-type]
    assert Client.pages == [0]
    assert found[f"{APP}\x00x"].unavailable.startswith("no entry in the organization's audit log")
