"""Validate stage: files -> desired state.

Every mistake in every file is collected (located, one line each) before anything else runs; a
single problem stops the run with exit code 1 and nothing sent to the API.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from syncer.environments import (
    NAME_PATTERN,
    Applied,
    Environment,
    apply_environment,
    choose_hint,
    is_alias,
    read_environments,
    unused_overrides,
)
from syncer.errors import Location, Problem, SyncerError, counted, document_path
from syncer.gc_pause import gc_paused
from syncer.interpolate import Interpolation, interpolate
from syncer.load import LoadedFile, Unfit, copied, read_yaml_file
from syncer.losant import CONFIG_FIELDS
from syncer.schema import APPLICATION_PATTERN
from syncer.schema_check import schema_errors
from syncer.secrets import MIN_REDACTED_LENGTH, Path, get_path, is_secret_path, secret_values

PROJECT_FILE_NAMES = ("syncer.yaml", "syncer.yml")
YAML_SUFFIXES = (".yaml", ".yml")
# entry keys that are syncer's, not Losant's: never sent to the API
OWN_KEYS = ("id", "previousNames", "absent", "environments")
EXPORT_ONLY_KEYS = ("id", "exportHash")
ABSENT_ALLOWED = {"name", "id", "absent", "integrationType"}
LOCATED_FIELDS = ("credentialName",)  # checked against live state, so located after loading


@dataclass(frozen=True, slots=True)  # slots: 50,000 of them are 5 MiB less
class DesiredIntegration:
    """One entry of the files: what the user wants Losant to hold."""

    application_id: str
    name: str
    body: dict[str, Any]  # Losant's fields only, as the API takes them
    location: Location
    absent: bool = False
    pinned_id: str | None = None
    previous_names: tuple[str, ...] = ()
    env_refs: Mapping[Path, tuple[str, ...]] = field(default_factory=dict)  # body path -> vars
    var_refs: Mapping[Path, tuple[str, ...]] = field(default_factory=dict)  # body path -> ${var:}
    overridden: frozenset[Path] = frozenset()  # body paths the environment's override set
    # body path -> the unset variables it reads (only with env_optional): its value is unknown
    unset: Mapping[Path, tuple[str, ...]] = field(default_factory=dict)
    where: str = ""  # its path in the document, e.g. integrations[2]
    # where the fields that later stages check against live state are written (credentialName)
    field_locations: Mapping[str, Location] = field(default_factory=dict)

    @property
    def integration_type(self) -> str | None:
        value = self.body.get("integrationType")
        return value if isinstance(value, str) else None

    def problem(self, key: str, message: str) -> Problem:
        """A problem with one of this entry's fields, located where the field is written."""
        where = f"{self.where}.{key}" if self.where else key
        return Problem(self.field_locations.get(key, self.location), message, where)


IgnoreFields = Mapping[str, tuple[str, ...]]  # "all" or an integration type -> dotted paths


@dataclass(frozen=True)
class AppPolicy:
    """What syncer.yaml says about one application (added to the project-wide policy)."""

    prune: bool | None = None
    never_touch: tuple[str, ...] = ()
    ignore_fields: IgnoreFields = field(default_factory=dict)
    allow_breaking_workflows: bool | None = None


def _ignored(rules: IgnoreFields, integration_type: str | None) -> set[tuple[str, ...]]:
    paths = [*rules.get("all", ()), *(rules.get(integration_type, ()) if integration_type else ())]
    return {tuple(p.split(".")) for p in paths}


@dataclass(frozen=True)
class Project:
    """The optional project file at the root of the tree."""

    path: str | None = None
    api_url: str | None = None
    api_url_location: Location | None = None  # where apiUrl is written: the file is under review
    prune: bool = False
    max_deletes: int | None = None
    allow_breaking_workflows: bool = False
    never_touch: tuple[str, ...] = ()
    ignore_fields: IgnoreFields = field(default_factory=dict)
    applications: Mapping[str, AppPolicy] = field(default_factory=dict)
    environments: Mapping[str, Environment] = field(default_factory=dict)

    def environment(self, name: str | None) -> Environment | None:
        """The environment of that name (None for none), or SyncerError naming the ones there are."""
        if name is None:
            return None
        if name not in self.environments:
            shown = repr(name if len(name) <= 64 else name[:64] + "…")
            if self.path is None:
                raise SyncerError(
                    f"environment {shown}: no syncer.yaml was found (searched upward from the paths; "
                    "or name it with --project FILE), and environments are defined there"
                )
            if not self.environments:
                raise SyncerError(f"environment {shown}: {self.path} defines no environments")
            raise SyncerError(
                f"environment {shown} is not defined in {self.path}; {choose_hint(self.environments)}"
            )
        return self.environments[name]

    def ignored_for(self, application_id: str, integration_type: str | None) -> frozenset[tuple[str, ...]]:
        """The fields never compared for this application and type (project-wide and its own)."""
        policy = self.applications.get(application_id)
        own = _ignored(policy.ignore_fields, integration_type) if policy else set()
        return frozenset(_ignored(self.ignore_fields, integration_type) | own)

    def breaking_workflows_allowed_for(self, application_id: str) -> bool:
        """Whether deleting or replacing an integration that workflows use is allowed here."""
        policy = self.applications.get(application_id)
        own = policy.allow_breaking_workflows if policy else None
        return own if own is not None else self.allow_breaking_workflows

    def prune_for(self, application_id: str) -> bool:
        """Whether live integrations no file declares are deleted in this application."""
        policy = self.applications.get(application_id)
        return policy.prune if policy and policy.prune is not None else self.prune

    def never_touch_for(self, application_id: str) -> tuple[str, ...]:
        """The name patterns syncer never creates, changes or deletes in this application."""
        policy = self.applications.get(application_id)
        return self.never_touch + (policy.never_touch if policy else ())


