"""The leaves a plan shows for a changed config object are exactly where the files and Losant
differ as JSON: the same equality that decides what goes into the PATCH, so a plan never says
"update" with nothing to show, nor hides a change it sends."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.compare import MISSING, json_equal, json_leaves
from syncer.fields import field_changes

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


def _occurs(value: Any, document: Any) -> bool:
    if json_equal(value, document):
        return True
    inner = document.values() if isinstance(document, dict) else document
    if not isinstance(document, (dict, list)):
        return False
    return any(_occurs(value, item) for item in inner)


@settings(max_examples=500, deadline=None)
@given(JSON, JSON)
def test_leaves_are_empty_exactly_when_the_values_are_equal(before: Any, after: Any) -> None:
    leaves = json_leaves(before, after)
    assert (leaves == []) == json_equal(before, after)
    for path, old, new in leaves:
        assert not json_equal(old, new)
        # a path names the place in the files (`after`); what was removed is gone from there,
        # so it is only known to come from Losant's side
        if new is MISSING:
            assert _occurs(old, before)
        else:
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
        ({"topics": ["a", "b", "c"]}, {"topics": ["a", "c"]}, [("topics", 1)]),  # one removal
        ({"topics": ["b", "c"]}, {"topics": ["a", "b", "c"]}, [("topics", 0)]),  # one addition
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
