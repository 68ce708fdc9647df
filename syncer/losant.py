"""Facts about Losant's integration API that several stages share (losant-api.md)."""

from __future__ import annotations

from typing import Any

OBJECT_ID_PATTERN = r"^[A-Fa-f\d]{24}$"
DEFAULT_API_URL = "https://api.losant.com"
# the API version the shipped schemas come from (losant-rest-js 1.30.0), sent as Accept-Version
# the way Losant's own clients send it
API_VERSION = "^1.30.0"
MAX_PER_PAGE = 1000  # what losant-cli pages with; no maximum is published

CONFIG_FIELDS = {
    "azureEventHub": "azureEventHubConfig",
    "googlePubSub": "googlePubSubConfig",
    "mqtt": "mqttConfig",
    "particle": "particleConfig",
    "sqs": "sqsConfig",
    "websocket": "websocketConfig",
}

# Server-assigned or framework fields: never compared, never sent
READ_ONLY_FIELDS = frozenset(
    {
        "id",
        "integrationId",
        "applicationId",
        "creationDate",
        "lastUpdated",
        "status",
        "_type",
        "_links",
        "_actions",
        "_embedded",
    }
)

# What the server fills in when a config object leaves it out (seen in a real export; inferred)
CONFIG_DEFAULTS: dict[str, dict[str, Any]] = {
    "websocketConfig": {"disableSSLVerification": False, "headers": []},
}

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
}

# What each action does, for the 403 hint ("the token may not list credentials: ...")
ACTION_WORDS = {
    "list": "list integrations",
    "post": "create integrations",
    "get": "read an integration",
    "patch": "update integrations",
    "delete": "delete integrations",
    "credentials": "list credentials",
}