@dataclass(frozen=True)
class DesiredState:
    """Everything the files ask for: the entries, the files read, the applications they name, and
    the project file's policy."""

    integrations: tuple[DesiredIntegration, ...]
    files: tuple[str, ...]
    applications: Mapping[str, tuple[str, ...]]  # application id -> files that declare it
    project: Project = field(default_factory=Project)
    environment: str | None = None  # the environment chosen, if any
    aliases: Mapping[str, str] = field(default_factory=dict)  # application id -> its alias in the files
    # `validate` without --environment checks every one: environment -> integrations in it
    checked: Mapping[str, int] = field(default_factory=dict)
    # entries limited to other environments: application id -> name -> those environments
    limited: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    def secret_values(self) -> set[str]:
        """Every secret value the files hold (for the redactor)."""
        return {value for item in self.integrations for value in secret_values(item.body)}

    def for_application(self, application_id: str) -> list[DesiredIntegration]:
        """The entries of one application, in file order."""
        return [i for i in self.integrations if i.application_id == application_id]

    def holding(self, credentials: Mapping[str, str]) -> list[Problem]:
        """A problem for each value of the files, read from the environment, that holds one of
        syncer's own credentials (`credentials`: what it is -> its value), however it got there
        (`${env:LOSANT_API_TOKEN}`, a copy under another name). Written to Losant, an
        integration would pass it on to wherever its URL, header or token field says: a file
        under review must not be able to send the token off. (Only the environment can bring
        it: a file cannot hold what its author does not know.)"""
        problems = []
        for item in self.integrations:
            for path in item.env_refs:
                try:
                    value = get_path(item.body, path)
                except (KeyError, IndexError, TypeError):
                    continue  # not sent to Losant (a key of syncer's own, such as `environments`)
                if not isinstance(value, str):
                    continue
                for what, credential in credentials.items():
                    if len(credential) >= MIN_REDACTED_LENGTH and credential in value:
                        problems.append(
                            Problem(
                                item.location,
                                f"holds {what}, syncer's own credential, which it never sends to "
                                "Losant (an integration would pass it on); give the integration "
                                "a secret of its own",
                                f"{item.where}.{document_path(path)}",
                            )
                        )
        return problems


# --- discovery -------------------------------------------------------------------------------


def _shown(path: str) -> str:
    """A path as the user would write it: relative to the working directory when under it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else os.path.normpath(relative)


def _ceiling(start: str) -> str:
    """Where the upward search stops: the repository root (the directory holding `.git`); with
    no repository, the working directory when `start` is under it, else `start` itself, so a
    stray syncer.yaml in /tmp or a home directory never governs a tree it does not belong to."""
    directory = start
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    here = os.path.abspath(os.getcwd())
    return here if os.path.commonpath([here, start]) == here else start


def _project_above(start: str) -> str | None:
    """The nearest project file in `start` or a directory above it, up to the ceiling (the
    repository root), as ruff and git find their configuration."""
    directory = os.path.abspath(start)
    ceiling = _ceiling(directory)
    while True:
        found = [
            os.path.join(directory, n)
            for n in PROJECT_FILE_NAMES
            if os.path.lexists(os.path.join(directory, n))
        ]
        if len(found) > 1:
            raise SyncerError(
                f"{_shown(directory)} holds both {' and '.join(PROJECT_FILE_NAMES)}: keep one project file"
            )
        if found:
            return _shown(found[0])
        parent = os.path.dirname(directory)
        if directory == ceiling or parent == directory:
            return None
        directory = parent


def discover(paths: Sequence[str], project: str | None = None) -> tuple[list[str], str | None]:
    """The integration files under `paths`, and the one project file that governs them.

    The project file is `project` when given (--project), else the one found searching upward
    from each path, or inside a directory given: every path must lead to the same one, so a plan
    of `losant/fleet` follows the same policy as a plan of `losant`. Hidden directories (.git,
    .github) are skipped; files are sorted so runs are reproducible. Every YAML name found is
    kept, whatever it is (a FIFO, a device, a dangling symlink): the reader refuses what is not a
    regular file, so it is reported instead of silently missing.
    """
    files: list[str] = []
    projects: set[str] = set()
    for given in paths:
        if os.path.isdir(given):
            for root, dirs, names in os.walk(given):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    full = os.path.normpath(os.path.join(root, name))
                    if name in PROJECT_FILE_NAMES:
                        projects.add(full)
                    elif name.endswith(YAML_SUFFIXES) and not name.startswith("."):
                        files.append(full)
        elif os.path.basename(given) in PROJECT_FILE_NAMES:
            projects.add(os.path.normpath(given))
        elif os.path.lexists(given):
            files.append(os.path.normpath(given))
        else:
            raise SyncerError(f"{given}: no such file or directory")
    if project is not None:
        if not os.path.lexists(project):
            raise SyncerError(f"{project}: no such project file (--project)")
        return _once(files), project
    for given in paths:
        above = _project_above(given if os.path.isdir(given) else os.path.dirname(given) or ".")
        if above is not None:
            projects.add(above)
    found = sorted({_shown(os.path.abspath(p)) for p in projects})
    if len(found) > 1:
        raise SyncerError(
            "these paths are governed by several project files: " + ", ".join(found) + "; keep one "
            "syncer.yaml at the root of the tree, or name the one to use with --project FILE"
        )
    return _once(files), (found[0] if found else None)


def project_for(directory: str) -> tuple[str | None, str]:
    """The project file above `directory` (which may not exist yet), and the directory of the
    tree it belongs to: the project file's, or the nearest that exists."""
    existing = directory
    while existing and not os.path.isdir(existing):
        existing = os.path.dirname(existing)
    project = _project_above(existing or ".")
    return project, (os.path.dirname(project) or ".") if project else (existing or ".")


