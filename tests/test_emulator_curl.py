"""The three curl requests of Losant's Integration Actions page, against the emulator."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from syncer.emulator.server import RunningEmulator
from tests.builders import APP, PARTICLE

# Verbatim from ../shared/reference/losant-integration-actions.txt (Delete, Get, Patch)
CURL_DELETE = """curl -H 'Content-Type: application/json' \\
-H 'Accept: application/json' \\
-H 'Authorization: Bearer YOUR_API_ACCESS_TOKEN' \\
-X DELETE \\
https://api.losant.com/applications/APPLICATION_ID/integrations/INTEGRATION_ID"""
CURL_GET = CURL_DELETE.replace("-X DELETE", "-X GET")
CURL_PATCH = CURL_DELETE.replace("-X DELETE", '-X PATCH \\\n-d \'{"topics":["differentTopic"]}\'')
REFERENCE = Path(__file__).parent.parent.parent / "shared/reference/losant-integration-actions.txt"

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def test_the_commands_are_the_documented_ones() -> None:
    if not REFERENCE.exists():
        pytest.skip("reference documentation not beside this checkout")
    text = REFERENCE.read_text()
    for command in (CURL_DELETE, CURL_GET, CURL_PATCH):
        assert command in text


def _curl(command: str, running: RunningEmulator, **values: str) -> tuple[int, object]:
    command = command.replace("https://api.losant.com", running.url)
    for placeholder, value in values.items():
        command = command.replace(placeholder, value)
    args = shlex.split(command.replace("\\\n", " "))
    args[1:1] = ["-s", "-w", "\n%{http_code}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    body, _, code = out.rpartition("\n")
    return int(code), json.loads(body) if body else None


def test_documented_requests_with_real_values_succeed(losant_emulator: RunningEmulator) -> None:
    target = losant_emulator.emulator.seed(APP, [PARTICLE])[0]["id"]
    values = {"APPLICATION_ID": APP, "INTEGRATION_ID": target, "YOUR_API_ACCESS_TOKEN": "emulator-token"}
    code, body = _curl(CURL_GET, losant_emulator, **values)
    assert code == 200
    assert isinstance(body, dict)
    assert body["id"] == target
    code, body = _curl(CURL_PATCH, losant_emulator, **values)
    assert code == 200
    assert isinstance(body, dict)
    assert body["topics"] == ["differentTopic"]
    assert _curl(CURL_DELETE, losant_emulator, **values) == (200, {"success": True})
    assert _curl(CURL_GET, losant_emulator, **values)[0] == 404  # "Error if integration was not found"


def test_documented_requests_sent_as_written_are_malformed(losant_emulator: RunningEmulator) -> None:
    # only the host changed: the placeholders are not ids, "400 Error if malformed request"
    for command in (CURL_DELETE, CURL_GET, CURL_PATCH):
        code, body = _curl(command, losant_emulator)
        assert (code, body) == (400, {"type": "Validation", "message": "applicationId pattern mismatch"})
