"""Realistic integration bodies for seeding the emulator, benchmarks and tests.

Deterministic: the same index always gives the same integration.
"""

from __future__ import annotations

from typing import Any

TYPES = ("mqtt", "googlePubSub", "azureEventHub", "sqs", "particle", "websocket")


def sample_integration(
    index: int, kind: str | None = None, *, prefix: str = "s3cret-value"
) -> dict[str, Any]:
    """A Losant Integration Post body; `kind` defaults to cycling through all six types."""
    kind = kind or TYPES[index % len(TYPES)]
    name = f"{kind} integration {index:05d}"
    body: dict[str, Any] = {
        "name": name,
        "integrationType": kind,
        "enabled": index % 7 != 0,
        "topics": [f"site/{index % 50}/telemetry", f"site/{index % 50}/alarms"],
    }
    if kind == "mqtt":
        body["mqttConfig"] = {
            "host": f"broker{index % 20}.example.com",
            "port": 8883,
            "protocol": "mqtts",
            "clientId": f"losant-{index}",
            "username": "losant",
            "password": f"{prefix}-{index}",
            "clean": True,
        }
    elif kind == "googlePubSub":
        body["credentialName"] = "gcp-service-account"
        body["googlePubSubConfig"] = {"projectId": f"project-{index % 10}"}
    elif kind == "azureEventHub":
        body["azureEventHubConfig"] = {
            "hubName": f"hub-{index}",
            "consumerGroup": "losant",
            "connectionString": f"Endpoint=sb://ns{index % 5}.servicebus.windows.net/;"
            f"SharedAccessKeyName=losant;SharedAccessKey={prefix}-{index}",
        }
    elif kind == "sqs":
        body["sqsConfig"] = {
            "queueUrl": f"https://sqs.eu-west-1.amazonaws.com/123456789012/queue-{index}",
            "region": "eu-west-1",
            "accessKeyId": "AKIAEXAMPLEKEY",
            "secretAccessKey": f"{prefix}-{index}",
        }
    elif kind == "particle":
        body["particleConfig"] = {
            "accessToken": f"{prefix}-{index}",
            "productSlugOrId": f"product-{index % 3}",
        }
    else:
        body["websocketConfig"] = {
            "url": f"wss://feed{index % 8}.example.com/socket",
            "disableSSLVerification": False,
            "headers": [{"headerKey": "Authorization", "headerValue": f"Bearer {prefix}-{index}"}],
        }
    return body
