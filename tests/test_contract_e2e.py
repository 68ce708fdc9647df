"""syncer against the parts of Losant's contract that are uncertain or easy to get wrong:
service credentials, secrets the API hides or masks, server defaults, paging the server decides,
Accept-Version, and what a 404 means. Each runs the real CLI against the emulator switch that
covers the behaviour."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from syncer.emulator.testing import running_emulator
from tests.builders import APP, MQTT, PARTICLE
from tests.e2e import exported, run, tree, while_confirming, writes
from tests.helpers import failed

PUBSUB = {
    "name": "Historian",
    "integrationType": "googlePubSub",
    "credentialName": "historian-gcp",
    "topics": ["plant/historian"],
}
GCP = {"name": "historian-gcp", "type": "gcp", "gcpConfig": {"keyJson": '{"type": "service_account"}'}}
AWS = {
    "name": "fleet-aws",
    "type": "aws",
    "awsConfig": {
        "accessKeyId": "AKIA000000000000",
        "secretAccessKey": "aws-secret-1",
        "region": "us-east-1",
    },
}


# --- integrations that use a service credential ------------------------------------------------


def test_an_integration_without_a_config_object_round_trips_through_export(tmp_path: Path) -> None:
    with running_emulator() as running:
        running.emulator.seed(APP, [PUBSUB])
        running.emulator.seed_credentials(APP, [GCP])
        exported_file = exported(running, tmp_path / "exported")
        written = yaml.safe_load(exported_file.read_text())
        assert written["integrations"] == [{**PUBSUB, "enabled": True}]  # no config object invented
        assert run(running, "validate", str(exported_file)).exit_code == 0
        planned = run(running, "plan", str(exported_file), "--detailed-exitcode")
        assert (planned.exit_code, planned.stdout) == (0, "No changes. Live state matches the files.\n")


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ([], "application {app} has no service credential named 'historian-gcp' (it has: none)"),
        ([AWS], "application {app} has no service credential named 'historian-gcp' (it has: 'fleet-aws')"),
        (
            [{**AWS, "name": "historian-gcp"}],
            "service credential 'historian-gcp' is of type 'aws', and a googlePubSub integration needs "
            "one of type gcp",
        ),
    ],
)
def test_a_credential_that_cannot_serve_stops_before_any_write(
    credentials: list[dict[str, Any]], message: str, tmp_path: Path
) -> None:
    with running_emulator() as running:
        running.emulator.seed_credentials(APP, credentials)
        files = tree(tmp_path, MQTT, PUBSUB)
        for command in ("plan", "apply"):
            result = run(running, command, str(files), "--auto-approve" if command == "apply" else "--prune")
            lines = failed(result).splitlines()
            assert lines[0].startswith(f"{files / 'integrations.yaml'}:")
            assert f"integrations[1].credentialName: {message.format(app=APP)}" in lines[0]
            assert lines[1] == "1 credentialName Losant cannot honour; nothing was changed"
        assert writes(running) == []
        reads = {r["path"] for r in running.emulator.log}
        assert reads == {f"/applications/{APP}/integrations", f"/applications/{APP}/credentials"}


def test_a_token_that_may_not_list_credentials_gets_a_warning_not_a_failure(tmp_path: Path) -> None:
    with running_emulator(tokens={"no-creds": ("integrations.*", "integration.*")}) as running:
        result = run(running, "apply", str(tree(tmp_path, PUBSUB)), "--auto-approve", token="no-creds")
        assert result.exit_code == 0, result.output
        assert (
            "warning: credentialName not checked: the token may not list service credentials" in result.stderr
        )
        assert [r["method"] for r in writes(running)] == ["POST"]


def test_no_credential_request_when_no_file_names_one(tmp_path: Path) -> None:
    with running_emulator() as running:
        assert run(running, "plan", str(tree(tmp_path, MQTT))).exit_code == 0
        assert [r["path"] for r in running.emulator.log] == [f"/applications/{APP}/integrations"]


# --- secrets the API hides or masks ------------------------------------------------------------


@pytest.mark.parametrize("mode", ["omit", "mask"])
def test_hidden_secrets_are_unknown_exported_as_placeholders_and_pushed_on_request(
    mode: str, tmp_path: Path
) -> None:
    with running_emulator(secrets=mode) as running:
        running.emulator.seed(APP, [MQTT])
        files = tree(tmp_path / "files", MQTT)
        assert run(running, "plan", str(files), "--detailed-exitcode").exit_code == 0
        changed = {**MQTT, "mqttConfig": {**MQTT["mqttConfig"], "password": "rotated-889900"}}
        tree(tmp_path / "files", changed)
        assert run(running, "plan", str(files), "--detailed-exitcode").exit_code == 0  # unknown: no diff
        pushed = run(running, "plan", str(files), "--push-secrets", "--format", "json")
        [change] = json.loads(pushed.stdout)["changes"]
        assert change["fields"] == [
            {"path": "mqttConfig.password", "sensitive": True, "hiddenLive": True, "after": "(sensitive)"}
        ]
        assert "rotated-889900" not in pushed.output
        applied = run(running, "apply", str(files), "--push-secrets", "--auto-approve")
        assert applied.exit_code == 0, applied.output
        [stored] = running.emulator.store.applications[APP].values()
        assert stored["mqttConfig"]["password"] == "rotated-889900"
        # export writes a placeholder for a secret the API masks (an omitted optional one cannot
        # be known to exist), and the file round-trips
        out = tmp_path / "exported"
        exported = run(running, "export", "--application", APP, "--out", str(out))
        text = (out / f"{APP}.yaml").read_text()
        if mode == "mask":
            hint = (
                "  LINE_1_BROKER_MQTT_PASSWORD  (Line 1 broker: mqttConfig.password (Losant does not show it"
            )
            assert hint in exported.stderr
            assert "password: ${env:LINE_1_BROKER_MQTT_PASSWORD}" in text
        else:
            assert "password" not in text
        assert run(running, "validate", "--env-optional", str(out / f"{APP}.yaml")).exit_code == 0
        env = {"LINE_1_BROKER_MQTT_PASSWORD": "anything"}
        again = run(running, "plan", str(out / f"{APP}.yaml"), "--detailed-exitcode", env=env)
        assert again.exit_code == 0, again.output


FEED = {
    "name": "Feed",
    "integrationType": "websocket",
    "websocketConfig": {
        "url": "wss://x",
        "headers": [{"headerKey": "Authorization", "headerValue": "Bearer hv-1"}],
    },
}


@pytest.mark.parametrize(
    ("live", "field", "variable"),
    [
        (PARTICLE, "accessToken", "TRACKERS_PARTICLE_ACCESS_TOKEN"),
        (FEED, "headerValue", "FEED_WEBSOCKET_HEADER_AUTHORIZATION"),
    ],
    ids=["a required secret", "a header value"],
)
def test_export_gives_a_placeholder_to_a_secret_the_api_omits_and_round_trips(
    live: dict[str, Any], field: str, variable: str, tmp_path: Path
) -> None:
    with running_emulator(secrets="omit") as running:
        running.emulator.seed(APP, [live])
        exported_file = exported(running, tmp_path / "exported")
        assert f"{field}: ${{env:{variable}}}" in exported_file.read_text()
        assert run(running, "validate", "--env-optional", str(exported_file)).exit_code == 0
        planned = run(running, "plan", str(exported_file), "--detailed-exitcode", env={variable: "anything"})
        assert planned.exit_code == 0, planned.output
        assert writes(running) == []


# --- server defaults and fields syncer should not manage ---------------------------------------


def test_a_server_default_is_a_perpetual_update_until_ignored(tmp_path: Path) -> None:
    with running_emulator(
        server_defaults={"mqttConfig": {"clean": True, "clientId": "losant-default"}}
    ) as running:
        files = tree(tmp_path, MQTT)
        first = run(running, "apply", str(files), "--auto-approve")
        assert first.exit_code == 1
        assert (
            "the API changed mqttConfig.clean after the write (sent (absent), reads true); if Losant sets it "
            "itself, add `ignoreFields: {mqtt: [mqttConfig.clean]}` to syncer.yaml" in first.stdout
        )
        assert run(running, "plan", str(files), "--detailed-exitcode").exit_code == 2  # forever
        project = {
            "ignoreFields": {"mqtt": ["mqttConfig.clean"]},
            "applications": {APP: {"ignoreFields": {"all": ["mqttConfig.clientId"]}}},
        }
        tree(tmp_path, MQTT, project=project)
        for command in ("plan", "drift"):
            result = run(
                running, command, str(files), "--detailed-exitcode" if command == "plan" else "--format=text"
            )
            assert result.exit_code == 0, result.output


# --- paging, versions, 404s ----------------------------------------------------------------------


def test_a_server_that_caps_per_page_is_still_read_completely(tmp_path: Path) -> None:
    bodies = [{**MQTT, "name": f"broker {n:03d}"} for n in range(250)]
    with running_emulator(per_page_cap=100) as running:
        running.emulator.seed(APP, bodies)
        result = run(running, "plan", str(tree(tmp_path, *bodies)), "--detailed-exitcode")
        assert (result.exit_code, result.stdout) == (0, "No changes. Live state matches the files.\n")
        pages = [r["query"]["page"] for r in running.emulator.log]
        assert sorted(pages) == ["0", "1", "2"]  # ceil(250 / 100), none of them refused as short


def test_every_request_says_which_api_version_it_speaks(tmp_path: Path) -> None:
    with running_emulator() as running:
        assert run(running, "apply", str(tree(tmp_path, MQTT)), "--auto-approve").exit_code == 0
        assert {r["acceptVersion"] for r in running.emulator.log} == {"^1.30.0"}


def test_a_delete_answered_application_not_found_is_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_emulator() as running:
        [live] = running.emulator.seed(APP, [MQTT])
        files = tree(tmp_path, {"name": MQTT["name"], "absent": True})
        while_confirming(monkeypatch, lambda: running.emulator.store.applications.pop(APP))
        result = run(running, "apply", str(files))
        assert result.exit_code == 1
        assert f'failed         - delete "Line 1 broker" (mqtt) {live["id"]}: DELETE' in result.stdout
        assert "404 NotFound: Application was not found" in result.stdout
        assert "already gone" not in result.stdout
