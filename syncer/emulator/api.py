"""The Losant integration endpoints, as a plain function of a request: no HTTP server here.

Faithful to the published contract (../shared/reference/losant-api.md): paths, query parameters,
Post/Patch schema validation with bravado-style messages, `{type, message}` errors, scopes, and
the order of checks (validation, token, scope, existence). Where the contract is silent the
behaviour is a switch in EmulatorConfig; the defaults are what the real API most likely does.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft7Validator

from syncer.emulator.credentials import new_credential, shown
from syncer.emulator.faults import FaultRule, Faults, rule_from_json
from syncer.emulator.store import Store, iso_ms
from syncer.losant import CONFIG_DEFAULTS, CONFIG_FIELDS, MAX_PER_PAGE, OBJECT_ID_PATTERN, SCOPES
from syncer.schema import losant_schema
from syncer.secrets import masked, secret_paths

OBJECT_ID = re.compile(OBJECT_ID_PATTERN)
COLLECTION = re.compile(r"^/applications/([^/]+)/integrations/?$")
ITEM = re.compile(r"^/applications/([^/]+)/integrations/([^/]+)/?$")
CREDENTIALS = re.compile(r"^/applications/([^/]+)/credentials/?$")
FLOWS = re.compile(r"^/applications/([^/]+)/flows/?$")
ADMIN_PREFIX = "/_emulator"
# Accept-Version values the emulator serves: `*`, or one comparator (none, =, ^, ~, >=) on a
# version of major 1 (`1.30.0`, `1.30`, `1.x`, `1`). The official clients send `^1.30.0` (js,
# v1.30.0) and `^1.31.0` (losant-rest 2.3.0); Losant's exact rule is not published.
ACCEPT_VERSION = re.compile(r"^\s*(?:\*|(?:=|\^|~|>=)?\s*v?1(?:\.(?:\d+|[xX*])){0,2})\s*$")
DEFAULT_PER_PAGE = 100
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


@dataclass(frozen=True)
class Listing:
    """A collection's list query, as losant-rest-js v1.30.0's apiInfo.json declares it."""

    resource: str  # the path segment, also the list's `_type`
    item: str  # an item's `_type`
    sort_fields: tuple[str, ...]
    sort_field: str  # the defaults
    sort_direction: str
    filter_fields: tuple[str, ...]


# by action name (the keys of syncer.losant.SCOPES)
LISTINGS = {
    "list": Listing(
        "integrations",
        "integration",
        ("name", "id", "creationDate", "integrationType", "lastUpdated"),
        "name",
        "asc",
        ("name", "integrationType"),
    ),
    "credentials": Listing(
        "credentials",
        "credential",
        ("name", "type", "creationDate", "lastUpdated"),
        "creationDate",
        "desc",
        ("name", "type"),
    ),
    "flows": Listing(
        "flows", "flow", ("name", "id", "creationDate", "lastUpdated"), "name", "asc", ("name",)
    ),
}


@dataclass(frozen=True)
class Call:
    """One API request, routed: `action` is None for an unknown path, "405" for a wrong method."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    action: str | None
    params: tuple[str, ...]


@dataclass(frozen=True)
class ListQuery:
    """A list request's query, checked, with the defaults filled in."""

    spec: Listing
    page: int
    per_page: int
    sort_field: str
    sort_direction: str
    filter_field: str | None
    filter: str | None


@dataclass
class EmulatorConfig:
    """How the emulator behaves: tokens, applications, and the switches for what the contract
    leaves open (docs/emulator.md)."""

    tokens: dict[str, tuple[str, ...]] = field(default_factory=lambda: {DEFAULT_TOKEN: ("all.Application",)})
    applications: tuple[str, ...] = ()
    auto_create_applications: bool = False
    # integration secret fields (syncer.secrets) in answers: echo them as stored (the published
    # contract), omit them (write-only, like credentials), or mask every one with secret_mask
    secrets: Literal["echo", "omit", "mask"] = "echo"
    secret_mask: str = "****"  # noqa: S105 - the placeholder shown instead of a secret
    # fields the server adds to a config object that leaves them out, on create and update
    # ({} for none); by default what a real export shows for websocketConfig (CONFIG_DEFAULTS)
    server_defaults: dict[str, dict[str, Any]] = field(default_factory=lambda: _builtin_defaults())
    patch_config: Literal["replace", "merge"] = "replace"  # how PATCH treats a config object
    unique_names: bool = False  # reject a second integration of the same name
    # None: perPage above MAX_PER_PAGE is a 400. N: a list asking for more gets N per page, and
    # says so in its perPage (a server that caps silently; `page` then counts pages of N)
    per_page_cap: int | None = None
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


