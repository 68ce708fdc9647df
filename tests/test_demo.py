"""`syncer demo`: the main job on a built-in emulator, with no account."""

from __future__ import annotations

import os
import subprocess

from tests.helpers import PYTHON_M_SYNCER


def test_demo_runs_the_main_job_with_no_account() -> None:
    done = subprocess.run(
        [*PYTHON_M_SYNCER, "demo"],
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("LOSANT")},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for step in (
        "== 1/6 $ syncer validate",
        "== 2/6 $ syncer plan --allow-breaking-workflows",
        "== 3/6 $ syncer apply --auto-approve --allow-breaking-workflows --wait 20",
        "== 4/6 $ syncer drift",
        "== 5/6 $ syncer apply --auto-approve --environment staging",
        "== 6/6 $ syncer compare --from staging --to production",
    ):
        assert step in out
    # environments: staging is built from the same files, then set against production
    assert "Plan: 2 to create, 0 to update, 0 to delete. (environment staging)" in out
    assert '+ mqttConfig.host: "broker.staging.example.com"' in out
    assert "      ~ enabled: false -> true (an override of staging)" in out
    assert '  + "Backup broker" (mqtt): only in production' in out
    assert "demo-broker-password" not in out + done.stderr
    assert "Converged: a fresh read of Losant matches the files." in out
    assert '! used by 1 workflow: "Vehicle tracking" (trigger)' in out  # the plan shows the impact
    assert "Health after the writes:" in out
    assert "  connected      ~ update" in out
    assert "No drift. Live state matches the files." in out
    assert "demo-line1-password" not in out + done.stderr
    assert "Traceback" not in out + done.stderr
