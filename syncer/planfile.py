"""Saved plans: `syncer plan --out FILE`, then `syncer apply FILE`.

The file holds no secret in clear. It records, for each change, the live integration it
touches (id, lastUpdated, a keyed hash of its body) and a keyed fingerprint of each secret it
will send; plus a keyed hash of the whole desired input and a MAC over the file. The key comes
from SYNCER_PLAN_KEY, or else from the API token, so a file made with one key is refused with
another. At apply time the files and environment are read again: secrets come from there and
must match their fingerprints.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from syncer import __version__
from syncer.desired import DesiredState
from syncer.errors import Problem, SyncerError, document_path
from syncer.files import write_file
from syncer.live import LiveState
from syncer.load import FileRefused, open_regular, read_regular_file
from syncer.losant import READ_ONLY_FIELDS
from syncer.plan import Change, Plan, Target, make_plan
from syncer.render.jsonplan import change_json
from syncer.secrets import get_path, refuse_known_secrets, secret_paths

FORMAT_KEY = "syncerPlanFile"
FORMAT_VERSION = 2  # 2: secret paths written as document paths (headers[0].headerValue)
# about 2 KB per change: room for 100,000 changes, and a bound on what a hostile file costs
MAX_PLAN_BYTES = 256 * 1024 * 1024


def plan_key(environ: Mapping[str, str], token: str) -> bytes:
    """The key that signs and fingerprints a plan file: SYNCER_PLAN_KEY, else the token."""
    material = environ.get("SYNCER_PLAN_KEY") or token
    return hmac.new(material.encode(), b"syncer plan file v1", hashlib.sha256).digest()


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _mac(key: bytes, *parts: Any) -> str:
    return hmac.new(key, _canonical(list(parts)), hashlib.sha256).hexdigest()


def desired_hash(key: bytes, desired: DesiredState, prune: bool) -> str:
    """A keyed hash of the files' whole input and policy: any change since the plan shows."""
    items = sorted(
        (
            [i.application_id, i.name, i.body, i.absent, i.pinned_id, list(i.previous_names)]
            for i in desired.integrations
        ),
        key=lambda item: (item[0], item[1]),
    )
    project = desired.project
    policy = [
        project.prune,
        project.max_deletes,
        list(project.never_touch),
        sorted((a, p.prune, list(p.never_touch)) for a, p in project.applications.items()),
    ]
    return _mac(key, "desired", items, policy, prune)


def live_hash(key: bytes, live: Mapping[str, Any]) -> str:
    """What must not have moved: every field but the server's bookkeeping (status moves by itself)."""
    return _mac(key, "live", {k: v for k, v in live.items() if k not in READ_ONLY_FIELDS or k == "id"})


def _secrets(key: bytes, change: Change) -> list[dict[str, str]]:
    out = []
    for request in change.requests():
        body = dict(request.body or {})
        for path in secret_paths(body):
            value = get_path(body, path)
            dotted = document_path(path)
            out.append(
                {
                    "path": dotted,
                    "fingerprint": _mac(key, "secret", change.application_id, change.name, dotted, value),
                }
            )
    return out


def _record(key: bytes, change: Change) -> dict[str, Any]:
    record = change_json(change)
    if change.live is not None:
        record["live"] = {"lastUpdated": change.live.get("lastUpdated"), "hash": live_hash(key, change.live)}
    record["secrets"] = _secrets(key, change)
    return record


