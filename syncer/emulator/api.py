"""The Losant integration endpoints, as a plain function of a request: no HTTP server here.

Faithful to the published contract (../shared/reference/losant-api.md): paths, query parameters,
Post/Patch schema validation with bravado-style messages, `{type, message}` errors, scopes, and
the order of checks (validation, token, scope, existence). Where the contract is silent the
behaviour is a switch in EmulatorConfig; the defaults are what the real API most likely does.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft7Validator

from syncer.emulator.faults import FaultRule, Faults, rule_from_json
from syncer.emulator.store import Store, iso_ms
from syncer.losant import CONFIG_DEFAULTS, CONFIG_FIELDS, MAX_PER_PAGE, OBJECT_ID_PATTERN, SCOPES
from syncer.schema import losant_schema
from syncer.secrets import secret_paths

OBJECT_ID = re.compile(OBJECT_ID_PATTERN)
COLLECTION = re.compile(r"^/applications/([^/]+)/integrations/?$")
ITEM = re.compile(r"^/applications/([^/]+)/integrations/([^/]+)/?$")
ADMIN_PREFIX = "/_emulator"
DEFAULT_PER_PAGE = 100

SORT_FIELDS = ("name", "id", "creationDate", "integrationType", "lastUpdated")
DEFAULT_TOKEN = "emulator-token"  # noqa: S105 - the emulator's own demo token, not a secret
DEFAULT_APPLICATION = "5f3e6a1b2c4d5e6f7a8b9c0d"  # the application tests and the banner use

# is-my-json-valid's messages, which bravado-core puts after the field name
_MESSAGES = {
    "required": "is required",
    "type": "is the wrong type",
    "additionalProperties": "has additional properties",
    "enum": "must be an enum value",
    "minLength": "has less length than allowed",
    "maxLength": "has longer length than allowed",
    "minimum": "is less than minimum",
    "maximum": "is more than maximum",
    "pattern": "pattern mismatch",
    "uniqueItems": "must be unique",
    "maxItems": "has more items than allowed",
    "oneOf": "no (or more than one) schemas match",
}


@dataclass
class EmulatorConfig:
    tokens: dict[str, tuple[str, ...]] = field(default_factory=lambda: {DEFAULT_TOKEN: ("all.Application",)})
    applications: tuple[str, ...] = ()
    auto_create_applications: bool = False
    secrets: Literal["echo", "omit"] = "echo"  # omit: a write-only API for secret fields
    config_defaults: bool = True  # add websocketConfig defaults as a real export shows
    patch_config: Literal["replace", "merge"] = "replace"  # how PATCH treats a config object
    unique_names: bool = False  # reject a second integration of the same name
    state_file: str | None = None
    admin: bool = False
    latency: float = 0.0
    jitter: float = 0.0
    seed: int = 0
    faults: list[FaultRule] = field(default_factory=list)


@dataclass
class Reply:
    """What the HTTP adapter should do: answer, or cut the connection (`fault`).

    `raw` replaces the JSON body (a bad answer); `cut` sends only that many bytes of the body and
    closes; `trickle` sends the answer one byte per that many seconds.
    """

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    fault: Literal["reset", "drop"] | None = None
    delay: float = 0.0
    raw: bytes | None = None
    cut: int | None = None
    trickle: float = 0.0

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return b"" if self.body is None else json.dumps(self.body, separators=(",", ":")).encode()


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def _validation(message: str) -> ApiError:
    return ApiError(400, "Validation", message)


def _schema_message(validator: Draft7Validator, body: Any) -> str | None:
    """The first error, as bravado-core words it: `integration.name is required`."""
    error = next(iter(validator.iter_errors(body)), None)
    if error is None:
        return None
    path = ".".join(["integration", *(str(p) for p in error.absolute_path)])
    if error.validator == "required":
        missing = next(n for n in error.validator_value if n not in error.instance)
        path = f"{path}.{missing}"
    return f"{path} {_MESSAGES.get(str(error.validator), 'is invalid')}"


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(p) for p in pattern.split("*")), re.IGNORECASE)


class Emulator:
    """One emulated Losant API. Thread-safe: the HTTP server calls `handle` from many threads."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.store = Store(self.config.state_file, self.config.applications)
        self.faults = Faults(
            list(self.config.faults), self.config.latency, self.config.jitter, self.config.seed
        )
        self.tokens = dict(self.config.tokens)
        self.expired: set[str] = set()
        self.log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._post = Draft7Validator(losant_schema("integrationPost"))
        self._patch = Draft7Validator(losant_schema("integrationPatch"))

    # -- entry point --------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """`headers` keys are lower-case."""
        url = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if url.path.startswith(ADMIN_PREFIX + "/") and self.config.admin:
            return self._admin(method, url.path[len(ADMIN_PREFIX) :], body)
        route = self._route(method, url.path)
        entry: dict[str, Any] = {"method": method, "path": url.path, "query": query}
        if body:
            try:
                entry["body"] = json.loads(body)
            except ValueError:
                entry["body"] = body.decode("utf-8", "replace")
        reply = self._dispatch(route, method, url.path, query, headers, body)
        entry["status"] = reply.status
        entry["fault"] = reply.fault
        with self._log_lock:
            self.log.append(entry)
        return reply

    def _route(self, method: str, path: str) -> tuple[str | None, tuple[str, ...]]:
        if m := COLLECTION.match(path):
            action = {"GET": "list", "POST": "post"}.get(method)
            return action or "405", m.groups()
        if m := ITEM.match(path):
            action = {"GET": "get", "PATCH": "patch", "DELETE": "delete"}.get(method)
            return action or "405", m.groups()
        return None, ()

    def _dispatch(
        self,
        route: tuple[str | None, tuple[str, ...]],
        method: str,
        path: str,
        query: dict[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Reply:
        action, params = route
        delay = self.faults.delay()
        if action is None:
            return self._error(ApiError(404, "NotFound", f"{path} does not exist"), delay)
        if action == "405":
            return self._error(ApiError(405, "MethodNotAllowed", f"{method} is not allowed"), delay)
        rule = self.faults.pick(action)
        if rule is not None and rule.kind not in _AFTER_THE_WORK:
            if rule.kind == "late":  # held: the work happens only after the client gave up
                time.sleep(rule.delay)
                return self._answer(action, params, query, headers, body, delay)
            if rule.kind == "reset":
                return Reply(0, fault="reset", delay=delay)
            kind = "Unauthorized" if rule.kind == "401" else "Error"
            reply = self._error(ApiError(int(rule.kind), kind, _STATUS_TEXT[rule.kind]), delay)
            if rule.retry_after is not None:
                reply.headers["Retry-After"] = rule.retry_after
            return reply
        reply = self._answer(action, params, query, headers, body, delay)
        if rule is None:
            return reply
        if rule.kind == "drop":
            reply.fault = "drop"
        elif rule.kind == "slow":
            reply.delay += rule.delay
        elif rule.kind == "trickle":
            reply.trickle = rule.delay
        elif rule.kind == "lie" and action == "list" and reply.status == 200:
            reply.body["totalCount"] += rule.extra
        elif rule.kind == "body" and reply.status < 300:
            _spoil(reply, rule.body)
        return reply

    def _answer(
        self,
        action: str,
        params: tuple[str, ...],
        query: dict[str, str],
        headers: Mapping[str, str],
        body: bytes,
        delay: float,
    ) -> Reply:
        try:
            reply = self._api(action, params, query, headers, body)
        except ApiError as exc:
            reply = self._error(exc, 0.0)
        reply.delay = delay
        return reply

    @staticmethod
    def _error(exc: ApiError, delay: float) -> Reply:
        return Reply(exc.status, {"type": exc.kind, "message": exc.message}, delay=delay)

    # -- the API ------------------------------------------------------------------------------

    def _api(
        self,
        action: str,
        params: tuple[str, ...],
        query: dict[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Reply:
        # 1. validation
        names = ("applicationId", "integrationId")
        for name, value in zip(names, params, strict=False):
            if not OBJECT_ID.match(value):
                raise _validation(f"{name} pattern mismatch")
        parsed: Any = None
        if action == "list":
            listing = self._list_params(query)
        if action in ("post", "patch"):
            parsed = self._parse_body(body, self._post if action == "post" else self._patch)
        # 2. token, 3. scope
        self._authorize(action, headers, query)
        # 4. existence
        app_id = params[0].lower()
        with self.store.lock:
            app = self.store.applications.get(app_id)
            if app is None and self.config.auto_create_applications:
                app = self.store.applications.setdefault(app_id, {})
            if app is None:
                raise ApiError(404, "NotFound", "Application was not found")
            if action == "list":
                return Reply(200, self._list(app_id, app, listing, query))
            if action == "post":
                return Reply(201, self._present(self._create(app_id, app, parsed), query))
            integration_id = params[1].lower()
            record = app.get(integration_id)
            if record is None:
                raise ApiError(404, "NotFound", "Integration was not found")
            if action == "get":
                return Reply(200, self._present(record, query))
            if action == "patch":
                return Reply(200, self._present(self._update(app, record, parsed), query))
            del app[integration_id]
            self.store.save()
            return Reply(200, {"success": True})

    def _parse_body(self, body: bytes, validator: Draft7Validator) -> dict[str, Any]:
        if not body.strip():
            raise _validation("integration is required")
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise _validation("integration is not valid JSON") from exc
        message = _schema_message(validator, parsed)
        if message:
            raise _validation(message)
        result: dict[str, Any] = parsed
        return result

    @staticmethod
    def _list_params(query: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, default in (("page", 0), ("perPage", DEFAULT_PER_PAGE)):
            raw = query.get(name, "")
            if raw == "":
                out[name] = default
                continue
            if not raw.isdigit():
                raise _validation(f"{name} is the wrong type")
            out[name] = int(raw)
        if out["perPage"] < 1:
            raise _validation("perPage is less than minimum")
        if out["perPage"] > MAX_PER_PAGE:
            raise _validation("perPage is more than maximum")
        out["sortField"] = query.get("sortField") or "name"
        if out["sortField"] not in SORT_FIELDS:
            raise _validation("sortField must be an enum value")
        out["sortDirection"] = query.get("sortDirection") or "asc"
        if out["sortDirection"] not in ("asc", "desc"):
            raise _validation("sortDirection must be an enum value")
        filter_field = query.get("filterField") or None
        if filter_field is not None and filter_field not in ("name", "integrationType"):
            raise _validation("filterField must be an enum value")
        out["filterField"] = filter_field
        out["filter"] = query.get("filter") or None
        return out

    def _authorize(self, action: str, headers: Mapping[str, str], query: dict[str, str]) -> None:
        token = query.get("access_token") or query.get("jwt")
        auth = headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("bearer", "jwt") and value.strip():
            token = value.strip()
        if not token:
            raise ApiError(403, "Forbidden", "Access is forbidden")
        if token in self.expired:
            raise ApiError(401, "Unauthorized", "Access token has expired")
        scopes = self.tokens.get(token)
        if scopes is None:
            raise ApiError(401, "Unauthorized", "Invalid access token")
        if not set(scopes) & set(SCOPES[action]):
            raise ApiError(403, "Forbidden", "Access is forbidden")

    def _list(
        self, app_id: str, app: dict[str, dict[str, Any]], params: dict[str, Any], query: dict[str, str]
    ) -> dict[str, Any]:
        items = list(app.values())
        if params["filterField"] and params["filter"]:
            pattern, key = _glob(params["filter"]), params["filterField"]
            items = [i for i in items if pattern.fullmatch(str(i.get(key, "")))]
        sort_key = params["sortField"]
        items.sort(
            key=lambda i: (str(i.get(sort_key, "")), i["id"]), reverse=params["sortDirection"] == "desc"
        )
        start = params["page"] * params["perPage"]
        page = items[start : start + params["perPage"]]
        body: dict[str, Any] = {
            "items": [self._present(i, query) for i in page],
            "count": len(page),
            "totalCount": len(items),
            "perPage": params["perPage"],
            "page": params["page"],
            "sortField": params["sortField"],
            "sortDirection": params["sortDirection"],
            "applicationId": app_id,
        }
        if params["filterField"]:
            body["filterField"] = params["filterField"]
        if params["filter"]:
            body["filter"] = params["filter"]
        if query.get("_links", "true") != "false":
            body["_type"] = "integrations"
            body["_links"] = {
                "self": {"href": f"/applications/{app_id}/integrations"},
                "application": {"href": f"/applications/{app_id}"},
            }
        return body

    def _present(self, record: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        out = dict(record)
        if self.config.secrets == "omit":
            for path in secret_paths(record):
                parent: Any = out
                for part in path[:-1]:  # copy on the way down: the stored record keeps its secrets
                    parent[part] = copy.copy(parent[part])
                    parent = parent[part]
                del parent[path[-1]]
        if query.get("_links", "true") != "false":
            href = f"/applications/{record['applicationId']}/integrations/{record['id']}"
            out["_type"] = "integration"
            out["_links"] = {"self": {"href": href}, "integrations": {"href": href.rsplit("/", 1)[0]}}
        return out

    def _with_defaults(self, record: dict[str, Any]) -> None:
        if not self.config.config_defaults:
            return
        for config, defaults in CONFIG_DEFAULTS.items():
            if isinstance(record.get(config), dict):
                record[config] = {**copy.deepcopy(defaults), **record[config]}

    def _name_taken(self, app: dict[str, dict[str, Any]], name: str, own_id: str | None) -> None:
        if self.config.unique_names and any(i["name"] == name and i["id"] != own_id for i in app.values()):
            raise ApiError(400, "AlreadyExists", f"An integration named {name} already exists")

    def _create(self, app_id: str, app: dict[str, dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
        self._name_taken(app, body["name"], None)
        new_id = self.store.new_id()
        stamp = iso_ms(self.store.now_ms())
        record: dict[str, Any] = {
            "id": new_id,
            "integrationId": new_id,
            "applicationId": app_id,
            "creationDate": stamp,
            "lastUpdated": stamp,
            "enabled": True,
            "topics": [],
            **copy.deepcopy(body),
            "status": {"connectInfo": {"ts": int(datetime.now(UTC).timestamp() * 1000)}},
        }
        self._with_defaults(record)
        app[new_id] = record
        self.store.save()
        return record

    def _update(
        self, app: dict[str, dict[str, Any]], record: dict[str, Any], body: dict[str, Any]
    ) -> dict[str, Any]:
        if "name" in body:
            self._name_taken(app, body["name"], record["id"])
        updated = dict(record)
        for key, value in copy.deepcopy(body).items():
            if value is None:  # credentialName: null clears it
                updated.pop(key, None)
            elif (
                key in CONFIG_FIELDS.values()
                and self.config.patch_config == "merge"
                and isinstance(updated.get(key), dict)
            ):
                updated[key] = {**updated[key], **value}
            else:
                updated[key] = value
        self._with_defaults(updated)
        updated["lastUpdated"] = iso_ms(self.store.now_ms())
        app[record["id"]] = updated
        self.store.save()
        return updated

    # -- seeding and admin --------------------------------------------------------------------

    def seed(self, application_id: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create integrations directly (no HTTP, no faults, no log); returns the records."""
        app_id = application_id.lower()
        with self.store.lock:
            app = self.store.applications.setdefault(app_id, {})
            for body in bodies:
                message = _schema_message(self._post, body)
                if message:
                    raise ValueError(message)
            return [self._present(self._create(app_id, app, b), {"_links": "false"}) for b in bodies]

    def integrations(self, application_id: str) -> list[dict[str, Any]]:
        """The stored integrations of an application, as GET returns them (no links)."""
        with self.store.lock:
            app = self.store.applications.get(application_id.lower(), {})
            return [self._present(r, {"_links": "false"}) for r in app.values()]

    def reset(self) -> None:
        self.store.reset()
        self.faults.clear()
        with self._log_lock:
            self.log.clear()

    def _admin(self, method: str, path: str, body: bytes) -> Reply:
        try:
            data = json.loads(body) if body.strip() else None
        except ValueError:
            return Reply(400, {"type": "Validation", "message": "body is not valid JSON"})
        handler = _ADMIN_ROUTES.get((method, path))
        if handler is None:
            if method == "POST" and (m := re.fullmatch(r"/applications/([^/]+)/integrations", path)):
                handler = lambda emu, d: Reply(201, emu.seed(m.group(1), d))  # noqa: E731
            else:
                return Reply(404, {"type": "NotFound", "message": f"no admin route {method} {path}"})
        try:
            return handler(self, data)
        except (ValueError, TypeError, KeyError) as exc:
            return Reply(400, {"type": "Validation", "message": str(exc)})


def _add_faults(emu: Emulator, data: Any) -> Reply:
    rules = [rule_from_json(r) for r in (data if isinstance(data, list) else [data])]
    with emu.faults._lock:
        emu.faults.rules.extend(rules)
    return Reply(201, [r.to_json() for r in emu.faults.rules])


def _set_latency(emu: Emulator, data: Any) -> Reply:
    emu.faults.latency = float(data.get("latency", 0)) / 1000
    emu.faults.jitter = float(data.get("jitter", 0)) / 1000
    return Reply(200, {"latency": emu.faults.latency * 1000, "jitter": emu.faults.jitter * 1000})


def _set_token(emu: Emulator, data: Any) -> Reply:
    emu.tokens[str(data["token"])] = tuple(data.get("scopes", ("all.Application",)))
    emu.expired.discard(str(data["token"]))
    return Reply(201, {"tokens": len(emu.tokens)})


def _revoke_token(emu: Emulator, data: Any) -> Reply:
    """`{"token": T}` makes T invalid (401 Invalid access token); `"expire": true` expires it."""
    token = str(data["token"])
    if data.get("expire"):
        emu.expired.add(token)
    else:
        emu.tokens.pop(token, None)
    return Reply(200, {"tokens": len(emu.tokens)})


def _declare_application(emu: Emulator, data: Any) -> Reply:
    app_id = str(data["id"]).lower()
    if not OBJECT_ID.match(app_id):
        raise ValueError("id must be 24 hexadecimal characters")
    with emu.store.lock:
        emu.store.applications.setdefault(app_id, {})
    return Reply(201, {"id": app_id})


def _reset(emu: Emulator, data: Any) -> Reply:
    emu.reset()
    return Reply(200, {"success": True})


def _clear_faults(emu: Emulator, data: Any) -> Reply:
    emu.faults.clear()
    return Reply(200, {"success": True})


def _clear_log(emu: Emulator, data: Any) -> Reply:
    with emu._log_lock:
        emu.log.clear()
    return Reply(200, {"success": True})


# faults that let the request do its work, then spoil the answer
_AFTER_THE_WORK = ("drop", "slow", "trickle", "lie", "body")
_HTML = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"


def _spoil(reply: Reply, how: str) -> None:
    """A 2xx answer whose body is not the JSON it should be (the work is done all the same)."""
    whole = reply.encoded()
    if how == "empty":
        reply.raw = b""
    elif how == "html":
        reply.raw = _HTML
    elif how == "text":
        reply.raw = b"OK"
    elif how == "truncated":
        reply.raw = whole[: max(1, len(whole) // 2)]
    else:  # cut: announce the whole length, send half, close
        reply.cut = len(whole) // 2


_STATUS_TEXT = {
    "401": "Access token has expired",
    "429": "Too many requests, slow down",
    "500": "Internal server error",
    "502": "Bad gateway",
    "503": "Service unavailable",
    "504": "Gateway timeout",
}

_ADMIN_ROUTES: dict[tuple[str, str], Callable[[Emulator, Any], Reply]] = {
    ("POST", "/reset"): _reset,
    ("GET", "/requests"): lambda emu, d: Reply(200, list(emu.log)),
    ("DELETE", "/requests"): _clear_log,
    ("GET", "/faults"): lambda emu, d: Reply(200, [r.to_json() for r in emu.faults.rules]),
    ("POST", "/faults"): _add_faults,
    ("DELETE", "/faults"): _clear_faults,
    ("PUT", "/latency"): _set_latency,
    ("POST", "/tokens"): _set_token,
    ("POST", "/tokens/revoke"): _revoke_token,
    ("POST", "/applications"): _declare_application,
    ("GET", "/state"): lambda emu, d: Reply(200, emu.store.snapshot()),
}
