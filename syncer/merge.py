"""`syncer export --merge FILE`: the live integrations of an application written into a file the
team already keeps, in place, without losing what only the file knows.

What the file decides stays: each entry's identity (`name`, `id`, `previousNames`, `absent`),
entries Losant does not hold (not created yet, or deleted on purpose), every `${env:NAME}`
reference (CI secrets are named after them), secrets Losant does not show, keys syncer does not
export, comments and layout (ruamel.yaml's round trip). What Losant holds is taken: the other
fields of each entry it matches, and the integrations no entry declares, added at the end.
"""

from __future__ import annotations

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

_ENV_REFERENCE = re.compile(r"(?<!\$)\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


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
    desired: DesiredState,
    application_id: str,
    items: Sequence[Mapping[str, Any]],
    check: Callable[[str], None],
) -> Merged:
    """The merged text of `path` (whose entries `desired` holds, validated), checked by `check`
    (which loads a candidate file) before it replaces the file."""
    from ruamel.yaml import YAML  # only this command rewrites YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    entries = [e for e in desired.integrations if os.path.samefile(e.location.file, path)]
    apps = set(desired.applications)
    if apps and apps != {application_id}:
        raise SyncerError(
            f"{path}: the file is for application {', '.join(sorted(apps))}, not {application_id}; "
            "merge each application into its own file"
        )
    refuse_twins(application_id, items)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a line the user wrote
    _, sequence, offset = load_yaml_guess_indent(text)
    yaml.indent(mapping=max(2, (sequence or 2) - (offset or 0)), sequence=sequence or 2, offset=offset or 0)
    document = yaml.load(text)
    listed = document.get("integrations")
    if listed is None:
        listed = document["integrations"] = []

    taken = set(_ENV_REFERENCE.findall(text))  # no new placeholder may reuse a name in the file
    variables: list[tuple[str, str]] = []
    claimed = _match(entries, items)
    updated = kept = 0
    for entry in entries:
        live = claimed.get(id(entry))
        if live is None or entry.absent:
            kept += 1
            continue
        node = listed[_index(entry)]
        fresh = export_entry(live, taken, variables)
        _refresh(node, fresh)
        updated += 1
    matched = {id(item) for item in claimed.values()}
    added = [item for item in items if id(item) not in matched]
    for item in sorted(added, key=lambda i: str(i.get("name"))):
        listed.append(export_entry(item, taken, variables))
    merged = _dump(yaml, document)
    used = set(_ENV_REFERENCE.findall(merged))
    new_variables = tuple((v, where) for v, where in variables if v in used)
    if printable(merged) != merged.replace("\n", "\\n"):
        yaml.allow_unicode = False  # controls or bidi overrides from Losant: escaped, so review sees them
        merged = _dump(yaml, document)
    write_file(path, merged, "the merge", check)  # an invalid result leaves the file as it was
    return Merged(path, merged, updated, len(added), kept, new_variables)


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
    claimed: dict[int, Mapping[str, Any]] = {}
    free = list(items)

    def take(entry: DesiredIntegration, found: Callable[[Mapping[str, Any]], bool]) -> None:
        for item in free:
            if found(item):
                claimed[id(entry)] = item
                free.remove(item)
                return

    pinned = [e for e in entries if e.pinned_id]
    by_name = [e for e in entries if not e.pinned_id]
    for entry in pinned:
        take(entry, lambda item: str(item.get("id", "")).lower() == str(entry.pinned_id).lower())  # noqa: B023
    for entry in by_name:
        take(entry, lambda item: item.get("name") == entry.name)  # noqa: B023
    for entry in by_name:
        if id(entry) not in claimed:
            take(entry, lambda item: item.get("name") in entry.previous_names)  # noqa: B023
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
