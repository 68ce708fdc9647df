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
    from jsonschema import Draft202012Validator

    return Draft202012Validator(SCHEMAS[name]())


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
