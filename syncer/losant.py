"""Facts about Losant's integration API that several stages share (losant-api.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OBJECT_ID_PATTERN = r"^[A-Fa-f\d]{24}$"
DEFAULT_API_URL = "https://api.losant.com"
# the API version the shipped schemas come from (losant-rest-js 1.30.0), sent as Accept-Version
# the way Losant's own clients send it
API_VERSION = "^1.30.0"
MAX_PER_PAGE = 1000  # what losant-cli pages with; no maximum is published


@dataclass(frozen=True)
class IntegrationType:
    """Everything syncer knows about one integration type: a 7th type is one more row here (and
    its config object in Losant's shipped schemas)."""

    name: str  # integrationType, e.g. "mqtt"
    config_key: str  # its config object, e.g. "mqttConfig"
    secrets: tuple[str, ...]  # config fields that hold a secret (losant-api.md §2.3, bold)
    # what the server fills in when the files leave it out (seen in a real export; inferred)
    server_defaults: Mapping[str, Any] = field(default_factory=dict)
    # service credential types that can serve it; None: undocumented, only existence is checked
    credential_types: frozenset[str] | None = None
    sample: Mapping[str, Any] = field(default_factory=dict)  # a realistic config object


INTEGRATION_TYPES: Mapping[str, IntegrationType] = {
    t.name: t
    for t in (
        IntegrationType(
            "azureEventHub",
            "azureEventHubConfig",
            ("connectionString",),
            credential_types=frozenset({"azure"}),
            sample={
                "hubName": "hub-{n}",
                "consumerGroup": "losant",
                "connectionString": "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKey={secret}",
            },
        ),
        IntegrationType(
            "googlePubSub",
            "googlePubSubConfig",
            ("keyJson",),
            credential_types=frozenset({"gcp"}),
            sample={"projectId": "project-{n}"},
        ),
        IntegrationType(
            "mqtt",
            "mqttConfig",
            ("password", "privateKey"),
            sample={
                "host": "broker{n}.example.com",
                "port": 8883,
                "protocol": "mqtts",
                "clientId": "losant-{n}",
                "username": "losant",
                "password": "{secret}",
                "clean": True,
            },
        ),
        IntegrationType(
            "particle",
            "particleConfig",
            ("accessToken",),
            sample={"accessToken": "{secret}", "productSlugOrId": "product-{n}"},
        ),
        IntegrationType(
            "sqs",
            "sqsConfig",
            ("secretAccessKey",),
            credential_types=frozenset({"aws"}),
            sample={
                "queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/queue-{n}",
                "region": "eu-west-1",
                "accessKeyId": "AKIAEXAMPLEKEY",
                "secretAccessKey": "{secret}",
            },
        ),
        IntegrationType(
            "websocket",
            "websocketConfig",
            ("password", "privateKey"),
            server_defaults={"disableSSLVerification": False, "headers": []},
            sample={
                "url": "wss://feed{n}.example.com/socket",
                "disableSSLVerification": False,
                "headers": [{"headerKey": "Authorization", "headerValue": "Bearer {secret}"}],
            },
        ),
    )
}
# every websocketConfig header's value is a secret (a list field: handled by path, not by name)
HEADER_SECRET = ("websocketConfig", "headers", "headerValue")

CONFIG_FIELDS: Mapping[str, str] = {t.name: t.config_key for t in INTEGRATION_TYPES.values()}
CONFIG_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    t.config_key: t.server_defaults for t in INTEGRATION_TYPES.values() if t.server_defaults
}
SECRET_FIELDS: frozenset[tuple[str, str]] = frozenset(
    (t.config_key, name) for t in INTEGRATION_TYPES.values() for name in t.secrets
)

# No Losant resource nests deeper: a file or an answer that does is refused, before any code
# that walks values recursively meets it
MAX_DEPTH = 64

# Dropped from every item as pages are read, never used: a copy of its id, the application it
# was read from, and the API's hypermedia (with `status`, which only health reads, a third of a
# live item's memory)
UNUSED_LIVE_FIELDS = ("integrationId", "applicationId", "_type", "_links", "_actions", "_embedded")
# Server-assigned or framework fields: never compared, never sent
READ_ONLY_FIELDS = frozenset({"id", "creationDate", "lastUpdated", "status", *UNUSED_LIVE_FIELDS})

# Scopes per action (any one of them), in the order losant-rest-js v1.30.0 lists them (its
# docs/*.md and lib/api/*.js; apiInfo.json names only the resource's own scopes). API v1.30.0
# added the `.bounded` variants of the three `all.*` scopes to every action.
_READ = (
    "all.Application",
    "all.Application.bounded",
    "all.Application.read",
    "all.Organization",
    "all.Organization.bounded",
    "all.Organization.read",
    "all.User",
    "all.User.bounded",
    "all.User.read",
)
_WRITE = (
    "all.Application",
    "all.Application.bounded",
    "all.Organization",
    "all.Organization.bounded",
    "all.User",
    "all.User.bounded",
)

SCOPES: dict[str, tuple[str, ...]] = {
    "list": (*_READ, "integrations.*", "integrations.get"),
    "post": (*_WRITE, "integrations.*", "integrations.post"),
    "get": (*_READ, "integration.*", "integration.get"),
    "patch": (*_WRITE, "integration.*", "integration.patch"),
    "delete": (*_WRITE, "integration.*", "integration.delete"),
    "credentials": (*_READ, "credentials.*", "credentials.get"),  # GET .../credentials
    "flows": (*_READ, "flows.*", "flows.get"),  # GET .../flows
    # GET /applications/{applicationId}: the application's owner (docs/application.md); its
    # list adds the `.cli` scopes of the Losant CLI's logins
    "application": (
        *_READ[:2],
        "all.Application.cli",
        *_READ[2:8],
        "all.User.cli",
        _READ[8],
        "application.*",
        "application.get",
    ),
    # GET /orgs/{orgId}/audit-logs: an organisation's, so no application token (docs/auditLogs.md)
    "auditLogs": (
        *_READ[3:],
        "auditLogs.*",
        "auditLogs.get",
        *(f"only.Organization{s}" for s in ("", ".bounded", ".read")),
    ),
}

# What each action does, for the 403 hint ("the token may not list credentials: ...")
ACTION_WORDS = {
    "list": "list integrations",
    "post": "create integrations",
    "get": "read an integration",
    "patch": "update integrations",
    "delete": "delete integrations",
    "credentials": "list credentials",
    "flows": "list workflows",
    "application": "read the application",
    "auditLogs": "read the organization's audit log",
}


def checked_application_id(value: str) -> str:
    """An application id given on the command line, lowercased; SyncerError unless it is one."""
    from syncer.errors import SyncerError

    if not re.fullmatch(OBJECT_ID_PATTERN, value.lower()):
        raise SyncerError(f"--application {value!r} is not a Losant id (24 hexadecimal characters)")
    return value.lower()
