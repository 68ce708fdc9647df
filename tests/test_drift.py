"""`syncer drift`: how Losant differs from the files, and which way."""

from __future__ import annotations

import json
from pathlib import Path

from syncer.emulator.server import RunningEmulator
from tests.builders import APP, MQTT, MQTT_PASSWORD, PARTICLE, PARTICLE_TOKEN
from tests.e2e import run, tree, writes


def _drifted(running: RunningEmulator) -> None:
    running.emulator.seed(
        APP,
        [
            {**MQTT, "mqttConfig": {**MQTT["mqttConfig"], "port": 1883, "password": "edited-pw-1"}},
            {**PARTICLE, "name": "Hand made"},
        ],
    )


def test_drift_in_sync_exits_0(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.seed(APP, [MQTT])
    result = run(losant_emulator, "drift", str(tree(tmp_path, MQTT)))
    assert (result.exit_code, result.stdout) == (0, "No drift. Live state matches the files.\n")


def test_drift_says_which_way_each_integration_drifted(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    _drifted(losant_emulator)
    files = str(tree(tmp_path, MQTT, PARTICLE))
    result = run(losant_emulator, "drift", files)
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert any(line.startswith('  ~ changed live: "Line 1 broker" (mqtt)') for line in lines)
    assert "      mqttConfig.password: sensitive value differs" in lines
    assert "      mqttConfig.port: live 1883, files 8883" in lines
    assert any(line.startswith('  - missing live: "Trackers" (particle)') for line in lines)
    assert any(line.startswith('  + created outside git: "Hand made" (particle)') for line in lines)
    assert lines[-1] == (
        "Drift: 3 integrations differ from the files (1 changed live, 1 missing live, 1 created outside git)."
    )
    for secret in (MQTT_PASSWORD, "edited-pw-1", PARTICLE_TOKEN):
        assert secret not in result.output
    assert writes(losant_emulator) == []
    report = json.loads(run(losant_emulator, "drift", files, "--format", "json").stdout)
    assert report["inSync"] is False
    assert sorted(d["direction"] for d in report["drift"]) == [
        "changed-live",
        "created-outside-git",
        "missing-live",
    ]
    password = next(f for d in report["drift"] for f in d["fields"] if f["path"] == "mqttConfig.password")
    assert password == {
        "path": "mqttConfig.password",
        "sensitive": True,
        "live": "(sensitive)",
        "files": "(sensitive)",
    }
    markdown = run(losant_emulator, "drift", files, "--format", "markdown").stdout
    assert markdown.startswith("<!-- syncer-drift -->\n### syncer drift\n\n**Drift: 3 integrations differ")


def test_drift_errors_exit_1(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    assert run(losant_emulator, "drift", str(tree(tmp_path, MQTT)), token="bad").exit_code == 1
