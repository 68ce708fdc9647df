"""`syncer export`: the live integrations as a syncer file, secrets as placeholders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from syncer.emulator.server import RunningEmulator
from syncer.emulator.testing import running_emulator
from syncer.errors import SyncerError
from syncer.export import Export, export_application
from tests.builders import APP, MQTT, MQTT_PASSWORD, PARTICLE, PARTICLE_TOKEN, live
from tests.e2e import run
from tests.helpers import failed


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
    assert f"(ids {twins[0]['id']}, {twins[1]['id']})" in failed(result)
    assert run(losant_emulator, "export", "--application", "plant").exit_code == 1


# --- export_application on plain values ----------------------------------------------------------

FEED: dict[str, Any] = {
    "name": "Feed",
    "integrationType": "websocket",
    "websocketConfig": {
        "url": "wss://feed.example.com",
        "headers": [{"headerKey": "Authorization", "headerValue": "Bearer hv-445566"}],
    },
}
NOT_SHOWN = " (Losant does not show it: set the value it should have)"


def _export(*items: dict[str, Any]) -> tuple[Export, list[dict[str, Any]]]:
    """export_application on live records built from `items`: the result and its entries."""
    result = export_application(APP, live(*items).integrations[APP], schema_ref="syncer.schema.json")
    document = yaml.safe_load(result.text)
    assert document["application"] == APP
    return result, document["integrations"]


def test_secrets_become_placeholders_named_after_integration_and_field() -> None:
    result, entries = _export(MQTT, PARTICLE, FEED)
    assert result.variables == (  # sorted by integration name, as the file is
        ("FEED_WEBSOCKET_HEADER_AUTHORIZATION", "Feed: websocketConfig.headers[0].headerValue"),
        ("LINE_1_BROKER_MQTT_PASSWORD", "Line 1 broker: mqttConfig.password"),
        ("TRACKERS_PARTICLE_ACCESS_TOKEN", "Trackers: particleConfig.accessToken"),
    )
    assert [e["name"] for e in entries] == ["Feed", "Line 1 broker", "Trackers"]
    assert entries[0]["websocketConfig"]["headers"] == [
        {"headerKey": "Authorization", "headerValue": "${env:FEED_WEBSOCKET_HEADER_AUTHORIZATION}"}
    ]
    assert entries[1]["mqttConfig"]["password"] == "${env:LINE_1_BROKER_MQTT_PASSWORD}"
    assert entries[2]["particleConfig"] == {"accessToken": "${env:TRACKERS_PARTICLE_ACCESS_TOKEN}"}
    for secret in (MQTT_PASSWORD, PARTICLE_TOKEN, "hv-445566"):
        assert secret not in result.text
    assert result.count == 3
    assert result.text.splitlines()[:3] == [
        "# yaml-language-server: $schema=syncer.schema.json",
        "# Exported from Losant by `syncer export`.",
        "# Secrets are read from the environment: set the variables named below.",
    ]


def test_variable_names_are_numbered_on_collisions_and_never_start_with_a_digit() -> None:
    result, _ = _export({**MQTT, "name": "Line 1"}, {**MQTT, "name": "line-1"}, {**PARTICLE, "name": "1st"})
    assert [variable for variable, _ in result.variables] == [
        "LOSANT_1ST_PARTICLE_ACCESS_TOKEN",
        "LINE_1_MQTT_PASSWORD",
        "LINE_1_MQTT_PASSWORD_2",
    ]


def test_server_bookkeeping_and_defaults_are_left_out() -> None:
    filled = {**FEED, "websocketConfig": {"url": "wss://x", "headers": [], "disableSSLVerification": False}}
    result, [entry] = _export(filled)
    # what a hand-written file holds: no id, dates, status or defaults the server fills in
    assert entry == {
        "name": "Feed",
        "integrationType": "websocket",
        "enabled": True,
        "topics": [],
        "websocketConfig": {"url": "wss://x"},
    }
    assert result.variables == ()
    assert "Secrets are read from the environment" not in result.text
    # a value other than the default is the live integration's own
    _, [kept] = _export({**FEED, "websocketConfig": {"url": "wss://x", "disableSSLVerification": True}})
    assert kept["websocketConfig"] == {"url": "wss://x", "disableSSLVerification": True}


def test_a_live_dollar_brace_is_written_doubled_so_it_reads_back_literally() -> None:
    literal = {
        **MQTT,
        "topics": ["plant/${line}/x", "$${x}"],
        "mqttConfig": {**MQTT["mqttConfig"], "host": "${env:LOSANT_API_TOKEN}"},
    }
    _, [entry] = _export(literal)
    assert entry["topics"] == ["plant/$${line}/x", "$$${x}"]
    assert entry["mqttConfig"]["host"] == "$${env:LOSANT_API_TOKEN}"
    assert entry["mqttConfig"]["password"] == "${env:LINE_1_BROKER_MQTT_PASSWORD}"  # the one reference


def test_twin_names_are_refused_naming_both_ids() -> None:
    with pytest.raises(SyncerError) as refused:
        _export({**PARTICLE, "id": "1" * 24}, {**PARTICLE, "id": "2" * 24})
    assert refused.value.lines() == [
        f"application {APP} has 2 live integrations named 'Trackers' (ids {'1' * 24}, {'2' * 24}); names "
        "must be unique in the files: rename one in Losant, then export again"
    ]


@pytest.mark.parametrize("mask", ["****", "●●●"])
def test_a_masked_secret_gets_a_placeholder_and_a_note(mask: str) -> None:
    masked = {**MQTT, "mqttConfig": {**MQTT["mqttConfig"], "password": mask}}
    result, [entry] = _export(masked)
    assert entry["mqttConfig"]["password"] == "${env:LINE_1_BROKER_MQTT_PASSWORD}"
    assert result.variables == (
        ("LINE_1_BROKER_MQTT_PASSWORD", f"Line 1 broker: mqttConfig.password{NOT_SHOWN}"),
    )


def test_a_required_secret_the_api_omits_gets_a_placeholder() -> None:
    hub = {"name": "Hub", "integrationType": "azureEventHub"}
    hub_config = {"hubName": "quality", "consumerGroup": "losant"}
    result, entries = _export(
        {**PARTICLE, "particleConfig": {}},
        {**hub, "azureEventHubConfig": hub_config},  # without hostName, connectionString is required
        {
            **hub,
            "name": "Hub by host",
            "azureEventHubConfig": {**hub_config, "hostName": "plant.example.com"},
        },
        {**MQTT, "mqttConfig": {k: v for k, v in MQTT["mqttConfig"].items() if k != "password"}},
    )
    by_name = {e["name"]: e for e in entries}
    assert by_name["Trackers"]["particleConfig"] == {"accessToken": "${env:TRACKERS_PARTICLE_ACCESS_TOKEN}"}
    assert by_name["Hub"]["azureEventHubConfig"]["connectionString"] == (
        "${env:HUB_AZURE_EVENT_HUB_CONNECTION_STRING}"
    )
    # an optional secret the API omits cannot be known to exist: none is invented
    assert "connectionString" not in by_name["Hub by host"]["azureEventHubConfig"]
    assert "password" not in by_name["Line 1 broker"]["mqttConfig"]
    assert result.variables == (
        ("HUB_AZURE_EVENT_HUB_CONNECTION_STRING", f"Hub: azureEventHubConfig.connectionString{NOT_SHOWN}"),
        ("TRACKERS_PARTICLE_ACCESS_TOKEN", f"Trackers: particleConfig.accessToken{NOT_SHOWN}"),
    )
