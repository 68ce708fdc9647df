"""The emulator's workflows list against losant-rest-js v1.30.0's flows.md and flow schemas."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from syncer.emulator.server import RunningEmulator
from syncer.emulator.testing import running_emulator
from tests.builders import APP, FLEET, PARTICLE
from tests.emu import Answer, assert_application_is_checked, assert_published_pages, call
from tests.helpers import published

FLOWS = f"/applications/{APP}/flows"
# integration ids a workflow's trigger names (the emulator does not check that they exist)
GPS, WEATHER, OTHER = "6a0000000000000000000001", "6a0000000000000000000002", "6a0000000000000000000003"


def on(*keys: str, kind: str = "integration") -> list[dict[str, str]]:
    """Triggers of this type, one per key."""
    return [{"type": kind, "key": key} for key in keys]


def flows(running: RunningEmulator, plain: str = "", **params: Any) -> Answer:
    """GET the flows list: `plain` query parameters, `params` JSON-encoded (triggerFilter=[...])."""
    extra = "&".join(f"{k}={quote(json.dumps(v))}" for k, v in params.items())
    joined = "&".join(part for part in (plain.lstrip("?"), extra) if part)
    return call(running.url, "GET", FLOWS + ("?" + joined if joined else ""))


def names(answer: Answer) -> list[str]:
    assert answer.status == 200, answer.body
    return [f["name"] for f in answer.body["items"]]


SEEDS: list[dict[str, Any]] = [
    {"name": "GPS in", "triggers": on(GPS), "description": "stores positions"},
    {"name": "Weather in", "triggers": [*on(WEATHER), *on("t1", kind="timer")], "enabled": False},
    {"name": "Hook", "triggers": on(GPS, kind="webhook")},  # the same key, another type
    {"name": "Edge GPS", "flowClass": "edge", "triggers": on(GPS)},
    {"name": "Embedded", "flowClass": "embedded"},
    {"name": "Custom", "flowClass": "customNode"},
    {"name": "Experience", "flowClass": "experience", "triggers": on(WEATHER)},
]


@pytest.fixture
def seeded(losant_emulator: RunningEmulator) -> RunningEmulator:
    losant_emulator.emulator.seed_flows(APP, SEEDS)
    return losant_emulator


def test_every_flows_answer_is_the_published_shape(seeded: RunningEmulator) -> None:
    answers = [
        flows(seeded),
        flows(seeded, "?perPage=1&page=1&sortField=creationDate&sortDirection=desc"),
        flows(seeded, "?_links=false&flowClass=edge"),
        flows(seeded, triggerFilter=on(GPS)),
        flows(seeded, query={"$or": [{"triggers": {"type": "integration", "key": GPS}}]}),
    ]
    assert_published_pages(answers, "flows", "flow")
    first = answers[0].body
    # the fields of the published example, filled in by the emulator
    example = json.loads(published("lib/schemas/apiExamples.json") or b"{}").get("flow", {})
    assert set(example) <= set(first["items"][0])
    gps = next(f for f in first["items"] if f["name"] == "GPS in")
    assert (gps["flowId"], gps["applicationId"]) == (gps["id"], APP)
    assert (gps["enabled"], gps["flowClass"], gps["triggers"]) == (True, "cloud", on(GPS))
    assert (gps["nodes"], gps["globals"], gps["stats"]) == ([], [], {"runCount": 0, "errorCount": 0})
    assert gps["description"] == "stores positions"
    assert (first["flowClass"], first["applicationId"], first["totalCount"]) == ("cloud", APP, 3)
    assert first["_links"]["self"]["href"] == FLOWS
    assert gps["_links"]["self"]["href"] == f"{FLOWS}/{gps['id']}"


def test_paging_sorting_and_filtering(losant_emulator: RunningEmulator) -> None:
    losant_emulator.emulator.seed_flows(APP, [{"name": f"flow {i:02d}"} for i in range(25)])
    page = flows(losant_emulator, "?page=1&perPage=10").body
    assert [f["name"] for f in page["items"]] == [f"flow {i:02d}" for i in range(10, 20)]
    assert (page["count"], page["totalCount"], page["page"], page["perPage"]) == (10, 25, 1, 10)
    assert (page["sortField"], page["sortDirection"]) == ("name", "asc")
    assert names(flows(losant_emulator, "?sortDirection=desc&perPage=2")) == ["flow 24", "flow 23"]
    assert flows(losant_emulator).body["perPage"] == 100
    assert flows(losant_emulator, "?perPage=1000").status == 200
    filtered = flows(losant_emulator, "?filterField=name&filter=*w%202*").body
    assert [f["name"] for f in filtered["items"]] == [f"flow {i}" for i in range(20, 25)]
    assert (filtered["filterField"], filtered["filter"]) == ("name", "*w 2*")
    for query, message in (
        ("?perPage=1001", "perPage is more than maximum"),  # the same maximum as the other lists
        ("?sortField=enabled", "sortField must be an enum value"),
        ("?filterField=flowClass&filter=edge", "filterField must be an enum value"),
        ("?flowClass=serverless", "flowClass must be an enum value"),
    ):
        assert flows(losant_emulator, query).body == {"type": "Validation", "message": message}


def test_only_flows_of_the_asked_class_are_listed_cloud_by_default(seeded: RunningEmulator) -> None:
    assert names(flows(seeded)) == ["GPS in", "Hook", "Weather in"]
    for flow_class, expected in (
        ("cloud", ["GPS in", "Hook", "Weather in"]),
        ("edge", ["Edge GPS"]),
        ("embedded", ["Embedded"]),
        ("customNode", ["Custom"]),
        ("experience", ["Experience"]),
    ):
        answer = flows(seeded, f"?flowClass={flow_class}")
        assert (names(answer), answer.body["flowClass"]) == (expected, flow_class)


@pytest.mark.parametrize("encoding", ["json", "brackets"])
def test_trigger_filter_with_0_1_100_and_101_items(seeded: RunningEmulator, encoding: str) -> None:
    def listed(items: list[dict[str, str]], query: str = "") -> Answer:
        if encoding == "json":
            return flows(seeded, query, triggerFilter=items)
        # what losant-rest-js (through qs) and the Python client send: bracket notation
        pairs = [f"triggerFilter[{i}][{k}]={v}" for i, item in enumerate(items) for k, v in item.items()]
        return call(seeded.url, "GET", FLOWS + "?" + "&".join([*pairs, query.lstrip("?")]))

    padding = on(*(f"6b{i:022x}" for i in range(98)))  # ids no workflow uses
    assert names(listed([])) == ["GPS in", "Hook", "Weather in"]  # an empty filter filters nothing
    assert names(listed(on(GPS))) == ["GPS in"]  # the webhook keyed the same is not an integration
    assert names(listed([*padding, *on(WEATHER)])) == ["Weather in"]  # 99 items
    assert names(listed([*padding, *on(GPS, WEATHER)])) == ["GPS in", "Weather in"]  # 100: any one
    assert names(listed(on(GPS), "?flowClass=edge")) == ["Edge GPS"]  # within the class
    assert names(listed([{"type": "timer"}])) == ["Weather in"]  # a type alone: any key
    assert names(listed(on(OTHER))) == []
    too_many = listed([*padding, *on(GPS, WEATHER, OTHER)])  # 101
    assert (too_many.status, too_many.body) == (
        400,
        {"type": "Validation", "message": "triggerFilter has more items than allowed"},
    )
    extra = listed([{"type": "integration", "key": GPS, "name": "x"}])
    assert extra.body == {"type": "Validation", "message": "triggerFilter.0 has additional properties"}


def test_trigger_filter_that_is_not_json_is_a_validation_error(seeded: RunningEmulator) -> None:
    for raw in ("[{", "nope", "%7B%22type%22"):
        answer = call(seeded.url, "GET", f"{FLOWS}?triggerFilter={raw}")
        assert (answer.status, answer.body) == (
            400,
            {"type": "Validation", "message": "triggerFilter is not valid JSON"},
        )
    answer = flows(seeded, triggerFilter={"type": "integration"})  # an object, not an array
    assert answer.body == {"type": "Validation", "message": "triggerFilter is the wrong type"}
    assert call(seeded.url, "GET", f"{FLOWS}?triggerFilter=").status == 200  # blank: no filter


def test_the_official_python_client_filters_by_trigger_and_class(seeded: RunningEmulator) -> None:
    from losant_rest import Client

    client = Client(auth_token="emulator-token", url=seeded.url)
    found = client.flows.get(applicationId=APP, triggerFilter=on(GPS, WEATHER))
    assert [f["name"] for f in found["items"]] == ["GPS in", "Weather in"]
    edge = client.flows.get(applicationId=APP, flowClass="edge", triggerFilter=on(GPS))
    assert [f["name"] for f in edge["items"]] == ["Edge GPS"]
    # the Python client writes `query` in bracket notation too: every value a string
    either = client.flows.get(applicationId=APP, query={"$or": [{"flowClass": "edge"}, {"name": "Hook"}]})
    assert [f["name"] for f in either["items"]] == ["Edge GPS", "Hook"]


def test_query_matches_triggers_and_classes_over_every_class(seeded: RunningEmulator) -> None:
    anywhere = {
        "$or": [
            {"triggers": {"type": "integration", "key": GPS}},
            {"triggers": {"$eq": {"type": "integration", "key": WEATHER}}},
        ]
    }
    answer = flows(seeded, "?flowClass=cloud&filterField=name&filter=nothing", query=anywhere)
    # `query` overrides flowClass, filterField, filter and triggerFilter
    assert names(answer) == ["Edge GPS", "Experience", "GPS in", "Weather in"]
    assert not {"flowClass", "filter", "filterField"} & set(answer.body)
    cloud_or_edge = {"$or": [{"flowClass": "edge"}, {"flowClass": {"$in": ["embedded", "customNode"]}}]}
    assert names(flows(seeded, query=cloud_or_edge)) == ["Custom", "Edge GPS", "Embedded"]
    both = {"$and": [{"triggers": {"type": "integration", "key": GPS}}, {"flowClass": "cloud"}]}
    assert names(flows(seeded, query=both)) == ["GPS in"]
    assert names(flows(seeded, query={"$nor": [{"flowClass": "cloud"}, {"flowClass": "edge"}]})) == [
        "Custom",
        "Embedded",
        "Experience",
    ]
    assert names(flows(seeded, query={"name": {"$startsWith": "gps", "$ci": True}})) == ["GPS in"]
    assert names(flows(seeded, query={"enabled": False})) == ["Weather in"]
    untouched = {"triggers": {"$ne": {"type": "integration", "key": GPS}}, "flowClass": "cloud"}
    assert names(flows(seeded, query=untouched)) == ["Hook", "Weather in"]
    assert names(flows(seeded, "?perPage=2&page=1", query={"flowClass": {"$ne": "cloud"}})) == [
        "Embedded",
        "Experience",
    ]


def test_query_nodes_name_an_integration(losant_emulator: RunningEmulator) -> None:
    output = {"id": "n1", "type": "MqttOutputNode", "config": {"integrationId": GPS, "topic": "out"}}
    losant_emulator.emulator.seed_flows(APP, [{"name": "Publisher", "nodes": [output]}, {"name": "Idle"}])
    query = {"nodes": {"type": "MqttOutputNode", "config": {"integrationId": GPS}}}
    assert names(flows(losant_emulator, query=query)) == ["Publisher"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"colour": "red"}, "query has additional properties"),
        ({"$or": [{"flowClass": "edge"}] * 101}, "query.$or has more items than allowed"),
        ({"$or": []}, "query.$or has less items than allowed"),
        (
            {"triggers": {"type": "integration", "key": "a b"}},
            "query.triggers no (or more than one) schemas match",
        ),
        ([], "query is the wrong type"),
    ],
)
def test_query_is_checked_against_the_published_schema(
    seeded: RunningEmulator, query: Any, message: str
) -> None:
    assert flows(seeded, query=query).body == {"type": "Validation", "message": message}


def test_query_objects_switch_reads_one_encoding_only() -> None:
    items = on(GPS)
    brackets = f"{FLOWS}?triggerFilter[0][type]=integration&triggerFilter[0][key]={GPS}"
    with running_emulator(query_objects="json") as running:
        running.emulator.seed_flows(APP, SEEDS)
        assert names(flows(running, triggerFilter=items)) == ["GPS in"]
        # a server that reads no brackets ignores the parameter: the whole list comes back
        assert names(call(running.url, "GET", brackets)) == ["GPS in", "Hook", "Weather in"]
    with running_emulator(query_objects="brackets") as running:
        running.emulator.seed_flows(APP, SEEDS)
        assert names(call(running.url, "GET", brackets)) == ["GPS in"]
        answer = flows(running, triggerFilter=items)  # a JSON string stays a string
        assert answer.body == {"type": "Validation", "message": "triggerFilter is the wrong type"}
        # the qs parser makes an array of indices up to 20, an object above
        pairs = [f"triggerFilter[{i}][type]=integration&triggerFilter[{i}][key]={GPS}" for i in range(22)]
        assert names(call(running.url, "GET", FLOWS + "?" + "&".join(pairs[:21]))) == ["GPS in"]
        over = call(running.url, "GET", FLOWS + "?" + "&".join(pairs))
        assert over.body == {"type": "Validation", "message": "triggerFilter is the wrong type"}


def test_seeding_through_python_and_the_admin_api(losant_emulator: RunningEmulator) -> None:
    url, emulator = losant_emulator.url, losant_emulator.emulator
    seeded = call(url, "POST", f"/_emulator/applications/{FLEET}/flows", [{"name": "a", "triggers": on(GPS)}])
    assert seeded.status == 201
    [flow] = seeded.body
    assert (flow["name"], flow["applicationId"], flow["flowClass"], flow["triggers"]) == (
        "a",
        FLEET,
        "cloud",
        on(GPS),
    )
    assert "_links" not in flow
    assert call(url, "GET", f"/applications/{FLEET}/flows").body["totalCount"] == 1  # created
    assert emulator.flows(FLEET) == [flow]
    for body, message in (
        ([{"triggers": []}], "flow.name is required"),
        ([{"name": "x", "id": GPS}], "flow.id is not seedable"),
        ([{"name": "x", "flowClass": "lambda"}], "flow.flowClass: 'lambda' is not one of"),
        ([{"name": "x", "triggers": [{"type": "carrier-pigeon"}]}], "flow.triggers.0:"),
        ([{"name": "ok"}, {"name": ""}], "flow.name:"),
        ({"name": "x"}, "flows must be a list"),
    ):
        answer = call(url, "POST", f"/_emulator/applications/{APP}/flows", body)
        assert answer.status == 400, body
        assert answer.body["message"].startswith(message), answer.body
    assert emulator.flows(APP) == []  # all or nothing: "ok" was not created either
    emulator.seed_flows(APP, [{"name": "b"}])
    assert call(url, "POST", "/_emulator/reset").status == 200
    assert (emulator.flows(APP), emulator.flows(FLEET)) == ([], [])


def test_flows_list_errors_and_faults(seeded: RunningEmulator) -> None:
    url = seeded.url
    assert_application_is_checked(url, "/flows")
    assert call(url, "POST", FLOWS, {"name": "x"}).status == 405  # seeded, not created
    call(url, "POST", "/_emulator/faults", {"fault": "503", "on": ["flows"], "times": 1})
    assert flows(seeded).status == 503
    assert flows(seeded).status == 200
    call(url, "POST", "/_emulator/faults", {"fault": "lie", "on": ["flows"], "extra": 5})
    assert flows(seeded).body["totalCount"] == 8


def test_deleting_an_integration_with_its_workflows(losant_emulator: RunningEmulator) -> None:
    url, emulator = losant_emulator.url, losant_emulator.emulator
    gps, weather = (i["id"] for i in emulator.seed(APP, [PARTICLE, {**PARTICLE, "name": "weather"}]))
    emulator.seed_flows(
        APP,
        [
            {"name": "on gps", "triggers": on(gps)},
            {"name": "on weather", "triggers": on(weather)},
            {
                "name": "publishes to gps",
                "nodes": [{"type": "MqttOutputNode", "config": {"integrationId": gps}}],
            },
        ],
    )
    call(url, "DELETE", f"/applications/{APP}/integrations/{weather}")
    assert names(flows(losant_emulator)) == ["on gps", "on weather", "publishes to gps"]  # left dangling
    call(url, "DELETE", f"/applications/{APP}/integrations/{gps}?includeWorkflows=true")
    assert names(flows(losant_emulator)) == ["on weather"]
