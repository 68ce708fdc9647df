"""Raw HTTP against a running emulator (stdlib only, so tests never depend on the HTTP library
syncer uses)."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from syncer.emulator.api import DEFAULT_TOKEN

APP = "5f3e6a1b2c4d5e6f7a8b9c0d"
PARTICLE = {
    "name": "Trackers",
    "integrationType": "particle",
    "particleConfig": {"accessToken": "tok-123456"},
}
MQTT = {
    "name": "Line 1 broker",
    "integrationType": "mqtt",
    "topics": ["plant/line1"],
    "mqttConfig": {"host": "broker.example.com", "port": 8883, "protocol": "mqtts", "password": "pw-98765"},
}


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


def call(
    url: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = DEFAULT_TOKEN,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Answer:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    send = dict(headers or {})
    if token is not None:
        send["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None:
        send["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=send)
        response = conn.getresponse()
        payload = response.read()
        return Answer(
            response.status,
            json.loads(payload) if payload else None,
            {k.lower(): v for k, v in response.getheaders()},
        )
    finally:
        conn.close()


def collection(app: str = APP) -> str:
    return f"/applications/{app}/integrations"
