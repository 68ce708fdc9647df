"""Who drifted it: for each integration changed or deleted outside git, the audit log entry of
the organisation that owns the application (GET /applications/{id} names the owner) says who did
it and when. Only the actor, the action and the time are read from an entry: its request and
response bodies may hold secrets and are never kept.

Attribution is best effort and never stops a drift check: a token that may not read the log, an
application owned by a user (no organisation, no log) or a failed read says why it is unavailable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from syncer.client import ApiError, LosantClient
from syncer.losant import OBJECT_ID_PATTERN, SCOPES

MAX_PAGES = 10  # newest first: the entries wanted are near the top; a busy log is not read whole


@dataclass(frozen=True)
class Wanted:
    """A drifted integration to attribute: by live id (changed live) or by name (deleted)."""

    key: str  # the drift item's own key (application id, name)
    integration_id: str | None
    name: str
    deleted: bool


@dataclass(frozen=True)
class Attribution:
    """Who did it and when, or why that is unknown."""

    actor: str = ""
    actor_type: str = ""
    at: str = ""  # the entry's creationDate (ISO)
    unavailable: str = ""

    def describe(self, verb: str) -> str:
        if self.unavailable:
            return f"attribution unavailable: {self.unavailable}"
        when = _minute(self.at)
        return f"{verb} by {self.actor} ({self.actor_type.lower()}) at {when}"


def _minute(stamp: str) -> str:
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp[:40]
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def attribute(
    client: LosantClient, wanted: Mapping[str, Sequence[Wanted]], *, days: float, now_ms: float
) -> dict[str, Attribution]:
    """The attribution of each wanted drift (by its key), reading, per application, its owner and
    then its organisation's log for the last `days`, newest first, until all are found."""
    out: dict[str, Attribution] = {}
    for app, items in wanted.items():
        try:
            found = _attribute_application(client, app, items, days=days, now_ms=now_ms)
        except ApiError as exc:
            found = {w.key: Attribution(unavailable=_why(exc)) for w in items}
        out.update(found)
    return out


def _why(exc: ApiError) -> str:
    if exc.status == 403:
        action = "auditLogs" if "audit-logs" in exc.message else "application"
        what = "the organization's audit log" if action == "auditLogs" else "the application"
        return f"the token may not read {what} (it needs one of {', '.join(SCOPES[action])})"
    what = "the audit log" if "audit-logs" in exc.message else "the application"
    return f"{what} could not be read ({exc.message})"


def _attribute_application(
    client: LosantClient, app: str, items: Sequence[Wanted], *, days: float, now_ms: float
) -> dict[str, Attribution]:
    owner = client.application(app)
    owner_type, owner_id = owner.get("ownerType"), str(owner.get("ownerId", ""))
    if owner_type != "organization" or not re.fullmatch(OBJECT_ID_PATTERN, owner_id):
        why = "the application belongs to a user, and only an organization has an audit log"
        return {w.key: Attribution(unavailable=why) for w in items}
    params = {
        "start": str(int(now_ms - days * 86_400_000)),
        "end": str(int(now_ms)),
        "auditLogFilter[primaryTarget][0][type]": "Application",
        "auditLogFilter[primaryTarget][0][id]": app,
        "auditLogFilter[secondaryTarget][0][type]": "Integration",
    }
    out: dict[str, Attribution] = {}
    for page in range(MAX_PAGES):
        body = client.audit_logs_page(owner_id.lower(), page, params)
        for entry in body["items"]:
            for item in items:
                if item.key not in out and _is_about(entry, item, app):
                    out[item.key] = _from(entry)
        total = body.get("totalCount")
        if (
            len(out) == len(items)
            or not body["items"]
            or not isinstance(total, int)  # a count that is no count: read no further
            or isinstance(total, bool)
            or (page + 1) * len(body["items"]) >= total
        ):
            break
    missing = f"no entry in the organization's audit log of the last {days:g} days"
    return {w.key: out.get(w.key, Attribution(unavailable=missing)) for w in items}


def _is_about(entry: Mapping[str, Any], item: Wanted, application_id: str) -> bool:
    """Whether an audit-log entry is a write to this integration of this application: checked
    here, whatever filter the server was asked for (a server that ignores it must not make
    syncer name someone who acted elsewhere)."""
    if str(entry.get("primaryTargetId", "")).lower() != application_id.lower():
        return False
    if str(entry.get("primaryTargetType", "Application")) != "Application":
        return False
    if str(entry.get("secondaryTargetType", "")) != "Integration":
        return False
    action = str(entry.get("requestAction", "")).lower()
    if item.deleted:
        named = entry.get("secondaryTargetName") == item.name
        same = (
            item.integration_id is not None
            and str(entry.get("secondaryTargetId", "")).lower() == item.integration_id
        )
        return action == "delete" and (named or same)
    return (
        action in ("patch", "post") and str(entry.get("secondaryTargetId", "")).lower() == item.integration_id
    )


def _from(entry: Mapping[str, Any]) -> Attribution:
    """Who and when, nothing else: an entry's request and response bodies may hold secrets."""
    return Attribution(
        actor=str(entry.get("actorName") or entry.get("actorId") or "someone")[:200],
        actor_type=str(entry.get("actorType") or "unknown")[:40],
        at=str(entry.get("creationDate") or ""),
    )
