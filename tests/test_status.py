"""`syncer status`: is each managed integration connected, and does it match the files? One
list read per application; exit 2 with --detailed-exitcode when one is unhealthy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncer.emulator.server import RunningEmulator
from tests.builders import APP, broker, particle
from tests.e2e import edit_by_hand, run, tree

FAILING = {"bad broker": "Connection refused: bad username or password"}


@pytest.mark.emulator(failing=FAILING, connect_delay=0)
def test_status_says_which_integrations_are_connected_and_match(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    seeded = losant_emulator.emulator.seed(
        APP, [particle("good"), particle("edited"), {**particle("off"), "enabled": False}, particle("stray")]
    )
    # "bad broker" is written through the API, so its (failing) connection is after a write
    files = str(
        tree(
            tmp_path,
            particle("good"),
            particle("edited"),
            {**particle("off"), "enabled": False},
            broker("bad broker"),
            particle("never applied"),
        )
    )
    assert run(losant_emulator, "apply", files, "--auto-approve", "--target", "bad broker").exit_code == 0
    edit_by_hand(losant_emulator, seeded[1]["id"], '{"particleConfig": {"accessToken": "tok-by-hand"}}')
    losant_emulator.emulator.log.clear()

    result = run(losant_emulator, "status", files, "--format", "json", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert len(losant_emulator.emulator.log) == 1  # one list read
    report = json.loads(result.stdout)
    rows = {r["name"]: (r["state"], r["matchesFiles"], r["healthy"]) for r in report["integrations"]}
    assert rows == {
        "good": ("connected", "yes", True),
        "edited": ("connected", "differs", True),
        "off": ("disabled", "yes", True),
        "bad broker": ("failed", "yes", False),
        "never applied": ("missing", "missing live", True),
    }  # "stray" is not managed: no file declares it
    bad = next(r for r in report["integrations"] if r["name"] == "bad broker")
    assert bad["error"] == FAILING["bad broker"]
    assert report["summary"]["unhealthy"] == 1

    text = run(losant_emulator, "status", files)
    assert text.exit_code == 0  # without --detailed-exitcode, a report is not an error
    assert '  "bad broker" (mqtt): failed at ' in text.stdout
    assert text.stdout.endswith("5 managed integrations: 1 unhealthy.\n")
    markdown = run(losant_emulator, "status", files, "--format", "markdown")
    assert "| Integration | State | Last keep-alive | Matches the files |" in markdown.stdout


def test_all_healthy_exits_0(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.seed(APP, [particle("good")])
    result = run(losant_emulator, "status", str(tree(tmp_path, particle("good"))), "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("1 managed integration: all connected (or disabled).\n")
