"""The application (its owner) and the organisation's audit log in the emulator, against
losant-rest-js v1.30.0's application.md, auditLogs.md and their schemas."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from syncer.emulator.api import DEFAULT_ORG_TOKEN, DEFAULT_ORGANIZATION, DEFAULT_TOKEN
from syncer.emulator.server import RunningEmulator
from syncer.emulator.store import epoch_ms
from syncer.emulator.testing import running_emulator
from tests.builders import APP, FLEET, MQTT, MQTT_PASSWORD, PARTICLE
from tests.emu import (
    Answer,
    assert_application_is_checked,
    assert_published_pages,
    call,
    collection,
    served_by_the_cli,
)
from tests.helpers import failed, published, published_validator, syncer

LOGS = f"/orgs/{DEFAULT_ORGANIZATION}/audit-logs"
OWNER = "5f3e6a1b2c4d5e6f7a8b9c99"  # a user, or another organisation
CI_TOKEN = "ci-token-7f3a"
CI = ("GitHub Actions", "ApiToken", "64b1f0c0ffee0000000000aa")


def logs(running: RunningEmulator, plain: str = "", token: str = DEFAULT_ORG_TOKEN, **params: Any) -> Answer:
    """GET the default organisation's audit log: `plain` query, `params` JSON-encoded."""
    extra = "&".join(f"{k}={quote(json.dumps(v))}" for k, v in params.items())
    joined = "&".join(part for part in (plain.lstrip("?"), extra) if part)
    return call(running.url, "GET", LOGS + ("?" + joined if joined else ""), token=token)


def item(integration_id: str) -> str:
    return f"{collection()}/{integration_id}"


# --- the application ---------------------------------------------------------------------------


def test_the_application_is_the_published_shape_with_its_owner() -> None:
    schema = published_validator("application")
    with running_emulator(owners={FLEET: ("user", OWNER)}, applications=(APP, FLEET)) as running:
        running.emulator.seed(APP, [PARTICLE])
        running.emulator.seed_flows(APP, [{"name": "f"}])
        mine = call(running.url, "GET", f"/applications/{APP}")
        theirs = call(running.url, "GET", f"/applications/{FLEET}?_links=false").body
        bare = call(running.url, "GET", f"/applications/{APP}?_links=false").body
        assert call(running.url, "GET", f"/applications/{APP}", token=DEFAULT_ORG_TOKEN).status == 200
    assert mine.status == 200
    for body in (mine.body, theirs, bare):
        assert list(schema.iter_errors(body)) == []
    app = mine.body
    assert (app["id"], app["applicationId"]) == (APP, APP)
    assert (app["ownerType"], app["ownerId"]) == ("organization", DEFAULT_ORGANIZATION)
    assert (theirs["ownerType"], theirs["ownerId"]) == ("user", OWNER)
    assert app["summary"] == {"credentialCount": 0, "flowCount": 1, "integrationCount": 1}
    assert app["_links"]["flows"] == {"href": f"/applications/{APP}/flows"}
    assert "_links" not in bare
    assert app["creationDate"] <= running.emulator.integrations(APP)[0]["creationDate"]


def test_the_application_errors_are_the_others() -> None:
    with running_emulator() as running:
        url = running.url
        assert_application_is_checked(url)
        assert call(url, "PATCH", f"/applications/{APP}", {"name": "x"}).status == 405
        assert call(url, "GET", f"/applications/{APP}", token="nope").status == 401
        call(url, "POST", "/_emulator/faults", {"fault": "502", "on": ["application"], "times": 1})
        assert call(url, "GET", f"/applications/{APP}").status == 502


