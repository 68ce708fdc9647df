"""The promotion view: how the live integrations of two environments differ, once their
variables are taken into account (a pure function: no I/O).

Applications are paired by the alias the files name them by. Integrations are paired by name.
A field whose value each environment takes from the same `${var:NAME}` differs by design: where
each live side holds its own environment's value, it is the same. A field either environment
takes from `${env:NAME}` is a secret per environment and is not compared; neither is a secret
the API hides, nor a field `ignoreFields` names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from syncer.compare import CONFIG_KEYS, MISSING, is_hidden, json_equal, without_defaults
from syncer.desired import DesiredIntegration, DesiredState
from syncer.errors import SyncerError, counted, document_path
from syncer.fields import FieldChange, contains_secret
from syncer.live import LiveState
from syncer.schema import losant_schema
from syncer.secrets import Path, get_path, is_secret_path, secret_paths

State = Literal["same", "different", "only in source", "only in target"]
STATES: tuple[State, ...] = ("same", "different", "only in source", "only in target")


@dataclass(frozen=True)
class Pairing:
    """One application alias and the id it has in each environment."""

    alias: str
    source_id: str
    target_id: str


@dataclass(frozen=True)
class Compared:
    """One integration name of one alias, in both environments."""

    alias: str
    name: str
    integration_type: str | None
    state: State
    # before = the source environment's live value, after = the target's
    fields: tuple[FieldChange, ...] = ()
    by_variables: tuple[str, ...] = ()  # fields that differ only as their variables do
    # fields that differ where an environment's override sets them: field -> that environment
    by_override: Mapping[str, str] = field(default_factory=dict)
    not_compared: tuple[str, ...] = ()  # per-environment secrets, hidden values


@dataclass(frozen=True)
class Promotion:
    source: str
    target: str
    applications: tuple[Pairing, ...]
    integrations: tuple[Compared, ...]

    @property
    def same(self) -> bool:
        return all(c.state == "same" for c in self.integrations)

    def counts(self, alias: str | None = None) -> dict[State, int]:
        """How many integrations are in each state (of one alias, or of all)."""
        chosen = [c for c in self.integrations if alias is None or c.alias == alias]
        return {state: sum(c.state == state for c in chosen) for state in STATES}

    def words(self, state: State) -> str:
        """A state as people read it: `only in staging` rather than `only in source`."""
        return {"only in source": f"only in {self.source}", "only in target": f"only in {self.target}"}.get(
            state, state
        )

    def summary(self) -> str:
        total = counted(len(self.integrations), "integration")
        if self.same:
            return f"{self.source} and {self.target} are the same: {total}."
        each = ", ".join(f"{n} {self.words(state)}" for state, n in self.counts().items())
        return f"{self.source} -> {self.target}: {total}: {each}."


def pairings(source: DesiredState, target: DesiredState) -> list[Pairing]:
    """The applications both environments name by the same alias (plain ids are the same
    application in both: nothing to compare)."""
    target_ids = {alias: app for app, alias in target.aliases.items()}
    pairs = [
        Pairing(alias, app, target_ids[alias]) for app, alias in source.aliases.items() if alias in target_ids
    ]
    if not pairs:
        raise SyncerError(
            f"no application alias is in both {source.environment} and {target.environment}: the files "
            "must name applications by alias (application: <alias>) for environments to be compared"
        )
    return pairs


_WRITABLE = tuple(key for key in losant_schema("integrationPost")["properties"] if key != "name")


def _leaves(body: Mapping[str, Any]) -> dict[Path, Any]:
    """The writable fields of a live integration: config objects by field, the rest whole; the
    defaults the server fills in are left out (a side that omits one means the same)."""
    out: dict[Path, Any] = {}
    for key in _WRITABLE:
        value = body.get(key, MISSING)
        if key in CONFIG_KEYS and isinstance(value, dict):
            out.update({(key, name): item for name, item in without_defaults(key, value).items()})
        elif value is not MISSING:
            out[(key,)] = value
    return out


def _entries(desired: DesiredState, app: str) -> dict[str, DesiredIntegration]:
    """The entries of one application that keep an integration, by name (built once: an entry
    is looked up for every live integration)."""
    return {i.name: i for i in desired.for_application(app) if not i.absent}


def _refs(found: Mapping[Path, tuple[str, ...]], path: Path) -> tuple[str, ...]:
    """The variables the value at `path` (or anything under it) is made of, in an order that
    does not depend on how each environment's entry was built (an override reorders keys)."""
    under = sorted((p for p in found if p[: len(path)] == path), key=_path_order)
    return tuple(name for p in under for name in found[p])