def discover_tree(directory: str) -> list[str]:
    """The YAML files of the tree `directory` belongs to (from its project file's directory, or
    itself), for what must be unique across it; [] when nothing is there yet."""
    files, _ = discover([project_for(directory)[1]])
    return files


def _once(files: list[str]) -> list[str]:
    """Each file once, however many of the given paths lead to it (`a.yaml ../dir/a.yaml`)."""
    seen: dict[str, str] = {}
    for path in files:
        seen.setdefault(os.path.abspath(path), path)
    return list(seen.values())


# --- schema errors -> messages ---------------------------------------------------------------


_TYPE_NAMES = {
    bool: "a boolean",
    int: "a number",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a mapping",
    type(None): "null",
    Unfit: "a value JSON cannot carry",
}
_JSON_TYPES = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def _describe(value: Any, secret: bool) -> str:
    described = _TYPE_NAMES.get(type(value), type(value).__name__)
    if secret or isinstance(value, (dict, list, set, frozenset, tuple)):  # containers: named, not shown
        return described
    shown = repr(value)
    return f"{described} ({shown if len(shown) <= 40 else shown[:37] + '...'})"


def _entry_path(parts: Sequence[str | int]) -> Path:
    """The path inside one integration entry (for secret checks), or () outside entries."""
    if len(parts) >= 2 and parts[0] in ("integrations", "resources") and isinstance(parts[1], int):
        return tuple(parts[2:])
    return ()


def _is_secret(parts: Sequence[str | int]) -> bool:
    inner = _entry_path(parts)
    return bool(inner) and (is_secret_path(inner) or (len(inner) >= 2 and is_secret_path(inner[:2])))


def _schema_problems(
    error: Any,
    loaded: LoadedFile,
    from_env: Collection[Path] = (),
    from_vars: Mapping[Path, list[str]] | None = None,
) -> list[Problem]:
    """Turn one jsonschema error into located, actionable problems, never echoing a secret, nor a
    value read from the environment (`from_env`: where references were resolved), which may be one."""
    instance = error.instance
    if isinstance(instance, Unfit):
        return []  # the loader reported it, with what is wrong
    parts = list(error.absolute_path)
    keyword = error.validator
    on_key = "propertyNames" in error.relative_schema_path
    if on_key:  # `instance` is a key of the mapping at `parts`: name and point at the key itself
        parts.append(str(instance))
    where = document_path(parts)
    secret = _is_secret(parts) or tuple(parts) in from_env
    schema = error.schema

    def at(message: str, key_parts: Sequence[str | int] | None = None) -> Problem:
        if key_parts is not None:
            return loaded.problem(key_parts, message, key=True)
        return Problem(loaded.location(parts, key=on_key), message, where)

    if keyword == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(schema.get("properties", {}))
        problems = []
        for extra in sorted((k for k in instance if k not in allowed and not isinstance(k, Unfit)), key=str):
            close = difflib.get_close_matches(str(extra), allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "allowed: " + ", ".join(allowed)
            problems.append(at(f"unknown field {extra!r}; {hint}", [*parts, extra]))
        return problems
    if keyword == "required":
        missing = [name for name in error.validator_value if name not in instance]
        if not parts and "application" in missing and "resourceType" in instance:
            return [
                at(
                    "a Losant export file does not name its application: add "
                    "`application: <24-hex application id>` at the top"
                )
            ]
        return [at(f"missing required field {name!r}") for name in missing]
    if keyword == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_JSON_TYPES.get(n, n) for n in names)
        message = f"expected {wanted}, found {_describe(instance, secret)}"
        variables = (from_vars or {}).get(tuple(parts))
        if variables:  # the value is the variable's own: that is where to fix it
            message += f"; it comes from ${{var:{variables[0]}}}: give that variable {wanted} in syncer.yaml"
        elif "string" in names and isinstance(instance, (bool, int, float)):
            message += "; quote the value (YAML reads yes/no/on/off as booleans and digits as numbers)"
        return [at(message)]
    if keyword in ("enum", "const"):
        options = error.validator_value if keyword == "enum" else [error.validator_value]
        listed = ", ".join(repr(o) for o in options)
        if len(options) > 8:  # a long list hides the hint: point at where it is spelled out
            listed = f"{len(options)} values (`syncer schema --project` lists them)"
        found = _describe(instance, secret)
        close = difflib.get_close_matches(str(instance), [str(o) for o in options], n=1)
        hint = f"; did you mean {close[0]!r}?" if close and not secret else ""
        return [at(f"must be {'one of ' if keyword == 'enum' else ''}{listed}, found {found}{hint}")]
    if keyword == "pattern":
        if error.validator_value.startswith("^[A-Fa-f"):
            return [at(f"{_describe(instance, secret)} is not a Losant id (24 hexadecimal characters)")]
        if error.validator_value == APPLICATION_PATTERN:
            return [
                at(
                    f"{_describe(instance, secret)} is neither an application id (24 hexadecimal "
                    f"characters) nor an alias ({_NAME_RULE})"
                )
            ]
        if error.validator_value == NAME_PATTERN:
            return [at(f"{_describe(instance, secret)} is not a name: {_NAME_RULE}")]
        return [at(f"does not match the pattern {error.validator_value}")]
    if keyword in ("minLength", "maxLength"):
        bound = error.validator_value
        length = len(instance)
        if keyword == "minLength":
            return [at(f"too short: {counted(length, 'character')}, at least {bound}")]
        return [at(f"too long: {counted(length, 'character')}, at most {bound}")]
    if keyword in ("minimum", "maximum"):
        word = "at least" if keyword == "minimum" else "at most"
        return [at(f"must be {word} {error.validator_value}, found {_describe(instance, secret)}")]
    if keyword == "uniqueItems":
        seen: list[Any] = []
        repeated = [v for v in instance if v in seen or seen.append(v)]  # type: ignore[func-returns-value]
        shown = "" if secret else f": {repeated[0]!r}"
        return [at(f"lists the same item twice{shown}; remove the repeat")]
    if keyword == "maxItems":
        return [at(f"has {counted(len(instance), 'item')}, at most {error.validator_value}")]
    if keyword == "not" and on_key:  # the only `not` on keys: what an override may not set
        return [
            at(
                f"an override cannot set {instance!r}: it is the entry's identity; limit the entry "
                "with `environments: [name]` and write one per environment instead"
            )
        ]
    if keyword == "oneOf" and parts and parts[-1] == "azureEventHubConfig" and isinstance(instance, dict):
        if "connectionString" in instance and "hostName" in instance:
            return [at("set either connectionString or hostName (with credentialName), not both")]
        return [
            at(
                "needs hubName and consumerGroup, and either connectionString or hostName "
                "(hostName with credentialName is what Losant recommends)"
            )
        ]
    message = error.message if not secret else f"invalid value ({keyword})"
    return [at(message)]


