"""`syncer export --merge FILE`: the live integrations of an application written into a file the
team already keeps, in place, without losing what only the file knows.

What the file decides stays: each entry's identity (`name`, `id`, `previousNames`, `absent`),
entries Losant does not hold (not created yet, or deleted on purpose), every `${env:NAME}`
reference (CI secrets are named after them), secrets Losant does not show, keys syncer does not
export, comments and layout (ruamel.yaml's round trip). What Losant holds is taken: the other
fields of each entry it matches, and the integrations no entry declares, added at the end.
"""

from __future__ import annotations

import copy
import io
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncer.desired import DesiredIntegration, DesiredState
from syncer.errors import SyncerError, counted
from syncer.export import MANAGED, export_entry, refuse_twins
from syncer.files import write_file
from syncer.losant import CONFIG_FIELDS
from syncer.render.escape import printable
from syncer.secrets import is_secret_path

_ENV_REFERENCE = re.compile(r"(?<!\$)\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}")


@dataclass(frozen=True)
class Merged:
    """What a merge did to the file."""

    path: str
    text: str
    updated: int  # entries whose fields were refreshed from Losant (changed or not)
    added: int  # live integrations no entry declared, appended
    kept: int  # entries left as they are: absent, or not in Losant
    variables: tuple[tuple[str, str], ...]  # new ${env:...} placeholders: (variable, where it goes)


def merge_into_file(
    path: str,
    tree: DesiredState,
    application_id: str,
    items: Sequence[Mapping[str, Any]],
    check: Callable[[str], None],
) -> Merged:
    """The live integrations of `application_id` merged into the file at `path`, one of the files
    of `tree` (validated): entries of the application in its other files keep what they match
    (nothing is added twice). The result is checked by `check` (which loads a candidate file)
    before it replaces the file."""
    from ruamel.yaml import YAML  # only this command rewrites YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    here = [e for e in tree.integrations if _same_file(e.location.file, path)]
    apps = {app for app, files in tree.applications.items() if any(_same_file(f, path) for f in files)}
    if apps and apps != {application_id}:
        raise SyncerError(
            f"{path}: the file is for application {', '.join(sorted(apps))}, not {application_id}; "
            "merge each application into its own file"
        )
    refuse_twins(application_id, items)
    with open(path, encoding="utf-8", newline="") as handle:
        raw = handle.read()
    bom, text = ("\ufeff", raw[1:]) if raw.startswith("\ufeff") else ("", raw)
    newline = "\r\n" if "\r\n" in text else "\n"
    text = text.replace("\r\n", "\n")
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a line the user wrote
    _, sequence, offset = load_yaml_guess_indent(text)
    yaml.indent(mapping=max(2, (sequence or 2) - (offset or 0)), sequence=sequence or 2, offset=offset or 0)
    document = yaml.load(text)
    if not isinstance(document, dict) or "resources" in document:
        raise SyncerError(
            f"{path}: --merge updates files in syncer's own format (application, integrations); "
            "export this application with --out instead"
        )
    listed = document.get("integrations")
    if listed is None:
        listed = document["integrations"] = []
    _unalias(listed)  # an anchor shared by two entries must not take one entry's values for both

    taken = set(_ENV_REFERENCE.findall(text)) | variables_in(tree.files)  # no new name reused
    variables: list[tuple[str, str]] = []
    ours = [e for e in tree.integrations if e.application_id == application_id]
    claimed = _match(ours, items)
    updated = kept = 0
    for entry in here:
        live = claimed.get(id(entry))
        if live is None or entry.absent:
            kept += 1
            continue
        _refresh(listed[_index(entry)], export_entry(live, taken, variables))
        updated += 1
    matched = {id(item) for item in claimed.values()}
    added = [item for item in items if id(item) not in matched]
    for item in sorted(added, key=lambda i: str(i.get("name"))):
        listed.append(export_entry(item, taken, variables))
    merged = _dump(yaml, document)
    if printable(merged) != merged.replace("\n", "\\n"):
        yaml.allow_unicode = False  # controls or bidi overrides from Losant: escaped, so review sees them
        merged = _dump(yaml, document)
    used = set(_ENV_REFERENCE.findall(merged))
    new_variables = tuple((v, where) for v, where in variables if v in used)
    # an invalid result leaves the file as it was; a symlink is followed (the file is the user's)
    write_file(os.path.realpath(path), bom + merged.replace("\n", newline), "the merge", check)
    return Merged(path, merged, updated, len(added), kept, new_variables)