def test_applications_are_declared_with_a_name_and_owner_through_the_admin_api(
    losant_emulator: RunningEmulator,
) -> None:
    url = losant_emulator.url
    declared = call(
        url,
        "POST",
        "/_emulator/applications",
        {"id": FLEET, "name": "Fleet", "ownerType": "user", "ownerId": OWNER},
    )
    assert declared.body == {"id": FLEET, "name": "Fleet", "ownerType": "user", "ownerId": OWNER}
    app = call(url, "GET", f"/applications/{FLEET}").body
    assert (app["name"], app["ownerType"], app["ownerId"]) == ("Fleet", "user", OWNER)
    other_org = call(url, "POST", "/_emulator/applications", {"id": FLEET, "ownerId": OWNER})
    assert other_org.body["ownerType"] == "organization"
    for bad in ({"id": FLEET, "ownerType": "team"}, {"id": FLEET, "ownerId": "x"}, {"id": FLEET, "name": ""}):
        assert call(url, "POST", "/_emulator/applications", bad).status == 400


# --- the audit log -----------------------------------------------------------------------------


def test_each_integration_write_is_recorded_with_its_actor() -> None:
    tokens = {
        DEFAULT_TOKEN: ("all.Application",),
        CI_TOKEN: ("integrations.*", "integration.*"),
        DEFAULT_ORG_TOKEN: ("auditLogs.get",),
    }
    with running_emulator(tokens=tokens, actors={CI_TOKEN: CI}, connect_delay=60) as running:
        url = running.url
        seeded = running.emulator.seed(APP, [PARTICLE])[0]  # seeding is no write through the API
        call(url, "GET", collection())  # nor is a read
        created = call(url, "POST", collection() + "?_links=false", MQTT, token=CI_TOKEN).body
        call(url, "PATCH", item(seeded["id"]), {"enabled": False})
        call(url, "DELETE", item(created["id"]) + "?includeWorkflows=false", token=CI_TOKEN)
        page = logs(running)
    assert page.status == 200
    entries = page.body["items"]
    assert [(e["requestAction"], e["requestResource"], e["responseStatus"]) for e in entries] == [
        ("delete", "integration", 200),  # newest first: creationDate desc by default
        ("patch", "integration", 200),
        ("post", "integrations", 201),
    ]
    delete, patch, post = entries
    assert (post["actorName"], post["actorType"], post["actorId"]) == CI
    assert (delete["actorName"], delete["actorType"], delete["actorId"]) == CI
    assert (patch["actorName"], patch["actorType"]) == ("Emulator API token", "ApiToken")  # the default's
    assert post["requestBody"] == MQTT  # as sent, its secret too: the real log keeps it
    assert post["requestBody"]["mqttConfig"]["password"] == MQTT_PASSWORD
    assert post["responseBody"] == created  # the answer, without _links
    assert post["requestPathParams"] == {"applicationId": APP}
    assert delete["requestPathParams"] == {"applicationId": APP, "integrationId": created["id"]}
    assert (delete["requestQueryParams"], delete["requestBody"], delete["responseBody"]) == (
        {"includeWorkflows": "false"},
        {},
        {"success": True},
    )
    assert patch["requestBody"] == {"enabled": False}
    for entry, target in ((post, created), (patch, seeded), (delete, created)):
        assert (entry["secondaryTargetType"], entry["secondaryTargetId"]) == ("Integration", target["id"])
        assert entry["secondaryTargetName"] == target["name"]
        assert (entry["primaryTargetType"], entry["primaryTargetId"]) == ("Application", APP)
        assert entry["orgId"] == DEFAULT_ORGANIZATION
        assert entry["id"] == entry["auditLogId"]
    assert epoch_ms(post["creationDate"]) >= epoch_ms(created["creationDate"])
    assert all(CI_TOKEN not in json.dumps(e) and DEFAULT_TOKEN not in json.dumps(e) for e in entries)