_NAME_RULE = "a letter, then up to 63 letters, digits, '_', '.' or '-'; not 24 hexadecimal characters"
_SHADOWED_BY_TYPE = {"enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum"}


# --- semantic checks --------------------------------------------------------------------------


def _entry_problems(entry: dict[str, Any], base: list[str | int], loaded: LoadedFile) -> list[Problem]:
    """What a schema cannot say about one entry."""
    problems: list[Problem] = []

    def at(message: str, key: str | None = None) -> Problem:
        parts = [*base, key] if key else base
        return loaded.problem(parts, message, key=key is not None)

    if entry.get("absent") is True:
        for key in entry:
            if key not in ABSENT_ALLOWED:
                problems.append(
                    at(
                        f"an entry with `absent: true` deletes the integration; remove {key!r}, "
                        "or remove `absent` to manage the integration",
                        key,
                    )
                )
        return problems
    integration_type = entry.get("integrationType")
    if not isinstance(integration_type, str) or integration_type not in CONFIG_FIELDS:
        return problems  # the schema already reported it
    wanted = CONFIG_FIELDS[integration_type]
    # the config object of the type is optional (a service credential may carry it all), but
    # another type's config object is a mistake Losant would silently ignore
    fix = "remove it" if wanted in entry else f"use {wanted} (or change integrationType)"
    for config in CONFIG_FIELDS.values():
        if config in entry and config != wanted:
            problems.append(
                at(f"{config} does not belong to a {integration_type} integration; {fix}", config)
            )
    return problems


def _clash(problems: list[Problem], item: DesiredIntegration, where: str, message: str) -> None:
    problems.append(Problem(item.location, message, where))


@dataclass
class _Seen:
    """Identity clashes across all files of one application."""

    names: dict[tuple[str, str], Location] = field(default_factory=dict)
    previous: dict[tuple[str, str], Location] = field(default_factory=dict)
    ids: dict[str, Location] = field(default_factory=dict)


def _identity_problems(items: Iterable[tuple[DesiredIntegration, str]]) -> list[Problem]:
    seen = _Seen()
    problems: list[Problem] = []
    listed = list(items)
    for item, where in listed:
        clash = functools.partial(_clash, problems, item, where)
        key = (item.application_id, item.name)
        first = seen.names.get(key)
        if first:
            clash(
                f"integration {item.name!r} is declared twice for application "
                f"{item.application_id} (also at {first}); keep one entry"
            )
        else:
            seen.names[key] = item.location
        if item.pinned_id:
            first = seen.ids.get(item.pinned_id)
            if first:
                clash(f"id {item.pinned_id} is pinned twice (also at {first})")
            else:
                seen.ids[item.pinned_id] = item.location
    for item, where in listed:
        clash = functools.partial(_clash, problems, item, where)
        for old in item.previous_names:
            key = (item.application_id, old)
            if old == item.name:
                clash(f"previousNames lists the current name {old!r}")
            elif key in seen.names:
                clash(
                    f"previous name {old!r} is the name of another entry (at {seen.names[key]}); "
                    "an integration can only be renamed from a name no entry uses"
                )
            elif key in seen.previous:
                clash(f"previous name {old!r} is also listed at {seen.previous[key]}; keep it in one entry")
            else:
                seen.previous[key] = item.location
    return problems