def write_plan_file(
    path: str,
    plan: Plan,
    desired: DesiredState,
    *,
    key: bytes,
    paths: Sequence[str],
    api_url: str,
    prune: bool,
    push_secrets: bool = False,
    project_file: str | None = None,
    redact: Callable[[str], str] = str,
) -> None:
    """Save a plan for `syncer apply FILE`: no secret in clear (`redact` knows them), signed with
    `key`."""
    content = {
        FORMAT_KEY: FORMAT_VERSION,
        "syncerVersion": __version__,
        "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "apiUrl": api_url,
        "paths": list(paths),
        "prune": prune,
        "pushSecrets": push_secrets,
        "projectFile": project_file,
        "environment": desired.environment,
        "target": {"names": list(plan.target.names), "applications": list(plan.target.applications)},
        "desiredHash": desired_hash(key, desired, prune),
        "summary": plan.summary(),
        "changes": [_record(key, c) for c in plan.changes],
    }
    content["mac"] = _mac(key, "file", content)
    text = json.dumps(content, indent=2) + "\n"
    refuse_known_secrets(text, redact, f"{path}: the plan")
    write_file(path, text, "the plan file")


def _short(value: Any) -> str:
    shown = repr(value) if isinstance(value, (str, int, float, bool)) else type(value).__name__
    return shown if len(shown) <= 40 else shown[:37] + "..."


@dataclass(frozen=True)
class SavedPlan:
    """A plan file that passed its signature check."""

    path: str
    content: dict[str, Any]

    @property
    def paths(self) -> list[str]:
        return list(self.content["paths"])

    @property
    def prune(self) -> bool:
        return bool(self.content["prune"])

    @property
    def target(self) -> Target:
        recorded = self.content.get("target") or {}
        return Target(tuple(recorded.get("names", ())), tuple(recorded.get("applications", ())))

    @property
    def project_file(self) -> str | None:
        return self._text("projectFile")

    @property
    def environment(self) -> str | None:
        return self._text("environment")

    def _text(self, key: str) -> str | None:
        """A recorded string, or None (not recorded, or recorded as null)."""
        value = self.content.get(key)
        return value if isinstance(value, str) else None

    @property
    def push_secrets(self) -> bool:
        return bool(self.content.get("pushSecrets", False))

    @property
    def api_url(self) -> str:
        return str(self.content["apiUrl"])

    @property
    def changes(self) -> list[dict[str, Any]]:
        return list(self.content["changes"])


def is_plan_file(path: str) -> bool:
    """A .json file, or one that starts as a JSON object holding the format key (YAML files never do)."""
    if path.endswith(".json") and os.path.isfile(path):
        return True
    try:
        with open_regular(path) as handle:  # a FIFO or a device is no plan: the YAML reader says why
            head = handle.read(200)
    except FileRefused:
        return False
    return head.lstrip().startswith(b"{") and f'"{FORMAT_KEY}"'.encode() in head


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_plan_file(path: str, key: bytes) -> SavedPlan:
    """A plan file, refused (one line) when unreadable, of another version, or not signed by `key`."""
    try:
        text = read_regular_file(path, MAX_PLAN_BYTES).decode("utf-8")
        content = json.loads(text, parse_constant=_no_constant)
    except FileRefused as exc:
        raise SyncerError(f"{path}: cannot read the plan file ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise SyncerError(f"{path}: cannot read the plan file ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise SyncerError(
            f"{path}:{exc.lineno}:{exc.colno}: the plan file is truncated or not JSON ({exc.msg}); "
            "make a new plan"
        ) from exc
    except (ValueError, RecursionError) as exc:  # NaN, a 5,000-digit integer, 200,000 nested lists
        why = (
            "it is nested too deeply"
            if isinstance(exc, RecursionError)
            else "it holds NaN, Infinity or an integer of over 4,300 digits"
        )
        raise SyncerError(f"{path}: not a plan file syncer wrote ({why}); make a new plan") from exc
    if not isinstance(content, dict) or FORMAT_KEY not in content:
        raise SyncerError(f"{path}: not a syncer plan file; make one with `syncer plan --out FILE`")
    if content[FORMAT_KEY] != FORMAT_VERSION:
        raise SyncerError(
            f"{path}: a plan file of format version {_short(content[FORMAT_KEY])}, and this syncer reads "
            f"version {FORMAT_VERSION}; make a new plan with this syncer"
        )
    mac = content.pop("mac", None)
    if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(key, "file", content)):
        raise SyncerError(
            f"{path}: the plan file's signature does not match: it was changed after it was written, or "
            "made with another API token or SYNCER_PLAN_KEY; make a new plan"
        )
    return SavedPlan(path, content)


