"""Schema validation: jsonschema-rs says quickly whether a document is valid; jsonschema, only for a
document that is not, says what is wrong (its errors are what syncer's messages are made from).

jsonschema-rs validates 10,000 integrations in ~12 ms, jsonschema in ~0.8 s. A document the fast
validator accepts is never given to jsonschema, so the fast validator must never accept what
jsonschema rejects: it is given only documents of plain JSON values (`plain`, from the loader:
it reads a YAML `!!omap` tuple as an array, where jsonschema sees no array), and any failure of it
(a value it cannot read) means "ask jsonschema". docs/decisions.md says what was checked.
Without jsonschema-rs (a platform with no wheel), every document goes to jsonschema: slower, the
same answers, nothing said.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from syncer.schema import file_schema, project_schema

SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {"file": file_schema, "project": project_schema}
# tests turn it off to show that both paths print the same, byte for byte
FAST_PATH = True


@cache
def _fast(name: str) -> Callable[[Any], bool] | None:
    try:
        import jsonschema_rs

        # formats checked (stricter is safe: a rejected document only goes to jsonschema), though
        # syncer's schemas name none today
        return jsonschema_rs.Draft202012Validator(SCHEMAS[name](), validate_formats=True).is_valid
    except Exception:  # not installed (ImportError), or a release whose API moved: the slow path
        return None


@cache
def _slow(name: str) -> Any:
    from jsonschema import Draft202012Validator, validators

    # JSON Schema patterns are ECMA-262 regexes, where `$` ends the string; Python's `$` also
    # matches before a final newline, which would let "<24 hex digits>\n" pass as an id (and
    # jsonschema-rs, which reads them as ECMA does, would disagree)
    ecma = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})  # type: ignore[no-untyped-call]
    return ecma(SCHEMAS[name]())


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    """jsonschema's `pattern` keyword (the same error), with `$` read as ECMA-262 reads it."""
    from jsonschema import ValidationError

    if validator.is_type(instance, "string") and not _as_python(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _as_python(pattern: str) -> re.Pattern[str]:
    """`pattern` with every `$` anchor (not escaped, not in a class) as `\\Z`: the end of the string."""
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            char = r"\Z"
        out.append(char)
    return re.compile("".join(out))


def _fast_accepts(name: str, document: Any) -> bool:
    fast = _fast(name) if FAST_PATH else None
    if fast is None:
        return False
    try:
        return fast(document)
    except Exception:  # a value it cannot read (one the loader refused): jsonschema reports it
        return False


def schema_errors(name: str, document: Any, *, plain: bool = True) -> list[Any]:
    """jsonschema's errors for `document` against the schema `name` ("file" or "project"); []
    when it is valid. `plain`: every value in it is one JSON has (see the module docstring)."""
    if plain and _fast_accepts(name, document):
        return []
    return list(_slow(name).iter_errors(document))