# --- files -> state ---------------------------------------------------------------------------


@dataclass
class FileResult:
    """What one file yields: its entries (with their document paths) and its application."""

    loaded: LoadedFile
    integrations: list[tuple[DesiredIntegration, str]] = field(default_factory=list)
    application_id: str | None = None
    missing_env: list[str] = field(default_factory=list)
    env_values: set[str] = field(default_factory=set)  # what it read from the environment
    applied: Applied = field(default_factory=Applied)  # what the chosen environment did to it


# shared by every entry that has none: one empty dict each is 10 MiB of 50,000 entries
_NOTHING: Mapping[Any, Any] = MappingProxyType({})
_NO_PATHS: frozenset[Path] = frozenset()


def _by_entry(references: Mapping[Path, list[str]], list_key: str) -> dict[int, dict[Path, tuple[str, ...]]]:
    """The references of each entry of `list_key`, by entry index, their paths inside the entry:
    grouped in one pass, so a file's cost stays linear in its entries."""
    grouped: dict[int, dict[Path, tuple[str, ...]]] = {}
    for path, names in references.items():
        if len(path) > 2 and path[0] == list_key and isinstance(path[1], int):
            grouped.setdefault(path[1], {})[path[2:]] = tuple(names)
    return grouped


def _interpolation_problems(
    loaded: LoadedFile,
    interp: Interpolation,
    require_env: bool,
    environment: Environment | None = None,
    defined: Collection[str] | None = (),
) -> list[Problem]:
    """Malformed references, undefined `${var:}` (unless `defined` is unknown), and (when
    required) unset variables, located."""
    problems = [loaded.problem(m.path, m.message(_is_secret(m.path))) for m in interp.malformed]
    for path, name in interp.undefined if defined is not None else ():
        if environment is None:
            message = f"${{var:{name}}} takes its value from an environment: " + (
                choose_hint(defined) if defined else "syncer.yaml defines none (see `environments`)"
            )
        else:
            message = (
                f"variable {name} is not defined in environment {environment.name!r}; add it under "
                f"environments.{environment.name}.vars in syncer.yaml, or give a default with "
                f"${{var:{name}:-value}}"
            )
        problems.append(loaded.problem(path, message))
    if require_env:
        problems += [
            loaded.problem(
                list(path),
                f"environment variable {name} is not set; set it, or give a default "
                f"with ${{env:{name}:-value}}",
            )
            for path, name in interp.missing
        ]
    return problems


def _values_read(interp: Interpolation, environ: Mapping[str, str]) -> set[str]:
    return {environ[name] for names in interp.references.values() for name in names if name in environ}


# an entry's identity shows in every plan, plan file and report: it cannot be a secret
IDENTITY_FIELDS = ("name", "previousNames", "id", "integrationType")


def _shared_by_environments(loaded: LoadedFile, interp: Interpolation, list_key: str) -> list[Problem]:
    """In a file that names a plain application id, which every environment shares, nothing may
    differ by environment: each environment's apply would undo the other's."""
    fix = "name the application by an alias of environments.<name>.applications instead"
    paths = list(interp.variables)[:1]
    entries = loaded.data.get(list_key) if isinstance(loaded.data, dict) else None
    for index, entry in enumerate(entries if isinstance(entries, list) else ()):
        if isinstance(entry, dict) and "environments" in entry:
            paths.append((list_key, index, "environments"))
            break
    return [
        loaded.problem(
            path,
            f"this file names application {loaded.data['application']}, which every environment "
            f"shares: {'a ${var:...}' if path in interp.variables else 'an entry limited to environments'} "
            f"would make environments undo each other; {fix}",
        )
        for path in paths
    ]


def _identity_from_environment(loaded: LoadedFile, interp: Interpolation) -> list[Problem]:
    """Identity never comes from the environment: a run without the variable (--env-optional)
    would plan another application, or none, and say all is well."""
    problems = [
        loaded.problem(
            [key], f"{key} cannot read a variable: name an alias of environments.<name>.applications instead"
        )
        for key in ("application", "applicationId")
        if (key,) in interp.variables
    ]
    # nor from an environment's variable: the promotion view pairs environments' integrations by
    # name, and an id or a type per environment would be another integration
    problems += [
        loaded.problem(
            path,
            f"{path[2]} cannot read a variable: it is the integration's identity, the same in every "
            "environment; write it in the file (an entry for one environment: `environments: [name]`)",
        )
        for path in interp.variables
        if len(path) >= 3 and path[0] in ("integrations", "resources") and path[2] in IDENTITY_FIELDS
    ]
    for path in interp.references:
        if path[:1] in (("application",), ("applicationId",)):
            why = "it decides which application is read and changed"
        elif len(path) >= 3 and path[0] in ("integrations", "resources") and path[2] in IDENTITY_FIELDS:
            why = "it is the integration's identity, shown in every plan"
        else:
            continue
        field_name = path[2] if len(path) >= 3 and path[0] in ("integrations", "resources") else path[0]
        problems.append(
            loaded.problem(
                list(path), f"{field_name} cannot read the environment: {why}; write it in the file"
            )
        )
    return problems


