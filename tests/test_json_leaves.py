"""The leaves a plan shows for a changed config object are exactly where the files and Losant
differ as JSON: the same equality that decides what goes into the PATCH, so a plan never says
"update" with nothing to show, nor hides a change it sends; and a path names one place, the
same on both sides."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.compare import MISSING, Rules, json_equal, json_leaves
from syncer.fields import field_changes
from syncer.render.jsonplan import fields_json

PLAIN = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
FLAT = st.dictionaries(st.text(max_size=3), PLAIN, max_size=6)
JSON = st.recursive(
    PLAIN,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=12,
)


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        if isinstance(value, dict):
            value = value.get(step, MISSING)
        elif isinstance(value, list) and isinstance(step, int) and step < len(value):
            value = value[step]
        else:
            return MISSING
    return value


@settings(max_examples=500, deadline=None)
@given(JSON, JSON)
def test_leaves_are_empty_exactly_when_the_values_are_equal(before: Any, after: Any) -> None:
    leaves = json_leaves(before, after)
    assert (leaves == []) == json_equal(before, after)
    assert len({path for path, _, _ in leaves}) == len(leaves)  # no place named twice
    for path, old, new in leaves:
        assert not json_equal(old, new)
        # each side of a leaf is what that side holds at its path
        assert json_equal(_at(before, path), old)
        assert json_equal(_at(after, path), new)


@settings(max_examples=300, deadline=None)
@given(FLAT, FLAT)
def test_each_differing_field_shows_once(before: dict[str, Any], after: dict[str, Any]) -> None:
    keys = {*before, *after}
    differing = {k for k in keys if not json_equal(before.get(k, MISSING), after.get(k, MISSING))}
    assert sorted(path for path, _, _ in json_leaves(before, after)) == sorted((k,) for k in differing)


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        ({"port": 1883}, {"port": 8883}, [("port",)]),
        ({"port": 1883}, {"port": 1883.0}, []),  # one number in JSON
        ({"clean": 1}, {"clean": True}, [("clean",)]),  # a boolean is not a number
        ({"topics": [1]}, {"topics": [True]}, [("topics", 0)]),
        ({"host": 2.220446049250313e-16}, {"host": 0.0}, [("host",)]),
        ({"qos": 1.0}, {"qos": 1.0000000000001}, [("qos",)]),  # every digit counts
        ({"n": float(2**53)}, {"n": 2**53 + 1}, [("n",)]),
        # position by position: a path names the same place on both sides
        ({"topics": ["a", "b", "c"]}, {"topics": ["a", "c"]}, [("topics", 1), ("topics", 2)]),
        ({"topics": ["a", "b"]}, {"topics": ["b", "a"]}, [("topics", 0), ("topics", 1)]),
        ({"h": [{"key": "a", "value": 1}]}, {"h": [{"key": "a", "value": 2}]}, [("h", 0, "value")]),
        ({"x": {"a": 1}}, {"x": [1]}, [("x",)]),
        ({}, {"host": "a"}, [("host",)]),
    ],
)
def test_the_cases_a_reader_checks(before: dict[str, Any], after: dict[str, Any], changed: list[Any]) -> None:
    assert [path for path, _, _ in json_leaves(before, after)] == changed


def test_a_plan_names_a_change_of_the_last_digit() -> None:
    """The PATCH decision and the shown fields agree on a tiny float change (DeepDiff, used before,
    rounded to 12 digits and showed an update with no field)."""
    tiny = 2.220446049250313e-16
    shown = field_changes({"mqttConfig": {"port": 0.0}}, {"mqttConfig": {"port": tiny}}, ["mqttConfig"])
    assert [(c.path, c.before, c.after) for c in shown] == [(("mqttConfig", "port"), tiny, 0.0)]


def test_an_unknown_value_in_a_config_losant_lacks_shows_each_field_as_added() -> None:
    """With --env-optional, an unset variable's value is unknown; the config object around it is
    copied to hide it, and the copy must still say "absent in Losant" (it said a value, and the
    JSON plan failed to serialise it)."""
    rules = Rules(unknown=frozenset({("mqttConfig", "password")}))
    shown = field_changes({"mqttConfig": {"host": "h", "password": "x"}}, {}, ["mqttConfig"], rules)
    assert [(c.path, c.before) for c in shown] == [
        (("mqttConfig", "host"), MISSING),
        (("mqttConfig", "password"), MISSING),
    ]
    rendered = json.loads(json.dumps(fields_json(shown)))
    assert [field["path"] for field in rendered] == ["mqttConfig.host", "mqttConfig.password"]
