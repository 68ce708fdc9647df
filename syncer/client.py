"""The Losant integrations API as syncer uses it: retries, one shared rate limiter, and errors a
user can act on. HTTP itself is in `syncer._http`.

Retry policy: GET, PATCH and DELETE are retried on 429, 500, 502, 503, 504 and connection
errors, with exponential backoff and jitter (Retry-After wins when the API sends it), bounded in
attempts and in total time. POST is retried only when it surely was not processed (429, or the
connection never opened); otherwise it is never sent again: `UncertainWrite` says the outcome is
unknown, and the caller finds out by reading. Any write whose answer cannot be read (a 2xx with
an empty, HTML or truncated body), or whose last attempt may have been processed, is uncertain
too. `cancel` (an Event) stops every retry and every wait at once: nothing new is sent.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import stamina

from syncer._http import HttpReply, HttpSession, MaybeSent, NotSent, TlsRefused, TooLarge, Unreachable
from syncer.errors import Cancelled, SyncerError, counted
from syncer.losant import ACTION_WORDS, API_VERSION, MAX_PER_PAGE, SCOPES
from syncer.secrets import mask_value

# stamina logs each scheduled retry at WARNING; without a handler Python would print it raw.
# syncer reports retries itself (with --debug).
logging.getLogger("stamina").addHandler(logging.NullHandler())
logging.getLogger("stamina").propagate = False

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How patient each request is: attempts (429s count against the time only) and seconds."""

    attempts: int = 5  # in all, the first one included (429s count against the time only)
    timeout: float = 60.0  # total seconds for one request and its retries
    wait_initial: float = 0.2
    wait_max: float = 10.0
    wait_jitter: float = 0.2
    retry_after_cap: float = 60.0


