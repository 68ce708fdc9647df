"""What a read keeps of each live integration: everything syncer compares or shows, without the
fields nothing reads (a third of the memory of 50,000 integrations: BENCHMARKS.md)."""

from __future__ import annotations

from typing import Any

from syncer.live import read_live

APP = "0" * 23 + "a"
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
    dropped = {"integrationId", "status", "_type", "_links"}
    assert item == {k: v for k, v in ITEM.items() if k not in dropped}


def test_health_reads_keep_the_connection_status() -> None:
    (item,) = read_live(OnePage(), [APP], with_status=True).integrations[APP]  # type: ignore[arg-type]
    assert item["status"] == ITEM["status"]
    assert not {"_links", "integrationId"} & item.keys()