def variables_in(files: Sequence[str]) -> set[str]:
    """Every variable the files reference: a new placeholder must not reuse one (two
    applications' brokers sharing BROKER_MQTT_PASSWORD would cross their secrets)."""
    names: set[str] = set()
    for file in files:
        try:
            with open(file, encoding="utf-8", errors="replace") as handle:
                names.update(_ENV_REFERENCE.findall(handle.read()))
        except OSError:
            continue  # a file that cannot be read holds no name we could clash with
    return names


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _unalias(node: Any, seen: set[int] | None = None) -> Any:
    """`node` with every container that appears twice (a YAML alias) replaced by a copy."""
    seen = set() if seen is None else seen
    if isinstance(node, dict | list):
        pairs = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for key, value in pairs:
            if isinstance(value, dict | list):
                if id(value) in seen:
                    value = node[key] = copy.deepcopy(value)
                seen.add(id(value))
                _unalias(value, seen)
    return node


def _dump(yaml: Any, document: Any) -> str:
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _index(entry: DesiredIntegration) -> int:
    found = re.fullmatch(r"integrations\[(\d+)\]", entry.where)
    if found is None:  # pragma: no cover - the loader names every entry this way
        raise AssertionError(f"an entry without its index: {entry.where!r}")
    return int(found.group(1))


def _match(
    entries: Sequence[DesiredIntegration], items: Sequence[Mapping[str, Any]]
) -> dict[int, Mapping[str, Any]]:
    """Each entry's live integration, as the planner finds it: by pinned id, then by name, then
    by a previous name; each live integration claimed once."""
    by_id = {str(item.get("id", "")).lower(): item for item in items}
    by_name = {str(item.get("name")): item for item in items}  # twins are refused before
    claimed: dict[int, Mapping[str, Any]] = {}
    taken: set[int] = set()

    def take(entry: DesiredIntegration, item: Mapping[str, Any] | None) -> bool:
        if item is None or id(item) in taken:
            return False
        claimed[id(entry)] = item
        taken.add(id(item))
        return True

    for entry in entries:
        if entry.pinned_id:
            take(entry, by_id.get(entry.pinned_id.lower()))
    unpinned = [e for e in entries if not e.pinned_id]
    for entry in unpinned:
        take(entry, by_name.get(entry.name))
    for entry in unpinned:
        if id(entry) not in claimed:
            any(take(entry, by_name.get(old)) for old in entry.previous_names)
    return claimed


def _refresh(node: Any, fresh: Mapping[str, Any]) -> None:
    """The exported fields of one entry set from Losant, in place (comments stay)."""
    config_keys = set(CONFIG_FIELDS.values())
    for key in [*MANAGED, *config_keys]:
        if key == "name":
            continue  # identity is the file's
        if key in fresh:
            node[key] = _merged(node.get(key), fresh[key], (key,))
        elif key in node and key != "integrationType":
            del node[key]  # Losant no longer has it (a cleared credentialName, another type's config)


def _merged(old: Any, new: Any, path: tuple[str | int, ...]) -> Any:
    """`new` (from Losant), keeping what the file knows better: its `${env:...}` references,
    and its secrets wherever Losant only had a placeholder for them."""
    if isinstance(old, str) and _ENV_REFERENCE.search(old):
        return old  # the variable's value is not ours to see; its name is the team's
    if is_secret_path(path) and old is not None:
        return old  # Losant hides or echoes secrets: the file's reference stays
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old):
            if key not in new and not is_secret_path((*path, key)):
                del old[key]
        for key, value in new.items():
            old[key] = _merged(old.get(key), value, (*path, key))
        return old
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, value in enumerate(new):
            old[index] = _merged(old[index], value, (*path, index))
        return old
    return new


def describe(merged: Merged) -> str:
    """One line: what the merge did."""
    return (
        f"Merged into {merged.path}: {counted(merged.updated, 'integration')} refreshed from Losant, "
        f"{merged.added} added, {merged.kept} kept as written (absent, or not in Losant)"
    )
