"""Building desired and live states directly, for tests of the pure stages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from syncer import demo
from syncer.desired import DesiredIntegration, DesiredState, Project
from syncer.emulator.api import DEFAULT_APPLICATION
from syncer.errors import Location
from syncer.live import LiveState
from syncer.losant import CONFIG_FIELDS

APP = DEFAULT_APPLICATION  # the application of every test (the emulator serves it by default)
FLEET = demo.FLEET  # a second application, where a test needs two (the demo's fleet)

# The request bodies tests share; a test that needs a variant builds it ({**PARTICLE, "name": ...})
PARTICLE_TOKEN = "tok-123456"
MQTT_PASSWORD = "pw-98765"
PARTICLE: dict[str, Any] = {
    "name": "Trackers",
    "integrationType": "particle",
    "particleConfig": {"accessToken": PARTICLE_TOKEN},
}
MQTT: dict[str, Any] = {
    "name": "Line 1 broker",
    "integrationType": "mqtt",
    "topics": ["plant/line1"],
    "mqttConfig": {
        "host": "broker.example.com",
        "port": 8883,
        "protocol": "mqtts",
        "password": MQTT_PASSWORD,
    },
}


def integration(name: str, integration_type: str, **config: Any) -> dict[str, Any]:
    """A request body with its config object: integration("Queue", "sqs", queueUrl="q")."""
    return {"name": name, "integrationType": integration_type, CONFIG_FIELDS[integration_type]: config}


def particle(name: str, token: str = PARTICLE_TOKEN) -> dict[str, Any]:
    """A Particle integration named `name`."""
    return integration(name, "particle", accessToken=token)


def broker(
    name: str, host: str = "broker.example.com", password: str = MQTT_PASSWORD, port: int = 8883
) -> dict[str, Any]:
    """An MQTT broker integration named `name`, with its client id and user."""
    config = {"host": host, "port": port, "protocol": "mqtts", "clientId": "c1", "username": "u"}
    return integration(name, "mqtt", **config, password=password)


def desired(*entries: dict[str, Any], app: str = APP, project: Project | None = None) -> DesiredState:
    items = []
    for index, entry in enumerate(entries):
        body = {k: v for k, v in entry.items() if k not in ("id", "previousNames", "absent")}
        items.append(
            DesiredIntegration(
                application_id=app,
                name=entry["name"],
                body=body,
                location=Location("test.yaml", 3 + index * 5, 5),
                absent=bool(entry.get("absent")),
                pinned_id=entry.get("id"),
                previous_names=tuple(entry.get("previousNames", ())),
            )
        )
    return DesiredState(tuple(items), ("test.yaml",), {app: ("test.yaml",)}, project or Project())


def live(*items: dict[str, Any], app: str = APP) -> LiveState:
    records = []
    for index, item in enumerate(items):
        record = {
            "id": item.get("id", f"{index + 1:024x}"),
            "applicationId": app,
            "creationDate": "2026-01-01T00:00:00.000Z",
            "lastUpdated": "2026-01-01T00:00:00.000Z",
            "enabled": True,
            "topics": [],
            "status": {"connectInfo": {"ts": 1}},
            "_type": "integration",
            **{k: v for k, v in item.items() if k != "id"},
        }
        record["integrationId"] = record["id"]
        records.append(record)
    return LiveState({app: tuple(records)})


T = TypeVar("T")


def only(items: Sequence[T]) -> T:
    """The one item of `items` (a plan's changes, a drift report's items): there must be one."""
    assert len(items) == 1, items
    return items[0]
