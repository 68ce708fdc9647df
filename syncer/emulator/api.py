"""The Losant endpoints the tool uses, as a plain function of a request: no HTTP server here.

Integrations (with their connection status), the credentials and workflows lists, the
application, and the organisation's audit log. Faithful to the published contract
(../shared/reference/losant-api.md): paths, query parameters, Post/Patch schema validation with
bravado-style messages, `{type, message}` errors, scopes, and the order of checks (validation,
token, scope, existence). Where the contract is silent the behaviour is a switch in
EmulatorConfig; the defaults are what the real API most likely does.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft7Validator

from syncer.emulator import flows as workflows
from syncer.emulator import status as connection
from syncer.emulator.audit import ACTOR_TYPES, actor_id
from syncer.emulator.audit import entry as audit_entry
from syncer.emulator.audit import filter_matches as audit_matches
from syncer.emulator.credentials import new_credential, shown
from syncer.emulator.faults import FaultRule, Faults, rule_from_json
from syncer.emulator.store import Store, epoch_ms, iso_ms
from syncer.losant import CONFIG_DEFAULTS, CONFIG_FIELDS, MAX_PER_PAGE, OBJECT_ID_PATTERN, SCOPES
from syncer.schema import losant_schema
from syncer.secrets import masked, secret_paths

OBJECT_ID = re.compile(OBJECT_ID_PATTERN)
COLLECTION = re.compile(r"^/applications/([^/]+)/integrations/?$")
ITEM = re.compile(r"^/applications/([^/]+)/integrations/([^/]+)/?$")
CREDENTIALS = re.compile(r"^/applications/([^/]+)/credentials/?$")
FLOWS = re.compile(r"^/applications/([^/]+)/flows/?$")
APPLICATION = re.compile(r"^/applications/([^/]+)/?$")
AUDIT_LOGS = re.compile(r"^/orgs/([^/]+)/audit-logs/?$")
ADMIN_PREFIX = "/_emulator"
# Accept-Version values the emulator serves: `*`, or one comparator (none, =, ^, ~, >=) on a
# version of major 1 (`1.30.0`, `1.30`, `1.x`, `1`). The official clients send `^1.30.0` (js,
# v1.30.0) and `^1.31.0` (losant-rest 2.3.0); Losant's exact rule is not published.
ACCEPT_VERSION = re.compile(r"^\s*(?:\*|(?:=|\^|~|>=)?\s*v?1(?:\.(?:\d+|[xX*])){0,2})\s*$")
DEFAULT_PER_PAGE = 100
DEFAULT_TOKEN = "emulator-token"  # noqa: S105 - the emulator's own demo token, not a secret
DEFAULT_APPLICATION = "5f3e6a1b2c4d5e6f7a8b9c0d"  # the application tests and the banner use
DEFAULT_ORGANIZATION = "5f3e6a1b2c4d5e6f7a8b9c01"  # the owner of every application unless told
# reads the organisation's audit log (an application token may not); writes nothing
DEFAULT_ORG_TOKEN = "emulator-org-token"  # noqa: S105 - the emulator's own demo token, not a secret
DEFAULT_CONNECT_DELAY = 0.5  # seconds from a write to the connection it reports
MAX_DELAY = 86_400  # a day: longer is a mistake, and a timestamp so far out is one no client reads

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

    resource: str  # the path segment, also the list's `_type` unless `collection` says otherwise
    item: str  # an item's `_type`
    sort_fields: tuple[str, ...]
    sort_field: str  # the defaults
    sort_direction: str
    filter_fields: tuple[str, ...]  # () when the list has no filterField parameter
    parent: Literal["application", "org"] = "application"  # whose list: the path and the owner key
    collection: str = ""  # the list's `_type` and link name, when not `resource` (auditLogs)

    @property
    def kind(self) -> str:
        return self.collection or self.resource

    def base(self, owner_id: str) -> str:
        return f"/orgs/{owner_id}" if self.parent == "org" else f"/applications/{owner_id}"

    @property
    def owner_key(self) -> str:
        return "orgId" if self.parent == "org" else "applicationId"


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
    "auditLogs": Listing(
        "audit-logs",
        "auditLog",
        ("creationDate", "responseStatus", "actorName"),
        "creationDate",
        "desc",
        (),
        "org",
        "auditLogs",
    ),
}
# the path parameters of each action, in order (the others: applicationId, integrationId)
PATH_PARAMS = {"auditLogs": ("orgId",)}
WRITES = ("post", "patch", "delete")


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


_DEFAULT_ACTORS: dict[str, tuple[str, str, str]] = {
    DEFAULT_TOKEN: ("Emulator API token", "ApiToken", actor_id(DEFAULT_TOKEN)),
    DEFAULT_ORG_TOKEN: ("Emulator organization token", "ApiToken", actor_id(DEFAULT_ORG_TOKEN)),
}


@dataclass
class EmulatorConfig:
    """How the emulator behaves: tokens, applications, and the switches for what the contract
    leaves open (docs/emulator.md)."""

    tokens: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            DEFAULT_TOKEN: ("all.Application",),
            DEFAULT_ORG_TOKEN: ("all.Organization.read",),
        }
    )
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
    # an integration reports its connection this many seconds after a write through the API
    connect_delay: float = DEFAULT_CONNECT_DELAY
    # integration name -> the error its connection fails with, e.g. "Connection refused: bad
    # username or password"; the others connect
    failing: dict[str, str] = field(default_factory=dict)
    # application id -> (ownerType "organization" or "user", ownerId); the others belong to
    # `organization`
    owners: dict[str, tuple[str, str]] = field(default_factory=dict)
    organization: str = DEFAULT_ORGANIZATION
    # token -> (actorName, actorType, actorId) in the audit log; another token is an ApiToken
    # named after a digest of it (never the token itself)
    actors: dict[str, tuple[str, str, str]] = field(default_factory=lambda: dict(_DEFAULT_ACTORS))
    # how the object-valued query parameters (triggerFilter, query, auditLogFilter) may come:
    # JSON or bracket notation (both), only JSON (brackets ignored), or only bracket notation
    # (a JSON string is the wrong type; arrays of at most 21 items, as the qs parser makes them)
    query_objects: Literal["both", "json", "brackets"] = "both"


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
        _check_people(self.config)
        self.store = Store(self.config.state_file, self.config.applications)
        self.faults = Faults(
            list(self.config.faults), self.config.latency, self.config.jitter, self.config.seed
        )
        self.tokens = dict(self.config.tokens)
        self.actors = {**_DEFAULT_ACTORS, **self.config.actors}  # the default tokens keep theirs
        self._owners = {a.lower(): (t, i.lower()) for a, (t, i) in self.config.owners.items()}
        self.expired: set[str] = set()
        self.log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self.connect_delay = self.config.connect_delay
        self.failing = dict(self.config.failing)  # by name
        self.failing_ids: dict[str, str | None] = {}  # by id, over the names: None is healthy
        self._post = Draft7Validator(losant_schema("integrationPost"))
        self._patch = Draft7Validator(losant_schema("integrationPatch"))
        self._credential_post = Draft7Validator(losant_schema("credentialPost"))
        self._trigger_filter = Draft7Validator(losant_schema("flowTriggerFilter"))
        self._advanced_query = Draft7Validator(workflows.advanced_query_schema())
        self._audit_filter = Draft7Validator(losant_schema("auditLogFilter"))

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
        if m := FLOWS.match(path):  # only the list: workflows are seeded, not created
            return ("flows" if method == "GET" else "405"), m.groups()
        if m := APPLICATION.match(path):  # only GET: the emulator never changes an application
            return ("application" if method == "GET" else "405"), m.groups()
        if m := AUDIT_LOGS.match(path):
            return ("auditLogs" if method == "GET" else "405"), m.groups()
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
        names = PATH_PARAMS.get(action, ("applicationId", "integrationId"))
        for name, value in zip(names, params, strict=False):
            if not OBJECT_ID.match(value):
                raise _validation(f"{name} pattern mismatch")
        parsed: Any = None
        if action in LISTINGS:
            listing = self._list_params(query, LISTINGS[action])
        if action == "flows":
            keep, flow_class = self._flow_filter(query)
            if flow_class is None:  # `query` overrides filterField and filter too
                listing = dataclasses.replace(listing, filter_field=None, filter=None)
        if action == "auditLogs":
            window, wanted = self._audit_filter_params(query)
        if action in ("post", "patch"):
            parsed = self._parse_body(body, self._post if action == "post" else self._patch)
        # 2. token, 3. scope
        token = self._authorize(action, headers, query)
        # 4. existence
        if action == "auditLogs":
            return Reply(200, self._audit_logs(params[0].lower(), listing, window, wanted, query))
        app_id = params[0].lower()
        with self.store.lock:
            app = self.store.applications.get(app_id)
            if app is None and self.config.auto_create_applications:
                app = self.store.applications.setdefault(app_id, {})
            if app is None:
                raise Refusal(404, "NotFound", "Application was not found")
            if action == "application":
                return Reply(200, self._application(app_id, query))
            if action == "list":
                present = functools.partial(self._present, now=self.store.clock_ms())  # one moment
                return Reply(200, self._list(app_id, list(app.values()), listing, query, present))
            if action == "credentials":
                credentials = list(self.store.credentials.get(app_id, {}).values())
                return Reply(200, self._list(app_id, credentials, listing, query, self._show_credential))
            if action == "flows":
                kept = [f for f in self.store.flows.get(app_id, {}).values() if keep(f)]
                page = self._list(app_id, kept, listing, query, self._show_flow)
                if flow_class is not None:
                    page["flowClass"] = flow_class
                return Reply(200, page)
            if action in WRITES:
                return self._audited(action, call, token, app_id, app, parsed)
            record = app.get(params[1].lower())
            if record is None:
                raise Refusal(404, "NotFound", "Integration was not found")
            return Reply(200, self._present(record, query))

    def _write(
        self, action: str, call: Call, app_id: str, app: dict[str, dict[str, Any]], parsed: Any
    ) -> Reply:
        if action == "post":
            return Reply(201, self._present(self._create(app_id, app, parsed, api=True), call.query))
        integration_id = call.params[1].lower()
        record = app.get(integration_id)
        if record is None:
            raise Refusal(404, "NotFound", "Integration was not found")
        if action == "patch":
            return Reply(200, self._present(self._update(app, record, parsed), call.query))
        del app[integration_id]
        self.store.connections.pop(integration_id, None)
        self.failing_ids.pop(integration_id, None)
        if call.query.get("includeWorkflows", "").lower() in ("true", "1", "yes"):
            used = self.store.flows.get(app_id, {})
            for flow_id in [f["id"] for f in used.values() if _uses(f, integration_id)]:
                del used[flow_id]
        self.store.save()
        return Reply(200, {"success": True})

    def _audited(
        self, action: str, call: Call, token: str, app_id: str, app: dict[str, dict[str, Any]], parsed: Any
    ) -> Reply:
        """A write, recorded in the audit log of the application owner's organisation."""
        target = None if action == "post" else call.params[1].lower()
        before = app.get(target) if target else None
        try:
            reply = self._write(action, call, app_id, app, parsed)
        except Refusal as exc:
            name = before["name"] if before else (parsed or {}).get("name") if action == "post" else None
            error = {"type": exc.error_type, "message": exc.message}
            self._audit(action, call, token, app_id, (target, name), exc.status, error, parsed)
            raise
        if action == "post":
            target = reply.body["id"]
        name = before["name"] if action == "delete" and before else reply.body.get("name")
        self._audit(action, call, token, app_id, (target, name), reply.status, reply.body, parsed)
        return reply

    def _audit(
        self,
        action: str,
        call: Call,
        token: str,
        app_id: str,
        integration: tuple[str | None, str | None],
        status: int,
        answer: Any,
        parsed: Any,
    ) -> None:
        owner_type, owner_id = self.owner(app_id)
        if owner_type != "organization":
            return  # a user's application belongs to no organisation: no audit log has it
        path_params = {"applicationId": app_id}
        if integration[0] is not None and action != "post":
            path_params["integrationId"] = integration[0]
        entry_id = self.store.new_id()
        self.store.audit_logs.append(
            audit_entry(
                entry_id=entry_id,
                stamp=iso_ms(self.store.now_ms()),
                org_id=owner_id,
                application=(app_id, self._application_name(app_id)),
                integration=integration,
                actor=self.actor(token),
                resource="integrations" if action == "post" else "integration",
                action=action,
                path_params=path_params,
                query=call.query,
                body=copy.deepcopy(parsed),
                status=status,
                answer=copy.deepcopy(answer),
            )
        )
        self.store.save()

    def actor(self, token: str) -> tuple[str, str, str]:
        """The audit log's actor for a token: configured, or an API token named by a digest."""
        known = self.actors.get(token)
        if known is not None:
            return known
        digest = actor_id(token)
        return (f"API token {digest[:6]}", "ApiToken", digest)

    def owner(self, application_id: str) -> tuple[str, str]:
        """(ownerType, ownerId) of an application: declared, configured, or the default org."""
        app_id = application_id.lower()
        with self.store.lock:
            info = self.store.application_info.get(app_id, {})
        if "ownerType" in info:
            return info["ownerType"], info["ownerId"]
        return self._owners.get(app_id, ("organization", self.config.organization.lower()))

    def _organizations(self) -> set[str]:
        owners = [*self._owners.values(), *(self.owner(a) for a in self.store.application_info)]
        return {self.config.organization.lower(), *(i for t, i in owners if t == "organization")}

    def _application_name(self, app_id: str) -> str:
        return str(self.store.application(app_id).get("name") or f"Application {app_id}")

    def _application(self, app_id: str, query: dict[str, str]) -> dict[str, Any]:
        info = self.store.application(app_id)
        owner_type, owner_id = self.owner(app_id)
        out: dict[str, Any] = {
            "id": app_id,
            "applicationId": app_id,
            "creationDate": info["creationDate"],
            "lastUpdated": info["creationDate"],  # the emulator never changes an application
            "name": self._application_name(app_id),
            "ownerId": owner_id,
            "ownerType": owner_type,
            "globals": [],
            "summary": {
                "credentialCount": len(self.store.credentials.get(app_id, {})),
                "flowCount": len(self.store.flows.get(app_id, {})),
                "integrationCount": len(self.store.applications.get(app_id, {})),
            },
        }
        if _with_links(query):  # the links losant-rest-js's apiInfo.json gives the resource
            base = f"/applications/{app_id}"
            out["_type"] = "application"
            out["_links"] = {
                "self": {"href": base},
                "applicationKeys": {"href": f"{base}/keys"},
                "applications": {"href": "/applications"},
                "data": {"href": f"{base}/data"},
                "deviceRecipes": {"href": f"{base}/device-recipes"},
                "devices": {"href": f"{base}/devices"},
                "events": {"href": f"{base}/events"},
                "flows": {"href": f"{base}/flows"},
                "webhooks": {"href": f"{base}/webhooks"},
            }
        return out

    def _audit_logs(
        self,
        org_id: str,
        listing: ListQuery,
        window: tuple[int | None, int | None],
        wanted: dict[str, Any],
        query: dict[str, str],
    ) -> dict[str, Any]:
        start, end = window
        with self.store.lock:
            if org_id not in self._organizations():
                raise Refusal(404, "NotFound", "Organization was not found")
            entries = []
            for record in self.store.audit_logs:
                when = epoch_ms(record["creationDate"])
                if record["orgId"] != org_id or (start is not None and when < start):
                    continue
                if (end is None or when <= end) and audit_matches(record, wanted):
                    entries.append(record)
            return self._list(org_id, entries, listing, query, self._show_audit)

    def _flow_filter(self, query: dict[str, str]) -> tuple[Callable[[dict[str, Any]], bool], str | None]:
        """Which flows the list keeps, and the flowClass it names (None when `query` decides)."""
        flow_class = query.get("flowClass") or workflows.DEFAULT_FLOW_CLASS
        if flow_class not in workflows.FLOW_CLASSES:
            raise _validation("flowClass must be an enum value")
        triggers = self._object_param(query, "triggerFilter", self._trigger_filter)
        advanced = self._object_param(query, "query", self._advanced_query)
        if advanced is not None:
            empty = workflows.empty_logical(advanced)
            if empty:
                raise _validation(f"{empty} has less items than allowed")  # MongoDB refuses it
            return (lambda flow: workflows.query_matches(flow, advanced)), None

        def keep(flow: dict[str, Any]) -> bool:
            if flow.get("flowClass", workflows.DEFAULT_FLOW_CLASS) != flow_class:
                return False
            return not triggers or workflows.trigger_filter_matches(flow, triggers)  # [] filters nothing

        return keep, flow_class

    def _audit_filter_params(
        self, query: dict[str, str]
    ) -> tuple[tuple[int | None, int | None], dict[str, Any]]:
        bounds: list[int | None] = []
        for name in ("start", "end"):
            raw = query.get(name, "")
            if raw and not raw.isdigit():
                raise _validation(f"{name} is the wrong type")  # milliseconds since the epoch
            bounds.append(int(raw) if raw else None)
        wanted = self._object_param(query, "auditLogFilter", self._audit_filter)
        return (bounds[0], bounds[1]), wanted or {}

    def _object_param(self, query: dict[str, str], name: str, validator: Draft7Validator) -> Any:
        """An object-valued query parameter, checked against its schema; None when absent."""
        mode = self.config.query_objects
        value = workflows.object_param(
            query,
            name,
            json_ok=mode != "brackets",
            brackets_ok=mode != "json",
            limit=workflows.QS_ARRAY_LIMIT if mode == "brackets" else None,
        )
        if workflows.missing(value):
            return None
        if workflows.is_raw(value):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise _validation(f"{name} is not valid JSON") from exc
        message = _schema_message(validator, value, name)
        if message:
            raise _validation(message)
        return value

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
        if not spec.filter_fields:  # not a parameter of this list: ignored, as undeclared ones are
            return ListQuery(
                spec, numbers["page"], numbers["perPage"], sort_field, sort_direction, None, None
            )
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

    def _authorize(self, action: str, headers: Mapping[str, str], query: dict[str, str]) -> str:
        """The token, once it is known and its scopes allow `action`."""
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
        return token

    @staticmethod
    def _list(
        owner_id: str,
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
            listing.spec.owner_key: owner_id,
        }
        if listing.filter_field:
            body["filterField"] = listing.filter_field
        if listing.filter:
            body["filter"] = listing.filter
        if _with_links(query):
            spec = listing.spec
            body["_type"] = spec.kind
            body["_links"] = {
                "self": {"href": f"{spec.base(owner_id)}/{spec.resource}"},
                spec.parent: {"href": spec.base(owner_id)},
            }
        return body

    def _present(
        self, record: dict[str, Any], query: dict[str, str], now: int | None = None
    ) -> dict[str, Any]:
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
        out["status"] = self._status(record, now)
        return _linked(out, LISTINGS["list"], query)

    @staticmethod
    def _show_credential(record: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        return _linked(shown(record), LISTINGS["credentials"], query)

    @staticmethod
    def _show_flow(record: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        return _linked(copy.deepcopy(record), LISTINGS["flows"], query)

    @staticmethod
    def _show_audit(record: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        return _linked(copy.deepcopy(record), LISTINGS["auditLogs"], query)

    # -- connection status --------------------------------------------------------------------

    def _error_for(self, record: dict[str, Any]) -> str | None:
        """The error the integration's connection fails with (None: it connects)."""
        if record.get("id") in self.failing_ids:
            return self.failing_ids[record["id"]]
        return self.failing.get(record.get("name", ""))

    def _status(self, record: dict[str, Any], now: int | None = None) -> dict[str, Any]:
        conn = self.store.connections.get(record.get("id", ""))
        if conn is None:  # seeded, or planted by hand: connected since it was made
            conn = connection.seeded(epoch_ms(record.get("creationDate", "")))
        moment = self.store.clock_ms() if now is None else now
        return connection.status_at(conn, self._error_for(record), moment)

    def _written(self, integration_id: str, before: dict[str, Any] | None, at: int) -> None:
        """A write through the API at `at` (ms): the connection restarts, and its outcome shows
        `connect_delay` later (at least 1 ms: always after the write). `before` is the record
        as it was (None for a create: never connected)."""
        status = connection.NEVER if before is None else self._status(before, at)
        settles = at + max(1, round(self.connect_delay * 1000))
        self.store.connections[integration_id] = connection.event(at, settles, status, restart=True)

    def _switch(self, records: list[dict[str, Any]], change: Callable[[], None]) -> None:
        """Apply a change of the failing switch; the integrations it changes reconnect or fail."""
        with self.store.lock:
            before = {r["id"]: (self._error_for(r), self._status(r)) for r in records}
            change()
            now = self.store.now_ms()
            for record in records:
                error, status = before[record["id"]]
                if self._error_for(record) != error:
                    self.store.connections[record["id"]] = connection.event(now, now, status, restart=False)
            self.store.save()

    def _with_defaults(self, record: dict[str, Any]) -> None:
        for config, defaults in self.config.server_defaults.items():
            if isinstance(record.get(config), dict):
                record[config] = {**copy.deepcopy(defaults), **record[config]}

    def _name_taken(self, app: dict[str, dict[str, Any]], name: str, own_id: str | None) -> None:
        if self.config.unique_names and any(i["name"] == name and i["id"] != own_id for i in app.values()):
            raise Refusal(400, "AlreadyExists", f"An integration named {name} already exists")

    def _create(
        self, app_id: str, app: dict[str, dict[str, Any]], body: dict[str, Any], *, api: bool
    ) -> dict[str, Any]:
        """A new integration: through the API (`api`), or seeded (connected from the start)."""
        self._name_taken(app, body["name"], None)
        new_id = self.store.new_id()
        now = self.store.now_ms()
        stamp = iso_ms(now)
        record: dict[str, Any] = {
            "id": new_id,
            "integrationId": new_id,
            "applicationId": app_id,
            "creationDate": stamp,
            "lastUpdated": stamp,
            "enabled": True,
            "topics": [],
            **copy.deepcopy(body),
        }
        self._with_defaults(record)
        app[new_id] = record
        if api:
            self._written(new_id, None, now)
        # else no connection event: a seeded integration is connected since its creationDate
        self.store.save()
        return record

    def _update(
        self, app: dict[str, dict[str, Any]], record: dict[str, Any], body: dict[str, Any]
    ) -> dict[str, Any]:
        if "name" in body:
            self._name_taken(app, body["name"], record["id"])
        updated = dict(record)
        updated.pop("status", None)  # computed when shown (older state files stored one)
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
        now = self.store.now_ms()
        updated["lastUpdated"] = iso_ms(now)
        self._written(record["id"], record, now)
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
            return [
                self._present(self._create(app_id, app, b, api=False), {"_links": "false"}) for b in bodies
            ]

    def seed_credentials(self, application_id: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create credentials directly (no HTTP, no faults, no log); returns them as the list shows
        them (without secrets). `bodies` are Credential Post bodies, all checked before any is
        created: `{name, type, description?, enabled?, <type>Config?}`. Names are unique per
        application, since integrations refer to a credential by name."""
        app_id = _seeding(application_id, bodies, "credentials must be a list of Credential Post bodies")
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

    def seed_flows(self, application_id: str, flows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create workflows directly (no HTTP, no faults, no log); returns them as the list shows
        them (no links). Each is `{name, flowClass?: "cloud", triggers?: [{type, key}, ...],
        enabled?: true, description?, nodes?, globals?}`, e.g. a workflow an integration
        triggers: `{"name": "On data", "triggers": [{"type": "integration", "key": ID}]}`. The
        emulator fills in the ids, dates and the rest the published read schema has; all are
        checked against it before any is created."""
        app_id = _seeding(
            application_id, flows, "flows must be a list of workflows: [{name, flowClass?, triggers?}]"
        )
        with self.store.lock:
            stamp = iso_ms(self.store.now_ms())
            records = [workflows.new_flow(app_id, self.store.new_id(), stamp, body) for body in flows]
            self.store.applications.setdefault(app_id, {})
            self.store.flows.setdefault(app_id, {}).update((r["id"], r) for r in records)
            self.store.save()
            return [copy.deepcopy(r) for r in records]

    def flows(self, application_id: str) -> list[dict[str, Any]]:
        """The stored workflows of an application, as the list shows them (no links)."""
        with self.store.lock:
            return [copy.deepcopy(r) for r in self.store.flows.get(application_id.lower(), {}).values()]

    def audit_logs(self, org_id: str | None = None) -> list[dict[str, Any]]:
        """The audit log entries of an organisation (default: the default one), oldest first."""
        org = (org_id or self.config.organization).lower()
        with self.store.lock:
            return [copy.deepcopy(e) for e in self.store.audit_logs if e["orgId"] == org]

    def fail(self, name: str, error: str | None) -> None:
        """From now on the integrations named `name`, existing or to come, fail to connect with
        `error` (None: they connect). One that exists shows it at once."""
        _check_error(error)
        with self.store.lock:
            named = [
                r for app in self.store.applications.values() for r in app.values() if r.get("name") == name
            ]

            def change() -> None:
                if error is None:
                    self.failing.pop(name, None)
                else:
                    self.failing[name] = str(error)

            self._switch(named, change)

    def fail_integration(self, application_id: str, integration_id: str, error: str | None) -> dict[str, Any]:
        """The same for one integration, whatever its name (None: it connects, even if its name
        fails); returns its status. KeyError when there is no such integration."""
        _check_error(error)
        integration_id = integration_id.lower()
        with self.store.lock:
            record = self.store.applications.get(application_id.lower(), {}).get(integration_id)
            if record is None:
                raise KeyError(f"no integration {integration_id} in application {application_id}")

            def change() -> None:
                self.failing_ids[integration_id] = None if error is None else str(error)

            self._switch([record], change)
            return self._status(record)

    def reset(self) -> None:
        """Empty every application, clear the faults, the failing switches and the request log;
        the connect delay is the configured one again."""
        self.store.reset()
        self.faults.clear()
        self.failing = dict(self.config.failing)
        self.failing_ids.clear()
        self.connect_delay = self.config.connect_delay
        with self._log_lock:
            self.log.clear()

    def _admin(self, method: str, path: str, body: bytes) -> Reply:
        try:
            data: Any = json.loads(body) if body.strip() else None
        except ValueError:
            return Reply(400, {"type": "Validation", "message": "body is not valid JSON"})
        handler = _ADMIN_ROUTES.get((method, path))
        seeding = re.fullmatch(r"/applications/([^/]+)/(integrations|credentials|flows)", path)
        status = re.fullmatch(r"/applications/([^/]+)/integrations/([^/]+)/status", path)
        if handler is None and not (method == "POST" and (seeding or status)):
            return Reply(404, {"type": "NotFound", "message": f"no admin route {method} {path}"})
        try:
            if handler is not None:
                return handler(self, data)
            if status is not None:
                if not isinstance(data, dict) or "error" not in data:
                    raise ValueError(
                        'give {"error": "<message>"} to make it fail, {"error": null} to heal it'
                    )
                try:
                    app_id, integration_id = status.groups()
                    return Reply(200, self.fail_integration(app_id, integration_id, data["error"]))
                except KeyError as exc:
                    return Reply(404, {"type": "NotFound", "message": str(exc.args[0])})
            assert seeding is not None
            app_id, collection = seeding.groups()
            seed = {"integrations": self.seed, "credentials": self.seed_credentials, "flows": self.seed_flows}
            return Reply(201, seed[collection](app_id, data))
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
    """`{"token": T, "scopes": [...], "actor": {"name", "type"?, "id"?}}`: the actor is who the
    audit log says acted (type default User, id derived from the token)."""
    token = str(data["token"])
    actor = data.get("actor")
    if actor is not None:
        if not isinstance(actor, dict) or "name" not in actor:
            raise ValueError('actor: give {"name": ..., "type"?: ..., "id"?: ...}')
        chosen = (str(actor["name"]), str(actor.get("type", "User")), str(actor.get("id", actor_id(token))))
        _check_actor(token, chosen)
        emu.actors[token] = chosen
    emu.tokens[token] = tuple(data.get("scopes", ("all.Application",)))
    emu.expired.discard(token)
    return Reply(201, {"tokens": len(emu.tokens)})


def _set_failing(emu: Emulator, data: Any) -> Reply:
    """`{"name": N, "error": "<message>"}` makes integrations named N fail; `"error": null` heals."""
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or "error" not in data:
        raise ValueError('give {"name": "<integration name>", "error": "<message>" or null}')
    emu.fail(data["name"], data["error"])
    return Reply(200, dict(emu.failing))


def _check_error(error: Any) -> None:
    if error is not None and not isinstance(error, str):
        raise ValueError("error must be a string (the message Losant shows), or null to heal")


def _set_connect_delay(emu: Emulator, data: Any) -> Reply:
    seconds = data["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= MAX_DELAY:
        raise ValueError(f"seconds must be a number from 0 to {MAX_DELAY}")  # NaN fails the range too
    emu.connect_delay = float(seconds)
    return Reply(200, {"seconds": seconds})


def _revoke_token(emu: Emulator, data: Any) -> Reply:
    """`{"token": T}` makes T invalid (401 Invalid access token); `"expire": true` expires it."""
    token = str(data["token"])
    if data.get("expire"):
        emu.expired.add(token)
    else:
        emu.tokens.pop(token, None)
    return Reply(200, {"tokens": len(emu.tokens)})


def _seeding(application_id: str, items: Any, not_a_list: str) -> str:
    """The application id (lowercased) of a seeding call, once its arguments are checked."""
    if not isinstance(items, list):
        raise ValueError(not_a_list)
    app_id = application_id.lower()
    if not OBJECT_ID.match(app_id):
        raise ValueError("applicationId must be 24 hexadecimal characters")
    return app_id


def _declare_application(emu: Emulator, data: Any) -> Reply:
    """`{"id": ID, "name"?: ..., "ownerType"?: "organization" | "user", "ownerId"?: ID}`."""
    app_id = str(data["id"]).lower()
    if not OBJECT_ID.match(app_id):
        raise ValueError("id must be 24 hexadecimal characters")
    details: dict[str, Any] = {}
    if "name" in data:
        if not isinstance(data["name"], str) or not 1 <= len(data["name"]) <= 255:
            raise ValueError("name must be 1 to 255 characters")
        details["name"] = data["name"]
    if "ownerType" in data or "ownerId" in data:
        owner = (
            str(data.get("ownerType", "organization")),
            str(data.get("ownerId", emu.config.organization)),
        )
        _check_owner(app_id, owner)
        details.update(ownerType=owner[0], ownerId=owner[1].lower())
    with emu.store.lock:
        emu.store.applications.setdefault(app_id, {})
        emu.store.application(app_id).update(details)
        emu.store.save()
    return Reply(201, {"id": app_id, **details})


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


def _check_owner(app_id: str, owner: tuple[str, str]) -> None:
    owner_type, owner_id = owner
    if owner_type not in ("organization", "user"):
        raise ValueError(f"owner of {app_id}: the type is organization or user, not {owner_type!r}")
    if not OBJECT_ID.match(owner_id):
        raise ValueError(f"owner of {app_id}: {owner_id!r} is not 24 hexadecimal characters")


def _check_actor(token: str, actor: tuple[str, str, str]) -> None:
    name, actor_type, ident = actor
    what = "the actor of a token"  # never the token itself: it is a secret
    if not 1 <= len(name) <= 1024:
        raise ValueError(f"{what}: the name must be 1 to 1024 characters")
    if actor_type not in ACTOR_TYPES:
        raise ValueError(f"{what}: the type must be one of {', '.join(ACTOR_TYPES)}, not {actor_type!r}")
    if not OBJECT_ID.match(ident):
        raise ValueError(f"{what}: the id {ident!r} is not 24 hexadecimal characters")


def _check_people(config: EmulatorConfig) -> None:
    """Owners, actors, the organisation and the connection switches, checked at start: the
    published schemas would refuse what a typo here makes."""
    if not OBJECT_ID.match(config.organization):
        raise ValueError(f"organization {config.organization!r} is not 24 hexadecimal characters")
    for app_id, owner in config.owners.items():
        if not OBJECT_ID.match(app_id):
            raise ValueError(f"owners: {app_id!r} is not an application id (24 hexadecimal characters)")
        _check_owner(app_id, owner)
    for token, actor in config.actors.items():
        _check_actor(token, actor)
    if not 0 <= config.connect_delay <= MAX_DELAY:
        raise ValueError(f"connect_delay must be from 0 to {MAX_DELAY} seconds")
    if config.query_objects not in ("both", "json", "brackets"):
        raise ValueError("query_objects must be both, json or brackets")


def _uses(flow: dict[str, Any], integration_id: str) -> bool:
    """The workflow is triggered by the integration, or one of its nodes names it."""
    triggered = any(
        isinstance(t, dict) and t.get("type") == "integration" and t.get("key") == integration_id
        for t in flow.get("triggers", [])
    )
    named = any(
        isinstance(n, dict)
        and isinstance(n.get("config"), dict)
        and n["config"].get("integrationId") == integration_id
        for n in flow.get("nodes", [])
    )
    return triggered or named


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
        href = f"{spec.base(out[spec.owner_key])}/{spec.resource}/{out['id']}"
        out["_type"] = spec.item
        out["_links"] = {"self": {"href": href}, spec.kind: {"href": href.rsplit("/", 1)[0]}}
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
    ("POST", "/failing"): _set_failing,
    ("PUT", "/connect-delay"): _set_connect_delay,
    ("POST", "/tokens/revoke"): _revoke_token,
    ("POST", "/applications"): _declare_application,
    ("GET", "/state"): lambda emu, d: Reply(200, emu.store.snapshot()),
}
