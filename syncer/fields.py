"""What changes, field by field, said for people: the leaves that differ between an
integration in the files and in Losant, each with what may be shown of it.

Only the few integrations that differ come here: syncer.compare decides which do, on every
pair, by the same equality that json_leaves uses to find the leaves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncer.compare import (
    CONFIG_KEYS,
    HIDDEN,
    MISSING,
    NO_RULES,
    Rules,
    comparable_config,
    hidden_secrets,
    json_leaves,
    without_unknown,
)
from syncer.errors import document_path
from syncer.secrets import MASK, Label, Path, get_path, is_secret_path, mask_value


@dataclass(frozen=True)
class FieldChange:
    """One leaf that changes; `before`/`after` are MISSING when the field is absent on that side."""

    path: tuple[str | int, ...]
    before: Any
    after: Any
    sensitive: bool
    # body paths whose desired value came from the environment -> "(from ${env:NAME})"
    labels: Mapping[Path, Label] = field(default_factory=dict)

    @property
    def dotted(self) -> str:
        return document_path(self.path)

    def shown_before(self) -> Any:
        """The live side as it may be shown: secrets masked; where the files take a value from
        the environment the live side is masked whole (a list may hold that value anywhere)."""
        if self.before is MISSING or self.before is HIDDEN:
            return self.before
        if self.labels:
            return MASK
        return mask_value(self.path, self.before)

    def shown_after(self) -> Any:
        """The files' side as it may be shown: secrets masked, environment values named."""
        if self.after is MISSING:
            return self.after
        return mask_value(self.path, self.after, self.labels)


def contains_secret(path: Path, value: Any) -> bool:
    """Whether `value`, at `path`, is or holds a secret (a header list holds header values)."""
    return mask_value(path, value) != value if value is not MISSING else False


def env_labels(env_refs: Mapping[Path, Sequence[str]]) -> dict[Path, Label]:
    """How values read from the environment are shown: by the variable, never by value."""
    return {
        path: Label("(from " + ", ".join(f"${{env:{name}}}" for name in names) + ")")
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
    labels: Mapping[Path, Label] | None = None,
) -> tuple[FieldChange, ...]:
    """Leaf-level changes of the given top-level keys, for people to read.

    `labels`: the paths of `desired` that came from the environment, shown by their label."""
    changes: list[FieldChange] = []
    for key in keys:
        want, have = without_unknown(key, desired.get(key, MISSING), live.get(key, MISSING), rules.unknown)
        if key in CONFIG_KEYS and isinstance(want, dict) and isinstance(have, dict):
            pushed = hidden_secrets(key, want, have) if rules.push_secrets else []
            _, have_seen = comparable_config(key, want, have, rules)
            # the whole desired object is what gets sent: a secret the API hides shows as added
            sent = {k: v for k, v in want.items() if (key, k) not in rules.ignored}
            leaves = [(path, HIDDEN, get_path(want, path[1:])) for path in pushed]
            for sub, before, after in json_leaves(have_seen, sent, (key,)):
                if sub not in pushed:
                    leaves.append((sub, before, after))
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
                or contains_secret(path, before)
                or contains_secret(path, after)
            )
            changes.append(FieldChange(path, before, after, sensitive, own))
    return tuple(changes)
