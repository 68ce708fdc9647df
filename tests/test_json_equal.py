"""`json_equal` decides every PATCH: held to a plain reference definition of JSON equality on
arbitrary values (bools are not numbers; 1 and 1.0 are one number; key order does not count)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.compare import json_equal

CI = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))

SCALARS = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-3, 3) | st.sampled_from(["", "a", "1"])
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
    max_leaves=12,
)


def _reference(a: Any, b: Any) -> bool:
    def kind(v: Any) -> str:
        return "number" if type(v) in (int, float) else type(v).__name__

    if kind(a) != kind(b):
        return False
    if isinstance(a, dict):
        return set(a) == set(b) and all(_reference(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_reference(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _numbers_as_floats(value: Any) -> Any:
    """The same JSON value, every integer written as a float (1 -> 1.0)."""
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in reversed(value.items())}
    if isinstance(value, list):
        return [_numbers_as_floats(v) for v in value]
    return float(value) if type(value) is int else value


@CI
@given(VALUES, VALUES)
def test_json_equal_is_json_equality(a: Any, b: Any) -> None:
    assert json_equal(a, b) == _reference(a, b)


@CI
@given(VALUES)
def test_a_value_equals_its_copy_in_any_number_form(value: Any) -> None:
    assert json_equal(value, copy.deepcopy(value))
    assert json_equal(value, _numbers_as_floats(value))


def test_bools_are_not_numbers_at_any_depth() -> None:
    assert not json_equal({"a": [True]}, {"a": [1]})
    assert not json_equal({"a": {"b": False}}, {"a": {"b": 0}})
    assert not json_equal([0.0], [False])
    assert json_equal({"a": [1, {"b": 2.0}]}, {"a": [1.0, {"b": 2}]})