def check_file(
    loaded: LoadedFile,
    environ: Mapping[str, str],
    require_env: bool = True,
    environment: Environment | None = None,
    defined: Collection[str] | None = (),
) -> FileResult:
    """Validate one loaded file, as `environment` makes it (`defined`: the environments there
    are; None when the project file is wrong, and the problems they decide are not reported);
    problems are appended to `loaded.problems`."""
    result = FileResult(loaded)
    data = loaded.data
    if not loaded.parsed:
        return result
    if not isinstance(data, dict):
        found = _TYPE_NAMES.get(type(data), type(data).__name__)
        loaded.problems.append(
            Problem(
                loaded.location([]),
                f"the top level must be a mapping with `application` and `integrations`, found {found}",
            )
        )
        return result
    is_export = "resourceType" in data
    list_key = "resources" if is_export else "integrations"
    result.applied = applied = apply_environment(data, loaded, environment, defined or (), list_key)
    if applied.elsewhere:
        return result  # an application this environment does not have, nor any entry of it
    interp = interpolate(data, environ, environment.variables if environment else None, loaded.templated)
    loaded.templated = None  # the strings it names are resolved: it no longer describes `data`
    result.env_values = _values_read(interp, environ)
    if defined is not None:
        loaded.problems += applied.problems
    loaded.problems += _interpolation_problems(loaded, interp, require_env, environment, defined)
    loaded.problems += _identity_from_environment(loaded, interp)
    # reported above: an unset variable (or allowed; its value is unknown), an undefined one,
    # an alias no environment resolves
    missing_paths = {path for path, _ in interp.missing} | {path for path, _ in interp.undefined}
    if applied.alias is not None and data.get("application") == applied.alias:
        missing_paths.add(("application",))
    if applied.alias is None and defined and isinstance(data.get("application"), str):
        loaded.problems += _shared_by_environments(loaded, interp, list_key)
    unset: dict[Path, list[str]] = {}
    for path, name in interp.missing:
        unset.setdefault(path, []).append(name)
    if require_env:
        result.missing_env = [name for _, name in interp.missing]
    try:
        errors = schema_errors("file", data, plain=loaded.plain)
    except RecursionError:
        loaded.problems.append(Problem(loaded.location([]), "nesting is too deep; flatten the document"))
        return result
    bad_entries: set[int] = set()
    # a value of the wrong type also fails its enum, pattern, bounds: one message is enough
    wrong_type = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        parts = list(error.absolute_path)
        if tuple(parts) in missing_paths:
            continue
        if len(parts) >= 2 and parts[0] == list_key and parts[1] in applied.excluded:
            continue  # an entry of another environment: checked in that one
        if error.validator in _SHADOWED_BY_TYPE and tuple(parts) in wrong_type:
            continue
        loaded.problems.extend(_schema_problems(error, loaded, interp.references, interp.variables))
        if len(parts) >= 2 and isinstance(parts[1], int):
            bad_entries.add(parts[1])
    application = data.get("application")
    if (
        isinstance(application, str)
        and application != applied.alias
        and not any(p.where == "application" for p in loaded.problems)
    ):
        result.application_id = application.lower()
    entries = data.get(list_key)
    if not isinstance(entries, list):
        return result
    env_refs, unset_refs = _by_entry(interp.references, list_key), _by_entry(unset, list_key)
    var_refs = _by_entry(interp.variables, list_key)
    overridden: dict[int, set[Path]] = {}
    for path in loaded.elsewhere:
        if len(path) > 2 and path[0] == list_key and isinstance(path[1], int):
            overridden.setdefault(path[1], set()).add(path[2:])
    located = loaded.item_locations([list_key])
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or index in applied.excluded:
            continue
        base: list[str | int] = [list_key, index]
        entry_problems = _entry_problems(entry, base, loaded)
        loaded.problems.extend(entry_problems)
        entry_name = entry.get("name")
        if index in bad_entries or entry_problems or not isinstance(entry_name, str):
            continue
        if result.application_id is None:
            continue
        body = {k: v for k, v in entry.items() if k not in (EXPORT_ONLY_KEYS if is_export else OWN_KEYS)}
        result.integrations.append(
            (
                DesiredIntegration(
                    application_id=result.application_id,
                    name=entry_name,
                    body=body,
                    location=located[index] if located is not None else loaded.location(base),
                    absent=bool(entry.get("absent")) and not is_export,
                    pinned_id=None if is_export else (entry.get("id") or "").lower() or None,
                    previous_names=() if is_export else tuple(entry.get("previousNames") or ()),
                    env_refs=env_refs.get(index, _NOTHING),
                    var_refs=var_refs.get(index, _NOTHING),
                    overridden=frozenset(overridden[index]) if index in overridden else _NO_PATHS,
                    unset=unset_refs.get(index, _NOTHING),
                    where=document_path(base),
                    field_locations={
                        key: loaded.location([*base, key]) for key in LOCATED_FIELDS if key in entry
                    }
                    or _NOTHING,
                ),
                document_path(base),
            )
        )
    return result


