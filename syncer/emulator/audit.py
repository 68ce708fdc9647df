"""An organisation's audit log, as losant-rest-js v1.30.0 publishes it (auditLog.json,
auditLogFilter.json, docs/auditLogs.md).

The emulator records every integration write it performs through the API (POST, PATCH, DELETE;
not seeding) once the token is known and allowed and the application exists, with the token's
actor, the request as it came (its body too: it may hold secrets, and the emulator keeps it as
the real API would) and the answer. An application owned by a user belongs to no organisation:
its writes are in no organisation's log.
"""

from __future__ import annotations

import hashlib
from typing import Any

ACTOR_TYPES = ("Application", "Device", "Flow", "User", "ApiToken")  # auditLog.json's actorType
# query parameters that say how to answer, not what to do: left out of requestQueryParams
_FRAMEWORK = ("_actions", "_links", "_embedded", "access_token", "jwt")


def actor_id(token: str) -> str:
    """A stable id for a token's actor that does not give the token away."""
    return hashlib.sha256(b"losant-emulator actor " + token.encode()).hexdigest()[:24]


def entry(
    *,
    entry_id: str,
    stamp: str,
    org_id: str,
    application: tuple[str, str],
    integration: tuple[str | None, str | None],
    actor: tuple[str, str, str],
    resource: str,
    action: str,
    path_params: dict[str, str],
    query: dict[str, str],
    body: Any,
    status: int,
    answer: Any,
) -> dict[str, Any]:
    """One audit log entry, every field of auditLog.json that applies to an integration write."""
    actor_name, actor_type, actor_ident = actor
    record: dict[str, Any] = {
        "id": entry_id,
        "auditLogId": entry_id,
        "creationDate": stamp,
        "orgId": org_id,
        "primaryTargetId": application[0],
        "primaryTargetType": "Application",
        "primaryTargetName": application[1],
        **({"secondaryTargetId": integration[0]} if integration[0] is not None else {}),
        "secondaryTargetType": "Integration",
        **({"secondaryTargetName": integration[1]} if integration[1] is not None else {}),
        "actorId": actor_ident,
        "actorType": actor_type,
        "actorName": actor_name,
        "requestResource": resource,
        "requestAction": action,
        "requestQueryParams": {k: v for k, v in query.items() if k not in _FRAMEWORK},
        "requestBody": body if isinstance(body, dict) else {},
        "requestPathParams": path_params,
        "responseBody": _bare(answer) if isinstance(answer, dict) else {},
        "responseStatus": status,
    }
    return record


def _bare(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer without bravado's `_type` and `_links`, which it adds when serialising."""
    return {k: v for k, v in answer.items() if k not in ("_type", "_links")}


def _target_matches(record: dict[str, Any], fields: tuple[str, str, str], option: dict[str, Any]) -> bool:
    for name, field_name in zip(("id", "type", "name"), fields, strict=True):
        if name not in option:
            continue
        wanted = option[name].lower() if name == "id" else option[name]  # ids match in any case
        if record.get(field_name) != wanted:
            return False
    return True


_TARGETS = {
    "primaryTarget": ("primaryTargetId", "primaryTargetType", "primaryTargetName"),
    "secondaryTarget": ("secondaryTargetId", "secondaryTargetType", "secondaryTargetName"),
    "actor": ("actorId", "actorType", "actorName"),
}


def filter_matches(record: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """auditLogFilter: each key given is a list of alternatives (any one), the keys all apply; an
    empty list filters nothing."""
    for key, fields in _TARGETS.items():
        options = wanted.get(key) or []
        if options and not any(_target_matches(record, fields, option) for option in options):
            return False
    requests = wanted.get("request") or []
    if requests and not any(
        all(record.get(f"request{name.capitalize()}") == value for name, value in option.items())
        for option in requests
    ):
        return False
    codes = wanted.get("responseCode") or []
    return not codes or record.get("responseStatus") in codes
