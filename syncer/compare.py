"""Comparing desired and live integration bodies, field by field, the way JSON means it.

Python's `==` says `False == 0` and `1 == 1.0`; JSON has one number type but booleans are not
numbers. `json_equal` decides what goes into a PATCH (fast, on every pair); deepdiff renders
the leaf-level differences of the few integrations that differ (slow, never on every pair).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncer.losant import CONFIG_DEFAULTS, CONFIG_FIELDS
from syncer.secrets import MASK, Path, get_path, is_secret_path

CONFIG_KEYS = frozenset(CONFIG_FIELDS.values())


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


class _Hidden:
    def __repr__(self) -> str:
        return "HIDDEN"


MISSING: Any = _Missing()
HIDDEN: Any = _Hidden()  # the live side of a secret the API does not show


def _same_type(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    return ta is tb or (ta in (int, float) and tb in (int, float))


def json_equal(a: Any, b: Any) -> bool:
    """Type-strict equality of JSON values: bools are not numbers, ints and floats are one type."""
    if not _same_type(a, b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(json_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@dataclass(frozen=True)
class Rules:
    """How to compare, beyond JSON equality (from the project file and the command line).

    `ignored`: paths (`("enabled",)`, `("mqttConfig", "clean")`) never compared: Losant may set
    them itself. `push_secrets`: a secret the API hides counts as different, so it is sent.
    """

    ignored: frozenset[Path] = frozenset()
    push_secrets: bool = False


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


def value_differs(key: str, desired: Any, live: Any, rules: Rules = NO_RULES) -> bool:
    """Whether top-level field `key` must be sent for live to become desired."""
    if live is MISSING:
        return desired is not None  # null asks to clear: nothing to clear
    if key in CONFIG_KEYS and isinstance(desired, dict) and isinstance(live, dict):
        want, have = comparable_config(key, desired, live, rules)
        if rules.push_secrets and hidden_secrets(key, desired, live):
            return True
        return not json_equal(want, have)
    return not json_equal(desired, live)


def changed_fields(desired: Mapping[str, Any], live: Mapping[str, Any], rules: Rules = NO_RULES) -> list[str]:
    """The top-level fields of `desired` that differ from live (integrationType excluded)."""
    return [
        key
        for key, want in desired.items()
        if key != "integrationType"
        and (key,) not in rules.ignored
        and value_differs(key, want, live.get(key, MISSING), rules)
    ]


# --- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One leaf that changes; `before`/`after` are MISSING when the field is absent on that side."""

    path: tuple[str | int, ...]
    before: Any
    after: Any
    sensitive: bool
    # body paths whose desired value came from the environment -> "(from ${env:NAME})"
    labels: Mapping[Path, str] = field(default_factory=dict)

    @property
    def dotted(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out

    def shown_before(self) -> Any:
        """The live side as it may be shown: secrets masked; where the files take a value from
        the environment the live side is masked whole (a list may hold that value anywhere)."""
        if self.labels and self.before is not MISSING:
            return MASK
        return mask_value(self.path, self.before)

    def shown_after(self) -> Any:
        """The files' side as it may be shown: secrets masked, environment values named."""
        return mask_value(self.path, self.after, self.labels)


def mask_value(path: Path, value: Any, labels: Mapping[Path, str] | None = None) -> Any:
    """`value` at `path` with every secret inside it replaced by the mask, and every path in
    `labels` by its label."""
    if value is MISSING or value is HIDDEN:
        return value
    if labels and path in labels:
        return labels[path]
    if is_secret_path(path):
        return MASK
    if isinstance(value, dict):
        return {k: mask_value((*path, k), v, labels) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value((*path, i), v, labels) for i, v in enumerate(value)]
    return value


def _contains_secret(path: Path, value: Any) -> bool:
    return mask_value(path, value) != value if value is not MISSING else False


def env_labels(env_refs: Mapping[Path, Sequence[str]]) -> dict[Path, str]:
    """How values read from the environment are shown: by the variable, never by value."""
    return {
        path: "(from " + ", ".join(f"${{env:{name}}}" for name in names) + ")"
        for path, names in env_refs.items()
        if names
    }


def _leaves(value: dict[str, Any]) -> list[tuple[tuple[str, ...], Any]]:
    """Nested mappings flattened to (path, value); lists stay whole."""
    out: list[tuple[tuple[str, ...], Any]] = []
    for key, item in value.items():
        if isinstance(item, dict) and item:
            out += [((key, *sub), leaf) for sub, leaf in _leaves(item)]
        else:
            out.append(((key,), item))
    return out


def field_changes(
    desired: Mapping[str, Any],
    live: Mapping[str, Any],
    keys: list[str],
    rules: Rules = NO_RULES,
    labels: Mapping[Path, str] | None = None,
) -> tuple[FieldChange, ...]:
    """Leaf-level changes of the given top-level keys, for people to read.

    `labels`: the paths of `desired` that came from the environment, shown by their label."""
    from deepdiff import DeepDiff  # slow to import; only plans with changes need it
    from deepdiff.helper import notpresent

    changes: list[FieldChange] = []
    for key in keys:
        want = desired.get(key, MISSING)
        have = live.get(key, MISSING)
        if key in CONFIG_KEYS and isinstance(want, dict) and isinstance(have, dict):
            pushed = hidden_secrets(key, want, have) if rules.push_secrets else []
            _, have_seen = comparable_config(key, want, have, rules)
            # the whole desired object is what gets sent: a secret the API hides shows as added
            sent = {k: v for k, v in want.items() if (key, k) not in rules.ignored}
            diff = DeepDiff(
                have_seen, sent, view="tree", threshold_to_diff_deeper=0, ignore_numeric_type_changes=True
            )
            leaves = [(path, HIDDEN, get_path(want, path[1:])) for path in pushed]
            for items in diff.values():
                for item in items:
                    sub = tuple(item.path(output_format="list"))
                    if (key, *sub) in pushed:
                        continue
                    before = MISSING if item.t1 is notpresent else item.t1
                    after = MISSING if item.t2 is notpresent else item.t2
                    leaves.append(((key, *sub), before, after))
            leaves.sort(key=lambda leaf: [str(p) for p in leaf[0]])
        elif have is MISSING and isinstance(want, dict) and want:
            leaves = [((key, *sub), MISSING, value) for sub, value in _leaves(want)]
        else:
            leaves = [((key,), have, want)]
        for path, before, after in leaves:
            own = {
                p: label
                for p, label in (labels or {}).items()
                if p[: len(path)] == path or path[: len(p)] == p
            }
            sensitive = (
                bool(own)
                or is_secret_path(path)
                or _contains_secret(path, before)
                or _contains_secret(path, after)
            )
            changes.append(FieldChange(path, before, after, sensitive, own))
    return tuple(changes)
