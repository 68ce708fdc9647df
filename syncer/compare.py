"""Comparing desired and live integration bodies, field by field, the way JSON means it.

Python's `==` says `False == 0` and `1 == 1.0`; JSON has one number type but booleans are not
numbers. `json_equal` decides what goes into a PATCH (fast, on every pair); syncer.fields
renders the leaf-level differences of the few integrations that differ (slow, never on every
pair).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from syncer.losant import CONFIG_DEFAULTS, CONFIG_FIELDS
from syncer.secrets import Path, is_secret_path

CONFIG_KEYS = frozenset(CONFIG_FIELDS.values())


class _Marker:
    """A value that stands for no value, told apart by identity: a copy is itself, since the
    values it sits among are deep-copied (without_unknown)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __copy__(self) -> _Marker:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Marker:
        return self


MISSING: Any = _Marker("MISSING")
HIDDEN: Any = _Marker("HIDDEN")  # the live side of a secret the API does not show


_NUMBERS = (int, float)
_ATOMS = frozenset({str, int, float, bool, type(None)})  # equal within one type exactly when ==


def json_equal(a: Any, b: Any) -> bool:
    """Type-strict equality of JSON values: bools are not numbers, ints and floats are one type."""
    kind = type(a)
    if kind is not type(b):
        return kind in _NUMBERS and type(b) in _NUMBERS and bool(a == b)
    # loops rather than all(<generator>): this runs on every field of every integration
    if kind is dict or isinstance(a, dict):
        if a.keys() != b.keys():
            return False
        for key, value in a.items():
            other = b[key]
            if value.__class__ is other.__class__ and value.__class__ in _ATOMS:
                if value != other:  # the common leaf, compared without a call
                    return False
            elif not json_equal(value, other):
                return False
        return True
    if kind is list or isinstance(a, list):
        if len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            if x.__class__ is y.__class__ and x.__class__ in _ATOMS:
                if x != y:
                    return False
            elif not json_equal(x, y):
                return False
        return True
    return bool(a == b)


def json_leaves(before: Any, after: Any, path: Path = ()) -> list[tuple[Path, Any, Any]]:
    """The leaves where two JSON values differ, each as (path, before, after), MISSING where a
    side has none; empty exactly when json_equal. Lists are compared position by position, as
    the PATCH replaces them: a path names the same place on both sides.

    DeepDiff is not used here: it calls True and 1 the same inside lists and rounds numbers to
    12 digits when int and float are one type, so it could miss what json_equal sends."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys: Iterable[Any] = [*before, *(k for k in after if k not in before)]
        pairs = ((key, before.get(key, MISSING), after.get(key, MISSING)) for key in keys)
    elif isinstance(before, list) and isinstance(after, list):
        pairs = (
            (i, before[i] if i < len(before) else MISSING, after[i] if i < len(after) else MISSING)
            for i in range(max(len(before), len(after)))
        )
    else:
        return [] if json_equal(before, after) else [(path, before, after)]
    out: list[tuple[Path, Any, Any]] = []
    for step, old, new in pairs:
        out += json_leaves(old, new, (*path, step))
    return out


@dataclass(frozen=True)
class Rules:
    """How to compare, beyond JSON equality (from the project file and the command line).

    `ignored`: paths (`("enabled",)`, `("mqttConfig", "clean")`) never compared: Losant may set
    them itself. `push_secrets`: a secret the API hides counts as different, so it is sent.
    """

    ignored: frozenset[Path] = frozenset()
    push_secrets: bool = False
    # body paths whose desired value is unknown (an unset variable, with --env-optional): that
    # value alone is never a difference; everything around it is compared as usual
    unknown: frozenset[Path] = frozenset()


NO_RULES = Rules()
_MASK_CHARACTERS = frozenset("*•●")


def is_hidden(value: Any) -> bool:
    """A secret the API masked (`****`): its real value is unknown, like an omitted one."""
    return isinstance(value, str) and bool(value) and set(value) <= _MASK_CHARACTERS


def _known(section: Mapping[str, Any], name: str) -> bool:
    return name in section and not is_hidden(section[name])


def comparable_config(
    key: str, desired: Mapping[str, Any], live: Mapping[str, Any], rules: Rules = NO_RULES
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both config objects reduced to what can honestly be compared.

    - A secret the API did not return, or returned masked, is unknown, not removed: it is left
      out of both sides, so it alone causes no change (when the config is sent, it goes with it).
    - A default the server fills in (CONFIG_DEFAULTS) that the files leave out is left out of
      the live side, so it causes no perpetual diff.
    - A path in `rules.ignored` is left out of both sides.
    """
    want, have = dict(desired), dict(live)
    for section in (want, have):
        for name in list(section):
            if (key, name) in rules.ignored or (is_secret_path((key, name)) and not _known(live, name)):
                del section[name]
    headers, live_headers = want.get("headers"), have.get("headers")
    if isinstance(headers, list) and isinstance(live_headers, list) and len(headers) == len(live_headers):
        pairs = list(zip(headers, live_headers, strict=True))
        unknown = [isinstance(lh, dict) and not _known(lh, "headerValue") for _, lh in pairs]
        want["headers"] = [
            _without_value(h) if hide else h for (h, _), hide in zip(pairs, unknown, strict=True)
        ]
        have["headers"] = [
            _without_value(lh) if hide else lh for (_, lh), hide in zip(pairs, unknown, strict=True)
        ]
    return want, without_defaults(key, have, keep=desired)


