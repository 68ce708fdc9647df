"""Export: the live integrations of an application as a file of syncer's own format.

Secret values never reach the file: each is replaced by an `${env:…}` placeholder whose name
says where it goes, and the caller prints the names to set. Every other string is written so it
reads back literally (`$${` for a live `${`). Server bookkeeping is left out, and
so are the config defaults the server fills in, so the file reads like one written by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from syncer.compare import is_hidden, without_defaults
from syncer.environments import Environment
from syncer.errors import SyncerError, document_path
from syncer.files import write_file
from syncer.losant import CONFIG_FIELDS, HEADER_SECRET
from syncer.render.escape import printable
from syncer.schema import losant_schema
from syncer.secrets import get_path, is_secret_path, secret_paths

MANAGED = ("name", "integrationType", "enabled", "credentialName", "topics")


@dataclass(frozen=True)
class Export:
    """An exported file: its text, the variables its secrets read, and how many integrations."""

    application_id: str
    text: str
    variables: tuple[tuple[str, str], ...]  # (variable, where it goes)
    count: int
    alias: str | None = None  # the application's alias in the environment exported from

    @property
    def file_name(self) -> str:
        return export_file_name(self.application_id, self.alias)


def _variable(name: str, path: Sequence[str | int], header_key: str | None, taken: set[str]) -> str:
    words = [name, *(str(p) for p in path if not isinstance(p, int))]
    if header_key:
        words[-2:] = [f"header {header_key}"]
    words = [re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", w.removesuffix("Config")) for w in words]
    base = re.sub(r"[^A-Z0-9]+", "_", " ".join(words).upper()).strip("_") or "SECRET"
    if base[0].isdigit():
        base = f"LOSANT_{base}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _literal(value: Any) -> Any:
    """A copy of `value` with every `${` in its strings written `$${`, so that the file reads back
    as exactly the live text: a live `${env:LOSANT_API_TOKEN}` must stay text, not pull in the
    token. Keys are left as they are: references are only read in values."""
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, list):
        return [_literal(v) for v in value]
    if isinstance(value, dict):
        return {k: _literal(v) for k, v in value.items()}
    return value


def _required_secrets(config_key: str, config: Mapping[str, Any]) -> list[str]:
    """Secret fields the config must have although the API left them out (it hides secrets).

    From Losant's Post schema: the config's `required` list, or for a `oneOf` (Azure) the
    branch the fields it did return point to.
    """
    schema = losant_schema("integrationPost")["properties"][config_key]
    branches = [b.get("required", []) for b in schema.get("oneOf", [])] or [schema.get("required", [])]
    shown = {k for k in config if not is_secret_path((config_key, k))}
    fitting = [b for b in branches if {f for f in b if not is_secret_path((config_key, f))} <= shown]
    needed = fitting[0] if len(fitting) == 1 else []
    return [f for f in needed if is_secret_path((config_key, f)) and f not in config]


def export_entry(
    item: Mapping[str, Any], taken: set[str], variables: list[tuple[str, str]]
) -> dict[str, Any]:
    """One live integration as a file entry: secrets replaced by new `${env:...}` placeholders
    (named in `variables`, none of them in `taken`)."""
    entry = {k: item[k] for k in MANAGED if k in item}
    config_key = CONFIG_FIELDS.get(str(item.get("integrationType")))
    hidden: set[tuple[str | int, ...]] = set()
    if config_key and isinstance(item.get(config_key), dict):
        config = without_defaults(config_key, item[config_key])
        for field in _required_secrets(config_key, config):
            config[field] = ""  # the API hid it: a placeholder all the same, so the file validates
            hidden.add((config_key, field))
        if config_key == HEADER_SECRET[0] and isinstance(config.get(HEADER_SECRET[1]), list):
            headers = config[HEADER_SECRET[1]] = [
                dict(h) if isinstance(h, dict) else h for h in config[HEADER_SECRET[1]]
            ]
            for index, header in enumerate(headers):
                if isinstance(header, dict) and HEADER_SECRET[2] not in header:  # required by the schema
                    header[HEADER_SECRET[2]] = ""
                    hidden.add((config_key, HEADER_SECRET[1], index, HEADER_SECRET[2]))
        entry[config_key] = config
    entry = {k: _literal(v) for k, v in entry.items()}  # a copy, ours to change
    for path in secret_paths(entry):
        parent = get_path(entry, path[:-1])
        if is_hidden(parent[path[-1]]):
            hidden.add(path)
        header_key = parent.get("headerKey") if path[-1] == "headerValue" else None
        var = _variable(str(item.get("name")), path, header_key, taken)
        parent[path[-1]] = f"${{env:{var}}}"
        note = " (Losant does not show it: set the value it should have)" if path in hidden else ""
        variables.append((var, f"{item.get('name')}: {document_path(path)}{note}"))
    return entry


def with_variables(entry: dict[str, Any], variables: Mapping[str, Any]) -> None:
    """Each text value that is exactly one environment variable's (and no other's) becomes
    `${var:NAME}`, in place: not the identity (name, type), not a secret. Numbers and booleans
    stay as they are: a port of 8883 equals a variable of 8883 by chance too often."""
    by_value: dict[str, list[str]] = {}
    for name, value in variables.items():
        if isinstance(value, str) and value:
            by_value.setdefault(value.replace("${", "$${"), []).append(name)  # as _literal wrote it

    def visit(node: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(node, dict):
            return {k: visit(v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [visit(v, (*path, i)) for i, v in enumerate(node)]
        names = by_value.get(node, []) if isinstance(node, str) else []
        return f"${{var:{names[0]}}}" if len(names) == 1 and not is_secret_path(path) else node

    for key in list(entry):
        if key not in ("name", "integrationType"):
            entry[key] = visit(entry[key], (key,))


def export_file_name(application_id: str, alias: str | None) -> str:
    """The file an export writes: named by the alias when it has one, else by the id."""
    return f"{alias or application_id}.yaml"


def _leave_out(entry: dict[str, Any], path: Sequence[str | int]) -> None:
    parent: Any = entry
    for step in path[:-1]:
        parent = parent.get(step) if isinstance(parent, dict) else None
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


def refuse_twins(application_id: str, items: Sequence[Mapping[str, Any]]) -> None:
    """A file names each integration once: live twins (two integrations, one name) are refused."""
    names: dict[str, list[str]] = {}
    for item in items:
        names.setdefault(str(item.get("name")), []).append(str(item.get("id")))
    twins = {n: ids for n, ids in names.items() if len(ids) > 1}
    if twins:
        name, ids = next(iter(twins.items()))
        raise SyncerError(
            f"application {application_id} has {len(ids)} live integrations named {name!r} "
            f"(ids {', '.join(ids)}); names must be unique in the files: rename one in Losant, "
            "then export again"
        )


def export_application(
    application_id: str,
    items: Sequence[Mapping[str, Any]],
    *,
    schema_ref: str,
    taken: Iterable[str] = (),
    environment: Environment | None = None,
) -> Export:
    """Live integrations -> the text of a syncer file (sorted by name); refuses twins. No new
    variable name is one of `taken` (those the tree it goes into uses already). From an
    `environment`: the application named by its alias, and its variables where they fit."""
    refuse_twins(application_id, items)
    taken = set(taken)
    variables: list[tuple[str, str]] = []
    entries = [
        export_entry(item, taken, variables) for item in sorted(items, key=lambda i: str(i.get("name")))
    ]
    alias = None
    if environment is not None:
        alias = environment.alias_of(application_id)
        for entry in entries:
            with_variables(entry, environment.variables)
            override = environment.overrides.get((alias or "", entry["name"]))
            for path in override.set_paths() if override else ():
                _leave_out(entry, path)  # the environment's own value: the file keeps the base one
    document = {"application": alias or application_id, "integrations": entries}
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    if printable(body) != body.replace("\n", "\\n"):
        # a control, a line separator or a bidirectional override in a live value: written as
        # \uXXXX escapes, so that the file reads in review as it is
        body = yaml.safe_dump(document, sort_keys=False, allow_unicode=False, width=100)
    head = f"# yaml-language-server: $schema={schema_ref}\n# Exported from Losant by `syncer export`.\n"
    if variables:
        head += "# Secrets are read from the environment: set the variables named below.\n"
    return Export(application_id, head + body, tuple(variables), len(entries), alias)


def variables_text(variables: Sequence[tuple[str, str]]) -> str:
    """What the user must set, after an export: each variable and where it goes."""
    lines = ["Set these environment variables to the secret values (export never writes a secret):"]
    lines += [printable(f"  {variable}  ({where})") for variable, where in variables]
    return "".join(line + "\n" for line in lines)


def refuse_overwrite(file_name: str, out_dir: str) -> None:
    """SyncerError when an export to `out_dir` would replace a file (export never overwrites work)."""
    import os

    target = os.path.join(out_dir, file_name)
    if os.path.lexists(target):
        raise SyncerError(
            f"{target} exists: export never overwrites work; pass --force to replace it, "
            f"or --merge {target} to update its entries in place"
        )


def write_export(result: Export, out_dir: str) -> str:
    """DIR/<application>.yaml and DIR/syncer.schema.json; returns the file written. A file
    system error is one line naming the path."""
    import json
    import os

    from syncer.schema import editor_schema

    target = os.path.join(out_dir, result.file_name)
    files = {
        target: result.text,
        os.path.join(out_dir, "syncer.schema.json"): json.dumps(editor_schema(), indent=2) + "\n",
    }
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        where = exc.filename or out_dir
        raise SyncerError(f"{where}: cannot write the export ({exc.strerror}); choose another --out") from exc
    for path, text in files.items():
        write_file(path, text, "the export", hint="; choose another --out")
    return target
