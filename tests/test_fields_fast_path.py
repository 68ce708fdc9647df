"""The changed fields of a config object of plain values are found without DeepDiff (its import
is 70 ms of a small run): both ways must say exactly the same, for every kind of value."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncer import fields
from syncer.fields import field_changes

NAMES = st.sampled_from(["host", "port", "clientId", "clean", "password", "protocol", "username"])
PLAIN = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
VALUES = st.one_of(
    PLAIN, st.lists(PLAIN, max_size=3), st.dictionaries(st.text(max_size=3), PLAIN, max_size=2)
)


def _both_ways(want: dict[str, Any], have: dict[str, Any]) -> tuple[Any, Any]:
    desired, live = {"mqttConfig": want}, {"mqttConfig": have}
    fast = field_changes(desired, live, ["mqttConfig"])
    fields.FLAT_FAST_PATH = False
    try:
        deep = field_changes(desired, live, ["mqttConfig"])
    finally:
        fields.FLAT_FAST_PATH = True
    return fast, deep


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(NAMES, VALUES, max_size=5), st.dictionaries(NAMES, VALUES, max_size=5))
def test_both_ways_say_the_same_changes(want: dict[str, Any], have: dict[str, Any]) -> None:
    fast, deep = _both_ways(want, have)
    assert fast == deep


@pytest.mark.parametrize(
    ("want", "have"),
    [
        ({"port": 8883}, {"port": 1883}),
        ({"port": 1883}, {"port": 1883.0}),  # the same number
        ({"clean": True}, {"clean": 1}),  # not the same
        ({"host": "a"}, {}),
        ({}, {"host": "a"}),
        ({"password": "new"}, {"password": "old"}),
    ],
)
def test_the_cases_a_reader_checks(want: dict[str, Any], have: dict[str, Any]) -> None:
    fast, deep = _both_ways(want, have)
    assert fast == deep
