"""Workflows, as losant-rest-js v1.30.0 publishes them: seeded records and the list's filters.

Only what `GET /applications/{applicationId}/flows` needs. A seeded workflow has no versions:
its own triggers are its default version's, which is what `triggerFilter` and `query` look at
("always filters against default flow version", docs/flows.md).

`query` (advancedFlowQuery.json) is a MongoDB-like filter; the emulator evaluates what the
schema allows: `$and`, `$or`, `$nor`, the fields it names, with a value (equality) or the
operators `$eq $ne $gt $lt $gte $lte $startsWith $endsWith $contains $in $nin` and `$ci`
(case-insensitive), and `triggers` / `nodes` matching any one element whose `type`, `key` and
`config` fields equal the ones given.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from jsonschema import Draft7Validator

from syncer.emulator.store import epoch_ms
from syncer.schema import losant_schema

FLOW_CLASSES = ("edge", "embedded", "cloud", "customNode", "experience")  # docs/flows.md, in its order
DEFAULT_FLOW_CLASS = "cloud"
# what a seed may give: the rest the server sets (ids, dates, authors, stats, versions)
SEEDABLE = frozenset(
    {"name", "description", "shortDescription", "enabled", "flowClass", "triggers", "nodes", "globals"}
)


def new_flow(app_id: str, flow_id: str, stamp: str, body: dict[str, Any]) -> dict[str, Any]:
    """The stored record for a seed body; ValueError unless it is one the read schema allows."""
    if not isinstance(body, dict):
        raise ValueError("a flow is an object: {name, flowClass?, triggers?, enabled?, description?}")
    unknown = sorted(set(body) - SEEDABLE)
    if unknown:
        raise ValueError(f"flow.{unknown[0]} is not seedable: give {', '.join(sorted(SEEDABLE))}")
    if "name" not in body:
        raise ValueError("flow.name is required")
    record: dict[str, Any] = {
        "id": flow_id,
        "flowId": flow_id,
        "applicationId": app_id,
        "creationDate": stamp,
        "lastUpdated": stamp,
        "enabled": True,  # as the published example shows
        "flowClass": DEFAULT_FLOW_CLASS,
        "triggers": [],
        "nodes": [],
        "globals": [],
        "stats": {"runCount": 0, "errorCount": 0},
        **copy.deepcopy(body),
    }
    error = next(iter(_flow_validator().iter_errors(record)), None)
    if error is not None:
        where = ".".join(["flow", *(str(p) for p in error.absolute_path)])
        raise ValueError(f"{where}: {error.message}")
    return record


def _flow_validator() -> Draft7Validator:
    return Draft7Validator(losant_schema("flow"))


def advanced_query_schema() -> dict[str, Any]:
    """advancedFlowQuery.json refers to itself as `#/definitions/advancedFlowQuery`, a definition
    it does not have: the intended recursion is given that name here."""
    schema = copy.deepcopy(losant_schema("advancedFlowQuery"))
    schema["definitions"] = {"advancedFlowQuery": {"$ref": "#"}}
    return schema


# -- triggerFilter ---------------------------------------------------------------------------------


def _element_matches(element: Any, wanted: dict[str, Any]) -> bool:
    """`wanted`'s type and key equal the element's, its config fields the element's config's."""
    if not isinstance(element, dict):
        return False
    for name in ("type", "key"):
        if name in wanted and element.get(name) != wanted[name]:
            return False
    config = element.get("config")
    has = config if isinstance(config, dict) else {}
    return all(has.get(k) == v for k, v in (wanted.get("config") or {}).items())


def trigger_filter_matches(flow: dict[str, Any], wanted: list[dict[str, Any]]) -> bool:
    """A flow whose (default version's) triggers include one of `wanted` ({type?, key?})."""
    return any(_element_matches(t, w) for t in flow.get("triggers", []) for w in wanted)


# -- query -----------------------------------------------------------------------------------------

_FIELDS = {"defaultVersion": "defaultVersionId"}  # query names that differ from the record's


def query_matches(flow: dict[str, Any], query: dict[str, Any]) -> bool:
    """Whether `flow` matches an advancedFlowQuery (already checked against its schema)."""
    for key, condition in query.items():
        if key in ("$and", "$or", "$nor"):
            results = [query_matches(flow, sub) for sub in condition]
            ok = all(results) if key == "$and" else any(results)
            if ok == (key == "$nor"):
                return False
        elif key in ("triggers", "nodes"):
            if not _elements_match(flow.get(key, []), condition):
                return False
        elif not _value_matches(flow.get(_FIELDS.get(key, key)), condition, key):
            return False
    return True


def empty_logical(query: Any, path: str = "query") -> str | None:
    """The first `$and`/`$or`/`$nor` with no item (MongoDB refuses them), as a path."""
    if not isinstance(query, dict):
        return None
    for key in ("$and", "$or", "$nor"):
        items = query.get(key)
        if isinstance(items, list):
            if not items:
                return f"{path}.{key}"
            for index, sub in enumerate(items):
                found = empty_logical(sub, f"{path}.{key}.{index}")
                if found:
                    return found
    return None


def _elements_match(elements: list[Any], condition: dict[str, Any]) -> bool:
    if "$ne" in condition:
        return not any(_element_matches(e, condition["$ne"]) for e in elements)
    wanted = condition.get("$eq", condition)
    return any(_element_matches(e, wanted) for e in elements)


_OPERATORS = (
    "$eq",
    "$ne",
    "$gt",
    "$lt",
    "$gte",
    "$lte",
    "$startsWith",
    "$endsWith",
    "$contains",
    "$in",
    "$nin",
)


def _value_matches(value: Any, condition: Any, field_name: str) -> bool:
    if not (isinstance(condition, dict) and any(k in condition for k in (*_OPERATORS, "$ci"))):
        return _equal(value, condition, False)
    ci = condition.get("$ci") is True
    for op, operand in condition.items():
        if op == "$ci":
            continue
        if op == "$eq" and not _equal(value, operand, ci):
            return False
        if op == "$ne" and _equal(value, operand, ci):
            return False
        if op == "$in" and not any(_equal(value, o, ci) for o in operand):
            return False
        if op == "$nin" and any(_equal(value, o, ci) for o in operand):
            return False
        if op in ("$gt", "$lt", "$gte", "$lte") and not _ordered(value, op, operand, field_name):
            return False
        if op in ("$startsWith", "$endsWith", "$contains") and not _text(value, op, operand, ci):
            return False
    return True


def _fold(value: Any, ci: bool) -> Any:
    return value.casefold() if ci and isinstance(value, str) else value


def _equal(value: Any, operand: Any, ci: bool) -> bool:
    """MongoDB equality: an array field matches when one of its elements does."""
    if isinstance(value, list):
        return any(_equal(v, operand, ci) for v in value) or value == operand
    if isinstance(value, bool) or isinstance(operand, bool):
        return value is operand  # True is not 1
    return bool(_fold(value, ci) == _fold(operand, ci))


_DATE_FIELDS = ("creationDate", "lastUpdated")


def _ordered(value: Any, op: str, operand: Any, field_name: str) -> bool:
    if field_name in _DATE_FIELDS and isinstance(operand, int | float) and not isinstance(operand, bool):
        value = epoch_ms(value) if isinstance(value, str) else value  # dates compare with ms too
    comparable = (isinstance(value, str) and isinstance(operand, str)) or (
        isinstance(value, int | float)
        and isinstance(operand, int | float)
        and not isinstance(value, bool)
        and not isinstance(operand, bool)
    )
    if not comparable:
        return False  # MongoDB compares values of one type only
    if op == "$gt":
        return bool(value > operand)
    if op == "$lt":
        return bool(value < operand)
    return bool(value >= operand) if op == "$gte" else bool(value <= operand)


def _text(value: Any, op: str, operand: str, ci: bool) -> bool:
    if not isinstance(value, str):
        return False
    value, operand = _fold(value, ci), _fold(operand, ci)
    if op == "$startsWith":
        return bool(value.startswith(operand))
    if op == "$endsWith":
        return bool(value.endswith(operand))
    return bool(operand in value)


# -- JSON objects in a query string ----------------------------------------------------------------

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
QS_ARRAY_LIMIT = 20  # the qs library's default: an index above it makes an object, not an array


def object_param(
    query: dict[str, str], name: str, *, json_ok: bool, brackets_ok: bool, limit: int | None
) -> Any:
    """The value of an object-valued query parameter, `_MISSING` when absent.

    The official clients send it two ways: losant-rest-js JSON-encodes a parameter typed
    `object` (`query`) and passes the others (`triggerFilter`, `auditLogFilter`) to qs, which
    writes bracket notation (`triggerFilter[0][key]=...`); the Python client writes bracket
    notation for all three. A JSON string is returned as the string: the caller parses it.
    """
    if name in query and query[name] != "":
        return query[name] if json_ok else _NotJson(query[name])
    if not brackets_ok:
        return _MISSING  # a server that does not read brackets ignores the parameter
    prefix = name + "["
    tree: dict[str, Any] = {}
    found = False
    for key, value in query.items():
        if not key.startswith(prefix):
            continue
        segments = _SEGMENT.findall(key[len(name) :])
        if "".join(f"[{s}]" for s in segments) != key[len(name) :]:
            continue  # not bracket notation after all
        found = True
        node = tree
        for index, segment in enumerate(segments):
            last = index == len(segments) - 1
            if segment == "":  # `a[]=x`: the next index
                segment = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[segment] = value
            else:
                child = node.setdefault(segment, {})
                if not isinstance(child, dict):
                    break  # `a=1&a[b]=2`: the first wins, as qs keeps it
                node = child
    return _arrays(tree, limit) if found else _MISSING


def _arrays(node: Any, limit: int | None) -> Any:
    """qs's rule: an object whose keys are all indices (none above the limit) is an array, its
    items in index order, gaps closed."""
    if not isinstance(node, dict):
        return node
    converted = {k: _arrays(v, limit) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        indices = sorted(converted, key=int)
        if limit is None or int(indices[-1]) <= limit:
            return [converted[i] for i in indices]
    return converted


class _NotJson(str):
    """A JSON string where the server reads only bracket notation: it stays a string."""


class _Missing:
    pass


_MISSING: Any = _Missing()


def missing(value: Any) -> bool:
    return value is _MISSING


def is_raw(value: Any) -> bool:
    """A JSON string still to be parsed (not one the server keeps as a plain string)."""
    return isinstance(value, str) and not isinstance(value, _NotJson)
