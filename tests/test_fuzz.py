"""Fuzzing the loader, the validator and the planner: whatever comes in, the answer is a result
or a located problem, never an exception. 1,000 examples each here; `pytest -m fuzz_long` runs
many more."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.desired import DesiredState, check_file
from syncer.errors import SyncerError
from syncer.live import LiveState
from syncer.load import load_yaml
from syncer.plan import make_plan
from syncer.render.jsonplan import plan_json
from syncer.render.markdown import render_markdown
from syncer.render.text import render_text
from tests.builders import APP, desired

CI = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
LONG = settings(max_examples=20000, deadline=None, derandomize=False, suppress_health_check=list(HealthCheck))

KEYS = st.sampled_from(
    [
        "application",
        "integrations",
        "name",
        "integrationType",
        "enabled",
        "topics",
        "credentialName",
        "mqttConfig",
        "particleConfig",
        "websocketConfig",
        "sqsConfig",
        "host",
        "port",
        "protocol",
        "password",
        "accessToken",
        "url",
        "headers",
        "headerKey",
        "headerValue",
        "absent",
        "previousNames",
        "id",
        "resourceType",
        "resources",
        "version",
        "<<",
        "queueUrl",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=30)
    | st.sampled_from(["mqtt", "particle", APP, "${env:X}", "${env:", "$${", "${y}"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)


def _check_bytes(raw: bytes) -> None:
    loaded = load_yaml("fuzz.yaml", raw)
    result = check_file(loaded, {"X": "value"})
    for problem in loaded.problems:
        assert problem.location is not None
        assert problem.location.line >= 1
        assert "\n" not in str(problem)
    assert result.integrations is not None


@CI
@given(st.binary(max_size=400))
def test_loader_survives_any_bytes(raw: bytes) -> None:
    _check_bytes(raw)


@CI
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#%@`\n\t ,?0123")), max_size=120))
def test_loader_survives_yaml_like_text(text: str) -> None:
    _check_bytes(text.encode())


TAGS = st.sampled_from(["!!int", "!!float", "!!bool", "!!timestamp", "!!null", "!!str", "!!binary", "!!set"])


@CI
@given(
    TAGS, st.text(alphabet=st.sampled_from(list("0123456789+-._:xXoObeE naINfF")), max_size=40), st.booleans()
)
def test_loader_survives_any_tagged_scalar(tag: str, text: str, as_key: bool) -> None:
    scalar = f"{tag} {json.dumps(text)}"
    _check_bytes((f"? {scalar}\n: 1\n" if as_key else f"port: {scalar}\n").encode())


def _check_document(document: dict[str, Any]) -> None:
    _check_bytes(yaml.safe_dump(document, allow_unicode=True).encode())


@CI
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_validator_survives_any_document(document: dict[str, Any]) -> None:
    _check_document(document)


ENTRY = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["a", "b", "c"]),
        "integrationType": st.sampled_from(["mqtt", "particle", "websocket"]),
    },
    optional={
        "enabled": st.booleans() | st.integers(0, 1),
        "topics": st.lists(st.text(max_size=3), max_size=2),
        "mqttConfig": st.dictionaries(KEYS, VALUES, max_size=4),
        "particleConfig": st.dictionaries(KEYS, VALUES, max_size=3),
        "websocketConfig": st.dictionaries(KEYS, VALUES, max_size=3),
        "absent": st.booleans(),
        "previousNames": st.lists(st.sampled_from(["a", "b", "z"]), max_size=2),
    },
)
LIVE_ITEM = st.fixed_dictionaries(
    {"id": st.sampled_from([f"{n:024x}" for n in range(1, 5)])},
    optional={
        "name": st.sampled_from(["a", "b", "z"]) | st.none() | st.integers(),
        "integrationType": st.sampled_from(["mqtt", "particle", "sqs"]) | st.none(),
        "enabled": VALUES,
        "topics": VALUES,
        "mqttConfig": VALUES,
        "particleConfig": VALUES,
        "websocketConfig": VALUES,
        "lastUpdated": st.text(max_size=5),
    },
)


def _plan_and_render(entries: list[dict[str, Any]], live_items: list[dict[str, Any]], prune: bool) -> None:
    state: DesiredState = desired(*{e["name"]: e for e in entries}.values())
    unique = list({item["id"]: item for item in live_items}.values())
    try:
        plan = make_plan(state, LiveState({APP: tuple(unique)}), prune=prune)
    except SyncerError as exc:
        problems = exc.lines()
        assert all("\n" not in line for line in problems)
        return
    render_text(plan)
    render_markdown(plan)
    json.dumps(plan_json(plan))
    for change in plan.changes:
        change.requests()


@CI
@given(st.lists(ENTRY, max_size=4), st.lists(LIVE_ITEM, max_size=5), st.booleans())
def test_planner_survives_any_states(
    entries: list[dict[str, Any]], live_items: list[dict[str, Any]], prune: bool
) -> None:
    _plan_and_render(entries, live_items, prune)


def _long(check: Callable[..., None], *strategies: st.SearchStrategy[Any]) -> Callable[..., None]:
    """`check` given 20,000 examples of `strategies`, larger than the CI's (opt in: -m fuzz_long)."""
    fuzzed: Callable[..., None] = pytest.mark.fuzz_long(LONG(given(*strategies)(check)))
    return fuzzed


# the properties above, on larger inputs
test_loader_long = _long(_check_bytes, st.binary(max_size=2000))
test_validator_long = _long(_check_document, st.dictionaries(KEYS, VALUES, max_size=8))
test_planner_long = _long(
    _plan_and_render, st.lists(ENTRY, max_size=6), st.lists(LIVE_ITEM, max_size=8), st.booleans()
)
