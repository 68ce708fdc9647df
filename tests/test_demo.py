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
    shown = [
        "== 1/6 $ syncer validate",
        "== 2/6 $ syncer plan --allow-breaking-workflows",
        "== 3/6 $ syncer apply --auto-approve --allow-breaking-workflows --wait 20",
        "== 4/6 $ syncer drift",
        "== 5/6 $ syncer apply --auto-approve --environment staging",
        "== 6/6 $ syncer compare --from staging --to production",
        # environments: staging is built from the same files, then set against production
        "Plan: 2 to create, 0 to update, 0 to delete. (environment staging)",
        '+ mqttConfig.host: "broker.staging.example.com"',
        "      ~ enabled: false -> true (an override of staging)",
        '  + "Backup broker" (mqtt): only in production',
        "Converged: a fresh read of Losant matches the files.",
        '! used by 1 workflow: "Vehicle tracking" (trigger)',  # the plan shows the impact
        "Health after the writes:",
        "  connected      ~ update",
        "No drift. Live state matches the files.",
    ]
    for line in shown:
        assert line in out
    for never in ("demo-broker-password", "demo-line1-password", "Traceback"):
        assert never not in out + done.stderr
