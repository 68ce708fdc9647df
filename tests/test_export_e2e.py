"""`syncer export` round-trips literally: what Losant holds, the exported file reads back as
exactly that text, even text that looks like a `${env:…}` reference."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from syncer.emulator.api import DEFAULT_TOKEN
from syncer.emulator.server import RunningEmulator
from syncer.secrets import get_path, secret_paths
from tests.builders import APP
from tests.e2e import edit_by_hand, exported, run, writes

# every value that looks like interpolation syntax, or is merely awkward for YAML
HOSTILE_TOPICS = [
    "plant/${line}/x",
    "${env:LOSANT_API_TOKEN}",
    "$${x}",
    "$$${env:HOME}",
    "$",
    "${",
    "}",
    "${}",
    "ünïcødé/${env:HOME:-/root}/✓",
    "two\nlines ${env:PATH",
    "yes",
    "0x1F",
]
LIVE: list[dict[str, Any]] = [
    {
        "name": "Line ${line} broker",
        "integrationType": "mqtt",
        "topics": HOSTILE_TOPICS,
        "mqttConfig": {
            "host": "${env:LOSANT_API_TOKEN}",
            "port": 8883,
            "protocol": "mqtts",
            "username": "${env:LOSANT_API_TOKEN:-nobody}",
            "clientId": "$${env:LOSANT_API_TOKEN}",
            "password": "pw-${env:LOSANT_API_TOKEN}",
        },
    },
    {
        "name": "Feed",
        "integrationType": "websocket",
        "credentialName": "cred-${env:LOSANT_API_TOKEN}",
        "websocketConfig": {
            "url": "wss://feed.example.com/${path}",
            "headers": [{"headerKey": "X-${env:LOSANT_API_TOKEN}", "headerValue": "Bearer ${token}"}],
        },
    },
]


def _as_written(stored: Any, wanted: Any) -> Any:
    """`stored` cut to the fields of `wanted` (the server adds defaults of its own)."""
    if isinstance(wanted, dict) and isinstance(stored, dict):
        return {k: _as_written(stored.get(k), v) for k, v in wanted.items()}
    return stored


def _secret_variables(exported: dict[str, Any]) -> dict[str, str]:
    """The variables export asks for, set to the live secrets they stand for."""
    live = {item["integrationType"]: item for item in LIVE}  # one of each type
    variables = {}
    for entry in exported["integrations"]:
        for path in secret_paths(entry):
            variable = re.fullmatch(r"\$\{env:([A-Z0-9_]+)\}", get_path(entry, path))
            assert variable is not None
            variables[variable[1]] = get_path(live[entry["integrationType"]], path)
    return variables


def test_export_then_validate_plan_apply_keeps_every_value_literal(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    seeded = losant_emulator.emulator.seed(APP, LIVE)
    credential = {"name": "cred-${env:LOSANT_API_TOKEN}", "type": "certificateKeyPair"}
    losant_emulator.emulator.seed_credentials(APP, [credential])  # a literal name, like the rest
    out = tmp_path / "export"
    secrets = _secret_variables(yaml.safe_load(exported(losant_emulator, out).read_text()))
    assert len(secrets) == 2  # the password and the header value

    checked = run(losant_emulator, "validate", "--env-optional", str(out))  # LOSANT_API_TOKEN is set
    assert checked.exit_code == 0, checked.stderr
    planned = run(losant_emulator, "plan", "--detailed-exitcode", str(out), env=secrets)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert "No changes" in planned.stdout

    # someone edits Losant by hand; applying the export must restore the literal values
    mqtt = next(s for s in seeded if s["integrationType"] == "mqtt")
    edit_by_hand(
        losant_emulator,
        mqtt["id"],
        json.dumps(
            {
                "topics": ["edited"],
                "mqttConfig": {"host": "edited.example.com", "port": 1883, "protocol": "mqtt"},
            }
        ),
    )
    losant_emulator.emulator.log.clear()
    applied = run(losant_emulator, "apply", "--auto-approve", str(out), env=secrets)
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert [w["method"] for w in writes(losant_emulator)] == ["PATCH"]
    live = losant_emulator.emulator.integrations(APP)
    by_name = {item["name"]: item for item in live}
    assert [_as_written(by_name.get(item["name"]), item) for item in LIVE] == LIVE
    assert DEFAULT_TOKEN not in json.dumps(live)
