"""Realistic integration bodies for seeding the emulator, benchmarks and tests.

Deterministic: the same index always gives the same integration.
"""

from __future__ import annotations

from typing import Any

from syncer.losant import INTEGRATION_TYPES

TYPES = tuple(INTEGRATION_TYPES)
# the service credential the samples name (credentialName): seed it beside them
SAMPLE_CREDENTIALS: list[dict[str, Any]] = [
    {"name": "gcp-service-account", "type": "gcp", "gcpConfig": {"keyJson": '{"type": "service_account"}'}}
]


def _filled(value: Any, n: int, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace("{n}", str(n)).replace("{secret}", secret)
    if isinstance(value, list):
        return [_filled(v, n, secret) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, n, secret) for k, v in value.items()}
    return value


def sample_integration(
    index: int, integration_type: str | None = None, *, prefix: str = "s3cret-value"
) -> dict[str, Any]:
    """A Losant Integration Post body; `integration_type` defaults to cycling through every type."""
    integration_type = integration_type or TYPES[index % len(TYPES)]
    known = INTEGRATION_TYPES[integration_type]
    body: dict[str, Any] = {
        "name": f"{integration_type} integration {index:05d}",
        "integrationType": integration_type,
        "enabled": index % 7 != 0,
        "topics": [f"site/{index % 50}/telemetry", f"site/{index % 50}/alarms"],
        known.config_key: _filled(known.sample, index % 20, f"{prefix}-{index}"),
    }
    if known.credential_types and "gcp" in known.credential_types:
        body["credentialName"] = SAMPLE_CREDENTIALS[0]["name"]  # the key is in a service credential
    return body
