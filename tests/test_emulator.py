"""The emulator against the published contract: semantics, errors, auth, secrets, state, admin."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from syncer.emulator.api import DEFAULT_ORGANIZATION, Emulator, EmulatorConfig, server_defaults_from_specs
from syncer.emulator.server import RunningEmulator
from syncer.emulator.status import connected
from syncer.emulator.testing import running_emulator
from syncer.losant import ACTION_WORDS, CONFIG_DEFAULTS, CONFIG_FIELDS, SCOPES
from syncer.schema import losant_schema
from tests.builders import APP, FLEET, MQTT, MQTT_PASSWORD, PARTICLE, PARTICLE_TOKEN, integration
from tests.emu import (
    CREDENTIALS,
    Answer,
    assert_application_is_checked,
    call,
    collection,
    credentials_path,
    served_by_the_cli,
)
from tests.helpers import failed, published

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MISSING = "0123456789abcdef01234567"


def _item(running: RunningEmulator, integration_id: str, app: str = APP) -> str:
    return f"/applications/{app}/integrations/{integration_id}"


def _patch(running: RunningEmulator, integration_id: str, body: Any) -> Answer:
    return call(running.url, "PATCH", _item(running, integration_id), body)


def _list(running: RunningEmulator, query: str = "") -> Any:
    """A page of the integrations list (`query`: ?page=1&perPage=10...)."""
    return call(running.url, "GET", collection() + query).body


def _seed_named(running: RunningEmulator, names: list[str]) -> list[str]:
    """Particle integrations of these names, seeded; the names."""
    running.emulator.seed(APP, [{**PARTICLE, "name": n} for n in names])
    return names


# a websocket integration with every kind of secret it has: a password and two header values
WS_SECRETS = integration(
    "ws",
    "websocket",
    url="wss://x.example.com",
    password="ws-pass-1",
    headers=[
        {"headerKey": "Authorization", "headerValue": "Bearer hv-secret"},
        {"headerKey": "X-Trace", "headerValue": "trace-value"},
    ],
)


# --- semantics ---------------------------------------------------------------------------------


def test_post_assigns_ids_dates_defaults(losant_emulator: RunningEmulator) -> None:
    answer = call(losant_emulator.url, "POST", collection(), PARTICLE)
    assert answer.status == 201
    body = answer.body
    assert re.fullmatch(r"[0-9a-f]{24}", body["id"])
    assert body["integrationId"] == body["id"]
    assert body["applicationId"] == APP
    assert ISO_MS.match(body["creationDate"])
    assert body["lastUpdated"] == body["creationDate"]
    assert body["enabled"] is True
    assert body["topics"] == []
    assert body["particleConfig"] == {"accessToken": PARTICLE_TOKEN}
    assert "status" in body


def test_patch_merges_top_level_and_replaces_arrays_and_configs(losant_emulator: RunningEmulator) -> None:
    created = call(losant_emulator.url, "POST", collection(), MQTT).body
    path = _item(losant_emulator, created["id"])
    answer = call(losant_emulator.url, "PATCH", path, {"topics": ["differentTopic"]})
    assert answer.status == 200
    assert answer.body["topics"] == ["differentTopic"]
    assert answer.body["mqttConfig"] == MQTT["mqttConfig"]  # untouched
    assert answer.body["lastUpdated"] > created["lastUpdated"]
    assert answer.body["creationDate"] == created["creationDate"]
    new_config = {"host": "other.example.com", "port": 1883, "protocol": "mqtt"}
    answer = call(losant_emulator.url, "PATCH", path, {"mqttConfig": new_config})
    assert answer.body["mqttConfig"] == new_config  # replaced whole: the password is gone
    assert call(losant_emulator.url, "GET", path).body["mqttConfig"] == new_config


@pytest.mark.emulator(patch_config="merge")
def test_patch_config_merge_switch(losant_emulator: RunningEmulator) -> None:
    created = call(losant_emulator.url, "POST", collection(), MQTT).body
    answer = _patch(
        losant_emulator,
        created["id"],
        {"mqttConfig": {"host": "other.example.com", "port": 1883, "protocol": "mqtt"}},
    )
    assert answer.body["mqttConfig"]["password"] == MQTT_PASSWORD
    assert answer.body["mqttConfig"]["host"] == "other.example.com"


def test_credential_name_null_clears_it(losant_emulator: RunningEmulator) -> None:
    created = call(losant_emulator.url, "POST", collection(), {**PARTICLE, "credentialName": "c"}).body
    answer = _patch(losant_emulator, created["id"], {"credentialName": None})
    assert "credentialName" not in answer.body


def test_websocket_config_defaults_and_switch() -> None:
    body = {"name": "ws", "integrationType": "websocket", "websocketConfig": {"url": "wss://x.example.com"}}
    with running_emulator() as running:
        config = call(running.url, "POST", collection(), body).body["websocketConfig"]
        assert config == {"url": "wss://x.example.com", "disableSSLVerification": False, "headers": []}
    with running_emulator(server_defaults={}) as running:
        config = call(running.url, "POST", collection(), body).body["websocketConfig"]
        assert config == {"url": "wss://x.example.com"}


# One optional field of each config object, a server default for it, a Post body without it and
# one that sets it (azure's oneOf makes those two different branches)
SERVER_DEFAULTS: list[tuple[str, dict[str, Any], str, Any, dict[str, Any]]] = [
    (
        "azureEventHub",
        {"hubName": "h", "consumerGroup": "losant", "connectionString": "Endpoint=sb://x/"},
        "hostName",
        "ns.servicebus.windows.net",
        {"hubName": "h", "consumerGroup": "losant", "hostName": "own.servicebus.windows.net"},
    ),
    ("googlePubSub", {}, "projectId", "plant-iot", {"projectId": "own"}),
    (
        "mqtt",
        {"host": "broker.example.com", "port": 8883, "protocol": "mqtts"},
        "clean",
        False,
        {"host": "broker.example.com", "port": 8883, "protocol": "mqtts", "clean": True},
    ),
    (
        "particle",
        {"accessToken": PARTICLE_TOKEN},
        "orgSlugOrId",
        "plant",
        {"accessToken": "t", "orgSlugOrId": "own"},
    ),
    (
        "sqs",
        {"queueUrl": "https://sqs.example.com/q"},
        "region",
        "us-east-1",
        {"queueUrl": "q", "region": "own"},
    ),
    (
        "websocket",
        {"url": "wss://x.example.com"},
        "disableSSLVerification",
        True,
        {"url": "wss://x.example.com", "disableSSLVerification": False},
    ),
]


@pytest.mark.parametrize(("kind", "config", "name", "value", "own"), SERVER_DEFAULTS)
def test_server_defaults_for_every_config_type(
    kind: str, config: dict[str, Any], name: str, value: Any, own: dict[str, Any]
) -> None:
    key = CONFIG_FIELDS[kind]
    assert set(CONFIG_FIELDS) == {row[0] for row in SERVER_DEFAULTS}
    with running_emulator(server_defaults={key: {name: value}}) as running:
        url = running.url
        created = call(url, "POST", collection(), {"name": kind, "integrationType": kind, key: config}).body
        assert created[key] == {**config, name: value}  # added on create
        chosen = call(url, "POST", collection(), {"name": "own", "integrationType": kind, key: own}).body
        assert chosen[key] == own  # a value the body gives wins
        path = _item(running, created["id"])
        replaced = call(url, "PATCH", path, {key: config}).body
        assert replaced[key] == {**config, name: value}  # and again on update: PATCH replaces the object
        assert call(url, "GET", path).body[key] == {**config, name: value}
        assert call(url, "PATCH", path, {"enabled": False}).body[key] == {**config, name: value}
        none = call(url, "POST", collection(), {"name": "bare", "integrationType": kind}).body
        assert key not in none  # defaults go into a config object the body has, never make one
    if kind != "websocket":  # the built-in defaults are websocketConfig's only
        with running_emulator() as running:
            created = call(
                running.url, "POST", collection(), {"name": kind, "integrationType": kind, key: config}
            )
            assert created.body[key] == config


@pytest.mark.emulator(patch_config="merge", server_defaults={"mqttConfig": {"clean": False}})
def test_server_defaults_with_merged_patches(losant_emulator: RunningEmulator) -> None:
    created = call(losant_emulator.url, "POST", collection(), MQTT).body
    assert created["mqttConfig"]["clean"] is False
    patched = _patch(
        losant_emulator,
        created["id"],
        {"mqttConfig": {"host": "other.example.com", "port": 1883, "protocol": "mqtt", "clean": True}},
    ).body
    assert (patched["mqttConfig"]["clean"], patched["mqttConfig"]["password"]) == (True, MQTT_PASSWORD)


@pytest.mark.parametrize(
    ("defaults", "message"),
    [
        ({"awsConfig": {"region": "x"}}, "server default awsConfig: not a config object; use one of"),
        (
            {"mqttConfig": {"colour": "red"}},
            "server default mqttConfig.colour: mqttConfig has no field colour",
        ),
        (
            {"mqttConfig": {"port": "high"}},
            'server default mqttConfig.port: "high" is not a value the schema allows',
        ),
        ({"mqttConfig": True}, "server default mqttConfig: give a mapping of field to value"),
    ],
)
def test_server_defaults_are_checked_against_the_schema(defaults: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Emulator(EmulatorConfig(server_defaults=defaults))


def test_server_default_specs_from_the_command_line() -> None:
    assert server_defaults_from_specs([]) == CONFIG_DEFAULTS
    assert server_defaults_from_specs([], builtin=False) == {}
    assert server_defaults_from_specs(
        ["mqttConfig.clean=false", 'mqttConfig.protocolVersion="5"', "sqsConfig.region=eu-west-1"],
        builtin=False,
    ) == {"mqttConfig": {"clean": False, "protocolVersion": "5"}, "sqsConfig": {"region": "eu-west-1"}}
    overridden = server_defaults_from_specs(
        ["websocketConfig.headers=[]", "websocketConfig.disableSSLVerification=true"]
    )
    assert overridden == {"websocketConfig": {"disableSSLVerification": True, "headers": []}}
    for bad in ("mqttConfig.clean", "clean=false", "mqttConfig.=1"):
        with pytest.raises(ValueError, match=r"write CONFIG\.FIELD=JSON"):
            server_defaults_from_specs([bad])


def test_integration_type_cannot_be_patched(losant_emulator: RunningEmulator) -> None:
    created = call(losant_emulator.url, "POST", collection(), PARTICLE).body
    answer = _patch(losant_emulator, created["id"], {"integrationType": "sqs"})
    assert (answer.status, answer.body) == (
        400,
        {"type": "Validation", "message": "integration has additional properties"},
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"integrationType": "particle"}, "integration.name is required"),
        ({**PARTICLE, "enabled": "yes"}, "integration.enabled is the wrong type"),
        ({**PARTICLE, "integrationType": "mqqt"}, "integration.integrationType must be an enum value"),
        ({**PARTICLE, "name": ""}, "integration.name has less length than allowed"),
        ({**PARTICLE, "colour": "red"}, "integration has additional properties"),
        (
            {**MQTT, "mqttConfig": {"host": "h", "port": 70000, "protocol": "mqtt"}},
            "integration.mqttConfig.port is more than maximum",
        ),
        ({**PARTICLE, "topics": ["a", "a"]}, "integration.topics must be unique"),
        (
            {"name": "a", "integrationType": "azureEventHub", "azureEventHubConfig": {"hubName": "h"}},
            "integration.azureEventHubConfig no (or more than one) schemas match",
        ),
    ],
)
def test_post_validation_messages(
    losant_emulator: RunningEmulator, body: dict[str, Any], message: str
) -> None:
    answer = call(losant_emulator.url, "POST", collection(), body)
    assert (answer.status, answer.body) == (400, {"type": "Validation", "message": message})
    assert call(losant_emulator.url, "GET", collection()).body["totalCount"] == 0


def test_sqs_min_max_keywords_are_ignored_as_published(losant_emulator: RunningEmulator) -> None:
    body = {"name": "q", "integrationType": "sqs", "sqsConfig": {"queueUrl": "u", "region": "r"}}
    assert call(losant_emulator.url, "POST", collection(), body).status == 201


def test_malformed_ids_unknown_ids_and_wrong_methods(losant_emulator: RunningEmulator) -> None:
    url = losant_emulator.url
    answer = call(url, "GET", f"/applications/{APP}/integrations/xyz")
    assert (answer.status, answer.body) == (
        400,
        {"type": "Validation", "message": "integrationId pattern mismatch"},
    )
    assert_application_is_checked(url, "/integrations")
    answer = call(url, "GET", _item(losant_emulator, MISSING))
    assert (answer.status, answer.body) == (404, {"type": "NotFound", "message": "Integration was not found"})
    for method in ("PUT", "DELETE"):
        assert call(url, method, collection()).status == 405
    assert call(url, "POST", _item(losant_emulator, MISSING), PARTICLE).status == 405
    assert call(url, "GET", "/applications").body["type"] == "NotFound"


def test_order_of_checks_validation_token_scope_existence(losant_emulator: RunningEmulator) -> None:
    url = losant_emulator.url
    # a malformed body without any token: validation comes first
    assert call(url, "POST", collection(FLEET), {"name": 1}, token=None).status == 400
    # a bad token on an unknown application: 401 before 404
    assert call(url, "GET", collection(FLEET), token="bad").status == 401
    call(url, "POST", "/_emulator/tokens", {"token": "narrow", "scopes": ["device.get"]})
    assert call(url, "GET", collection(FLEET), token="narrow").status == 403
    assert call(url, "GET", collection(FLEET)).status == 404


def test_auth_errors(losant_emulator: RunningEmulator) -> None:
    url = losant_emulator.url
    answer = call(url, "GET", collection(), token=None)
    assert (answer.status, answer.body) == (403, {"type": "Forbidden", "message": "Access is forbidden"})
    answer = call(url, "GET", collection(), token="not-a-token")
    assert (answer.status, answer.body) == (401, {"type": "Unauthorized", "message": "Invalid access token"})
    call(url, "POST", "/_emulator/tokens/revoke", {"token": "emulator-token", "expire": True})
    answer = call(url, "GET", collection())
    assert (answer.status, answer.body) == (
        401,
        {"type": "Unauthorized", "message": "Access token has expired"},
    )


def test_token_schemes_accepted(losant_emulator: RunningEmulator) -> None:
    url = losant_emulator.url
    assert (
        call(url, "GET", collection(), token=None, headers={"Authorization": "JWT emulator-token"}).status
        == 200
    )
    assert call(url, "GET", collection() + "?access_token=emulator-token", token=None).status == 200


# Verbatim from losant-rest-js v1.30.0 docs/integrations.md, docs/integration.md,
# docs/credentials.md, docs/flows.md, docs/application.md and docs/auditLogs.md ("The token must
# include at least one of the following scopes: ...")
PUBLISHED_SCOPES = {
    "list": "all.Application, all.Application.bounded, all.Application.read, all.Organization, "
    "all.Organization.bounded, all.Organization.read, all.User, all.User.bounded, all.User.read, "
    "integrations.*, or integrations.get",
    "post": "all.Application, all.Application.bounded, all.Organization, all.Organization.bounded, "
    "all.User, all.User.bounded, integrations.*, or integrations.post",
    "get": "all.Application, all.Application.bounded, all.Application.read, all.Organization, "
    "all.Organization.bounded, all.Organization.read, all.User, all.User.bounded, all.User.read, "
    "integration.*, or integration.get",
    "patch": "all.Application, all.Application.bounded, all.Organization, all.Organization.bounded, "
    "all.User, all.User.bounded, integration.*, or integration.patch",
    "delete": "all.Application, all.Application.bounded, all.Organization, all.Organization.bounded, "
    "all.User, all.User.bounded, integration.*, or integration.delete",
    "credentials": "all.Application, all.Application.bounded, all.Application.read, all.Organization, "
    "all.Organization.bounded, all.Organization.read, all.User, all.User.bounded, all.User.read, "
    "credentials.*, or credentials.get",
    "flows": "all.Application, all.Application.bounded, all.Application.read, all.Organization, "
    "all.Organization.bounded, all.Organization.read, all.User, all.User.bounded, all.User.read, "
    "flows.*, or flows.get",
    "application": "all.Application, all.Application.bounded, all.Application.cli, all.Application.read, "
    "all.Organization, all.Organization.bounded, all.Organization.read, all.User, all.User.bounded, "
    "all.User.cli, all.User.read, application.*, or application.get",
    "auditLogs": "all.Organization, all.Organization.bounded, all.Organization.read, all.User, "
    "all.User.bounded, all.User.read, auditLogs.*, auditLogs.get, only.Organization, "
    "only.Organization.bounded, or only.Organization.read",
}
EXPECTED_SCOPES = {
    action: text.replace(", or ", ", ").split(", ") for action, text in PUBLISHED_SCOPES.items()
}


def test_scopes_are_exactly_the_published_ones() -> None:
    pages = {"list": "integrations", "post": "integrations", "credentials": "credentials", "flows": "flows"}
    pages.update(application="application", auditLogs="auditLogs")
    for action, scopes in PUBLISHED_SCOPES.items():
        text = published(f"docs/{pages.get(action, 'integration')}.md")
        if text is None:
            break  # the client is not beside this checkout: the table above stands
        # the section of the action (GET for the three pages with several)
        section = (
            text.decode().split("\n## Get\n")[-1] if action in ("flows", "application") else text.decode()
        )
        assert f"following scopes:\n{scopes}.\n" in section, action
    assert {k: list(v) for k, v in SCOPES.items()} == EXPECTED_SCOPES
    assert set(ACTION_WORDS) == set(SCOPES)  # the tool's 403 hint can name every action


@pytest.mark.parametrize("action", list(EXPECTED_SCOPES))
def test_each_scope_allows_its_actions_and_no_other_scope_does(action: str) -> None:
    all_scopes = sorted({s for scopes in EXPECTED_SCOPES.values() for s in scopes} | {"device.get"})
    tokens = {f"t-{scope}": (scope,) for scope in all_scopes}
    with running_emulator(tokens={**tokens, "admin": ("all.Application",)}) as running:
        target = running.emulator.seed(APP, [PARTICLE])[0]["id"]
        method, path, body = {
            "list": ("GET", collection(), None),
            "post": ("POST", collection(), {**PARTICLE, "name": "new"}),
            "get": ("GET", _item(running, target), None),
            "patch": ("PATCH", _item(running, target), {"enabled": False}),
            "delete": ("GET", _item(running, target), None),
            "credentials": ("GET", credentials_path(), None),
            "flows": ("GET", f"/applications/{APP}/flows", None),
            "application": ("GET", f"/applications/{APP}", None),
            "auditLogs": ("GET", f"/orgs/{DEFAULT_ORGANIZATION}/audit-logs", None),
        }[action]
        if action == "delete":
            method = "DELETE"
        for scope in all_scopes:
            status = call(running.url, method, path, body, token=f"t-{scope}").status
            allowed = scope in EXPECTED_SCOPES[action]
            assert (status < 400) == allowed, (action, scope, status)
            if allowed and action in ("post", "delete"):
                running.emulator.reset()
                target = running.emulator.seed(APP, [PARTICLE])[0]["id"]
                path = _item(running, target) if action == "delete" else path


# --- list --------------------------------------------------------------------------------------


def test_list_pages_sorts_and_filters(losant_emulator: RunningEmulator) -> None:
    names = _seed_named(losant_emulator, [f"integration {i:02d}" for i in range(25)])
    page = _list(losant_emulator, "?page=1&perPage=10")
    assert [i["name"] for i in page["items"]] == names[10:20]
    assert (page["count"], page["totalCount"], page["page"], page["perPage"]) == (10, 25, 1, 10)
    assert (page["sortField"], page["sortDirection"], page["applicationId"]) == ("name", "asc", APP)
    assert "filter" not in page
    last = _list(losant_emulator, "?page=2&perPage=10")
    assert last["count"] == 5
    desc = _list(losant_emulator, "?sortField=name&sortDirection=desc&perPage=3")
    assert [i["name"] for i in desc["items"]] == names[:-4:-1]
    default = _list(losant_emulator)
    assert default["perPage"] == 100
    filtered = _list(losant_emulator, "?filterField=name&filter=*tion%201*")
    assert [i["name"] for i in filtered["items"]] == names[10:20]
    assert (filtered["filter"], filtered["filterField"]) == ("*tion 1*", "name")
    by_type = _list(losant_emulator, "?filterField=integrationType&filter=mqtt")
    assert by_type["totalCount"] == 0
    clients = _list(losant_emulator, "?_actions=false&_links=true&_embedded=true")
    assert clients["totalCount"] == 25


def test_list_accepts_1000_per_page_and_documents_the_maximum(losant_emulator: RunningEmulator) -> None:
    url = losant_emulator.url
    assert call(url, "GET", collection() + "?perPage=1000").status == 200
    answer = call(url, "GET", collection() + "?perPage=1001")
    assert answer.body == {"type": "Validation", "message": "perPage is more than maximum"}
    answer = call(url, "GET", collection() + "?sortField=colour")
    assert answer.body == {"type": "Validation", "message": "sortField must be an enum value"}
    answer = call(url, "GET", collection() + "?filterField=enabled&filter=x")
    assert answer.body == {"type": "Validation", "message": "filterField must be an enum value"}
    assert call(url, "GET", collection() + "?page=x").status == 400


@pytest.mark.emulator(per_page_cap=100)
def test_a_per_page_cap_serves_fewer_silently_and_says_so(losant_emulator: RunningEmulator) -> None:
    names = _seed_named(losant_emulator, [f"integration {i:03d}" for i in range(250)])
    first = _list(losant_emulator, "?perPage=1000")
    assert (first["count"], first["perPage"], first["page"], first["totalCount"]) == (100, 100, 0, 250)
    assert [i["name"] for i in first["items"]] == names[:100]
    second = _list(losant_emulator, "?perPage=1000&page=1")  # pages of 100, not 1000
    assert [i["name"] for i in second["items"]] == names[100:200]
    last = _list(losant_emulator, "?perPage=1000&page=2")
    assert (last["count"], last["perPage"]) == (50, 100)
    assert _list(losant_emulator, "?perPage=5000")["perPage"] == 100  # capped, not refused
    small = _list(losant_emulator, "?perPage=30&page=1")  # under the cap: as asked
    assert (small["perPage"], [i["name"] for i in small["items"]]) == (30, names[30:60])
    assert _list(losant_emulator)["perPage"] == 100


def test_a_per_page_cap_applies_to_the_credentials_list_and_replaces_the_maximum() -> None:
    with running_emulator(per_page_cap=5) as running:
        running.emulator.seed_credentials(APP, CREDENTIALS)
        page = call(running.url, "GET", credentials_path() + "?perPage=100&page=3&sortDirection=asc").body
        assert (page["count"], page["perPage"], page["page"], page["totalCount"]) == (1, 5, 3, 16)
        assert [c["name"] for c in page["items"]] == [CREDENTIALS[15]["name"]]
    with running_emulator(per_page_cap=2000) as running:
        assert call(running.url, "GET", collection() + "?perPage=1500").body["perPage"] == 1500
    with pytest.raises(ValueError, match="per_page_cap must be at least 1"):
        Emulator(EmulatorConfig(per_page_cap=0))


def test_delete_answers_success_and_accepts_include_workflows(losant_emulator: RunningEmulator) -> None:
    target = losant_emulator.emulator.seed(APP, [PARTICLE])[0]["id"]
    answer = call(losant_emulator.url, "DELETE", _item(losant_emulator, target) + "?includeWorkflows=false")
    assert (answer.status, answer.body) == (200, {"success": True})
    assert call(losant_emulator.url, "GET", _item(losant_emulator, target)).status == 404
    log = call(losant_emulator.url, "GET", "/_emulator/requests").body
    assert log[-2]["query"] == {"includeWorkflows": "false"}


# --- Accept-Version -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "version",
    ["^1.30.0", "^1.31.0", "~1.30.0", "1.30.0", ">=1.0", ">=1.30", "=1.29.3", "1.x", "1", "v1.30.0", "*", ""],
)
def test_accept_version_ranges_of_major_1_are_served(losant_emulator: RunningEmulator, version: str) -> None:
    url = losant_emulator.url
    for path in (collection(), credentials_path()):
        assert call(url, "GET", path, headers={"Accept-Version": version}).status == 200
    assert call(url, "GET", "/_emulator/requests").body[-1]["acceptVersion"] == version


@pytest.mark.parametrize(
    "version",
    ["^2.0.0", "2.0.0", "~0.9.0", ">=2", "10.0.0", "<1.0.0", "1.30.0 || 2.0.0", "latest", "^1.30.0.1"],
)
def test_accept_version_naming_another_major_or_unreadable_is_refused(
    losant_emulator: RunningEmulator, version: str
) -> None:
    url = losant_emulator.url
    answer = call(url, "GET", collection(), headers={"Accept-Version": version})
    assert (answer.status, answer.body) == (
        400,
        {"type": "VersionNotAllowed", "message": f"{version} is not supported by GET {collection()}"},
    )
    assert Draft7Validator(losant_schema("error")).is_valid(answer.body)
    assert call(url, "GET", credentials_path(), headers={"Accept-Version": version}).status == 400
    # routing comes first: before the body, the token and the application are looked at
    answer = call(
        url, "POST", collection(FLEET), {"name": 1}, token=None, headers={"Accept-Version": version}
    )
    assert answer.body["type"] == "VersionNotAllowed"
    assert call(url, "PUT", collection(), headers={"Accept-Version": version}).status == 405
    log = call(url, "GET", "/_emulator/requests").body
    assert [(e["acceptVersion"], e["status"]) for e in log[:2]] == [(version, 400), (version, 400)]


def test_the_official_clients_versions_are_recorded(losant_emulator: RunningEmulator) -> None:
    from losant_rest import Client

    Client(auth_token="emulator-token", url=losant_emulator.url).integrations.get(applicationId=APP)
    js_client = published("lib/api/index.js")
    assert js_client is None or b"'Accept-Version': '^1.30.0'" in js_client
    call(losant_emulator.url, "GET", collection(), headers={"Accept-Version": "^1.30.0"})  # losant-rest-js
    call(losant_emulator.url, "GET", collection())
    log = losant_emulator.emulator.log
    assert log[0]["acceptVersion"].startswith("^1.")  # the Python client's own, e.g. ^1.31.0
    assert [e["acceptVersion"] for e in log[1:]] == ["^1.30.0", None]
    assert all(e["status"] == 200 for e in log)


# --- published read schemas ----------------------------------------------------------------


def test_every_response_validates_against_the_published_read_schemas() -> None:
    schemas = {
        n: Draft7Validator(losant_schema(n)) for n in ("integration", "integrations", "error", "success")
    }
    seen: dict[str, int] = dict.fromkeys(schemas, 0)

    def check(kind: str, answer: Any) -> None:
        errors = list(schemas[kind].iter_errors(answer.body))
        assert errors == [], (kind, answer.body, errors[0].message if errors else "")
        seen[kind] += 1

    bodies = [
        PARTICLE,
        MQTT,
        {
            "name": "ws",
            "integrationType": "websocket",
            "websocketConfig": {"url": "wss://x", "headers": [{"headerKey": "a", "headerValue": "b"}]},
        },
        {"name": "g", "integrationType": "googlePubSub", "credentialName": "c", "googlePubSubConfig": {}},
        {
            "name": "az",
            "integrationType": "azureEventHub",
            "azureEventHubConfig": {
                "hubName": "h",
                "consumerGroup": "c",
                "hostName": "x.servicebus.windows.net",
            },
        },
        {"name": "s", "integrationType": "sqs", "sqsConfig": {"queueUrl": "https://q"}},
    ]
    for secrets in ("echo", "omit", "mask"):
        with running_emulator(secrets=secrets) as running:
            url = running.url
            ids = []
            # omit mode models a write-only API, which the read schema cannot describe where a
            # secret is `required` (particle accessToken, websocket headerValue); the rest validates
            omitted = ("particle", "websocket")
            for body in (
                bodies if secrets == "echo" else [b for b in bodies if b["integrationType"] not in omitted]
            ):
                answer = call(url, "POST", collection(), body)
                check("integration", answer)
                ids.append(answer.body["id"])
            check("integrations", call(url, "GET", collection()))
            check("integrations", call(url, "GET", collection() + "?filterField=name&filter=*s*&perPage=2"))
            check("integrations", call(url, "GET", collection() + "?_links=false"))
            check("integration", call(url, "GET", _item(running, ids[0])))
            check("integration", call(url, "PATCH", _item(running, ids[1]), {"topics": ["differentTopic"]}))
            check("success", call(url, "DELETE", _item(running, ids[2])))
            for answer in (
                call(url, "GET", _item(running, MISSING)),
                call(url, "GET", collection(FLEET)),
                call(url, "POST", collection(), {"name": "x"}),
                call(url, "GET", collection(), token=None),
                call(url, "GET", collection(), token="nope"),
                call(url, "PUT", collection()),
            ):
                check("error", answer)
    assert all(count > 0 for count in seen.values())


# --- credentials -------------------------------------------------------------------------------


def test_shipped_losant_schemas_are_the_published_v1_30_0_files() -> None:
    shipped = Path(__file__).parent.parent / "syncer" / "schemas" / "losant"
    names = sorted(p.name for p in shipped.glob("*.json"))
    assert {"credential.json", "credentials.json", "credentialPost.json"} <= set(names)
    workflows = {"flow.json", "flows.json", "flowTriggerFilter.json", "advancedFlowQuery.json"}
    assert workflows | {"application.json", "auditLog.json", "auditLogs.json", "auditLogFilter.json"} <= set(
        names
    )
    for name in names:
        text = published(f"lib/schemas/{name}")
        if text is None:
            pytest.skip("losant-rest-js is not beside this checkout")
        assert (shipped / name).read_bytes() == text, name


def _without_framework_fields(body: dict[str, Any]) -> dict[str, Any]:
    """bravado-core adds `_type` and `_links` to every entity, whatever its schema says."""
    out = {k: v for k, v in body.items() if k not in ("_type", "_links")}
    if isinstance(out.get("items"), list):
        out["items"] = [_without_framework_fields(i) for i in out["items"]]
    return out


def test_credentials_list_is_the_published_shape_and_never_shows_a_secret(
    losant_emulator: RunningEmulator,
) -> None:
    url, emulator = losant_emulator.url, losant_emulator.emulator
    seeded = emulator.seed_credentials(APP, CREDENTIALS)
    many, one = Draft7Validator(losant_schema("credentials")), Draft7Validator(losant_schema("credential"))
    plain = call(url, "GET", credentials_path() + "?_links=false").body
    assert [e.message for e in many.iter_errors(plain)] == []
    for item in plain["items"]:
        assert [e.message for e in one.iter_errors(item)] == [], item["name"]
    assert sorted(i["type"] for i in plain["items"]) == sorted(
        losant_schema("credential")["properties"]["type"]["enum"]
    )
    linked = call(url, "GET", credentials_path() + "?_actions=false&_links=true&_embedded=true").body
    assert linked["_type"] == "credentials"
    assert linked["_links"]["self"] == {"href": credentials_path()}
    first = linked["items"][0]
    assert first["_type"] == "credential"
    assert first["_links"]["self"] == {"href": f"{credentials_path()}/{first['id']}"}
    assert _without_framework_fields(linked) == plain
    text = json.dumps([seeded, plain, linked, emulator.credentials(APP)])
    assert "SECRET" not in text  # write-only, as docs.losant.com says
    assert "SECRET-aws" in json.dumps(emulator.store.snapshot())  # kept, never shown
    by_name = {i["name"]: i for i in plain["items"]}
    aws = by_name["aws-prod"]
    assert aws == {
        "id": aws["id"],
        "applicationId": APP,
        "creationDate": aws["creationDate"],
        "lastUpdated": aws["creationDate"],
        "name": "aws-prod",
        "type": "aws",
        "description": "SQS and S3 for the plant",
        "enabled": True,
        "awsConfig": {"accessKeyId": "AKIAEXAMPLEKEY123", "region": "eu-west-1"},
    }
    assert re.fullmatch(r"[0-9a-f]{24}", aws["id"])
    assert ISO_MS.match(aws["creationDate"])
    assert by_name["broker-cert"]["enabled"] is False
    key_meta = json.loads(by_name["gcp-service-account"]["gcpConfig"]["keyMetaJson"])
    assert key_meta["client_email"] == "losant@plant-iot.iam.gserviceaccount.com"
    assert "private_key" not in key_meta
    assert by_name["snowflake"]["snowflakeConfig"]["publicKey"].startswith("-----BEGIN PUBLIC KEY-----")
    assert by_name["historian-sql"]["sqlConfig"]["port"] == 5432
    assert seeded == [by_name[c["name"]] for c in CREDENTIALS]


def test_credentials_list_pages_sorts_and_filters(losant_emulator: RunningEmulator) -> None:
    losant_emulator.emulator.seed_credentials(APP, CREDENTIALS)
    url, names = losant_emulator.url, [c["name"] for c in CREDENTIALS]

    def listed(query: str) -> dict[str, Any]:
        answer = call(url, "GET", credentials_path() + query)
        assert answer.status == 200, answer.body
        body: dict[str, Any] = answer.body
        return body

    default = listed("")  # newest first: sortField creationDate, sortDirection desc
    assert [i["name"] for i in default["items"]] == names[::-1]
    assert (default["sortField"], default["sortDirection"], default["perPage"], default["page"]) == (
        "creationDate",
        "desc",
        100,
        0,
    )
    assert (default["count"], default["totalCount"], default["applicationId"]) == (16, 16, APP)
    page = listed("?sortField=name&sortDirection=asc&perPage=5&page=1")
    assert [i["name"] for i in page["items"]] == sorted(names)[5:10]
    assert (page["count"], page["totalCount"], page["perPage"], page["page"]) == (5, 16, 5, 1)
    assert [i["name"] for i in listed("?perPage=5&page=3")["items"]] == [names[0]]
    by_type = listed("?sortField=type&sortDirection=asc&filterField=type&filter=S*")
    assert [i["type"] for i in by_type["items"]] == ["sendgrid", "snowflake", "sql"]
    assert (by_type["filterField"], by_type["filter"], by_type["totalCount"]) == ("type", "S*", 3)
    assert [i["name"] for i in listed("?filterField=name&filter=A*")["items"]] == ["azure-sas", "aws-prod"]
    assert listed("?filter=aws")["totalCount"] == 16  # a filter without a field filters nothing
    for query, message in (
        ("?sortField=id", "sortField must be an enum value"),
        ("?sortField=integrationType", "sortField must be an enum value"),
        ("?filterField=integrationType&filter=x", "filterField must be an enum value"),
        ("?sortDirection=up", "sortDirection must be an enum value"),
        ("?perPage=1001", "perPage is more than maximum"),
        ("?page=-1", "page is the wrong type"),
    ):
        answer = call(url, "GET", credentials_path() + query)
        assert (answer.status, answer.body) == (400, {"type": "Validation", "message": message}), query


def test_credentials_list_errors(losant_emulator: RunningEmulator) -> None:
    url = losant_emulator.url
    assert call(url, "GET", credentials_path()).body["items"] == []  # an application without any
    assert_application_is_checked(url, "/credentials")
    answer = call(url, "GET", credentials_path(), token=None)
    assert (answer.status, answer.body) == (403, {"type": "Forbidden", "message": "Access is forbidden"})
    assert call(url, "GET", credentials_path(FLEET), token="bad").status == 401  # token before existence
    for method in ("POST", "PATCH", "DELETE"):  # only the list is emulated
        assert call(url, method, credentials_path(), {"name": "x", "type": "aws"}).status == 405
    assert call(url, "GET", credentials_path() + "/" + MISSING).status == 404
    errors = Draft7Validator(losant_schema("error"))
    assert errors.is_valid(answer.body)


def test_credentials_are_seeded_through_the_admin_api_and_checked(losant_emulator: RunningEmulator) -> None:
    url, route = losant_emulator.url, f"/_emulator/applications/{FLEET}/credentials"
    answer = call(url, "POST", route, CREDENTIALS[:2])
    assert answer.status == 201
    assert [c["name"] for c in answer.body] == ["aws-prod", "azure-sas"]
    assert "SECRET" not in json.dumps(answer.body)
    assert call(url, "GET", credentials_path(FLEET)).body["totalCount"] == 2  # the application exists now
    for body, message in (
        ([CREDENTIALS[0]], "a credential named aws-prod already exists"),
        ([CREDENTIALS[2], CREDENTIALS[2]], "a credential named gcp-service-account already exists"),
        (
            [{"name": "a", "type": "aws", "awsConfig": {"accessKeyId": "AKIAEXAMPLEKEY123", "region": "r"}}],
            "credential.awsConfig.secretAccessKey is required",
        ),
        ([{"name": "a", "type": "vault"}], "credential.type must be an enum value"),
        (
            [
                {"name": "a", "type": "mailgun"},
                {"name": "b", "type": "gcp", "gcpConfig": {"keyJson": "not json"}},
            ],
            "credential.gcpConfig.keyJson is not a JSON service account key",
        ),
        ({"name": "a", "type": "aws"}, "credentials must be a list of Credential Post bodies"),
    ):
        answer = call(url, "POST", route, body)
        assert (answer.status, answer.body) == (400, {"type": "Validation", "message": message})
    assert call(url, "GET", credentials_path(FLEET)).body["totalCount"] == 2  # all or nothing
    assert call(url, "POST", "/_emulator/applications/nope/credentials", []).status == 400
    third = "0123456789abcdef0123456a"
    assert call(url, "POST", f"/_emulator/applications/{third}/credentials", [{"name": "a"}]).status == 400
    assert call(url, "GET", credentials_path(third)).status == 404  # a refused seed creates nothing
    assert call(url, "POST", "/_emulator/reset").status == 200
    assert losant_emulator.emulator.credentials(FLEET) == []


def test_credentials_list_faults(losant_emulator: RunningEmulator) -> None:
    losant_emulator.emulator.seed_credentials(APP, CREDENTIALS[:1])
    _faults(
        losant_emulator,
        {"fault": "503", "on": ["credentials"], "times": 1},
        {"fault": "lie", "on": ["credentials"], "extra": 2},
    )
    url = losant_emulator.url
    assert call(url, "GET", collection()).status == 200  # the integrations list is another action
    assert call(url, "GET", credentials_path()).status == 503
    page = call(url, "GET", credentials_path()).body
    assert (page["count"], page["totalCount"]) == (1, 3)


# --- secrets -----------------------------------------------------------------------------------


def _every_answer(running: RunningEmulator) -> tuple[list[Any], Any, Any, Any]:
    """MQTT, WS_SECRETS and PARTICLE created, the first patched, all listed, the second read: the
    answers (created, patched, listed, got)."""
    url = running.url
    created = [call(url, "POST", collection(), body).body for body in (MQTT, WS_SECRETS, PARTICLE)]
    patched = _patch(running, created[0]["id"], {"enabled": False}).body
    listed = call(url, "GET", collection()).body
    got = call(url, "GET", _item(running, created[1]["id"])).body
    return created, patched, listed, got


@pytest.mark.emulator(secrets="omit")
def test_omit_mode_never_returns_secret_fields(losant_emulator: RunningEmulator) -> None:
    created, patched, listed, got = _every_answer(losant_emulator)
    text = json.dumps([created, patched, listed, got])
    for secret in (MQTT_PASSWORD, "ws-pass-1", "hv-secret", "trace-value", PARTICLE_TOKEN):
        assert secret not in text
    assert got["websocketConfig"]["headers"] == [{"headerKey": "Authorization"}, {"headerKey": "X-Trace"}]
    stored = json.dumps(losant_emulator.emulator.store.snapshot())
    assert MQTT_PASSWORD in stored  # the server keeps them; it only never returns them


@pytest.mark.emulator(secrets="mask")
def test_mask_mode_shows_every_stored_secret_as_the_placeholder(losant_emulator: RunningEmulator) -> None:
    created, patched, listed, got = _every_answer(losant_emulator)
    assert created[0]["mqttConfig"] == {
        "host": "broker.example.com",
        "port": 8883,
        "protocol": "mqtts",
        "password": "****",
    }
    assert created[1]["websocketConfig"] == {
        "url": "wss://x.example.com",
        "password": "****",  # privateKey was never stored, so it is not shown either
        "headers": [
            {"headerKey": "Authorization", "headerValue": "****"},
            {"headerKey": "X-Trace", "headerValue": "****"},  # every header value is a secret field
        ],
        "disableSSLVerification": False,
    }
    assert created[2]["particleConfig"] == {"accessToken": "****"}
    assert patched["mqttConfig"]["password"] == "****"
    assert got["websocketConfig"] == created[1]["websocketConfig"]
    text = json.dumps([created, patched, listed, got, losant_emulator.emulator.integrations(APP)])
    for secret in (MQTT_PASSWORD, "ws-pass-1", "hv-secret", "trace-value", PARTICLE_TOKEN):
        assert secret not in text
    # five secrets in each of created, listed and integrations(); one in patched, three in got
    assert text.count('"****"') == 5 * 3 + 1 + 3
    stored = json.dumps(losant_emulator.emulator.store.snapshot())
    assert MQTT_PASSWORD in stored  # the server keeps them; it only never shows them


def test_the_mask_is_configurable() -> None:
    with running_emulator(secrets="mask", secret_mask="<hidden>") as running:
        created = call(running.url, "POST", collection(), MQTT).body
        assert created["mqttConfig"]["password"] == "<hidden>"


def test_echo_mode_returns_secrets_as_published(losant_emulator: RunningEmulator) -> None:
    created = call(losant_emulator.url, "POST", collection(), MQTT).body
    assert created["mqttConfig"]["password"] == MQTT_PASSWORD


# --- state -------------------------------------------------------------------------------------


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with running_emulator(state_file=str(state)) as running:
        created = call(running.url, "POST", collection(), PARTICLE).body
        _patch(running, created["id"], {"enabled": False})
        credentials = call(
            running.url, "POST", f"/_emulator/applications/{APP}/credentials", CREDENTIALS
        ).body
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left
    with running_emulator(state_file=str(state)) as running:
        again = call(running.url, "GET", _item(running, created["id"])).body
        assert again["enabled"] is False
        assert again["creationDate"] == created["creationDate"]
        newer = call(running.url, "POST", collection(), {**PARTICLE, "name": "other"}).body
        assert newer["id"] != created["id"]
        listed = call(running.url, "GET", credentials_path() + "?_links=false&sortDirection=asc").body
        assert listed["items"] == credentials


def test_state_files_of_versions_1_and_2_are_read_and_others_refused(tmp_path: Path) -> None:
    old = tmp_path / "v1.json"
    record = Emulator(EmulatorConfig(applications=(APP,))).seed(APP, [PARTICLE])[0]
    old.write_text(
        json.dumps({"version": 1, "counter": 1, "lastMs": 0, "applications": {APP: {record["id"]: record}}})
    )
    with running_emulator(state_file=str(old)) as running:
        assert call(running.url, "GET", collection()).body["totalCount"] == 1
        assert call(running.url, "GET", credentials_path()).body["totalCount"] == 0
        running.emulator.seed_credentials(APP, CREDENTIALS[:1])
    assert json.loads(old.read_text())["version"] == 3  # saved in the current format
    v2 = json.loads(old.read_text())
    for key in ("flows", "connections", "auditLogs", "applicationInfo"):  # what version 3 added
        del v2[key]
    old.write_text(json.dumps({**v2, "version": 2}))
    with running_emulator(state_file=str(old)) as running:
        assert call(running.url, "GET", credentials_path()).body["totalCount"] == 1
        [listed] = call(running.url, "GET", collection()).body["items"]
        assert connected(listed["status"])  # seeded before there were statuses: connected
        assert call(running.url, "GET", f"/applications/{APP}/flows").body["totalCount"] == 0
    future = tmp_path / "v4.json"
    future.write_text(json.dumps({"version": 4, "applications": {}}))
    with pytest.raises(
        ValueError,
        match=r"v4.json: not an emulator state file this emulator reads \(version 4; "
        r"it reads versions 1, 2, 3",
    ):
        Emulator(EmulatorConfig(state_file=str(future)))
    from tests.helpers import syncer

    run = syncer("emulator", "--state-file", str(future))
    assert "cannot start the emulator" in failed(run)
    assert "version 4" in run.stderr


def test_a_failed_save_leaves_the_previous_state_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state.json"
    emulator = Emulator(EmulatorConfig(applications=(APP,), state_file=str(state)))
    emulator.seed(APP, [PARTICLE])
    before = state.read_bytes()

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        emulator.seed(APP, [{**PARTICLE, "name": "second"}])
    assert state.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_applications_created_on_first_use_when_asked() -> None:
    with running_emulator(applications=(), auto_create_applications=True) as running:
        assert call(running.url, "GET", collection(FLEET)).body["totalCount"] == 0
    with running_emulator(applications=()) as running:
        assert call(running.url, "GET", collection(FLEET)).status == 404


# --- faults ------------------------------------------------------------------------------------


def _faults(running: RunningEmulator, *rules: dict[str, Any]) -> None:
    assert call(running.url, "POST", "/_emulator/faults", list(rules)).status == 201


def test_status_faults_with_and_without_retry_after(losant_emulator: RunningEmulator) -> None:
    _faults(
        losant_emulator,
        {"fault": "429", "on": ["list"], "times": 2, "retryAfter": "1"},
        {"fault": "503", "on": ["get"], "times": 1},
    )
    url = losant_emulator.url
    first = call(url, "GET", collection())
    assert (first.status, first.headers["retry-after"]) == (429, "1")
    assert first.body["type"]
    assert call(url, "GET", collection()).status == 429
    assert call(url, "GET", collection()).status == 200
    answer = call(url, "GET", _item(losant_emulator, MISSING))
    assert answer.status == 503
    assert "retry-after" not in answer.headers


def test_reset_fault_cuts_the_connection_before_anything_is_done(losant_emulator: RunningEmulator) -> None:
    _faults(losant_emulator, {"fault": "reset", "on": ["post"], "times": 1})
    with pytest.raises((ConnectionError, OSError)):
        call(losant_emulator.url, "POST", collection(), PARTICLE)
    assert losant_emulator.emulator.integrations(APP) == []


def test_commit_then_drop_fault(losant_emulator: RunningEmulator) -> None:
    _faults(losant_emulator, {"fault": "drop", "on": ["post", "patch", "delete"], "times": 3})
    with pytest.raises((ConnectionError, OSError)):
        call(losant_emulator.url, "POST", collection(), PARTICLE)
    [stored] = losant_emulator.emulator.integrations(APP)  # committed
    with pytest.raises((ConnectionError, OSError)):
        _patch(losant_emulator, stored["id"], {"enabled": False})
    assert losant_emulator.emulator.integrations(APP)[0]["enabled"] is False
    with pytest.raises((ConnectionError, OSError)):
        call(losant_emulator.url, "DELETE", _item(losant_emulator, stored["id"]))
    assert losant_emulator.emulator.integrations(APP) == []


def test_slow_fault_outlasts_a_client_timeout(losant_emulator: RunningEmulator) -> None:
    _faults(losant_emulator, {"fault": "slow", "on": ["list"], "times": 1, "delay": 1.0})
    with pytest.raises(TimeoutError):
        call(losant_emulator.url, "GET", collection(), timeout=0.2)
    assert call(losant_emulator.url, "GET", collection()).status == 200


def test_lying_list(losant_emulator: RunningEmulator) -> None:
    losant_emulator.emulator.seed(APP, [PARTICLE])
    _faults(losant_emulator, {"fault": "lie", "on": ["list"], "extra": 5})
    page = call(losant_emulator.url, "GET", collection()).body
    assert (page["count"], page["totalCount"], len(page["items"])) == (1, 6, 1)


def test_after_option_and_seeded_probability_are_deterministic() -> None:
    def statuses(seed: int) -> list[int]:
        with running_emulator(seed=seed) as running:
            _faults(running, {"fault": "500", "on": ["list"], "after": 2, "probability": 0.5})
            return [call(running.url, "GET", collection()).status for _ in range(12)]

    first = statuses(7)
    assert first[:2] == [200, 200]
    assert 500 in first[2:]
    assert 200 in first[2:]
    assert statuses(7) == first


def test_fault_specs_parse_from_the_command_line_syntax() -> None:
    from syncer.emulator.faults import parse_rule

    rule = parse_rule("429@list+get:times=3,retry-after=1")
    assert (rule.fault, rule.on, rule.times, rule.retry_after) == ("429", ("list", "get"), 3, "1")
    assert parse_rule("slow@get:delay=5").delay == 5.0
    for bad in ("418", "429@fetch", "429:often=yes"):
        with pytest.raises(ValueError, match=r"unknown|cannot read"):
            parse_rule(bad)


# --- admin API and request log -------------------------------------------------------------------


def test_admin_api_is_off_unless_enabled() -> None:
    with running_emulator(admin=False) as running:
        answer = call(running.url, "GET", "/_emulator/requests")
        assert (answer.status, answer.body["type"]) == (404, "NotFound")


def test_request_log_reset_and_seeding_through_the_admin_api(losant_emulator: RunningEmulator) -> None:
    url = losant_emulator.url
    seeded = call(url, "POST", f"/_emulator/applications/{APP}/integrations", [PARTICLE]).body
    call(url, "PATCH", _item(losant_emulator, seeded[0]["id"]) + "?_links=false", {"enabled": False})
    log = call(url, "GET", "/_emulator/requests").body
    assert log == [
        {
            "method": "PATCH",
            "path": _item(losant_emulator, seeded[0]["id"]),
            "query": {"_links": "false"},
            "acceptVersion": None,
            "body": {"enabled": False},
            "status": 200,
            "fault": None,
        }
    ]
    assert call(url, "POST", "/_emulator/applications", {"id": FLEET}).status == 201
    assert call(url, "GET", collection(FLEET)).status == 200
    assert call(url, "POST", "/_emulator/reset").status == 200
    assert call(url, "GET", "/_emulator/requests").body == []
    assert losant_emulator.emulator.integrations(APP) == []
    assert call(url, "POST", "/_emulator/faults", {"fault": "teapot"}).status == 400


# --- fidelity with Losant's own client and documentation -----------------------------------------


def test_official_losant_rest_client(losant_emulator: RunningEmulator) -> None:
    from losant_rest import Client, LosantError

    client = Client(auth_token="emulator-token", url=losant_emulator.url)
    created = client.integrations.post(applicationId=APP, integration=MQTT)
    assert created["name"] == "Line 1 broker"
    listed = client.integrations.get(applicationId=APP, perPage=1000)
    assert (listed["count"], listed["totalCount"]) == (1, 1)
    got = client.integration.get(applicationId=APP, integrationId=created["id"])
    assert got["mqttConfig"] == MQTT["mqttConfig"]
    patched = client.integration.patch(
        applicationId=APP, integrationId=created["id"], integration={"topics": ["differentTopic"]}
    )
    assert patched["topics"] == ["differentTopic"]
    assert client.integration.delete(applicationId=APP, integrationId=created["id"]) == {"success": True}
    with pytest.raises(LosantError) as error:
        client.integration.get(applicationId=APP, integrationId=created["id"])
    assert (error.value.status, error.value.data) == (
        404,
        {"type": "NotFound", "message": "Integration was not found"},
    )
    with pytest.raises(LosantError) as error:
        client.integrations.post(applicationId=APP, integration={"name": "x"})
    assert error.value.status == 400
    assert error.value.data["message"] == "integration.integrationType is required"
    with pytest.raises(LosantError) as error:
        Client(auth_token="wrong", url=losant_emulator.url).integrations.get(applicationId=APP)
    assert error.value.data == {"type": "Unauthorized", "message": "Invalid access token"}
    sent = call(losant_emulator.url, "GET", "/_emulator/requests").body
    assert sent[0]["query"] == {"_actions": "false", "_links": "true", "_embedded": "true"}


def test_official_losant_rest_client_lists_credentials(losant_emulator: RunningEmulator) -> None:
    from losant_rest import Client, LosantError

    losant_emulator.emulator.seed_credentials(APP, CREDENTIALS)
    client = Client(auth_token="emulator-token", url=losant_emulator.url)
    listed = client.credentials.get(applicationId=APP, filterField="type", filter="aws")
    assert [c["name"] for c in listed["items"]] == ["aws-prod"]
    assert listed["items"][0]["_links"]["self"]["href"].startswith(credentials_path())
    with pytest.raises(LosantError) as error:
        client.credentials.get(applicationId=FLEET)
    assert (error.value.status, error.value.data["message"]) == (404, "Application was not found")


def test_emulator_command_starts_with_usable_defaults(tmp_path: Path) -> None:
    with served_by_the_cli("--state-file", str(tmp_path / "s.json")) as (url, banner):
        assert banner[1].strip() == f"export LOSANT_API_URL={url}"
        assert banner[2].strip() == "export LOSANT_API_TOKEN=emulator-token"
        app = banner[3].split()[1]
        assert call(url, "POST", collection(app), PARTICLE).status == 201
        assert call(url, "GET", collection(FLEET)).status == 200  # created on first use
    assert json.loads((tmp_path / "s.json").read_text())["applications"][APP]


def test_emulator_command_adds_the_server_defaults_asked_for() -> None:
    args = (
        "--no-config-defaults",
        "--server-default",
        "mqttConfig.clean=false",
        "--server-default",
        "sqsConfig.region=eu-west-1",
    )
    with served_by_the_cli(*args) as (url, _):
        assert call(url, "POST", collection(), MQTT).body["mqttConfig"]["clean"] is False
        sqs = {"name": "q", "integrationType": "sqs", "sqsConfig": {"queueUrl": "https://q"}}
        assert call(url, "POST", collection(), sqs).body["sqsConfig"]["region"] == "eu-west-1"
        ws = {"name": "ws", "integrationType": "websocket", "websocketConfig": {"url": "wss://x"}}
        assert call(url, "POST", collection(), ws).body["websocketConfig"] == {"url": "wss://x"}
    from tests.helpers import syncer

    run = syncer("emulator", "--server-default", "mqttConfig.colour=red")
    assert run.exit_code == 1
    assert (
        "Invalid value for --server-default: server default mqttConfig.colour: mqttConfig has no field colour"
        in run.stderr
    )


def test_emulator_command_caps_pages_when_asked() -> None:
    with served_by_the_cli("--max-per-page", "2") as (url, _):
        call(url, "POST", collection(), PARTICLE)
        call(url, "POST", collection(), MQTT)
        call(url, "POST", collection(), {**PARTICLE, "name": "third"})
        page = call(url, "GET", collection() + "?perPage=1000").body
        assert (page["count"], page["perPage"], page["totalCount"]) == (2, 2, 3)
    from tests.helpers import syncer

    assert syncer("emulator", "--max-per-page", "0").exit_code == 1


def test_emulator_command_masks_secrets_when_asked() -> None:
    with served_by_the_cli("--secrets", "mask", "--secret-mask", "[hidden]") as (url, banner):
        assert "secrets: mask" in banner[4]
        assert call(url, "POST", collection(), MQTT).body["mqttConfig"]["password"] == "[hidden]"


def test_emulator_command_rejects_bad_options() -> None:
    from tests.helpers import syncer

    run = syncer("emulator", "--fault", "418@list")
    assert "unknown fault '418'" in failed(run)
    run = syncer("emulator", "--application", "nope")
    assert "'nope' is not 24 hexadecimal characters" in failed(run)