def test_every_audit_log_answer_is_the_published_shape() -> None:
    with running_emulator() as running:
        created = call(running.url, "POST", collection(), PARTICLE).body
        call(
            running.url, "PATCH", item(created["id"]), {"name": "x" * 300}
        )  # invalid: refused before the token
        call(running.url, "PATCH", item("0" * 24), {"enabled": False})  # and so is a 404
        call(running.url, "DELETE", item(created["id"]))
        answers = [logs(running), logs(running, "?_links=false&perPage=1&page=1&sortDirection=asc")]
        answers.append(
            logs(running, auditLogFilter={"secondaryTarget": [{"type": "Integration", "id": created["id"]}]})
        )
    example = json.loads(published("lib/schemas/apiExamples.json") or b"{}")["auditLog"]
    assert_published_pages(answers, "auditLogs", "auditLog")
    entries = answers[0].body["items"]
    assert set(example) <= set(entries[0])  # every field of the published example
    assert [e["responseStatus"] for e in entries] == [200, 404, 201]  # the 400 came before the token
    assert answers[0].body["orgId"] == DEFAULT_ORGANIZATION
    assert answers[0].body["_links"] == {
        "self": {"href": LOGS},
        "org": {"href": f"/orgs/{DEFAULT_ORGANIZATION}"},
    }


def test_the_log_filters_by_integration_and_time_window(losant_emulator: RunningEmulator) -> None:
    url = losant_emulator.url
    first = call(url, "POST", collection(), PARTICLE).body
    second = call(url, "POST", collection(), MQTT).body
    call(url, "PATCH", item(first["id"]), {"enabled": False})
    entries = logs(losant_emulator, "?sortDirection=asc").body["items"]
    times = [epoch_ms(e["creationDate"]) for e in entries]
    assert times == sorted(times)
    about_first = {"secondaryTarget": [{"type": "Integration", "id": first["id"]}]}
    found = logs(losant_emulator, "?sortDirection=asc", auditLogFilter=about_first).body
    assert [e["requestAction"] for e in found["items"]] == ["post", "patch"]
    either = {"secondaryTarget": [{"id": first["id"]}, {"id": second["id"].upper()}]}
    assert logs(losant_emulator, auditLogFilter=either).body["totalCount"] == 3
    window = logs(losant_emulator, f"?start={times[1]}&end={times[1]}").body
    assert [e["secondaryTargetId"] for e in window["items"]] == [second["id"]]
    assert logs(losant_emulator, f"?start={times[2] + 1}").body["totalCount"] == 0
    assert logs(losant_emulator, f"?end={times[0]}").body["totalCount"] == 1
    assert logs(losant_emulator, f"?start={times[1]}", auditLogFilter=about_first).body["totalCount"] == 1
    by_action = {"request": [{"resource": "integration", "action": "patch"}], "responseCode": [200]}
    assert logs(losant_emulator, auditLogFilter=by_action).body["totalCount"] == 1
    by_actor = {"actor": [{"type": "User"}]}
    assert logs(losant_emulator, auditLogFilter=by_actor).body["totalCount"] == 0


def test_the_official_python_client_filters_the_log(losant_emulator: RunningEmulator) -> None:
    from losant_rest import Client

    created = call(losant_emulator.url, "POST", collection(), PARTICLE).body
    call(losant_emulator.url, "POST", collection(), MQTT)
    client = Client(auth_token=DEFAULT_ORG_TOKEN, url=losant_emulator.url)
    wanted = {"secondaryTarget": [{"type": "Integration", "id": created["id"]}]}
    found = client.audit_logs.get(orgId=DEFAULT_ORGANIZATION, auditLogFilter=wanted, start="0")
    assert [e["secondaryTargetName"] for e in found["items"]] == ["Trackers"]


