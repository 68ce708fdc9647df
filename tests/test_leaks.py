"""The leak scan: every command and output format, with known token and secret values, and none
of them may appear anywhere syncer writes: stdout, stderr, plan files, reports, step summaries,
step outputs, exports, debug traces, error messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from syncer.emulator.faults import FaultRule
from syncer.emulator.testing import running_emulator
from tests.e2e import APP, run, tree

TOKEN = "tok3n-LEAK-4c7e19"
SECRETS = {
    "MQTT_PASSWORD": "pw-LEAK-83d2",
    "MQTT_KEY": "-----BEGIN KEY-----\nkey-LEAK-71f0\n-----END KEY-----",
    "PARTICLE_TOKEN": "pt-LEAK-5a61",
    "HEADER_VALUE": "Bearer hv-LEAK-0b9e",
    "SQS_SECRET": "sqs-LEAK-9e3c",
    "AZURE_CONNECTION": "Endpoint=sb://x/;SharedAccessKey=az-LEAK-66f1",
    "GCP_KEY": '{"private_key": "gcp-LEAK-2d8a"}',
}
LIVE_SECRETS = ["old-pw-LEAK-1c", "old-pt-LEAK-2d", "manual-LEAK-3e"]
NEEDLES = [TOKEN, *SECRETS.values(), *LIVE_SECRETS]


def _files(root: Path) -> Path:
    return tree(
        root,
        {
            "name": "Broker",
            "integrationType": "mqtt",
            "mqttConfig": {
                "host": "h",
                "port": 8883,
                "protocol": "mqtts",
                "password": "${env:MQTT_PASSWORD}",
                "privateKey": "${env:MQTT_KEY}",
            },
        },
        {
            "name": "Trackers",
            "integrationType": "particle",
            "particleConfig": {"accessToken": "${env:PARTICLE_TOKEN}"},
        },
        {
            "name": "Feed",
            "integrationType": "websocket",
            "websocketConfig": {
                "url": "wss://x",
                "headers": [{"headerKey": "Authorization", "headerValue": "${env:HEADER_VALUE}"}],
            },
        },
        {
            "name": "Queue",
            "integrationType": "sqs",
            "sqsConfig": {"queueUrl": "q", "secretAccessKey": "${env:SQS_SECRET}"},
        },
        {
            "name": "Hub",
            "integrationType": "azureEventHub",
            "azureEventHubConfig": {
                "hubName": "h",
                "consumerGroup": "c",
                "connectionString": "${env:AZURE_CONNECTION}",
            },
        },
        {
            "name": "PubSub",
            "integrationType": "googlePubSub",
            "googlePubSubConfig": {"keyJson": "${env:GCP_KEY}"},
        },
    )


def _hunt(text: str, where: str) -> None:
    for needle in NEEDLES:
        for form in {needle, json.dumps(needle)[1:-1], *needle.splitlines()}:
            if len(form) >= 8:
                assert form not in text, f"{where} leaks {form!r}"


def test_nothing_leaks_from_any_command_or_output(tmp_path: Path) -> None:
    written: list[Path] = []
    outputs: list[str] = []
    with running_emulator() as running:
        running.emulator.tokens[TOKEN] = ("all.Application",)
        running.emulator.seed(
            APP,
            [
                {
                    "name": "Broker",
                    "integrationType": "mqtt",
                    "mqttConfig": {
                        "host": "h",
                        "port": 1883,
                        "protocol": "mqtts",
                        "password": LIVE_SECRETS[0],
                    },
                },
                {
                    "name": "Trackers",
                    "integrationType": "particle",
                    "particleConfig": {"accessToken": LIVE_SECRETS[1]},
                },
                {
                    "name": "Manual",
                    "integrationType": "particle",
                    "particleConfig": {"accessToken": LIVE_SECRETS[2]},
                },
            ],
        )
        files = str(_files(tmp_path / "files"))
        summary, gh_output = tmp_path / "summary.md", tmp_path / "output.txt"
        env: dict[str, str | None] = {
            **SECRETS,
            "GITHUB_ACTIONS": "true",
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(gh_output),
        }

        def syncer(*args: str) -> None:
            result = run(running, *args, env=env, token=TOKEN)
            outputs.append(f"$ syncer {' '.join(args)}\n{result.stdout}\n{result.stderr}")

        for debug in ((), ("--debug",)):
            syncer(*debug, "validate", files)
            for fmt in ("text", "json", "markdown"):
                syncer(*debug, "plan", files, "--format", fmt, "--report", str(tmp_path / f"plan-{fmt}.md"))
                syncer(*debug, "drift", files, "--format", fmt, "--report", str(tmp_path / f"drift-{fmt}.md"))
            syncer(*debug, "plan", files, "--out", str(tmp_path / "plan.json"))
        written += [tmp_path / "plan.json", *tmp_path.glob("*.md")]
        syncer("--debug", "apply", str(tmp_path / "plan.json"), "--auto-approve", "--format", "json")
        running.emulator.seed(
            APP,
            [
                {
                    "name": "Extra",
                    "integrationType": "particle",
                    "particleConfig": {"accessToken": "extra-LEAK-4f"},
                }
            ],
        )
        NEEDLES.append("extra-LEAK-4f")
        syncer("--debug", "apply", files, "--auto-approve", "--prune", "--report", str(tmp_path / "apply.md"))
        running.emulator.faults.rules.append(FaultRule("500", on=("patch",)))  # error paths too
        env["MQTT_PASSWORD"] = "pw-LEAK-83d2-rotated"
        NEEDLES.append("pw-LEAK-83d2-rotated")
        syncer("--debug", "apply", files, "--auto-approve", "--max-attempts", "2", "--retry-time", "3")
        syncer("--debug", "apply", str(tmp_path / "plan.json"), "--auto-approve")  # stale plan refused
        running.emulator.faults.clear()
        syncer("--debug", "plan", files, "--api-url", running.url, "--token-file", str(tmp_path / "missing"))
        export_dir = tmp_path / "export"
        syncer("--debug", "export", "--application", APP, "--out", str(export_dir))
        syncer("export", "--application", APP)
        written += [*export_dir.iterdir(), summary, gh_output]
        running.emulator.tokens.pop(TOKEN)
        syncer("--debug", "plan", files)  # the token rejected: 401 with the token in hand
    everything = "\n".join(outputs)
    assert "debug: -> GET" in everything  # the traces ran
    assert "Apply:" in everything
    _hunt(everything, "the command output")
    for path in written:
        _hunt(path.read_text(), str(path))


def test_demo_output_holds_none_of_its_secrets() -> None:
    from syncer.demo import SECRETS as DEMO_SECRETS

    done = subprocess.run(
        [sys.executable, "-m", "syncer", "--debug", "demo"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    text = done.stdout + done.stderr
    secrets = [v for k, v in DEMO_SECRETS.items() if k != "LINE2_MQTT_CERTIFICATE"]  # a certificate is public
    for value in [*secrets, "demo-old-gps-token", "emulator-token"]:
        for form in {value, *value.splitlines()}:
            if len(form) >= 8 and not form.startswith("-----"):
                assert form not in text, form
