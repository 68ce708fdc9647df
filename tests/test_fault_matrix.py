"""The fault matrix: syncer against the emulator's faults, end to end.

Each scenario checks what a user checks: the exit code, the message, and Losant's final state
(no duplicate, nothing deleted that should not be), and that running again converges.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from syncer.emulator.api import Emulator, EmulatorConfig
from syncer.emulator.faults import BAD_BODIES, FaultRule
from syncer.emulator.server import RunningEmulator
from syncer.emulator.testing import running_emulator
from tests.builders import APP, PARTICLE
from tests.e2e import edit_by_hand, run, tree, while_confirming, writes
from tests.helpers import failed

KEEP = {**PARTICLE, "name": "Keep"}
EDIT = [{**PARTICLE, "name": f"edit{i}"} for i in range(4)]
GONE = {**PARTICLE, "name": "Gone"}
NEW = {**PARTICLE, "name": "New"}
# live: KEEP, EDIT (enabled), GONE; files: KEEP, EDIT (disabled), NEW, GONE absent
LIVE: list[dict[str, Any]] = [KEEP, *EDIT, GONE]
FILES: list[dict[str, Any]] = [
    KEEP,
    *({**e, "enabled": False} for e in EDIT),
    NEW,
    {"name": "Gone", "absent": True},
]


@dataclass
class Scenario:
    name: str
    faults: list[FaultRule] = field(default_factory=list)
    args: tuple[str, ...] = ()
    exit_code: int = 0
    message: str = ""
    command: str = "apply"
    landing_late: bool = False  # a POST still commits after the run ends: wait for it before the rerun
    max_seconds: float | None = None  # the run must stop within this
    max_lists: int | None = None  # list requests the run may make


LOST = "not in Losant yet: it was not sent again, since it may still land"
FOUND = "found by reading again"
QUICK = ("--settle", "0.1")


SCENARIOS = [
    Scenario("429 storm with Retry-After", [FaultRule("429", times=6, retry_after="0")]),
    Scenario("429 storm without Retry-After", [FaultRule("429", on=("patch", "post"), times=6)]),
    Scenario(
        "5xx burst on list",
        [FaultRule("503", on=("list",), times=2), FaultRule("500", on=("list",), times=1)],
    ),
    Scenario("5xx burst on PATCH", [FaultRule("502", on=("patch",), times=3)]),
    Scenario("5xx on POST", [FaultRule("500", on=("post",), times=2)], QUICK, 1, LOST),
    Scenario("5xx burst on DELETE", [FaultRule("504", on=("delete",), times=2)]),
    Scenario("connection resets", [FaultRule("reset", on=("list", "patch"), times=3)]),
    Scenario("connection reset on POST", [FaultRule("reset", on=("post",), times=1)], QUICK, 1, LOST),
    Scenario(
        "list slower than the timeout",
        [FaultRule("slow", on=("list",), times=1, delay=1.5)],
        ("--timeout", "0.5"),
    ),
    Scenario(
        "PATCH slower than the timeout",
        [FaultRule("slow", on=("patch",), times=1, delay=1.5)],
        ("--timeout", "0.5"),
    ),
    Scenario("POST commit then drop", [FaultRule("drop", on=("post",), times=1)], QUICK, 0, FOUND),
    Scenario(
        "POST committed after the timeout, within the settle time",
        [FaultRule("late", on=("post",), times=1, delay=1.0)],
        ("--timeout", "0.3", "--settle", "1.5"),
        message=FOUND,
    ),
    Scenario(
        "POST committed after the timeout and the settle time",
        [FaultRule("late", on=("post",), times=1, delay=2.0)],
        ("--timeout", "0.3", "--settle", "0"),
        exit_code=1,
        message=LOST,
        landing_late=True,
    ),
    *(
        Scenario(
            f"POST answered 201 with body: {how}",
            [FaultRule("body", on=("post",), times=1, body=how)],
            QUICK,
            message=FOUND,
        )
        for how in BAD_BODIES
    ),
    *(
        Scenario(
            f"{action.upper()} answered 200 with body: {how}",
            [FaultRule("body", on=(action,), body=how)],
            QUICK,
            # a cut connection is retried (both are idempotent): a DELETE then finds it gone
            message="already gone (404)" if (action, how) == ("delete", "cut") else FOUND,
        )
        for action in ("patch", "delete")
        for how in BAD_BODIES
    ),
    Scenario(
        "list answered 200 with an HTML page",
        [FaultRule("body", on=("list",), times=1, body="html")],
        exit_code=1,
        message="the answer is not a page of integrations (HTML,",
    ),
    Scenario(
        "list answered 200 with JSON nested 100,000 levels",
        [FaultRule("body", on=("list",), times=1, body="deep")],
        exit_code=1,
        message="the answer is not a page of integrations (text that is not JSON",
    ),
    Scenario(
        "list answered 200 with a body cut short",
        [FaultRule("body", on=("list",), times=1, body="cut")],
    ),
    Scenario(
        "list trickled one byte at a time",
        [FaultRule("trickle", on=("list",), delay=0.05)],
        ("--timeout", "0.5", "--retry-time", "1"),
        exit_code=1,
        message="no answer in time (gave up after",
        max_seconds=4,
    ),
    Scenario(
        "list claiming a billion integrations",
        [FaultRule("lie", on=("list",), extra=10**9)],
        exit_code=1,
        message="the API claims 1,000,000,006 integrations in pages of 1000, more than any application holds",
        max_lists=1,
    ),
    Scenario(
        "list claiming 2,000 more than it serves",
        [FaultRule("lie", on=("list",), extra=2000)],
        exit_code=1,
        message="the API reported 2006 integrations, but page 0 served 6 where 1000 were due",
        max_lists=1,
    ),
    Scenario(
        "every PATCH refused",
        [FaultRule("500", on=("patch",))],
        ("--max-attempts", "1"),
        exit_code=1,
        message="Checked by a fresh read: the 2 done changes stuck; "
        "Losant does not match the files yet (4 failed): run apply again.",
    ),
    Scenario("PATCH commit then drop", [FaultRule("drop", on=("patch",), times=2)]),
    Scenario("DELETE commit then drop", [FaultRule("drop", on=("delete",), times=1)]),
    Scenario(
        "lying list",
        [FaultRule("lie", on=("list",), times=1, extra=2)],
        exit_code=1,
        message="is incomplete: the API reported 8 integrations, but page 0 served 6 where 8 were due",
    ),
    Scenario(
        "token rejected mid-run",
        [FaultRule("401", on=("patch",), after=2)],
        ("--parallelism", "1"),
        exit_code=1,
        message="401 Unauthorized: Access token has expired",
    ),
    Scenario(
        "server errors until the retries run out",
        [FaultRule("503", on=("patch",))],
        ("--max-attempts", "2", "--retry-time", "5"),
        exit_code=1,
        message="gave up after 2 attempts",
    ),
]


def _state(running: RunningEmulator) -> Counter[str]:
    return Counter(i["name"] for i in running.emulator.integrations(APP))


def _check_final_state(
    running: RunningEmulator, files: str, expect_converged: bool, landing_late: bool = False
) -> None:
    if landing_late:  # a POST that committed after the run: the rerun must see it, not duplicate it
        deadline = time.monotonic() + 5
        while "New" not in _state(running) and time.monotonic() < deadline:
            time.sleep(0.1)
    names = _state(running)
    assert all(count == 1 for count in names.values()), f"duplicates: {names}"
    assert names["Keep"] == 1  # never deleted
    assert set(names) <= {"Keep", "New", "Gone", *(e["name"] for e in EDIT)}
    if expect_converged:
        assert set(names) == {"Keep", "New", *(e["name"] for e in EDIT)}
    running.emulator.faults.clear()
    again = run(running, "apply", files, "--auto-approve")
    assert again.exit_code == 0, again.output
    final = run(running, "plan", files, "--detailed-exitcode")
    assert (final.exit_code, final.stdout) == (0, "No changes. Live state matches the files.\n")
    assert _state(running) == Counter({"Keep": 1, "New": 1, **{e["name"]: 1 for e in EDIT}})


@contextmanager
def _matrix(root: Path) -> Iterator[tuple[RunningEmulator, dict[str, str], str]]:
    """An emulator holding LIVE, the live ids by name, and FILES written under `root`."""
    with running_emulator() as running:
        ids = {r["name"]: r["id"] for r in running.emulator.seed(APP, LIVE)}
        yield running, ids, str(tree(root, *FILES))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_fault(scenario: Scenario, tmp_path: Path) -> None:
    with _matrix(tmp_path) as (running, _, files):
        running.emulator.faults.rules += scenario.faults
        started = time.monotonic()
        result = run(running, scenario.command, files, "--auto-approve", *scenario.args)
        elapsed = time.monotonic() - started
        assert result.exit_code == scenario.exit_code, result.output
        assert "Traceback" not in result.output
        if scenario.message:
            assert scenario.message in result.output
        if scenario.exit_code == 0:
            assert "Converged: a fresh read of Losant matches the files." in result.stdout
        else:
            assert "Converged" not in result.output
        if scenario.max_seconds is not None:
            assert elapsed < scenario.max_seconds
        if scenario.max_lists is not None:
            lists = [r for r in running.emulator.log if r["method"] == "GET"]
            assert len(lists) <= scenario.max_lists
        _check_final_state(running, files, scenario.exit_code == 0, scenario.landing_late)


def test_lying_list_writes_nothing(tmp_path: Path) -> None:
    with _matrix(tmp_path) as (running, _, files):
        running.emulator.faults.rules.append(FaultRule("lie", on=("list",), extra=2))
        result = run(running, "apply", files, "--auto-approve", "--prune")
        assert result.exit_code == 1
        assert writes(running) == []


def test_deleted_between_plan_and_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _matrix(tmp_path) as (running, ids, files):
        while_confirming(monkeypatch, lambda: running.emulator.store.applications[APP].pop(ids["edit1"]))
        result = run(running, "apply", files, "--parallelism", "1")
        assert result.exit_code == 1
        assert "deleted since it was read; run apply again to create it" in result.stdout
        monkeypatch.undo()
        _check_final_state(running, files, expect_converged=False)


def test_an_integration_edited_by_hand_during_the_apply_is_not_called_converged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _matrix(tmp_path) as (running, ids, files):
        # KEEP is in the files and in sync when planned; someone edits it before the writes
        by_hand = '{"particleConfig": {"accessToken": "by-hand"}}'
        while_confirming(monkeypatch, lambda: edit_by_hand(running, ids["Keep"], by_hand))
        result = run(running, "apply", files, "--format", "json")
        assert result.exit_code == 1
        report = json.loads(result.stdout)
        assert report["converged"] is False
        assert report["convergence"] == [
            "'Keep': update needed: Losant changed during the run (by hand, or another run); "
            "run plan to see it"
        ]


def test_saved_plan_refuses_an_integration_edited_or_deleted_since(tmp_path: Path) -> None:
    with _matrix(tmp_path / "f") as (running, ids, files):
        out = tmp_path / "plan.json"
        assert run(running, "plan", files, "--out", str(out)).exit_code == 0
        edit_by_hand(running, ids["edit0"], '{"topics": ["by-hand"]}')
        running.emulator.store.applications[APP].pop(ids["edit2"])
        running.emulator.log.clear()
        result = run(running, "apply", str(out), "--auto-approve")
        assert f"'edit0' ({ids['edit0']}) was changed in Losant since the plan" in failed(result)
        assert f"'edit2' ({ids['edit2']}) was deleted since the plan" in result.stderr
        assert writes(running) == []


@pytest.mark.parametrize("how", BAD_BODIES)
def test_saved_plan_recheck_stops_on_an_unreadable_answer(how: str, tmp_path: Path) -> None:
    with _matrix(tmp_path / "f") as (running, _, files):
        out = tmp_path / "plan.json"
        assert run(running, "plan", files, "--out", str(out)).exit_code == 0
        running.emulator.faults.rules.append(FaultRule("body", on=("get",), body=how))
        result = run(running, "apply", str(out), "--auto-approve", "--max-attempts", "2")
        assert result.exit_code == 1
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert "internal error" not in result.stderr
        assert writes(running) == []


def test_emulator_restarted_mid_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = str(tmp_path / "state.json")
    first = RunningEmulator(Emulator(EmulatorConfig(applications=(APP,), state_file=state, latency=0.01)))
    first.__enter__()
    port = first.server.server_address[1]
    first.emulator.seed(APP, LIVE)
    holder: dict[str, Any] = {}

    def restart() -> None:  # down for half a second, then back on the same port with its state
        first.stop()

        def later() -> None:
            time.sleep(0.5)
            emulator = Emulator(EmulatorConfig(applications=(APP,), state_file=state, latency=0.01))
            holder["second"] = RunningEmulator(emulator, port=port).__enter__()

        threading.Thread(target=later, daemon=True).start()

    files = str(tree(tmp_path / "f", *FILES))
    while_confirming(monkeypatch, restart)
    try:
        result = run(first, "apply", files)
        assert result.exit_code == 0, result.output
        assert "Converged" in result.stdout
        second = holder["second"]
        monkeypatch.undo()
        _check_final_state(second, files, expect_converged=True)
    finally:
        if "second" in holder:
            holder["second"].stop()


# Every character a glob gives meaning to, in names that a glob filter would miss or confuse
GLOB_NAMES = ["Line [1] broker", "*-broker", "broker?", "]odd[ name", "x\\*-broker", "[!a]*"]
CROWD = [{**PARTICLE, "name": f"x{n:04d}-broker"} for n in range(1001)] + [
    {**PARTICLE, "name": "Line 1 broker"}
]


def _glob_entries() -> list[dict[str, Any]]:
    return [{**NEW, "name": name} for name in GLOB_NAMES]


def test_lost_posts_of_glob_names_among_more_than_1000_matches_create_each_once(tmp_path: Path) -> None:
    with running_emulator() as running:
        running.emulator.seed(APP, CROWD)
        running.emulator.faults.rules.append(FaultRule("drop", on=("post",)))  # every answer is lost
        files = str(tree(tmp_path, *_glob_entries()))
        result = run(running, "apply", files, "--auto-approve", "--settle", "0")
        assert result.exit_code == 0, result.output
        assert result.stdout.count(FOUND) == len(GLOB_NAMES)
        names = _state(running)
        assert all(names[name] == 1 for name in GLOB_NAMES)
        assert sum(names.values()) == len(CROWD) + len(GLOB_NAMES)  # nothing else created or lost
        assert [r["method"] for r in writes(running)] == ["POST"] * len(GLOB_NAMES)
        assert not any("filter" in r["query"] for r in running.emulator.log)
        running.emulator.faults.clear()
        again = run(running, "plan", files, "--detailed-exitcode")
        assert again.exit_code == 0, again.output


def test_saved_plan_recheck_finds_a_glob_name_created_since_among_1000_matches(tmp_path: Path) -> None:
    with running_emulator() as running:
        running.emulator.seed(APP, CROWD)
        files = str(tree(tmp_path / "f", *_glob_entries()))
        out = tmp_path / "plan.json"
        assert run(running, "plan", files, "--out", str(out)).exit_code == 0
        running.emulator.seed(APP, [{**NEW, "name": "*-broker"}])  # someone creates one meanwhile
        running.emulator.log.clear()
        result = run(running, "apply", str(out), "--auto-approve")
        assert "create '*-broker' in application" in failed(result)
        assert writes(running) == []


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_list_holding_numbers_json_cannot_hold_stops_before_any_write(value: Any, tmp_path: Path) -> None:
    with running_emulator() as running:
        [record] = running.emulator.seed(APP, [KEEP])
        running.emulator.store.applications[APP][record["id"]]["enabled"] = value  # as a broken server would
        result = run(running, "apply", str(tree(tmp_path, *FILES)), "--auto-approve")
        assert "the answer is not a page of integrations (text that is not JSON" in failed(result)
        assert writes(running) == []


@pytest.mark.parametrize(
    "bad_id", ["../../../applications", "6b0b1289000000000000000?x", "", "6B0B" * 5 + "zz"]
)
def test_a_live_id_that_is_not_a_losant_id_stops_before_any_request_uses_it(
    bad_id: str, tmp_path: Path
) -> None:
    with running_emulator() as running:
        [record] = running.emulator.seed(APP, [GONE])
        store = running.emulator.store.applications[APP]
        store[bad_id] = {**store.pop(record["id"]), "id": bad_id}  # as a broken or hostile server would
        result = run(running, "apply", str(tree(tmp_path, *FILES)), "--auto-approve", "--prune")
        assert "an item's id is not a Losant id (24 hexadecimal characters)" in failed(result)
        assert writes(running) == []