def test_the_log_pages_and_sorts(losant_emulator: RunningEmulator) -> None:
    tokens = {"a": ("all.Application",), "b": ("all.Application",)}
    for token in tokens:
        call(
            losant_emulator.url,
            "POST",
            "/_emulator/tokens",
            {"token": token, "scopes": ["all.Application"], "actor": {"name": f"{token}@example.com"}},
        )
    for index in range(5):
        call(
            losant_emulator.url,
            "POST",
            collection(),
            {**PARTICLE, "name": f"i{index}"},
            token="ab"[index % 2],
        )
    page = logs(losant_emulator, "?perPage=2&page=2").body
    assert (page["count"], page["totalCount"], page["perPage"], page["page"]) == (1, 5, 2, 2)
    assert (page["sortField"], page["sortDirection"]) == ("creationDate", "desc")
    assert page["items"][0]["secondaryTargetName"] == "i0"
    by_actor = logs(losant_emulator, "?sortField=actorName&sortDirection=asc").body["items"]
    assert [e["actorName"] for e in by_actor] == ["a@example.com"] * 3 + ["b@example.com"] * 2
    assert by_actor[0]["actorType"] == "User"
    for query, message in (
        ("?sortField=actorId", "sortField must be an enum value"),
        ("?perPage=1001", "perPage is more than maximum"),
        ("?start=yesterday", "start is the wrong type"),
        ("?end=-1", "end is the wrong type"),
        ("?auditLogFilter=%7B", "auditLogFilter is not valid JSON"),
    ):
        assert logs(losant_emulator, query).body == {"type": "Validation", "message": message}
    for wanted, message in (
        ({"target": []}, "auditLogFilter has additional properties"),
        (
            {"secondaryTarget": [{"type": "Integrations"}]},
            "auditLogFilter.secondaryTarget.0.type must be an enum value",
        ),
        ({"secondaryTarget": [{"id": "x"}]}, "auditLogFilter.secondaryTarget.0.id pattern mismatch"),
    ):
        assert logs(losant_emulator, auditLogFilter=wanted).body == {"type": "Validation", "message": message}


def test_only_organisation_tokens_read_the_log(losant_emulator: RunningEmulator) -> None:
    url = losant_emulator.url
    for token in (DEFAULT_TOKEN, None):  # an application token, no token
        answer = call(url, "GET", LOGS, token=token)
        assert (answer.status, answer.body) == (403, {"type": "Forbidden", "message": "Access is forbidden"})
    assert logs(losant_emulator).status == 200
    unknown = call(url, "GET", f"/orgs/{OWNER}/audit-logs", token=DEFAULT_ORG_TOKEN)
    assert unknown.body == {"type": "NotFound", "message": "Organization was not found"}
    assert call(url, "GET", "/orgs/nope/audit-logs").body == {
        "type": "Validation",
        "message": "orgId pattern mismatch",
    }
    assert call(url, "DELETE", LOGS).status == 405


def test_what_the_log_leaves_out() -> None:
    with running_emulator(owners={FLEET: ("user", OWNER)}, applications=(APP, FLEET)) as running:
        url = running.url
        call(url, "POST", collection(FLEET), PARTICLE)  # a user's application: no organisation's log
        call(url, "POST", collection(), {"name": "x"})  # refused before the token is looked at
        call(url, "POST", collection(), PARTICLE, token="nope")  # no token
        call(url, "POST", "/_emulator/faults", {"fault": "503", "on": ["post"], "times": 1})
        call(url, "POST", collection(), PARTICLE)  # refused by a fault: nothing done
        assert logs(running).body["totalCount"] == 0
        call(url, "POST", "/_emulator/faults", {"fault": "drop", "on": ["post"], "times": 1})
        with pytest.raises((ConnectionError, OSError)):
            call(url, "POST", collection(), PARTICLE)  # done, then the connection was cut
        assert logs(running).body["totalCount"] == 1
        assert running.emulator.audit_logs()[0]["responseStatus"] == 201
        call(url, "POST", "/_emulator/reset")
        assert running.emulator.audit_logs() == []