def load_project(
    path: str | None, environ: Mapping[str, str], sensitive: Callable[[Iterable[str]], None] = lambda v: None
) -> tuple[Project, list[Problem]]:
    """The project file (syncer.yaml), or the default policy without one, and its problems.
    `sensitive` learns the values it reads from the environment before any problem is shown."""
    if path is None:
        return Project(), []
    loaded = read_yaml_file(path)
    if loaded.empty:  # a project file that only marks the root of the tree: the default policy
        return Project(path=path), []
    if not loaded.parsed:
        return Project(path=path), loaded.problems
    data = loaded.data
    if not isinstance(data, dict):
        return Project(path=path), [
            *loaded.problems,
            Problem(loaded.location([]), "the project file must be a mapping"),
        ]
    # environments are read apart: their variables are plain values shown in plans (never the
    # environment's), and their overrides are resolved with the entries they land in
    environments = data.pop("environments", None)
    interp = interpolate(data, environ)
    if environments is not None:
        data["environments"] = environments
    sensitive(_values_read(interp, environ))
    problems = loaded.problems + _interpolation_problems(loaded, interp, require_env=True)
    problems += _plain_variables(environments, loaded)
    if ("apiUrl",) in interp.references:  # the token would go where the environment says
        problems.append(
            loaded.problem(
                ["apiUrl"], "apiUrl cannot read the environment: set LOSANT_API_URL (or --api-url) instead"
            )
        )
    for error in schema_errors("project", data, plain=loaded.plain):
        problems.extend(_schema_problems(error, loaded, interp.references))
    if problems:
        return Project(path=path), problems
    defined = read_environments(environments or {}, loaded)
    problems += _applications_once(defined, loaded)
    aliases = {alias for environment in defined.values() for alias in environment.applications}
    policies = data.get("applications") or {}
    for environment in defined.values():  # one policy per application, whichever key names it
        problems += [
            loaded.problem(
                ["applications", alias],
                f"{alias!r} is application {environment.applications[alias]} in environment "
                f"{environment.name!r}, which has a policy of its own here; keep one of the two",
                key=True,
            )
            for alias in policies
            if alias in environment.applications
            and environment.applications[alias] in map(str.lower, policies)
        ]
    for key in policies:
        if is_alias(key) and key not in aliases:
            problems.append(
                loaded.problem(
                    ["applications", key],
                    f"{key!r} is neither an application id (24 hexadecimal characters) nor an alias "
                    "of environments.<name>.applications",
                    key=True,
                )
            )
    for environment in defined.values():
        problems += [
            loaded.problem(
                ["environments", environment.name, "overrides", alias],
                f"{alias!r} is not an alias of environments.{environment.name}.applications; an "
                "override names the alias, then the entry",
                key=True,
            )
            for alias in {alias for alias, _ in environment.overrides}
            if alias not in environment.applications
        ]
    if problems:
        return Project(path=path), problems
    apps = {
        (app_id if is_alias(app_id) else app_id.lower()): AppPolicy(
            prune=policy.get("prune"),
            never_touch=tuple(policy.get("neverTouch", ())),
            ignore_fields=_ignore_fields(policy),
            allow_breaking_workflows=policy.get("allowBreakingWorkflows"),
        )
        for app_id, policy in (data.get("applications") or {}).items()
    }
    return Project(
        path=path,
        api_url=data.get("apiUrl"),
        api_url_location=loaded.location(["apiUrl"]) if "apiUrl" in data else None,
        prune=bool(data.get("prune", False)),
        max_deletes=data.get("maxDeletes"),
        allow_breaking_workflows=bool(data.get("allowBreakingWorkflows", False)),
        never_touch=tuple(data.get("neverTouch", ())),
        ignore_fields=_ignore_fields(data),
        applications=apps,
        environments=defined,
    ), []


def _applications_once(defined: Mapping[str, Environment], loaded: LoadedFile) -> list[Problem]:
    """Each application id belongs to one alias of one environment: two environments (or two
    aliases) writing one application would undo each other's applies, and compare nothing."""
    first: dict[str, str] = {}
    problems = []
    for environment in defined.values():
        for alias, app in environment.applications.items():
            here = f"environments.{environment.name}.applications.{alias}"
            if app in first:
                problems.append(
                    loaded.problem(
                        ["environments", environment.name, "applications", alias],
                        f"application {app} is also {first[app]}: each application belongs to one "
                        "alias of one environment (they would undo each other's applies)",
                    )
                )
            first.setdefault(app, here)
    return problems


def _plain_variables(environments: Any, loaded: LoadedFile) -> list[Problem]:
    """A variable is shown in every plan: it may not read the environment (a secret belongs in
    the integration file as ${env:NAME}), nor another variable."""
    if not isinstance(environments, dict):
        return []
    return [
        loaded.problem(
            ["environments", name, "vars", key],
            "a variable is a plain value, shown in plans: it cannot read ${env:...} or ${var:...}; "
            "put a secret in the integration file as ${env:NAME}",
        )
        for name, spec in environments.items()
        if isinstance(spec, dict) and isinstance(spec.get("vars"), dict)
        for key, value in spec["vars"].items()
        if isinstance(value, str) and "${" in value
    ]


def _ignore_fields(section: Mapping[str, Any]) -> IgnoreFields:
    return {
        integration_type: tuple(paths)
        for integration_type, paths in (section.get("ignoreFields") or {}).items()
    }