def without_defaults(key: str, config: Mapping[str, Any], keep: Iterable[str] = ()) -> dict[str, Any]:
    """`config` without the fields that hold the default the server fills in (CONFIG_DEFAULTS),
    except those in `keep` (the files set them, so they are compared)."""
    kept = set(keep)
    defaults = CONFIG_DEFAULTS.get(key, {})
    return {
        name: value
        for name, value in config.items()
        if name in kept or name not in defaults or not json_equal(value, defaults[name])
    }


def _without_value(header: Any) -> Any:
    return {k: v for k, v in header.items() if k != "headerValue"} if isinstance(header, dict) else header


def hidden_secrets(key: str, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[Path]:
    """Secrets the files give that the API does not show: what `push_secrets` sends anyway."""
    paths: list[Path] = [
        (key, name) for name in desired if is_secret_path((key, name)) and not _known(live, name)
    ]
    headers, live_headers = desired.get("headers"), live.get("headers")
    if isinstance(headers, list):
        for index, header in enumerate(headers):
            theirs = (
                live_headers[index] if isinstance(live_headers, list) and index < len(live_headers) else {}
            )
            if (
                isinstance(header, dict)
                and "headerValue" in header
                and isinstance(theirs, dict)
                and not _known(theirs, "headerValue")
            ):
                paths.append((key, "headers", index, "headerValue"))
    return paths


UNKNOWN = "\x00(not checked)"  # how an unknown value compares: equal to itself on both sides


def without_unknown(key: str, desired: Any, live: Any, unknown: frozenset[Path]) -> tuple[Any, Any]:
    """Top-level field `key` on both sides, each unknown leaf in it replaced by UNKNOWN on both
    sides where both have it: only that leaf escapes the comparison (a header added around it, a
    topic changed beside it, still count)."""
    subpaths = [path[1:] for path in unknown if path and path[0] == key]
    if not subpaths:
        return desired, live
    desired, live = copy.deepcopy(desired), copy.deepcopy(live)
    for sub in subpaths:
        desired, live = _unknown_at(desired, sub), _unknown_at(live, sub)
    return desired, live


def _unknown_at(value: Any, path: Path) -> Any:
    if not path:
        return UNKNOWN
    step, rest = path[0], path[1:]
    present = (isinstance(value, dict) and step in value) or (
        isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value)
    )
    if present:
        value[step] = _unknown_at(value[step], rest)
    return value


def value_differs(key: str, desired: Any, live: Any, rules: Rules = NO_RULES) -> bool:
    """Whether top-level field `key` must be sent for live to become desired."""
    if rules.unknown:
        desired, live = without_unknown(key, desired, live, rules.unknown)
    if live is MISSING:
        return desired is not None  # null asks to clear: nothing to clear
    if key in CONFIG_KEYS and isinstance(desired, dict) and isinstance(live, dict):
        if not rules.push_secrets and json_equal(desired, live):
            return False  # what comparable_config leaves of two equal objects is equal
        want, have = comparable_config(key, desired, live, rules)
        if rules.push_secrets and hidden_secrets(key, desired, live):
            return True
        return not json_equal(want, have)
    return not json_equal(desired, live)


def changed_fields(desired: Mapping[str, Any], live: Mapping[str, Any], rules: Rules = NO_RULES) -> list[str]:
    """The top-level fields of `desired` that differ from live (integrationType excluded)."""
    keys = []
    for key, want in desired.items():
        if key == "integrationType" or (key,) in rules.ignored:
            continue
        have = live.get(key, MISSING)
        if want.__class__ is have.__class__ and want.__class__ in _ATOMS and not rules.unknown:
            differs = want != have  # what value_differs says of two scalars of one type, sooner
        else:
            differs = value_differs(key, want, have, rules)
        if differs:
            keys.append(key)
    return keys
