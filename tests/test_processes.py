"""syncer as separate processes: several applies at once, and an apply stopped by a signal.

Each test starts the emulator in this process and runs `python -m syncer` as a child, exactly
as a shell or GitHub Actions would.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from syncer.emulator.server import RunningEmulator
from syncer.emulator.testing import running_emulator
from tests.builders import APP, PARTICLE
from tests.e2e import run, syncer_process, tree, writes


def _particle(name: str, enabled: bool = True) -> dict[str, Any]:
    return {**PARTICLE, "name": name, "enabled": enabled}


def _names(running: RunningEmulator) -> Counter[str]:
    return Counter(i["name"] for i in running.emulator.integrations(APP))


@pytest.mark.parametrize("processes", [2, 4])
def test_concurrent_applies_end_with_one_integration_per_name(processes: int, tmp_path: Path) -> None:
    wanted = [_particle(f"line {n:02d}") for n in range(40)]
    with running_emulator(latency=0.02, jitter=0.02) as running:
        files = str(tree(tmp_path, *wanted))
        children = [syncer_process(running, "apply", files, "--auto-approve") for _ in range(processes)]
        for child in children:
            out, err = child.communicate(timeout=120)
            # a run either converges, or planned while the others' twins were still there and
            # refused to plan (the twins are ambiguous): it then wrote nothing
            refused = child.returncode == 1 and "cannot plan:" in err and "Apply:" not in out
            assert child.returncode == 0 or refused, out + err
            assert "Traceback" not in out + err
        assert _names(running) == Counter({w["name"]: 1 for w in wanted})
        posts = [r for r in writes(running) if r["method"] == "POST"]
        deletes = [r for r in writes(running) if r["method"] == "DELETE"]
        assert len(posts) - len(deletes) == 40  # every extra copy was removed by the run that made it
        again = run(running, "apply", files, "--auto-approve")
        assert (again.exit_code, again.stdout) == (0, "No changes. Live state matches the files.\n")
        assert run(running, "plan", files, "--detailed-exitcode").exit_code == 0


def _wait_for_writes(running: RunningEmulator, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(writes(running)) < count:
        assert time.monotonic() < deadline, "the apply did not start writing"
        time.sleep(0.01)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_apply_sending_and_reports_every_change(signum: int, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    outputs = tmp_path / "outputs.txt"
    live = [_particle(f"p{n:03d}") for n in range(240)]
    with running_emulator(latency=0.025) as running:
        running.emulator.seed(APP, live)
        files = str(tree(tmp_path / "files", *(_particle(p["name"], enabled=False) for p in live)))
        actions = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(outputs),
        }
        child = syncer_process(running, "apply", files, "--auto-approve", "--parallelism", "4", env=actions)
        _wait_for_writes(running, 48)
        child.send_signal(signum)
        at_signal = len(writes(running))
        out, err = child.communicate(timeout=30)
        code = child.returncode
        time.sleep(0.2)  # anything still in the emulator lands
        sent = len(writes(running))
    assert code == 130, out + err
    assert sent <= at_signal + 4  # at most the requests that were in flight
    head = next(line for line in out.splitlines() if line.startswith("Apply: "))
    done = int(head.split()[1])
    assert head == f"Apply: {done} done, 0 failed, {240 - done} not attempted."
    assert done == sent
    assert f"Stopped: interrupted ({signal.Signals(signum).name}): nothing new was sent." in out
    assert "Not checked against Losant: interrupted." in out
    assert "Converged" not in out
    disabled = sum(1 for i in running.emulator.integrations(APP) if not i["enabled"])
    assert disabled == done  # the report says exactly what Losant holds
    assert head in summary.read_text()
    assert "converged=false" in outputs.read_text()


def test_a_second_signal_quits_at_once_and_still_reports(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    live = [_particle(f"p{n:03d}") for n in range(40)]
    with running_emulator() as running:
        running.emulator.seed(APP, live)
        # every PATCH hangs far longer than the test: only quitting at once ends the run quickly
        running.emulator.faults.rules.append(_slow_patches())
        files = str(tree(tmp_path / "files", *(_particle(p["name"], enabled=False) for p in live)))
        actions = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
        child = syncer_process(running, "apply", files, "--auto-approve", "--parallelism", "2", env=actions)
        deadline = time.monotonic() + 30
        while sum(1 for r in running.emulator.log if r["method"] == "PATCH") < 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        child.send_signal(signal.SIGINT)
        time.sleep(0.3)
        assert child.poll() is None  # the first signal waits for the requests in flight
        started = time.monotonic()
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=10)
        code = child.returncode
        quit_after = time.monotonic() - started
    assert code == 130, out + err
    assert quit_after < 3
    assert "Apply: 0 done, 0 failed, 2 uncertain, 38 not attempted." in out
    assert "still in flight when the run was stopped" in out
    assert "Apply: 0 done, 0 failed, 2 uncertain, 38 not attempted." in summary.read_text()


def _slow_patches() -> Any:
    from syncer.emulator.faults import FaultRule

    return FaultRule("slow", on=("patch",), delay=60)


def _interrupt(child: subprocess.Popen[str]) -> tuple[str, str, float]:
    """Ctrl-C: what the child printed, and how many seconds it took to exit."""
    started = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=20)
    return out, err, time.monotonic() - started


@pytest.mark.parametrize("status", ["503", "429"])
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_signal_during_the_reads_stops_at_once_and_sends_nothing_more(
    command: str, status: str, tmp_path: Path
) -> None:
    from syncer.emulator.faults import FaultRule

    with running_emulator() as running:
        # every list answer asks to come back in 10 s: without cancelling, the run would wait
        running.emulator.faults.rules.append(FaultRule(status, on=("list",), retry_after="10"))
        files = str(tree(tmp_path, _particle("p000")))
        report = tmp_path / "report.md"
        report.write_text("an earlier run's report\n")
        extra = "--auto-approve" if command == "apply" else "--prune"
        child = syncer_process(running, command, files, extra, "--report", str(report))
        deadline = time.monotonic() + 30
        while not running.emulator.log:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.2)  # the client is now waiting out the Retry-After
        out, err, took = _interrupt(child)
        requests = len(running.emulator.log)
        time.sleep(0.5)
        assert len(running.emulator.log) == requests == 1  # no retry after the signal
    assert child.returncode == 130, out + err
    assert took < 3
    assert "SIGINT: stopping; nothing was written." in err
    assert "Traceback" not in out + err
    assert "interrupted before any write; nothing was written" in report.read_text()  # not stale


def test_a_signal_during_the_settle_wait_stops_within_the_timeout(tmp_path: Path) -> None:
    from syncer.emulator.faults import FaultRule

    with running_emulator() as running:
        running.emulator.faults.rules.append(FaultRule("drop", on=("post",)))  # the answer is lost
        files = str(tree(tmp_path, _particle("p000")))
        child = syncer_process(running, "apply", files, "--auto-approve", "--settle", "60", "--timeout", "1")
        deadline = time.monotonic() + 30
        while not writes(running):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.5)  # now waiting --settle seconds before looking for the POST
        out, err, took = _interrupt(child)
    assert child.returncode == 130, out + err
    assert took < 3
    assert "Apply: 0 done, 0 failed, 1 uncertain, 0 not attempted." in out
    assert "Not checked against Losant: interrupted." in out


def test_a_wait_longer_than_the_retry_time_is_not_waited(tmp_path: Path) -> None:
    """--retry-time bounds a request's retries: a Retry-After beyond it ends the request at once
    (no attempt would follow the wait), and --retry-time 0 is one attempt, said plainly."""
    from syncer.emulator.faults import FaultRule

    with running_emulator() as running:
        running.emulator.faults.rules.append(FaultRule("429", on=("list",), retry_after="20"))
        files = str(tree(tmp_path, _particle("p000")))
        for budget in ("1", "0"):
            started = time.monotonic()
            result = run(running, "plan", files, "--retry-time", budget)
            assert time.monotonic() - started < 5, budget
            assert result.exit_code == 1, result.output
            assert "429" in result.stderr
            assert "Warning" not in result.stderr
