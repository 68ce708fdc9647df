"""Applied is not working: `apply --wait` reads each written integration's status until it
connected or failed after the write, one list read per application per poll, and says so per
change; a failed connection fails the run."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from syncer.emulator.faults import FaultRule
from syncer.emulator.server import RunningEmulator
from syncer.health import Health, current_health, epoch_ms, wait_for_health
from tests.builders import APP, FLEET, broker, particle
from tests.e2e import actions_env, auto_apply, run, step_outputs, syncer_process, tree


def _lists(running: RunningEmulator) -> int:
    return sum(
        1 for r in running.emulator.log if r["method"] == "GET" and str(r["path"]).endswith("/integrations")
    )


@pytest.mark.emulator(connect_delay=0.3)
def test_apply_waits_until_each_written_integration_connected(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [particle("edited", "tok-old-1")])
    files = str(tree(tmp_path, particle("edited", "tok-new-1"), broker("new broker")))
    result = run(losant_emulator, "apply", files, "--auto-approve", "--wait", "10", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["health"] == {"connected": 2, "failed": 0, "noStatusYet": 0, "disabled": 0, "unknown": 0}
    assert {c["name"]: c["health"] for c in report["changes"]} == {
        "edited": {"state": "connected", "error": None},
        "new broker": {"state": "connected", "error": None},
    }


@pytest.mark.emulator(
    connect_delay=0.2, failing={"new broker": "Connection refused: bad username or password"}
)
def test_a_connection_that_fails_after_the_write_fails_the_run(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = actions_env(tmp_path)
    files = str(tree(tmp_path / "f", broker("new broker"), particle("fine")))
    result = run(losant_emulator, "apply", files, "--auto-approve", "--wait", "10", env=env)
    assert result.exit_code == 1
    assert "Health after the writes:" in result.stdout
    assert (
        '  failed         + create "new broker" (mqtt): Connection refused: bad username or password'
        in result.stdout
    )
    assert '  connected      + create "fine" (particle)' in result.stdout
    assert step_outputs(env)["unhealthy"] == "1"
    assert "Health after the writes" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()


@pytest.mark.emulator(connect_delay=30)
def test_no_status_within_the_wait_is_said_and_is_not_a_failure(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    result = run(
        losant_emulator, "apply", str(tree(tmp_path, particle("slow"))), "--auto-approve", "--wait", "1"
    )
    assert result.exit_code == 0, result.output
    assert '  no status yet  + create "slow" (particle)' in result.stdout


@pytest.mark.emulator(connect_delay=0.5, applications=(APP, FLEET))
def test_each_poll_is_one_list_read_per_application(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    root = tmp_path / "files"
    tree(root / "plant", *[particle(f"p{i}") for i in range(20)])
    tree(root / "fleet", *[particle(f"f{i}") for i in range(20)], app=FLEET)
    result = run(losant_emulator, "apply", str(root), "--auto-approve", "--wait", "10")
    assert result.exit_code == 0, result.output
    # one read of both applications to plan, one to verify, then per poll one per application
    polls = (_lists(losant_emulator) - 4) / 2
    assert polls == int(polls)
    assert 1 <= polls <= 6  # 0.5 s to connect, polled every 2 s: a handful at most, never one per integration


def test_without_wait_nothing_is_read_again(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    result = run(
        losant_emulator, "apply", str(tree(tmp_path, particle("x"))), "--auto-approve", "--format", "json"
    )
    assert json.loads(result.stdout)["health"] is None
    assert _lists(losant_emulator) == 2  # plan and verify


# -- the rules, on plain values ------------------------------------------------------------------

WRITE = "2026-11-28T10:00:00.000Z"
WRITE_MS = 1795860000000.0


def _item(**status: object) -> dict[str, object]:
    return {"id": "a" * 24, "enabled": True, "lastUpdated": WRITE, "status": status}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({}, Health("no status yet")),
        ({"connectInfo": {"ts": WRITE_MS - 5}}, Health("no status yet")),  # connected before the write
        ({"connectInfo": {"ts": WRITE_MS + 5}}, Health("connected", since_ms=WRITE_MS + 5)),
        (
            {"connectInfo": {"ts": WRITE_MS - 5}, "disconnectInfo": {"ts": WRITE_MS + 9, "error": "refused"}},
            Health("failed", "refused", WRITE_MS + 9),
        ),
        (  # failed, then connected again after: connected
            {
                "connectInfo": {"ts": WRITE_MS + 20},
                "disconnectInfo": {"ts": WRITE_MS + 9, "error": "refused"},
            },
            Health("connected", since_ms=WRITE_MS + 20),
        ),
        ({"disconnectInfo": {"ts": WRITE_MS + 9}}, Health("no status yet")),  # a disconnect is not an error
    ],
)
def test_health_counts_only_what_happened_after_the_write(
    status: dict[str, object], expected: Health
) -> None:
    from syncer.health import epoch_ms

    assert epoch_ms(WRITE) == WRITE_MS
    assert current_health(_item(**status), WRITE_MS) == expected


def test_a_disabled_integration_is_not_waited_for() -> None:
    assert current_health({**_item(), "enabled": False}, WRITE_MS).state == "disabled"


def test_waiting_stops_at_the_deadline_and_on_interrupt() -> None:
    now = [0.0]
    reads: list[list[str]] = []

    def read(apps: Sequence[str]) -> Mapping[str, Sequence[Mapping[str, Any]]]:
        reads.append(list(apps))
        return {APP: [_item()]}

    def pause(seconds: float) -> bool:
        now[0] += seconds
        return False

    health = wait_for_health(read, {"a" * 24: APP}, seconds=5, interval=2, pause=pause, clock=lambda: now[0])
    assert health == {"a" * 24: Health("no status yet")}
    assert len(reads) == 4  # at 0, 2, 4 and 5 s
    interrupted = wait_for_health(
        read, {"a" * 24: APP}, seconds=60, interval=2, pause=lambda s: True, clock=lambda: 0
    )
    assert interrupted["a" * 24].state == "no status yet"


# --- what a hostile review found --------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [None, "yesterday", 1e300, -5, float("nan"), True, {"ts": 1}],
    ids=["absent", "not a date", "beyond any calendar", "negative", "NaN", "a boolean", "a mapping"],
)
def test_without_a_readable_write_time_no_old_connection_counts_as_new(written: Any) -> None:
    # the integration connected long ago and has not reconnected since the write: its old
    # connection must never read as "connected after the write"
    item = {"id": "i1", "status": {"connectInfo": {"ts": 1_000}}}
    if written is not None:
        item["lastUpdated"] = written
    health = wait_for_health(
        lambda apps: {APP: [item]},
        {"i1": APP},
        seconds=0,
        interval=1,
        pause=lambda seconds: False,
        clock=lambda: 0.0,
    )
    assert health["i1"] == Health("unknown", "Losant gave no readable lastUpdated")


@pytest.mark.parametrize("stamp", [1e300, -1e15, 1e20, 1e18, float("inf"), "9999-99-99"])
def test_a_status_time_no_calendar_shows_is_no_time(stamp: Any) -> None:
    assert epoch_ms(stamp) is None
    status = {"connectInfo": {"ts": stamp}, "disconnectInfo": {"ts": stamp, "error": "x"}}
    assert current_health({"status": status}) == Health("no status yet")


@pytest.mark.emulator(connect_delay=30)
def test_a_failed_read_while_waiting_keeps_the_account_of_the_writes(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = actions_env(tmp_path)
    files = str(tree(tmp_path / "f", particle("written")))
    # the plan's read and the read after the writes pass; every read while waiting fails
    losant_emulator.emulator.faults.rules.append(FaultRule("500", on=("list",), after=2))
    result = auto_apply(
        losant_emulator, files, "--wait", "5", "--max-attempts", "1", "--format", "json", env=env
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert (report["summary"]["done"], report["converged"]) == (1, True)
    assert report["changes"][0]["health"]["state"] == "unknown"
    assert report["changes"][0]["health"]["error"].startswith("status could not be read: GET /applications/")
    outputs = step_outputs(env)
    assert (outputs["done"], outputs["converged"], outputs["unhealthy"], outputs["error"]) == (
        "1",
        "true",
        "1",
        "false",
    )


@pytest.mark.emulator(connect_delay=30)
def test_an_interrupt_while_waiting_says_so_and_exits_130(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    files = str(tree(tmp_path, particle("slow")))
    process = syncer_process(
        losant_emulator, "apply", files, "--auto-approve", "--wait", "60", "--format", "json"
    )
    deadline = time.monotonic() + 20
    while not any(r["method"] == "POST" for r in losant_emulator.emulator.log):  # written: now waiting
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 130
    report = json.loads(out)
    assert (report["interrupted"], report["summary"]["done"]) == (True, 1)
    assert report["stopped"] == "interrupted while waiting for the integrations to connect"