class Refusal(Exception):
    """An error answer of the emulated API: `{"type": error_type, "message": message}`."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


def _validation(message: str) -> Refusal:
    return Refusal(400, "Validation", message)


def _schema_message(validator: Draft7Validator, body: Any, root: str = "integration") -> str | None:
    """The first error, as bravado-core words it: `integration.name is required`."""
    error = next(iter(validator.iter_errors(body)), None)
    if error is None:
        return None
    path = ".".join([root, *(str(p) for p in error.absolute_path)])
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
        _check_server_defaults(self.config.server_defaults)
        if self.config.per_page_cap is not None and self.config.per_page_cap < 1:
            raise ValueError("per_page_cap must be at least 1")
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
        self._credential_post = Draft7Validator(losant_schema("credentialPost"))

    # -- entry point --------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """`headers` keys are lower-case."""
        url = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if url.path.startswith(ADMIN_PREFIX + "/") and self.config.admin:
            return self._admin(method, url.path[len(ADMIN_PREFIX) :], body)
        call = Call(method, url.path, query, headers, body, *self._route(method, url.path))
        entry: dict[str, Any] = {
            "method": method,
            "path": url.path,
            "query": query,
            "acceptVersion": headers.get("accept-version"),
        }
        if body:
            try:
                entry["body"] = json.loads(body)
            except ValueError:
                entry["body"] = body.decode("utf-8", "replace")
        reply = self._dispatch(call)
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
        if m := CREDENTIALS.match(path):  # only the list: credentials are seeded, not created
            return ("credentials" if method == "GET" else "405"), m.groups()
        if m := FLOWS.match(path):  # only the list, for `syncer ping`'s scope check: no workflows yet
            return ("flows" if method == "GET" else "405"), m.groups()
        return None, ()

    def _dispatch(self, call: Call) -> Reply:
        action, method, path, headers = call.action, call.method, call.path, call.headers
        delay = self.faults.delay()
        if action is None:
            return self._error(Refusal(404, "NotFound", f"{path} does not exist"), delay)
        if action == "405":
            return self._error(Refusal(405, "MethodNotAllowed", f"{method} is not allowed"), delay)
        # restify picks a route by path, then method, then version (bravado-server answers
        # `400 VersionNotAllowed` with restify's message); an empty header means any version
        version = headers.get("accept-version")
        if version and not ACCEPT_VERSION.match(version):
            message = f"{version} is not supported by {method} {path}"
            return self._error(Refusal(400, "VersionNotAllowed", message), delay)
        work = functools.partial(self._api, action, call)
        rule = self.faults.pick(action)
        if rule is not None and rule.fault not in _AFTER_THE_WORK:
            if rule.fault == "late":  # held: the work happens only after the client gave up
                time.sleep(rule.delay)
                return self._answer(work, delay)
            if rule.fault == "reset":
                return Reply(0, fault="reset", delay=delay)
            error_type = "Unauthorized" if rule.fault == "401" else "Error"
            reply = self._error(Refusal(int(rule.fault), error_type, _STATUS_TEXT[rule.fault]), delay)
            if rule.retry_after is not None:
                reply.headers["Retry-After"] = rule.retry_after
            return reply
        reply = self._answer(work, delay)
        if rule is None:
            return reply
        if rule.fault == "drop":
            reply.fault = "drop"
        elif rule.fault == "slow":
            reply.delay += rule.delay
        elif rule.fault == "trickle":
            reply.trickle = rule.delay
        elif rule.fault == "lie" and action in LISTINGS and reply.status == 200:
            reply.body["totalCount"] += rule.extra
        elif rule.fault == "body" and reply.status < 300:
            _spoil(reply, rule.body)
        return reply

    def _answer(self, work: Callable[[], Reply], delay: float) -> Reply:
        """The API's answer to the request (`work`), its refusal answered as an error."""
        try:
            reply = work()
        except Refusal as exc:
            reply = self._error(exc, 0.0)
        reply.delay = delay
        return reply

    @staticmethod
    def _error(exc: Refusal, delay: float) -> Reply:
        return Reply(exc.status, {"type": exc.error_type, "message": exc.message}, delay=delay)

    # -- the API ------------------------------------------------------------------------------

    def _api(self, action: str, call: Call) -> Reply:
        params, query, headers, body = call.params, call.query, call.headers, call.body
        # 1. validation
        names = ("applicationId", "integrationId")
        for name, value in zip(names, params, strict=False):
            if not OBJECT_ID.match(value):
                raise _validation(f"{name} pattern mismatch")
        parsed: Any = None
        if action in LISTINGS:
            listing = self._list_params(query, LISTINGS[action])
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
                raise Refusal(404, "NotFound", "Application was not found")
            if action == "list":
                return Reply(200, self._list(app_id, list(app.values()), listing, query, self._present))
            if action == "credentials":
                credentials = list(self.store.credentials.get(app_id, {}).values())
                return Reply(200, self._list(app_id, credentials, listing, query, self._show_credential))
            if action == "flows":
                return Reply(200, self._list(app_id, [], listing, query, lambda flow, query: flow))
            if action == "post":
                return Reply(201, self._present(self._create(app_id, app, parsed), query))
            integration_id = params[1].lower()
            record = app.get(integration_id)
            if record is None:
                raise Refusal(404, "NotFound", "Integration was not found")
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

    def _list_params(self, query: dict[str, str], spec: Listing) -> ListQuery:
        numbers: dict[str, int] = {}
        for name, default in (("page", 0), ("perPage", DEFAULT_PER_PAGE)):
            raw = query.get(name, "")
            if raw == "":
                numbers[name] = default
                continue
            if not raw.isdigit():
                raise _validation(f"{name} is the wrong type")
            numbers[name] = int(raw)
        if numbers["perPage"] < 1:
            raise _validation("perPage is less than minimum")
        cap = self.config.per_page_cap
        if cap is not None:
            numbers["perPage"] = min(numbers["perPage"], cap)
        elif numbers["perPage"] > MAX_PER_PAGE:
            raise _validation("perPage is more than maximum")
        sort_field = query.get("sortField") or spec.sort_field
        if sort_field not in spec.sort_fields:
            raise _validation("sortField must be an enum value")
        sort_direction = query.get("sortDirection") or spec.sort_direction
        if sort_direction not in ("asc", "desc"):
            raise _validation("sortDirection must be an enum value")
        filter_field = query.get("filterField") or None
        if filter_field is not None and filter_field not in spec.filter_fields:
            raise _validation("filterField must be an enum value")
        return ListQuery(
            spec,
            numbers["page"],
            numbers["perPage"],
            sort_field,
            sort_direction,
            filter_field,
            query.get("filter") or None,
        )

    def _authorize(self, action: str, headers: Mapping[str, str], query: dict[str, str]) -> None:
        token = query.get("access_token") or query.get("jwt")
        auth = headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("bearer", "jwt") and value.strip():
            token = value.strip()
        if not token:
            raise Refusal(403, "Forbidden", "Access is forbidden")
        if token in self.expired:
            raise Refusal(401, "Unauthorized", "Access token has expired")
        scopes = self.tokens.get(token)
        if scopes is None:
            raise Refusal(401, "Unauthorized", "Invalid access token")
        if not set(scopes) & set(SCOPES[action]):
            raise Refusal(403, "Forbidden", "Access is forbidden")

    @staticmethod
    def _list(
        app_id: str,
        items: list[dict[str, Any]],
        listing: ListQuery,
        query: dict[str, str],
        present: Callable[[dict[str, Any], dict[str, str]], dict[str, Any]],
    ) -> dict[str, Any]:
        if listing.filter_field and listing.filter:
            pattern, field_name = _glob(listing.filter), listing.filter_field
            items = [i for i in items if pattern.fullmatch(str(i.get(field_name, "")))]
        key = listing.sort_field
        items.sort(key=lambda i: (str(i.get(key, "")), i["id"]), reverse=listing.sort_direction == "desc")
        start = listing.page * listing.per_page
        page = items[start : start + listing.per_page]
        body: dict[str, Any] = {
            "items": [present(i, query) for i in page],
            "count": len(page),
            "totalCount": len(items),
            "perPage": listing.per_page,
            "page": listing.page,
            "sortField": listing.sort_field,
            "sortDirection": listing.sort_direction,
            "applicationId": app_id,
        }
        if listing.filter_field:
            body["filterField"] = listing.filter_field
        if listing.filter:
            body["filter"] = listing.filter
        if _with_links(query):
            resource = listing.spec.resource
            body["_type"] = resource
            body["_links"] = {
                "self": {"href": f"/applications/{app_id}/{resource}"},
                "application": {"href": f"/applications/{app_id}"},
            }
        return body

    def _present(self, record: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        out = dict(record)
        if self.config.secrets == "mask":
            out = masked(out, self.config.secret_mask)  # a copy when there is anything to mask
        elif self.config.secrets == "omit":
            for path in secret_paths(record):
                parent: Any = out
                for part in path[:-1]:  # copy on the way down: the stored record keeps its secrets
                    parent[part] = copy.copy(parent[part])
                    parent = parent[part]
                del parent[path[-1]]
        return _linked(out, LISTINGS["list"], query)

    @staticmethod
    def _show_credential(record: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        return _linked(shown(record), LISTINGS["credentials"], query)

    def _with_defaults(self, record: dict[str, Any]) -> None:
        for config, defaults in self.config.server_defaults.items():
            if isinstance(record.get(config), dict):
                record[config] = {**copy.deepcopy(defaults), **record[config]}

    def _name_taken(self, app: dict[str, dict[str, Any]], name: str, own_id: str | None) -> None:
        if self.config.unique_names and any(i["name"] == name and i["id"] != own_id for i in app.values()):
            raise Refusal(400, "AlreadyExists", f"An integration named {name} already exists")

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

    def seed_credentials(self, application_id: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create credentials directly (no HTTP, no faults, no log); returns them as the list shows
        them (without secrets). `bodies` are Credential Post bodies, all checked before any is
        created: `{name, type, description?, enabled?, <type>Config?}`. Names are unique per
        application, since integrations refer to a credential by name."""
        if not isinstance(bodies, list):
            raise ValueError("credentials must be a list of Credential Post bodies")
        app_id = application_id.lower()
        if not OBJECT_ID.match(app_id):
            raise ValueError("applicationId must be 24 hexadecimal characters")
        with self.store.lock:
            names = {c["name"] for c in self.store.credentials.get(app_id, {}).values()}
            records = []
            for body in bodies:
                message = _schema_message(self._credential_post, body, "credential")
                if message:
                    raise ValueError(message)
                if body["name"] in names:
                    raise ValueError(f"a credential named {body['name']} already exists")
                names.add(body["name"])
                stamp = iso_ms(self.store.now_ms())
                records.append(new_credential(app_id, self.store.new_id(), stamp, body))  # may refuse
            # all or nothing: the state changes only once every body has passed
            self.store.applications.setdefault(app_id, {})
            self.store.credentials.setdefault(app_id, {}).update((r["id"], r) for r in records)
            self.store.save()
            return [shown(r) for r in records]

    def credentials(self, application_id: str) -> list[dict[str, Any]]:
        """The stored credentials of an application, as the list shows them (no links)."""
        with self.store.lock:
            return [shown(r) for r in self.store.credentials.get(application_id.lower(), {}).values()]

    def integrations(self, application_id: str) -> list[dict[str, Any]]:
        """The stored integrations of an application, as GET returns them (no links)."""
        with self.store.lock:
            app = self.store.applications.get(application_id.lower(), {})
            return [self._present(r, {"_links": "false"}) for r in app.values()]

    def reset(self) -> None:
        """Empty every application, clear the faults and the request log."""
        self.store.reset()
        self.faults.clear()
        with self._log_lock:
            self.log.clear()

    def _admin(self, method: str, path: str, body: bytes) -> Reply:
        try:
            data: Any = json.loads(body) if body.strip() else None
        except ValueError:
            return Reply(400, {"type": "Validation", "message": "body is not valid JSON"})
        handler = _ADMIN_ROUTES.get((method, path))
        seeding = re.fullmatch(r"/applications/([^/]+)/(integrations|credentials)", path)
        if handler is None and not (method == "POST" and seeding):
            return Reply(404, {"type": "NotFound", "message": f"no admin route {method} {path}"})
        try:
            if handler is not None:
                return handler(self, data)
            assert seeding is not None
            app_id, collection = seeding.groups()
            seed = self.seed if collection == "integrations" else self.seed_credentials
            return Reply(201, seed(app_id, data))
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


def _check_server_defaults(defaults: dict[str, dict[str, Any]]) -> None:
    """Every server default names a config object and a field of the published Integration
    schema, with a value that schema allows: a typo would otherwise silently do nothing."""
    configs = losant_schema("integration")["properties"]
    for config, fields in defaults.items():
        if config not in CONFIG_FIELDS.values():
            known = ", ".join(CONFIG_FIELDS.values())
            raise ValueError(f"server default {config}: not a config object; use one of {known}")
        if not isinstance(fields, dict):
            raise ValueError(f"server default {config}: give a mapping of field to value")
        for name, value in fields.items():
            schema = configs[config]["properties"].get(name)
            if schema is None:
                raise ValueError(f"server default {config}.{name}: {config} has no field {name}")
            if not Draft7Validator(schema).is_valid(value):
                raise ValueError(
                    f"server default {config}.{name}: {json.dumps(value)} is not a value the schema allows"
                )


def _builtin_defaults() -> dict[str, dict[str, Any]]:
    """A copy of the server defaults Losant is known to add (syncer.losant), ours to change."""
    return {key: copy.deepcopy(dict(fields)) for key, fields in CONFIG_DEFAULTS.items()}


def server_defaults_from_specs(specs: Iterable[str], *, builtin: bool = True) -> dict[str, dict[str, Any]]:
    """`--server-default` specs (`mqttConfig.clean=false`: a JSON value, a plain word is a
    string) on top of the built-in defaults (CONFIG_DEFAULTS) or of none. Raises ValueError."""
    defaults = _builtin_defaults() if builtin else {}
    for spec in specs:
        target, equals, raw = spec.partition("=")
        config, dot, name = target.partition(".")
        if not (equals and dot and config and name):
            raise ValueError(f"{spec!r}: write CONFIG.FIELD=JSON, e.g. mqttConfig.clean=false")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        defaults.setdefault(config, {})[name] = value
    _check_server_defaults(defaults)
    return defaults


def _with_links(query: dict[str, str]) -> bool:
    return query.get("_links", "true") != "false"


def _linked(out: dict[str, Any], spec: Listing, query: dict[str, str]) -> dict[str, Any]:
    """Adds `_type` and `_links` as bravado-core's Entity.toJSON does, unless `_links=false`."""
    if _with_links(query):
        href = f"/applications/{out['applicationId']}/{spec.resource}/{out['id']}"
        out["_type"] = spec.item
        out["_links"] = {"self": {"href": href}, spec.resource: {"href": href.rsplit("/", 1)[0]}}
    return out


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
    elif how == "deep":  # valid JSON, nested deeper than any parser should follow
        reply.raw = b"[" * 100_000 + b"]" * 100_000
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