def test_a_refused_write_is_recorded_with_its_target() -> None:
    with running_emulator(unique_names=True) as running:
        first, second = running.emulator.seed(APP, [PARTICLE, MQTT])
        answer = call(running.url, "PATCH", item(second["id"]), {"name": first["name"]})
        assert answer.status == 400
        [entry] = running.emulator.audit_logs()
    assert (entry["responseStatus"], entry["responseBody"]) == (400, answer.body)
    assert (entry["secondaryTargetId"], entry["secondaryTargetName"]) == (second["id"], second["name"])


def test_entries_go_to_the_owning_organisation() -> None:
    with running_emulator(owners={FLEET: ("organization", OWNER)}, applications=(APP, FLEET)) as running:
        call(running.url, "POST", collection(FLEET), PARTICLE)
        theirs = call(running.url, "GET", f"/orgs/{OWNER}/audit-logs", token=DEFAULT_ORG_TOKEN).body
        assert [e["primaryTargetId"] for e in theirs["items"]] == [FLEET]
        assert logs(running).body["totalCount"] == 0


# --- the command line ---------------------------------------------------------------------------


def test_the_command_line_options_for_connections_owners_and_actors() -> None:
    args = [
        "--connect-delay",
        "0",
        "--fail-integration",
        "Line 1 broker=Connection refused: bad username or password",
        "--actor",
        f"{DEFAULT_TOKEN}=jane@example.com",
        "--owner",
        f"{FLEET}=user:{OWNER}",
        "--organization",
        OWNER,
    ]
    with served_by_the_cli(*args) as (url, banner):
        assert banner[5].split(";") == [
            f"  organization: {OWNER} (audit log token {DEFAULT_ORG_TOKEN})",
            " connect delay: 0 s",
            " failing integrations: 1\n",
        ]
        created = call(url, "POST", collection(), MQTT).body
        status = call(url, "GET", item(created["id"])).body["status"]
        assert status["disconnectInfo"]["error"] == "Connection refused: bad username or password"
        assert call(url, "GET", f"/applications/{FLEET}").body["ownerType"] == "user"
        assert call(url, "GET", f"/applications/{APP}").body["ownerId"] == OWNER
        [entry] = call(url, "GET", f"/orgs/{OWNER}/audit-logs", token=DEFAULT_ORG_TOKEN).body["items"]
        assert (entry["actorName"], entry["actorType"]) == ("jane@example.com", "User")
    with served_by_the_cli(
        "--actor",
        "ci=ApiToken:CI bot",
        "--token",
        "ci",
        "--token",
        "org=only.Organization.read",
        "--query-objects",
        "json",
    ) as (url, banner):
        assert "audit log token" not in banner[5]  # only the tokens given
        call(url, "POST", collection(), PARTICLE, token="ci")
        [entry] = call(url, "GET", LOGS, token="org").body["items"]
        assert (entry["actorName"], entry["actorType"]) == ("CI bot", "ApiToken")
        brackets = f"/applications/{APP}/flows?triggerFilter[0][type]=integration"
        assert call(url, "GET", brackets, token="ci").status == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--fail-integration", "Trackers"), "write NAME=MESSAGE"),
        (("--owner", f"{APP}=team:{OWNER}"), "write APPLICATION=organization:ID or APPLICATION=user:ID"),
        (("--owner", f"{APP}=user:nope"), "owner of 5f3e6a1b2c4d5e6f7a8b9c0d: 'nope' is not 24 hexadecimal"),
        (("--organization", "acme"), "organization 'acme' is not 24 hexadecimal characters"),
        (("--actor", "secret-token-value"), "write TOKEN=NAME or TOKEN=TYPE:NAME"),
        (("--connect-delay", "-1"), "--connect-delay"),
        (("--query-objects", "xml"), "--query-objects"),
    ],
)
def test_the_command_line_refuses_bad_options(args: tuple[str, ...], message: str) -> None:
    run = syncer("emulator", *args)
    assert message in failed(run)
    assert "secret-token-value" not in run.output  # a token is never repeated