class ApiError(SyncerError):
    """A request the API refused or that failed for good: one line naming the request."""

    def __init__(
        self, message: str, *, status: int | None = None, error_type: str = "", api_message: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type  # Losant's error type, e.g. NotFound, Validation
        self.api_message = api_message


class UncertainWrite(Exception):
    """A write that may or may not have been applied: only a fresh read can tell."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Retry(Exception):
    def __init__(
        self,
        reason: str,
        retry_after: float | None = None,
        reply: HttpReply | None = None,
        *,
        maybe_done: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.reply = reply
        self.maybe_done = maybe_done  # the server may have acted on this attempt


class AdaptiveLimiter:
    """One limiter for all concurrent requests of a run.

    After a 429 every request waits until the pause ends (Retry-After, or the current spacing),
    then requests start at least `interval` apart. The spacing doubles on a 429 (once per
    spacing: the 429s of requests that were already in flight together count once) and halves
    on each success, so the whole run slows down together and recovers within a few requests.
    """

    MIN_STEP = 0.05
    MAX_INTERVAL = 1.0

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self.interval = 0.0
        self._paused_until = 0.0
        self._next_start = 0.0
        self._last_throttle = float("-inf")

    def acquire(self) -> None:
        """Wait for this request's turn (no wait until the first 429)."""
        with self._lock:
            now = self._clock()
            start = max(now, self._paused_until, self._next_start)
            self._next_start = start + self.interval
        if start > now:
            self._sleep(start - now)

    def throttled(self, retry_after: float | None) -> None:
        """A 429 was answered: pause every request, and space them further apart."""
        with self._lock:
            now = self._clock()
            if now - self._last_throttle >= self.interval:
                self.interval = min(self.MAX_INTERVAL, max(self.MIN_STEP, self.interval * 2))
                self._last_throttle = now
            pause = retry_after if retry_after is not None else self.interval
            self._paused_until = max(self._paused_until, now + pause)

    def succeeded(self) -> None:
        """An answer that was not a 429: the spacing shrinks back."""
        with self._lock:
            if self.interval:
                self.interval = self.interval / 2 if self.interval > 0.02 else 0.0


def retry_after_seconds(value: str | None, cap: float, now: Callable[[], float] = time.time) -> float | None:
    """Retry-After as seconds (a number or an HTTP date), capped; None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = moment.timestamp() - now()
    return max(0.0, min(seconds, cap))


def shown_url(url: str) -> str:
    """A URL fit for a one-line message: credentials masked, control characters escaped."""
    head, at, tail = url.rpartition("@")
    if at and "://" in head:
        url = head.split("://", 1)[0] + "://***@" + tail
    return repr(url[:200])


def check_api_url(url: str, *, origin: str = "--api-url / LOSANT_API_URL") -> str:
    """The base URL every request goes to, checked before any request.

    https only (http only to a loopback host, the emulator); no credentials, query, fragment,
    whitespace or control characters, since each would change where or how the token is sent.
    """
    shown = shown_url(url)
    if not url or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise SyncerError(
            f"API URL {shown} ({origin}) is empty or holds whitespace or control characters; "
            "write it as e.g. https://api.losant.com"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise SyncerError(
            f"API URL {shown} ({origin}) cannot be read ({exc}); e.g. https://api.losant.com"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyncerError(f"API URL {shown} ({origin}) is not an http(s) URL; e.g. https://api.losant.com")
    if not _is_host(parts.hostname):
        raise SyncerError(
            f"API URL {shown} ({origin}) does not name a host (letters, digits and hyphens between "
            "dots, an IP address, or an international name written in punycode: xn--...)"
        )
    if "@" in parts.netloc:
        raise SyncerError(
            f"API URL {shown} ({origin}) holds a user name or password, which would be sent instead of "
            "the token; remove the part before @"
        )
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise SyncerError(
            f"API URL {shown} ({origin}) has a query or fragment; give only scheme, host, port and path"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise SyncerError(
            f"refusing http:// to {parts.hostname}: the token would travel unencrypted; "
            "use https:// (plain http is allowed only to a loopback address such as the emulator)"
        )
    return url.rstrip("/")


def is_losant_host(url: str) -> bool:
    """https to Losant's own domain: the only URL a file under review may choose by itself."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and (host == "losant.com" or host.endswith(".losant.com"))


_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")  # `_` too: container networks use it


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    # all-numeric labels would be an IPv4 address, and this one is not valid (999.1.1.1)
    return all(_LABEL.fullmatch(label) for label in labels) and not all(label.isdigit() for label in labels)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class LosantClient:
    """Losant's integration endpoints, each call retried by the policy and shaped-checked.

    Every answer is checked before it is used: a read that is not what Losant sends is an
    `ApiError` (the run stops, nothing is written), a write whose answer cannot be read is an
    `UncertainWrite`.
    """

    def __init__(
        self,
        session: HttpSession,
        *,
        policy: RetryPolicy | None = None,
        limiter: AdaptiveLimiter | None = None,
        trace: Callable[[str], None] | None = None,
        redact: Callable[[str], str] = str,
        cancel: threading.Event | None = None,
    ) -> None:
        self.session = session
        self.redact = redact  # applied to API text before it is cut, so no secret is half-shown
        self.policy = policy or RetryPolicy()
        self.cancel = cancel or threading.Event()
        self.limiter = limiter or AdaptiveLimiter(sleep=self._pause)
        self._trace = trace

    # -- the endpoints ----------------------------------------------------------------------

    def list_page(self, application_id: str, page: int, *, per_page: int = MAX_PER_PAGE) -> dict[str, Any]:
        """One page of the application's integrations, by id (stable while paging).

        The list endpoint's `filter` is never used: Losant documents it as a glob, so it cannot
        find a name exactly; identity always comes from complete reads (syncer.live).
        """
        return self._page("list", "integrations", application_id, page, per_page, "id")

    def credentials_page(
        self, application_id: str, page: int, *, per_page: int = MAX_PER_PAGE
    ) -> dict[str, Any]:
        """One page of the application's service credentials (their secrets are never returned)."""
        return self._page("credentials", "credentials", application_id, page, per_page, "name")

    def flows_page(
        self,
        application_id: str,
        page: int,
        *,
        per_page: int = MAX_PER_PAGE,
        query: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One page of the application's workflows; `query` is Losant's advanced workflow query
        (it overrides flowClass, so one query covers every flow class)."""
        extra = {"query": json.dumps(query, separators=(",", ":"))} if query is not None else {}
        return self._page("flows", "flows", application_id, page, per_page, "id", extra)

    def _page(
        self,
        action: str,
        resource: str,
        application_id: str,
        page: int,
        per_page: int,
        sort_field: str,
        extra: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        params = {
            "page": str(page),
            "perPage": str(per_page),
            "sortField": sort_field,
            "sortDirection": "asc",
            **(extra or {}),
        }
        path = f"/applications/{application_id}/{resource}"
        body = self._call(action, "GET", path, params=params)
        return _checked_page(f"GET {path}", body, resource)

    def application(self, application_id: str) -> dict[str, Any]:
        """The application: its owner (`ownerType`, `ownerId`) says whose audit log records it."""
        path = f"/applications/{application_id}"
        body = self._call("application", "GET", path)
        if not isinstance(body, dict):
            raise ApiError(f"GET {path}: the answer is not an application ({_shape(body)})")
        return body

    def audit_logs_page(self, org_id: str, page: int, params: Mapping[str, str]) -> dict[str, Any]:
        """One page of an organisation's audit log, newest first (`params`: the window, the filter
        in the bracket notation Losant's clients send)."""
        query = {
            "page": str(page),
            "perPage": str(MAX_PER_PAGE),
            "sortField": "creationDate",
            "sortDirection": "desc",
            **params,
        }
        path = f"/orgs/{org_id}/audit-logs"
        return _checked_page(
            f"GET {path}", self._call("auditLogs", "GET", path, params=query), "audit log entries"
        )

    def get(self, application_id: str, integration_id: str) -> dict[str, Any]:
        """One integration by id; ApiError (404 "Integration was not found") when it is gone."""
        path = f"/applications/{application_id}/integrations/{integration_id}"
        body = self._call("get", "GET", path)
        if not (isinstance(body, dict) and isinstance(body.get("id"), str)):
            raise ApiError(f"GET {path}: the answer is not an integration ({_shape(body)})")
        return body

    def write(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """One write, as a plan's request says it (syncer.plan.Request): POST, PATCH or DELETE.

        Its answer is checked: a POST must answer the new integration, a PATCH an integration, a
        DELETE success; anything else means the write may or may not have been applied, so it
        raises UncertainWrite. `includeWorkflows` is never sent with a DELETE: deleting
        workflows is not syncer's to decide.
        """
        answer = self._call(method.lower(), method, path, body=body)
        wanted = {
            "POST": ("the new integration", isinstance(answer, dict) and isinstance(answer.get("id"), str)),
            "PATCH": ("the integration", isinstance(answer, dict)),
            "DELETE": ("success", isinstance(answer, dict) and answer.get("success") is True),
        }
        what, fine = wanted[method]
        if not fine:
            raise UncertainWrite(f"the API answered the {method} without {what} ({_shape(answer)})")
        return answer

    # -- one request, with retries ----------------------------------------------------------

    def _pause(self, seconds: float) -> None:
        """Sleep, unless the run is cancelled meanwhile."""
        if seconds > 0:
            self.cancel.wait(seconds)

    def _call(
        self,
        action: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> Any:
        request = f"{method} {path}"
        policy = self.policy
        failures = 0
        maybe_done = False  # an earlier attempt of this write may have been applied

        def backoff(exc: Exception) -> bool | float:
            # a 429 asks us to slow down: it is retried for as long as the time budget lasts;
            # other failures also count against the attempts. The wait happens here, on the
            # cancel event, so an interrupt cuts it short; stamina then waits no more.
            nonlocal failures, maybe_done
            if not isinstance(exc, _Retry):
                return False
            maybe_done = maybe_done or exc.maybe_done
            throttled = exc.reply is not None and exc.reply.status == 429
            if not throttled:
                failures += 1
                if failures >= policy.attempts:
                    return False
            wait = exc.retry_after
            if wait is None:
                exponent = min(failures if not throttled else 1, 30)
                wait = min(policy.wait_max, policy.wait_initial * 2 ** (exponent - 1))
                wait += random.uniform(0, policy.wait_jitter)  # noqa: S311 - jitter, not crypto
            if time.monotonic() + wait > deadline:
                return False  # no attempt would follow the wait: give up now, not after it
            self._pause(wait)
            return not self.cancel.is_set() and 0.0

        tries = 0
        deadline = time.monotonic() + policy.timeout
        # --retry-time 0: one attempt (stamina reads a zero timeout as "retry for ever", warning)
        budget = {"attempts": None, "timeout": policy.timeout} if policy.timeout > 0 else {"attempts": 1}
        try:
            for attempt in stamina.retry_context(on=backoff, **budget):
                with attempt:
                    tries = attempt.num
                    return self._attempt(action, method, path, params, body, attempt.num)
        except Cancelled:
            if maybe_done and method != "GET":
                raise UncertainWrite(
                    "interrupted before a retry; an earlier attempt may have been applied"
                ) from None
            raise
        except _Retry as exc:
            why = f" (gave up after {counted(tries, 'attempt')})"
            if self.cancel.is_set():  # first: an interrupt during a 429's wait is an interrupt
                why = " (interrupted)"
                if method == "GET" or not (maybe_done or exc.maybe_done):
                    raise Cancelled(request) from None
            elif exc.reply is not None and exc.reply.status == 429:
                why = f" (still throttled after {counted(tries, 'attempt')}, within {policy.timeout:g} s)"
            if method != "GET" and (maybe_done or exc.maybe_done):
                reason = (
                    exc.reason
                    if exc.reply is None
                    else f"{exc.reply.status} {self._error_type(exc.reply)}: {self._message(exc.reply)}"
                )
                raise UncertainWrite(f"{reason}{why}; it may have been applied") from None
            if exc.reply is not None:
                raise self._error(action, request, exc.reply, why) from None
            raise ApiError(f"{request}: {exc.reason}{why}") from None
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    def _attempt(
        self, action: str, method: str, path: str, params: Mapping[str, str] | None, body: Any, number: int
    ) -> Any:
        request = f"{method} {path}"
        self.limiter.acquire()
        if self.cancel.is_set():
            raise Cancelled(request)
        suffix = f" (attempt {number})" if number > 1 else ""
        self._say(f"-> {request}{_query(params)}{suffix}")
        if self._trace is not None:
            self._say(
                f"   headers: Authorization: Bearer (redacted), Accept: application/json, "
                f"Accept-Version: {API_VERSION}"
            )
            if body is not None:
                self._say(f"   body: {json.dumps(mask_value((), body))}")
        try:
            reply = self.session.send(method, path, params=params, body=body)
        except TlsRefused as exc:
            raise ApiError(
                f"{request}: {exc}; fix the certificate chain or the URL, or for a test setup only "
                "pass --insecure-skip-tls-verify; not retried"
            ) from None
        except Unreachable as exc:
            raise ApiError(
                f"{request}: {exc}; check the API URL (--api-url, LOSANT_API_URL); not retried"
            ) from None
        except NotSent as exc:
            self._say(f"<- {request}: {exc}")
            raise _Retry(str(exc)) from None
        except TooLarge as exc:  # a server that answers so is not asked again
            if method != "GET":
                raise UncertainWrite(f"{exc}; it may have been applied") from None
            raise ApiError(f"{request}: {exc}; not retried") from None
        except MaybeSent as exc:
            self._say(f"<- {request}: {exc}")
            if method == "POST":
                raise UncertainWrite(str(exc)) from None
            raise _Retry(str(exc), maybe_done=True) from None
        self._say(f"<- {reply.status} {request} ({reply.elapsed * 1000:.0f} ms)")
        if reply.status >= 400 and self._trace is not None:
            self._say(f"   body: {self.redact(json.dumps(reply.body))[:500]}")
        if reply.status in RETRY_STATUSES:
            retry_after = retry_after_seconds(reply.header("Retry-After"), self.policy.retry_after_cap)
            if reply.status == 429:
                self.limiter.throttled(retry_after)
            elif method == "POST":
                raise UncertainWrite(f"{reply.status} {self._error_type(reply)}: {self._message(reply)}")
            raise _Retry(f"{reply.status}", retry_after, reply, maybe_done=reply.status != 429)
        if 300 <= reply.status < 400:
            location = self.redact(reply.header("Location") or "elsewhere")
            target = urlsplit(location).netloc or location
            target = target if len(target) <= 200 else target[:200] + "…"  # redacted before it is cut
            said = f"the API answered {reply.status} redirecting to {target}"
            if method != "GET":  # a write answered so (303 See Other) may have been processed
                raise UncertainWrite(f"{said}; syncer follows no redirect; it may have been applied")
            raise ApiError(
                f"{request}: {said}; syncer follows no redirect (the token must not reach another "
                "host): set --api-url to the final address"
            )
        if reply.status >= 400:
            raise self._error(action, request, reply, "")
        if not 200 <= reply.status < 300:
            raise ApiError(f"{request}: the API answered {reply.status}, which syncer does not expect")
        self.limiter.succeeded()
        return reply.body

    def _error(self, action: str, request: str, reply: HttpReply, suffix: str) -> ApiError:
        error_type, message = self._error_type(reply), self._message(reply)
        head = f"{request}: {reply.status} {error_type}: {message}{suffix}"
        if reply.status == 401:
            head += (
                "; the API token is invalid or expired: create a new token and set LOSANT_API_TOKEN "
                "(or --token-file)"
            )
        elif reply.status == 403:
            head += f"; the token may not {ACTION_WORDS[action]}: it needs one of these scopes: " + ", ".join(
                SCOPES[action]
            )
        elif reply.status == 404 and message == "Application was not found":
            head += "; check the application id in your files, and that the token belongs to its organization"
        elif reply.status == 404 and not isinstance(reply.body, dict):
            head += (
                "; this is not an answer of the Losant API: check the API URL (--api-url, "
                "LOSANT_API_URL), which is the API's root, e.g. https://api.losant.com"
            )
        return ApiError(head, status=reply.status, error_type=error_type, api_message=message)

    def _error_type(self, reply: HttpReply) -> str:
        body = reply.body
        return self.redact(str(body.get("type", "Error")))[:60] if isinstance(body, dict) else "Error"

    def _message(self, reply: HttpReply) -> str:
        """Losant's error message, redacted, then cut (a hostile server may send megabytes)."""
        body = reply.body
        if isinstance(body, str) and body.lstrip()[:1] == "<":
            return "an HTML page, not JSON"  # a proxy's or a web server's page: its text helps nobody
        text = str(body["message"]) if isinstance(body, dict) and "message" in body else str(body or "")
        return self.redact(text)[:500] or "no message"

    def _say(self, line: str) -> None:
        if self._trace is not None:
            self._trace(line)


def _checked_page(request: str, body: Any, what: str) -> dict[str, Any]:
    if not (
        isinstance(body, dict)
        and isinstance(body.get("items"), list)
        and all(isinstance(item, dict) for item in body["items"])
    ):
        raise ApiError(f"{request}: the answer is not a page of {what} ({_shape(body)})")
    return body


def _shape(body: Any) -> str:
    """What came back instead, in a few words (never the body itself: it may echo a secret)."""
    if body is None:
        return "an empty body"
    if isinstance(body, str):
        head = body.lstrip()[:15].lower()
        described = "HTML" if head.startswith(("<!doctype", "<html")) else "text that is not JSON"
        return f"{described}, {len(body):,} characters"
    return f"JSON {type(body).__name__}" if not isinstance(body, dict) else "a JSON object of another shape"


def _query(params: Mapping[str, str] | None) -> str:
    return ("?" + "&".join(f"{k}={v}" for k, v in params.items())) if params else ""