def _path_order(path: Path) -> list[str]:
    """One order of paths, whatever built them (a path may mix keys and indexes)."""
    return [str(step) for step in path]


def _compare_pair(
    pairing: Pairing,
    name: str,
    live: tuple[Mapping[str, Any], Mapping[str, Any]],
    entries: tuple[DesiredIntegration | None, DesiredIntegration | None],
    desired_pair: tuple[DesiredState, DesiredState],
) -> Compared:
    source_live, target_live = live
    source_fields, target_fields = _leaves(source_live), _leaves(target_live)
    kind = source_live.get("integrationType") or target_live.get("integrationType")
    kind = kind if isinstance(kind, str) else None
    source, target = desired_pair
    # what either side never compares
    ignored = source.project.ignored_for(pairing.source_id, kind) | target.project.ignored_for(
        pairing.target_id, kind
    )
    differences: list[FieldChange] = []
    by_variables: list[str] = []
    by_override: dict[str, str] = {}
    not_compared: list[str] = []
    for path in sorted({*source_fields, *target_fields}, key=_path_order):
        if path in ignored or path[:1] in ignored:
            continue
        dotted = document_path(path)
        before, after = source_fields.get(path, MISSING), target_fields.get(path, MISSING)
        if any(entry and _refs(entry.env_refs, path) for entry in entries) or (
            is_secret_path(path) and (is_hidden(before) or is_hidden(after) or MISSING in (before, after))
        ):
            not_compared.append(dotted)
            continue
        if before is not MISSING and after is not MISSING and json_equal(before, after):
            continue
        variables = [_refs(entry.var_refs, path) if entry else () for entry in entries]
        if (
            variables[0]
            and variables[0] == variables[1]
            and all(
                entry is not None and json_equal(get_path(entry.body, path), value)
                for entry, value in zip(entries, (before, after), strict=True)
            )
        ):
            by_variables.append(dotted)
            continue
        sensitive = is_secret_path(path) or contains_secret(path, before) or contains_secret(path, after)
        differences.append(FieldChange(path, before, after, sensitive))
        for environment, entry in zip((source.environment, target.environment), entries, strict=True):
            if entry is not None and any(path[: len(p)] == p for p in entry.overridden):
                by_override[dotted] = str(environment)
    for entry in entries:  # secrets the files set that Losant shows on neither side
        for path in secret_paths(entry.body) if entry else ():
            seen = path[:2] in source_fields or path[:2] in target_fields
            dotted = document_path(path[:2])
            if not seen and dotted not in not_compared:
                not_compared.append(dotted)
    return Compared(
        pairing.alias,
        name,
        kind,
        "different" if differences else "same",
        tuple(differences),
        tuple(by_variables),
        by_override,
        tuple(not_compared),
    )


def compare_environments(
    source: DesiredState, target: DesiredState, source_live: LiveState, target_live: LiveState
) -> Promotion:
    """Every live integration of the paired applications, by name, source against target."""
    compared: list[Compared] = []
    paired = pairings(source, target)
    for pairing in paired:
        by_name = [
            {str(i.get("name")): i for i in state.integrations.get(app, ())}
            for state, app in ((source_live, pairing.source_id), (target_live, pairing.target_id))
        ]
        both = [*source.for_application(pairing.source_id), *target.for_application(pairing.target_id)]
        declared = list(dict.fromkeys(i.name for i in both))
        names = [n for n in declared if n in by_name[0] or n in by_name[1]]
        entries_of = (_entries(source, pairing.source_id), _entries(target, pairing.target_id))
        names += sorted({*by_name[0], *by_name[1]} - set(names))
        for name in names:
            here, there = by_name[0].get(name), by_name[1].get(name)
            if here is None or there is None:
                kind = (here or there or {}).get("integrationType")
                state: State = "only in target" if here is None else "only in source"
                compared.append(Compared(pairing.alias, name, kind if isinstance(kind, str) else None, state))
                continue
            entries = (entries_of[0].get(name), entries_of[1].get(name))
            compared.append(_compare_pair(pairing, name, (here, there), entries, (source, target)))
    return Promotion(str(source.environment), str(target.environment), tuple(paired), tuple(compared))
