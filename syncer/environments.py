"""Environments: one definition, many Losant applications.

`syncer.yaml` names environments. Each maps application aliases to ids, defines variables (plain
values, shown in plans: a host is not a secret) and may override fields of named entries. A file
names an alias instead of an id; `--environment NAME` picks the ids, variables and overrides that
apply. Files that name plain ids work as before, in every environment.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from syncer.errors import Location, Problem
from syncer.interpolate import VARIABLE_NAME
from syncer.load import LoadedFile, plain_copy

# a name for people: never mistaken for an application id
NAME_PATTERN = r"^(?![A-Fa-f\d]{24}$)[A-Za-z][A-Za-z0-9_.-]{0,63}$"
VARIABLE_PATTERN = f"^{VARIABLE_NAME}$"
# an override adds or changes fields; the identity of the entry it names stays the file's
NOT_OVERRIDDEN = ("name", "integrationType", "id", "previousNames", "absent", "environments")
Variable = str | int | float | bool


@dataclass(frozen=True)
class Override:
    """Fields one environment sets on one named entry, and where each is written."""

    fields: Mapping[str, Any]
    location: Location  # the entry's name under overrides, in syncer.yaml
    locations: Mapping[tuple[str | int, ...], Location]  # path inside the entry -> syncer.yaml
    # its values are plain JSON values (as LoadedFile.plain): the fast check may judge them
    plain: bool = True

    def set_paths(self) -> list[tuple[str, ...]]:
        """The paths it sets: into mappings (which merge), a list or a value whole."""

        def walk(value: Any, path: tuple[str, ...]) -> list[tuple[str, ...]]:
            if isinstance(value, dict) and value:
                return [p for key, item in value.items() for p in walk(item, (*path, key))]
            return [path]

        return walk(dict(self.fields), ())


@dataclass(frozen=True)
class Environment:
    name: str
    applications: Mapping[str, str] = field(default_factory=dict)  # alias -> application id
    variables: Mapping[str, Variable] = field(default_factory=dict)
    overrides: Mapping[tuple[str, str], Override] = field(default_factory=dict)  # (alias, name)

    def alias_of(self, application_id: str) -> str | None:
        """The alias this environment gives an application id, if any."""
        return next((a for a, app in self.applications.items() if app == application_id), None)


def is_alias(application: str) -> bool:
    """Shaped like an alias (a name), not like an application id."""
    return re.fullmatch(NAME_PATTERN, application) is not None


def _leaves(
    value: Any, path: tuple[str | int, ...], loaded: LoadedFile, base: list[str | int]
) -> dict[Any, Location]:
    """The location of `value` and of everything under it (for errors about a merged field)."""
    out = {path: loaded.location([*base, *path])}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(_leaves(item, (*path, key), loaded, base))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.update(_leaves(item, (*path, index), loaded, base))
    return out


def read_environments(section: Mapping[str, Any], loaded: LoadedFile) -> dict[str, Environment]:
    """The `environments` of a project file that passed its schema."""
    out = {}
    for name, spec in section.items():
        overrides = {}
        for alias, entries in (spec.get("overrides") or {}).items():
            for entry_name, fields in entries.items():
                base: list[str | int] = ["environments", name, "overrides", alias, entry_name]
                locations = {
                    leaf: where
                    for key, value in fields.items()
                    for leaf, where in _leaves(value, (key,), loaded, base).items()
                }
                overrides[(alias, entry_name)] = Override(
                    fields, loaded.location(base, key=True), locations, plain=loaded.plain
                )
        out[name] = Environment(
            name=name,
            applications={alias: app.lower() for alias, app in (spec.get("applications") or {}).items()},
            variables=dict(spec.get("vars") or {}),
            overrides=overrides,
        )
    return out


def _names(names: Collection[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def choose_hint(environments: Collection[str]) -> str:
    return f"choose one with --environment NAME (or SYNCER_ENVIRONMENT): {_names(environments)}"


def merge(base: dict[str, Any], fields: Mapping[str, Any]) -> None:
    """Like a PATCH: mappings merge key by key, anything else replaces."""
    for key, value in fields.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = plain_copy(value)  # interpolation changes what it is given: not the override


@dataclass
class Applied:
    """What an environment did to one file: the entries it leaves out, the overrides it used."""

    problems: list[Problem] = field(default_factory=list)
    excluded: set[int] = field(default_factory=set)  # entry indexes not in this environment
    used: set[tuple[str, str]] = field(default_factory=set)  # (alias, name) of the overrides merged
    alias: str | None = None
    elsewhere: bool = False  # the file's alias is not in this environment, nor is any entry of it
    # entries limited to other environments: name -> those environments (a prune says so)
    limited: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _limits(entry: Any) -> list[str] | None:
    """The environments an entry is limited to (None: every one, or not a list of names yet: the
    schema says what is wrong; an empty list is one such mistake, never "none")."""
    limited = entry.get("environments") if isinstance(entry, dict) else None
    if isinstance(limited, list) and limited and all(isinstance(n, str) for n in limited):
        return limited
    return None


def apply_environment(
    data: dict[str, Any],
    loaded: LoadedFile,
    environment: Environment | None,
    defined: Collection[str],
    list_key: str,
) -> Applied:
    """Resolve the file's application alias, leave out the entries of other environments and
    merge the environment's overrides, in place, before variables and the schema are checked.
    Errors about merged fields point at syncer.yaml (`loaded.elsewhere`)."""
    out = Applied()

    def refuse(where: list[str | int], message: str) -> None:
        out.problems.append(loaded.problem(where, message))

    application = data.get("application")
    if isinstance(application, str) and is_alias(application):
        out.alias = application
        if not defined:
            refuse(
                ["application"],
                f"{application!r} is not an application id (24 hexadecimal characters), and "
                "syncer.yaml defines no environments that could give it one",
            )
        elif environment is None:
            refuse(["application"], f"{application!r} is an alias: {choose_hint(defined)}")
        elif application not in environment.applications:
            entries = data.get(list_key)
            if list_key == "integrations" and isinstance(entries, list):
                limits = [_limits(entry) for entry in entries]
                if all(limit is not None and environment.name not in limit for limit in limits):
                    out.elsewhere = True  # e.g. a staging-only application: nothing of it here
                    return out
            refuse(
                ["application"],
                f"alias {application!r} is not defined in environment {environment.name!r}; add it "
                f"under environments.{environment.name}.applications in syncer.yaml "
                f"(defined: {_names(environment.applications)})",
            )
        else:
            # an alias holds no `${`: where the loader found them (loaded.templated) still holds
            data["application"] = environment.applications[application]
    entries = data.get(list_key)
    if not isinstance(entries, list):
        return out
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        limited = _limits(entry) if list_key == "integrations" else None  # not in Losant's export
        if limited is not None:
            where: list[str | int] = [list_key, index, "environments"]
            unknown = [n for n in limited if n not in defined]
            if unknown:
                refuse(
                    where,
                    f"environment {unknown[0]!r} is not defined in syncer.yaml (defined: {_names(defined)})",
                )
            elif environment is None:
                refuse(where, f"this entry is only in {_names(limited)}: {choose_hint(defined)}")
            elif environment.name not in limited:
                out.excluded.add(index)
                if isinstance(entry.get("name"), str):
                    out.limited[entry["name"]] = tuple(limited)
                continue
        name = entry.get("name")
        if environment is None or out.alias is None or not isinstance(name, str):
            continue
        override = environment.overrides.get((out.alias, name))
        if override is not None:
            # a copy: YAML anchors and merge keys share containers with other entries
            entry = entries[index] = plain_copy(entry)
            merge(entry, override.fields)
            loaded.templated = None  # the entry is new: walk the document to interpolate it
            loaded.plain = loaded.plain and override.plain
            out.used.add((out.alias, name))
            for path, location in override.locations.items():
                loaded.elsewhere[(list_key, index, *path)] = location
    return out


def unused_overrides(environment: Environment, used: Collection[tuple[str, str]]) -> list[Problem]:
    """Overrides that name no entry of this environment: a typo, or an entry renamed."""
    return [
        Problem(
            override.location,
            f"environment {environment.name!r} overrides {name!r} of {alias!r}, and no entry of "
            f"that name is in this environment; fix the name, or remove the override",
            f"environments.{environment.name}.overrides",
        )
        for (alias, name), override in environment.overrides.items()
        if (alias, name) not in used
    ]