def load_desired(
    paths: Sequence[str],
    environ: Mapping[str, str],
    *,
    require_env: bool = True,
    sensitive: Callable[[Iterable[str]], None] = lambda values: None,
    project_file: str | None = None,
    environment: str | None = None,
    every_environment: bool = False,
) -> DesiredState:
    """Files -> desired state, or SyncerError listing every problem of every file.

    `environment` picks the application ids, variables and overrides of one environment of the
    project file; with `every_environment` (and none picked) the files are checked in each of
    them, and a problem found in only some says where. `sensitive` learns every value the files
    read from the environment before any problem is raised, so that no error can show one (an
    error may quote a name or a value)."""
    files, project_path = discover(paths, project_file)
    project, problems = load_project(project_path, environ, sensitive)
    only_project = all(os.path.basename(p) in PROJECT_FILE_NAMES for p in paths)
    if not files and not only_project:  # a commit that touches only syncer.yaml checks just it
        raise SyncerError("no integration files (*.yaml, *.yml) under " + ", ".join(paths), problems)
    load = functools.partial(
        _load_files, files, environ=environ, require_env=require_env, sensitive=sensitive
    )
    if problems:  # the project file is wrong: what its environments decide is not checked
        _, file_problems, missing = load(Project(path=project.path), None, known=False)
        raise _failure(problems + file_problems, files, project_path, missing)
    # an override that names no entry is a mistake only where every file of the tree was read
    # (a pre-commit hook or a matrix job reads some)
    whole = False
    if project.path and any(e.overrides for e in project.environments.values()):
        tree, _ = discover([os.path.dirname(project.path) or "."], project.path)
        whole = set(map(os.path.abspath, files)) >= set(map(os.path.abspath, tree))
    load = functools.partial(load, whole_tree=whole)
    chosen = project.environment(environment)
    if chosen is not None or not every_environment or not project.environments:
        state, problems, missing = load(project, chosen)
        if problems:
            raise _failure(problems, files, project_path, missing)
        return state
    found: dict[Problem, list[str]] = {}
    missing_anywhere: set[str] = set()
    checked = {}
    with gc_paused():
        # each file is read and parsed once; each environment checks its own copy of the data
        parsed = {path: read_yaml_file(path) for path in files}
        loaded = [(name, *load(project, each, parsed=parsed)) for name, each in project.environments.items()]
    for name, state, problems, missing in loaded:
        missing_anywhere.update(missing)
        checked[name] = len(state.integrations)
        for problem in problems:
            found.setdefault(problem, []).append(name)
    if found:
        every = len(project.environments)
        raise _failure(
            [p if len(names) == every else _in_environments(p, names) for p, names in found.items()],
            files,
            project_path,
            sorted(missing_anywhere),
        )
    return dataclasses.replace(state, environment=None, checked=checked)


def _in_environments(problem: Problem, names: Sequence[str]) -> Problem:
    if len(names) == 1 and repr(names[0]) in problem.message:
        return problem  # it says so already
    which = f"environment {names[0]}" if len(names) == 1 else "environments " + ", ".join(names)
    return Problem(problem.location, f"{problem.message} (in {which})", problem.where)


def _failure(
    problems: list[Problem], files: Sequence[str], project_path: str | None, missing: Sequence[str]
) -> SyncerError:
    # one mistake, one line: a schema's alternatives (anyOf) each report the same missing field
    problems = sorted(dict.fromkeys(problems), key=Problem.sort_key)
    bad_files = len({p.location.file for p in problems if p.location})
    read = len(files) + (project_path is not None)
    summary = f"{counted(len(problems), 'error')} in {bad_files} of {counted(read, 'file')}"
    if missing:
        summary += f"; unset environment variables: {', '.join(missing)}"
    return SyncerError(summary, problems)


def _load_files(
    files: Sequence[str],
    project: Project,
    environment: Environment | None,
    *,
    environ: Mapping[str, str],
    require_env: bool,
    sensitive: Callable[[Iterable[str]], None],
    known: bool = True,
    whole_tree: bool = False,
    parsed: Mapping[str, LoadedFile] | None = None,
) -> tuple[DesiredState, list[Problem], list[str]]:
    """Every file as one environment (or none) makes it: the state, its problems, unset variables.
    `known`: whether the project's environments are (else what they decide is not checked)."""
    defined = tuple(project.environments) if known else None
    results = []
    with gc_paused():
        for path in files:
            loaded = read_yaml_file(path) if parsed is None else copied(parsed[path])
            result = check_file(loaded, environ, require_env, environment, defined)
            result.loaded.release_positions()  # every location needed is resolved by now
            sensitive(result.env_values)
            results.append(result)
    items = [pair for r in results for pair in r.integrations]
    problems = [p for r in results for p in r.loaded.problems]
    problems.extend(_identity_problems(items))
    if environment is not None and whole_tree:
        problems += unused_overrides(environment, {used for r in results for used in r.applied.used})
    missing = sorted({name for r in results for name in r.missing_env})
    applications: dict[str, list[str]] = {}
    aliases: dict[str, str] = {}
    limited: dict[str, dict[str, tuple[str, ...]]] = {}
    for r in results:
        if r.application_id:
            applications.setdefault(r.application_id, []).append(r.loaded.path)
            limited.setdefault(r.application_id, {}).update(r.applied.limited)
            if r.applied.alias is not None:
                aliases[r.application_id] = r.applied.alias
    if environment is not None:  # policy written per alias applies to the id it stands for here
        policies = {
            environment.applications.get(key, key): policy for key, policy in project.applications.items()
        }
        project = dataclasses.replace(project, applications=policies)
    state = DesiredState(
        integrations=tuple(item for item, _ in items),
        files=tuple(files),
        applications={k: tuple(v) for k, v in applications.items()},
        project=project,
        environment=environment.name if environment else None,
        aliases=aliases,
        limited=limited,
    )
    return state, problems, missing
