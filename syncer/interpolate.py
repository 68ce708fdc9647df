"""`${env:NAME}` and `${env:NAME:-default}` in string values; `$${` writes a literal `${`.

Substituted text is never scanned again, so an environment value cannot inject a reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from syncer.secrets import Path

_REFERENCE = re.compile(r"\$\$\{|\$\{(?P<body>[^}]*)\}|\$\{")
_ENV = re.compile(r"env:(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>.*))?", re.DOTALL)


@dataclass
class Interpolation:
    """What happened while resolving one document."""

    missing: list[tuple[Path, str]] = field(default_factory=list)  # (where, variable)
    malformed: list[tuple[Path, str]] = field(default_factory=list)  # (where, message)
    references: dict[Path, list[str]] = field(default_factory=dict)  # where -> variables used


def _resolve(text: str, path: Path, environ: Mapping[str, str], out: Interpolation) -> str:
    def replace(match: re.Match[str]) -> str:
        matched = match.group(0)
        if matched == "$${":
            return "${"
        body = match.group("body")
        env = _ENV.fullmatch(body) if body is not None else None
        if env is None:
            shown = matched if body is not None else text[match.start() :][:40]
            out.malformed.append(
                (
                    path,
                    f"cannot read {shown!r}: write ${{env:NAME}} or ${{env:NAME:-default}}, "
                    "or $${ for a literal ${",
                )
            )
            return matched
        name = env.group("name")
        out.references.setdefault(path, []).append(name)
        value = environ.get(name)
        if value is not None:
            return value
        if env.group("default") is not None:
            return env.group("default")
        out.missing.append((path, name))
        return ""

    return _REFERENCE.sub(replace, text)


def interpolate(data: Any, environ: Mapping[str, str]) -> Interpolation:
    """Resolve every reference in `data` in place (it is freshly loaded and ours to change)."""
    out = Interpolation()
    seen: set[int] = set()  # aliased containers are shared objects: resolve them once
    stack: list[tuple[Any, Path]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str):
                    if "${" in value:
                        node[key] = _resolve(value, (*path, key), environ, out)
                elif isinstance(value, (dict, list)):
                    stack.append((value, (*path, key)))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, str):
                    if "${" in value:
                        node[index] = _resolve(value, (*path, index), environ, out)
                elif isinstance(value, (dict, list)):
                    stack.append((value, (*path, index)))
    return out
