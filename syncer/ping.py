"""`syncer ping`: can this token, at this URL, read what a run needs? One small page per check,
no write: what it could not verify (the write scopes) it says so, rather than guess."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from syncer.client import ApiError, LosantClient
from syncer.errors import SyncerError
from syncer.losant import SCOPES

# (action, what it reads, the client's page method): the reads plan, apply and drift make
PROBES: tuple[tuple[str, str, Callable[[LosantClient], Callable[..., dict[str, Any]]]], ...] = (
    ("list", "integrations", lambda client: client.list_page),
    ("credentials", "service credentials", lambda client: client.credentials_page),
    ("flows", "workflows", lambda client: client.flows_page),
)
NOT_CHECKED = "write scopes not checked: only a write could tell (apply names the scope it lacks)"


@dataclass(frozen=True)
class Check:
    """One thing verified, or found wrong."""

    subject: str  # "API <url>" or "application <id>"
    ok: bool
    detail: str


def ping(client: LosantClient, url: str, applications: Sequence[str]) -> list[Check]:
    """The URL and the token (through the first read), then each application's read scopes."""
    if not applications:
        raise SyncerError("no application to check: give the integration files, or --application ID")
    checks: list[Check] = []
    api = f"API {url}"
    for app in applications:
        subject = f"application {app}"
        for action, what, page in PROBES:
            try:
                page(client)(app, 1, per_page=1)
            except ApiError as exc:
                found = exc.status == 404 and exc.api_message == "Application was not found"
                if exc.status != 403 and not found:
                    # unreachable, the token refused, or not Losant answering: nothing else can pass
                    return [*checks, Check(api, False, exc.message)]
                if not checks:
                    checks.append(Check(api, True, "reachable; the token is accepted"))
                if found:
                    checks.append(
                        Check(subject, False, "not found: check the id, and the token's organization")
                    )
                    break
                scopes = ", ".join(SCOPES[action])
                checks.append(Check(subject, False, f"{what}: not readable (needs one of {scopes})"))
                continue
            if not checks:
                checks.append(Check(api, True, "reachable; the token is accepted"))
            checks.append(Check(subject, True, f"{what}: readable"))
    return checks


def ping_json(checks: Sequence[Check]) -> dict[str, Any]:
    """`syncer ping --format json`."""
    from syncer.render.formats import versioned

    return {
        **versioned(1),
        "ok": all(check.ok for check in checks),
        "checks": [{"subject": c.subject, "ok": c.ok, "detail": c.detail} for c in checks],
        "notChecked": [NOT_CHECKED],
    }


def ping_text(checks: Sequence[Check], style: Callable[[str, str], str]) -> str:
    """One line per check (escaped), what was not checked, and the count."""
    from syncer.errors import counted
    from syncer.render.escape import printable

    lines = [
        style(printable(f"{'ok  ' if c.ok else 'FAIL'}  {c.subject}: {c.detail}"), "green" if c.ok else "red")
        for c in checks
    ]
    passed = sum(check.ok for check in checks)
    lines += [f"--    {NOT_CHECKED}", f"{passed} of {counted(len(checks), 'check')} passed"]
    return "".join(line + "\n" for line in lines)


def render_ping(
    checks: Sequence[Check],
    output_format: str,
    style: Callable[[str, str], str],
    redact: Callable[[str], str],
) -> str:
    """The checks in text or JSON, redacted."""
    from syncer.render.formats import as_json

    if output_format == "json":
        return as_json(ping_json(checks), redact)
    return redact(ping_text(checks, style))