def staleness(
    key: bytes, saved: SavedPlan, desired: DesiredState, fresh: Sequence[Change], gone: set[str]
) -> list[str]:
    """Why the saved plan may not be applied now; empty when it still holds exactly.

    `fresh` is the plan recomputed from the files read again and the touched integrations read
    again (`gone`: the ids that no longer exist); it must ask for the very same requests.
    """
    moved: list[str] = []
    fresh_by = {(c.action, c.application_id, c.name): c for c in fresh}
    for record in saved.changes:
        name, app = record["name"], record["applicationId"]
        if record["integrationId"] in gone:
            moved.append(f"{name!r} ({record['integrationId']}) was deleted since the plan")
            fresh_by = {k: c for k, c in fresh_by.items() if k[1:] != (app, name)}
            continue
        change = fresh_by.pop((record["action"], app, name), None)
        if change is None:
            moved.append(
                f"{record['action']} {name!r} in application {app} is no longer what the files and "
                "Losant call for"
            )
            continue
        if (
            "live" in record
            and change.live is not None
            and (
                change.live.get("lastUpdated") != record["live"]["lastUpdated"]
                or live_hash(key, change.live) != record["live"]["hash"]
            )
        ):
            moved.append(
                f"{name!r} ({record['integrationId']}) was changed in Losant since the plan "
                f"(lastUpdated {record['live']['lastUpdated']} -> {change.live.get('lastUpdated')})"
            )
        fresh_secrets = {s["path"]: s["fingerprint"] for s in _secrets(key, change)}
        for secret in record["secrets"]:
            if fresh_secrets.get(secret["path"]) != secret["fingerprint"]:
                refs = _env_refs(desired, app, name, secret["path"])
                moved.append(f"the secret {secret['path']} of {name!r} is not the one planned{refs}")
        if change_json(change)["requests"] != record["requests"]:
            moved.append(f"the requests for {name!r} differ from the plan")
    for change in fresh_by.values():
        moved.append(
            f"{change.action} {change.name!r} in application {change.application_id} is new since the plan"
        )
    if not moved and saved.content["desiredHash"] != desired_hash(key, desired, saved.prune):
        moved.append("the files (or the variables they read) changed since the plan")
    return moved


def replan_saved(
    key: bytes, saved: SavedPlan, desired: DesiredState, live: LiveState, gone: set[str]
) -> Plan:
    """The saved plan, rebuilt from the files and the touched integrations read again.

    Pure: raises SyncerError naming everything that moved if it no longer holds exactly.
    """
    recorded = {(r["applicationId"], r["name"]) for r in saved.changes}
    touched = dataclasses.replace(
        desired,
        integrations=tuple(i for i in desired.integrations if (i.application_id, i.name) in recorded),
        applications={app: files for app, files in desired.applications.items() if app in live.integrations},
    )
    fresh = make_plan(touched, live, prune=saved.prune, push_secrets=saved.push_secrets, target=saved.target)
    moved = staleness(key, saved, desired, fresh.changes, gone)
    if moved:
        raise SyncerError(
            f"{saved.path}: the saved plan is stale; nothing was changed: make a new plan",
            [Problem(None, f"{saved.path}: {reason}") for reason in moved],
        )
    order = {(r["action"], r["applicationId"], r["name"]): n for n, r in enumerate(saved.changes)}
    changes = sorted(fresh.changes, key=lambda c: order[(c.action, c.application_id, c.name)])
    return dataclasses.replace(fresh, changes=tuple(changes), unmanaged=())


def _env_refs(desired: DesiredState, app: str, name: str, dotted: str) -> str:
    for item in desired.integrations:
        if item.application_id == app and item.name == name:
            for path, names in item.env_refs.items():
                if document_path(path) == dotted:
                    return f" (environment variable {', '.join(names)} changed)"
    return ""
