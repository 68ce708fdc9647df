"""What a read keeps of each live integration: everything syncer compares or shows, without the
fields nothing reads (a third of the memory of 50,000 integrations: BENCHMARKS.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from syncer.emulator.server import RunningEmulator
from syncer.live import read_live
from tests.builders import APP, integration
from tests.e2e import run, tree, writes

ITEM = {
    "id": "6b0b4d360000000000000002",
    "integrationId": "6b0b4d360000000000000002",
    "applicationId": APP,
    "creationDate": "2026-11-28T21:52:54.691Z",
    "lastUpdated": "2026-11-28T21:52:54.691Z",
    "enabled": True,
    "topics": ["site/0/telemetry"],
    "name": "broker",
    "integrationType": "mqtt",
    "mqttConfig": {"host": "mqtt.example.com", "port": 8883},
    "status": {"connectInfo": {"ts": 1795902774691}, "disconnectInfo": {"ts": None}},
    "_type": "integration",
    "_links": {"self": {"href": f"/applications/{APP}/integrations/6b0b4d360000000000000002"}},
}


class OnePage:
    def list_page(self, application_id: str, page: int) -> dict[str, Any]:
        return {"items": [dict(ITEM)], "totalCount": 1, "perPage": 1000, "page": page}


def test_a_plan_read_keeps_what_is_compared_and_shown() -> None:
    (item,) = read_live(OnePage(), [APP]).integrations[APP]  # type: ignore[arg-type]
    dropped = {"integrationId", "applicationId", "status", "_type", "_links"}
    assert item == {k: v for k, v in ITEM.items() if k not in dropped}


def test_health_reads_keep_the_connection_status() -> None:
    (item,) = read_live(OnePage(), [APP], with_status=True).integrations[APP]  # type: ignore[arg-type]
    assert item["status"] == ITEM["status"]
    assert not {"_links", "integrationId", "applicationId"} & item.keys()


def test_an_item_nested_deeper_than_any_losant_resource_is_refused(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    """Live state is untrusted, and every later stage walks values recursively: an item nested
    deeper than any Losant resource (here 500 levels) stops the run with one line, before any
    write, whatever the command (deep enough, it was an internal error)."""
    deep: Any = "x"
    for _ in range(500):
        deep = [deep]
    headers = [{"headerKey": "X-Deep", "headerValue": "shallow"}]
    [seeded] = losant_emulator.emulator.seed(
        APP, [integration("feed", "websocket", url="wss://a.example", headers=headers)]
    )
    stored = losant_emulator.emulator.store.applications[APP][seeded["id"]]
    stored["websocketConfig"]["headers"][0]["headerValue"] = deep  # past the emulator's own checks
    files = str(tree(tmp_path, integration("feed", "websocket", url="wss://b.example")))
    for command in ("plan", "apply", "drift", "status"):
        extra = ["--auto-approve"] if command == "apply" else []
        result = run(losant_emulator, command, files, *extra)
        assert result.exit_code == 1, result.output
        assert result.stderr.endswith(
            "an item is nested deeper than 64 levels, which no Losant resource is; nothing was changed\n"
        ), result.stderr
        assert "internal error" not in result.output
    assert writes(losant_emulator) == []
