"""Integration `status` in the emulator: the published shape, its timing after writes, and
integrations made to fail."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from jsonschema import Draft7Validator

from syncer.emulator.server import RunningEmulator
from syncer.emulator.store import epoch_ms
from syncer.emulator.testing import running_emulator
from tests.builders import APP, MQTT, PARTICLE
from tests.emu import call, collection
from tests.helpers import published

REFUSED = "Connection refused: bad username or password"
LONG = 60.0  # a connect delay no test outlives: the status stays as it is right after the write


def item(integration_id: str) -> str:
    return f"{collection()}/{integration_id}"


def status_of(running: RunningEmulator, integration_id: str) -> dict[str, Any]:
    answer = call(running.url, "GET", item(integration_id))
    assert answer.status == 200, answer.body
    status: dict[str, Any] = answer.body["status"]
    return status


def settled(running: RunningEmulator, integration_id: str) -> dict[str, Any]:
    """The status once the connection attempt after the last write has an outcome (polled: a
    loaded machine may be slow, but the delays here are a fraction of a second)."""
    deadline = time.monotonic() + 5
    while True:
        status = status_of(running, integration_id)
        if "nextAttempt" not in status or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def written_ms(answer_body: dict[str, Any]) -> int:
    """When a write happened, as its answer says (lastUpdated, to the millisecond)."""
    return epoch_ms(answer_body["lastUpdated"])


def test_every_integration_answer_carries_the_published_status() -> None:
    text = published("lib/schemas/integration.json")
    if text is None:
        pytest.skip("losant-rest-js is not beside this checkout")
    schema = json.loads(text)
    # The published `status` lists its fields with no `properties` around them, so as a schema
    # it checks nothing; the shape it means is checked too
    meant = {"type": "object", "properties": schema["properties"]["status"], "additionalProperties": False}
    whole, shape = Draft7Validator(schema), Draft7Validator(meant)
    example = json.loads(published("lib/schemas/apiExamples.json") or b"{}")["integration"]["status"]
    with running_emulator(connect_delay=0.05, failing={"Line 1 broker": REFUSED}) as running:
        url = running.url
        seeded = running.emulator.seed(APP, [{**PARTICLE, "name": "seeded"}])[0]
        created = call(url, "POST", collection(), PARTICLE).body
        broken = call(url, "POST", collection(), MQTT).body
        answers = [
            seeded,
            created,
            broken,
            call(url, "PATCH", item(created["id"]), {"enabled": False}).body,
            *call(url, "GET", collection()).body["items"],
        ]
        settled(running, created["id"])
        settled(running, broken["id"])
        answers += call(url, "GET", collection()).body["items"]
    for body in answers:
        assert list(whole.iter_errors(body)) == []
        assert list(shape.iter_errors(body["status"])) == [], body["status"]
    # times are epoch milliseconds, numbers as in the published example
    assert isinstance(example["connectInfo"]["ts"], int)
    for status in (a["status"] for a in answers):
        times = [status["connectInfo"]["ts"], status["disconnectInfo"]["ts"]]
        times += [status.get("lastKeepAlive"), status.get("nextAttempt")]
        assert all(t is None or isinstance(t, int) for t in times)
    last = {a["name"]: a["status"] for a in answers[-3:]}  # the list once every write settled
    assert set(last["seeded"]) == set(example)  # connected: the keys of the published example
    assert last["Line 1 broker"]["disconnectInfo"]["error"] == REFUSED


def test_a_created_integration_connects_after_the_delay() -> None:
    with running_emulator(connect_delay=LONG) as running:
        answer = call(running.url, "POST", collection(), PARTICLE).body
        write = written_ms(answer)
        pending = {"connectInfo": {"ts": None}, "disconnectInfo": {"ts": None}, "nextAttempt": write + 60_000}
        assert answer["status"] == pending  # no connection yet, and when the attempt ends
        assert status_of(running, answer["id"]) == pending
    with running_emulator(connect_delay=0.1) as running:
        answer = call(running.url, "POST", collection(), PARTICLE).body
        write = written_ms(answer)
        status = settled(running, answer["id"])
        assert status == {
            "connectInfo": {"ts": write + 100},
            "disconnectInfo": {"ts": None},
            "lastKeepAlive": write + 100,
        }
        assert status_of(running, answer["id"]) == status  # nothing moves until something happens


def test_after_a_patch_no_connection_later_than_the_write_until_the_delay() -> None:
    with running_emulator(connect_delay=LONG) as running:
        seeded = running.emulator.seed(APP, [PARTICLE])[0]
        connected_at = seeded["status"]["connectInfo"]["ts"]
        patched = call(running.url, "PATCH", item(seeded["id"]), {"enabled": False}).body
        write = written_ms(patched)
        status = status_of(running, seeded["id"])
        assert status["connectInfo"]["ts"] == connected_at < write  # the old connection only
        assert status["disconnectInfo"] == {"ts": write}  # a write restarts the connection
        assert status["nextAttempt"] == write + 60_000
    with running_emulator(connect_delay=0.1) as running:
        seeded = running.emulator.seed(APP, [PARTICLE])[0]
        write = written_ms(call(running.url, "PATCH", item(seeded["id"]), {"enabled": False}).body)
        status = settled(running, seeded["id"])
        assert status["connectInfo"]["ts"] == write + 100
        assert status["disconnectInfo"] == {"ts": write}
        assert status["connectInfo"]["ts"] > status["disconnectInfo"]["ts"]  # connected


def test_a_zero_delay_still_connects_after_the_write(losant_emulator: RunningEmulator) -> None:
    losant_emulator.emulator.connect_delay = 0
    answer = call(losant_emulator.url, "POST", collection(), PARTICLE).body
    assert settled(losant_emulator, answer["id"])["connectInfo"]["ts"] == written_ms(answer) + 1


def test_seeded_integrations_count_as_connected_since_they_were_made() -> None:
    with running_emulator(failing={"broken": REFUSED}) as running:
        fine, broken = running.emulator.seed(APP, [PARTICLE, {**PARTICLE, "name": "broken"}])
        made = epoch_ms(fine["creationDate"])
        assert fine["status"] == {
            "connectInfo": {"ts": made},
            "disconnectInfo": {"ts": None},
            "lastKeepAlive": made,
        }
        assert broken["status"] == {
            "connectInfo": {"ts": None},
            "disconnectInfo": {"ts": epoch_ms(broken["creationDate"]), "error": REFUSED},
        }


def test_a_failing_integration_reports_its_error_after_each_write() -> None:
    with running_emulator(connect_delay=0.05, failing={"Trackers": REFUSED}) as running:
        created = call(running.url, "POST", collection(), PARTICLE).body
        status = settled(running, created["id"])
        assert status == {
            "connectInfo": {"ts": None},
            "disconnectInfo": {"ts": written_ms(created) + 50, "error": REFUSED},
        }
        patched = call(running.url, "PATCH", item(created["id"]), {"topics": ["a"]}).body
        status = settled(running, created["id"])
        assert status["disconnectInfo"] == {"ts": written_ms(patched) + 50, "error": REFUSED}
        assert status["connectInfo"]["ts"] is None
        renamed = call(running.url, "PATCH", item(created["id"]), {"name": "Trackers 2"}).body
        status = settled(running, created["id"])  # the switch is by name: this one connects
        assert status["connectInfo"]["ts"] == written_ms(renamed) + 50
        assert status["disconnectInfo"]["error"] == REFUSED  # the last disconnection stays on record


def test_fail_by_name_before_and_after_the_integration_exists(losant_emulator: RunningEmulator) -> None:
    emulator, url = losant_emulator.emulator, losant_emulator.url
    emulator.connect_delay = 0.05
    emulator.fail("Trackers", REFUSED)  # before it exists
    created = call(url, "POST", collection(), PARTICLE).body
    assert settled(losant_emulator, created["id"])["disconnectInfo"]["error"] == REFUSED
    before = int(time.time() * 1000)
    emulator.fail("Trackers", None)  # healed: it connects at once
    status = status_of(losant_emulator, created["id"])
    assert status["connectInfo"]["ts"] >= before
    assert status["connectInfo"]["ts"] > status["disconnectInfo"]["ts"]
    seeded = emulator.seed(APP, [MQTT])[0]
    emulator.fail("Line 1 broker", "Keepalive Timeout")  # after it exists: disconnected at once
    status = status_of(losant_emulator, seeded["id"])
    assert status["disconnectInfo"]["error"] == "Keepalive Timeout"
    assert status["disconnectInfo"]["ts"] > status["connectInfo"]["ts"]  # was connected, is not


def test_the_admin_api_fails_and_heals_integrations(losant_emulator: RunningEmulator) -> None:
    url = losant_emulator.url
    seeded = losant_emulator.emulator.seed(APP, [PARTICLE, MQTT])
    path = f"/_emulator/applications/{APP}/integrations/{seeded[0]['id']}/status"
    answer = call(url, "POST", path, {"error": REFUSED})
    assert (answer.status, answer.body["disconnectInfo"]["error"]) == (200, REFUSED)
    assert status_of(losant_emulator, seeded[0]["id"]) == answer.body
    assert status_of(losant_emulator, seeded[1]["id"])["disconnectInfo"] == {"ts": None}  # only that one
    call(url, "POST", "/_emulator/failing", {"name": "Trackers", "error": "other"})
    assert status_of(losant_emulator, seeded[0]["id"])["disconnectInfo"]["error"] == REFUSED  # by id wins
    healed = call(url, "POST", path, {"error": None}).body  # healed, although its name fails
    assert healed["connectInfo"]["ts"] > healed["disconnectInfo"]["ts"]
    failing = call(url, "POST", "/_emulator/failing", {"name": "Line 1 broker", "error": REFUSED})
    assert failing.body == {"Trackers": "other", "Line 1 broker": REFUSED}
    assert status_of(losant_emulator, seeded[1]["id"])["disconnectInfo"]["error"] == REFUSED
    assert call(url, "PUT", "/_emulator/connect-delay", {"seconds": 0.05}).body == {"seconds": 0.05}
    assert losant_emulator.emulator.connect_delay == 0.05
    missing = call(
        url, "POST", f"/_emulator/applications/{APP}/integrations/{'0' * 24}/status", {"error": None}
    )
    assert missing.status == 404
    assert call(url, "POST", path, {"message": "x"}).status == 400
    assert call(url, "POST", "/_emulator/failing", {"error": "x"}).status == 400
    assert call(url, "PUT", "/_emulator/connect-delay", {"seconds": -1}).status == 400
    call(url, "POST", "/_emulator/reset")  # back to the configured switches and delay
    assert (losant_emulator.emulator.failing, losant_emulator.emulator.connect_delay) == ({}, 0.5)


def test_the_status_is_never_stored_and_a_state_file_keeps_the_connections(tmp_path: Any) -> None:
    state = tmp_path / "state.json"
    with running_emulator(state_file=str(state), connect_delay=LONG) as running:
        created = call(running.url, "POST", collection(), PARTICLE).body
    saved = json.loads(state.read_text())
    assert "status" not in saved["applications"][APP][created["id"]]
    with running_emulator(state_file=str(state)) as running:
        assert status_of(running, created["id"]) == created["status"]  # still waiting to connect
