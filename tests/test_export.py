"""`syncer export`: the live integrations as a syncer file, secrets as placeholders."""

from __future__ import annotations

from pathlib import Path

from syncer.emulator.server import RunningEmulator
from syncer.emulator.testing import running_emulator
from tests.builders import APP, MQTT, MQTT_PASSWORD, PARTICLE, PARTICLE_TOKEN
from tests.e2e import run


def test_export_round_trip_plans_no_changes(tmp_path: Path) -> None:
    headers = [{"headerKey": "Authorization", "headerValue": "Bearer hv-445566"}]
    live = [
        {**MQTT, "topics": ["a/b"], "credentialName": "cred"},
        PARTICLE,
        {
            "name": "Feed",
            "integrationType": "websocket",
            "websocketConfig": {"url": "wss://x", "headers": headers},
        },
    ]
    with running_emulator() as running:
        running.emulator.seed(APP, live)
        running.emulator.seed_credentials(APP, [{"name": "cred", "type": "certificateKeyPair"}])
        out = tmp_path / "exported"
        result = run(running, "export", "--application", APP, "--out", str(out))
        assert result.exit_code == 0, result.output
        text = (out / f"{APP}.yaml").read_text()
        for secret in (MQTT_PASSWORD, PARTICLE_TOKEN, "hv-445566"):
            assert secret not in text
            assert secret not in result.output
        assert "${env:LINE_1_BROKER_MQTT_PASSWORD}" in text
        assert "disableSSLVerification" not in text  # a server default, not written back
        assert (out / "syncer.schema.json").exists()
        variables = [line.split()[0] for line in result.stderr.splitlines() if line.startswith("  ")]
        assert variables == [  # sorted by integration name, as the file is
            "FEED_WEBSOCKET_HEADER_AUTHORIZATION",
            "LINE_1_BROKER_MQTT_PASSWORD",
            "TRACKERS_PARTICLE_ACCESS_TOKEN",
        ]
        secrets = dict(zip(variables, ["Bearer hv-445566", MQTT_PASSWORD, PARTICLE_TOKEN], strict=True))
        planned = run(running, "plan", str(out), "--detailed-exitcode", env=secrets)
        assert (planned.exit_code, planned.stdout) == (0, "No changes. Live state matches the files.\n"), (
            planned.output
        )
        printed = run(running, "export", "--application", APP)
        assert printed.stdout == text


def test_export_refuses_twin_names_and_bad_ids(losant_emulator: RunningEmulator) -> None:
    twins = losant_emulator.emulator.seed(APP, [PARTICLE, PARTICLE])
    result = run(losant_emulator, "export", "--application", APP)
    assert result.exit_code == 1
    assert f"(ids {twins[0]['id']}, {twins[1]['id']})" in result.stderr
    assert run(losant_emulator, "export", "--application", "plant").exit_code == 1
