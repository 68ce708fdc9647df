"""`${env:NAME}`, `${var:NAME}` (an environment's variable, see syncer.environments) and either
with `:-default`, in string values; `$${` writes a literal `${`. A value that is only one
`${var:NAME}` takes the variable's own type (`port: ${var:BROKER_PORT}` is a number).

Substituted text is never scanned again, so an environment value cannot inject a reference. A
default is plain text up to the first `}`: it cannot hold another reference (nor `${` at all).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from syncer.load import load_yaml, pairs_in_order
from syncer.secrets import Path

_REFERENCE = re.compile(r"\$\$\{|\$\{(?P<body>[^}]*)\}|\$\{")
VARIABLE_NAME = r"[A-Za-z_][A-Za-z0-9_]*"  # of ${env:NAME} and ${var:NAME} alike
_NAME = re.compile(VARIABLE_NAME)
_HOW = "write ${env:NAME} or ${var:NAME} (either with :-default), or $${ for a literal ${"
_WHOLE_VARIABLE = re.compile(rf"\$\{{var:(?P<name>{VARIABLE_NAME})(?::-(?P<default>[^}}$]*))?\}}")


@dataclass(frozen=True)
class Malformed:
    """A reference syncer cannot read. `problem` never quotes the value; `reference` does (with
    any default elided) and is shown only outside secret fields."""

    path: Path
    offset: int  # 1-based character of the `${` in the value
    problem: str
    reference: str

    def message(self, secret: bool) -> str:
        what = "the reference" if secret else repr(self.reference)
        return f"cannot read {what} at character {self.offset}: {self.problem}; {_HOW}"


@dataclass
class Interpolation:
    """What happened while resolving one document."""

    missing: list[tuple[Path, str]] = field(default_factory=list)  # (where, variable)
    malformed: list[Malformed] = field(default_factory=list)
    references: dict[Path, list[str]] = field(default_factory=dict)  # where -> env variables used
    variables: dict[Path, list[str]] = field(default_factory=dict)  # where -> ${var:} names used
    # ${var:NAME} with no environment chosen, or not defined in the one chosen (and no default)
    undefined: list[tuple[Path, str]] = field(default_factory=list)


def _problem(body: str) -> str:
    """What is wrong with the text between `${` and `}`; empty for a readable env reference."""
    if "${" in body:
        return "references cannot be nested (a default is plain text)"
    prefix, _, rest = body.partition(":")
    if prefix not in ("env", "var"):
        if prefix.lower() in ("env", "var"):
            return f"write '{prefix.lower()}:' in lower case"
        return "it does not start with 'env:' or 'var:'" if body else "it names no variable"
    name = rest.partition(":-")[0]
    if not name:
        return "it names no variable"
    if not _NAME.fullmatch(name):
        return "a variable name is letters, digits and _, not starting with a digit"
    return ""


def _shown(inner: str, closed: bool) -> str:
    """The reference as written, its default elided (a default may be a secret), at most 40 characters."""
    head, sep, _ = inner.partition(":-")
    text = "${" + head + (":-…" if sep else "") + ("}" if closed else "")
    return text if len(text) <= 40 else text[:39] + "…"


def _resolve(
    text: str, path: Path, environ: Mapping[str, str], variables: Mapping[str, Any], out: Interpolation
) -> str:
    def replace(match: re.Match[str]) -> str:
        matched = match.group(0)
        if matched == "$${":
            return "${"
        body = match.group("body")
        if body is None:
            shown = _shown(text[match.end() :], closed=False)
            out.malformed.append(Malformed(path, match.start() + 1, "it is never closed with '}'", shown))
            return matched
        problem = _problem(body)
        if problem:
            out.malformed.append(Malformed(path, match.start() + 1, problem, _shown(body, closed=True)))
            return matched
        name, sep, default = body[4:].partition(":-")
        if body.startswith("var:"):
            used, unresolved = out.variables, out.undefined
            value = _text(variables[name]) if name in variables else None
        else:
            used, unresolved = out.references, out.missing
            value = environ.get(name)
        used.setdefault(path, []).append(name)
        if value is not None:
            return value
        if sep:
            return default
        unresolved.append((path, name))
        return ""

    return _REFERENCE.sub(replace, text)


def _typed(default: str) -> Any:
    """The default of a whole `${var:NAME:-default}`, read as a file's own values are read (`8883`
    a number, `true` a boolean; what the loader refuses, such as `.nan`, stays text), so it has
    the type the variable would have had."""
    loaded = load_yaml("", default.encode())
    value = loaded.data
    if loaded.problems or not isinstance(value, (str, int, float, bool)):
        return default
    return value


def _text(value: Any) -> str:
    """A variable inside a longer string, written as YAML would read it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _aliases(data: Any, path: Path, paths_of: Mapping[int, list[Path]]) -> list[Path]:
    """The other paths at which the value at `path` sits, through aliased containers above it."""
    out: list[Path] = []
    node = data
    for depth, step in enumerate(path):
        out += [(*alt, *path[depth:]) for alt in paths_of.get(id(node), ()) if alt != path[:depth]]
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    return out


def _templated(data: Any, paths_of: dict[int, list[Path]]) -> Iterator[tuple[Any, Any, Path]]:
    """Every string holding `${` in `data`: (its container, its key or index, its path), in
    document order, as the loader finds them (LoadedFile.templated)."""
    for node, key, value, path in pairs_in_order(data, paths_of):
        if isinstance(value, str) and "${" in value:
            yield node, key, path


def interpolate(
    data: Any,
    environ: Mapping[str, str],
    variables: Mapping[str, Any] | None = None,
    templated: Iterable[tuple[Any, Any, Path]] | None = None,
) -> Interpolation:
    """Resolve every reference in `data` in place (it is freshly loaded and ours to change).
    `variables` are the chosen environment's; with none chosen, every `${var:}` is undefined.
    `templated`: where the strings with `${` sit, if the loader found them (LoadedFile); else
    `data` is walked."""
    out = Interpolation()
    variables = variables or {}
    paths_of: dict[int, list[Path]] = {}
    for node, key, path in _templated(data, paths_of) if templated is None else templated:
        value = node[key]
        whole = _WHOLE_VARIABLE.fullmatch(value)
        if whole and (whole["name"] in variables or whole["default"] is not None):
            out.variables.setdefault(path, []).append(whole["name"])
            name = whole["name"]
            node[key] = variables[name] if name in variables else _typed(whole["default"])
        else:
            node[key] = _resolve(value, path, environ, variables, out)
    if all(len(paths) == 1 for paths in paths_of.values()):
        return out  # no container is shared: every value sits at one path
    # a value under an alias is resolved once, but sits at every path the alias reaches
    for found in (out.missing, out.undefined):
        found += [(alt, name) for path, name in found for alt in _aliases(data, path, paths_of)]
    for used in (out.references, out.variables):
        for path, names in list(used.items()):
            for alt in _aliases(data, path, paths_of):
                used.setdefault(alt, list(names))
    return out
