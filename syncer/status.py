"""`syncer status`: the managed integrations of each application, whether they are connected
(their read-only `status`), and whether they match the files. Read-only: one list read per
application, as for a plan."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from syncer.desired import DesiredState
from syncer.errors import counted
from syncer.health import Health, current_health, epoch_ms
from syncer.live import LiveState
from syncer.plan import EVERYTHING, Target, make_plan
from syncer.render.escape import markdown_text, printable, quoted


@dataclass(frozen=True)
class StatusRow:
    """One integration the files manage, as Losant holds it."""

    application_id: str
    name: str
    integration_type: str | None
    integration_id: str | None  # none: declared, not in Losant
    health: Health
    last_keep_alive_ms: float | None
    matches: str  # "yes", "differs" or "missing live"

    @property
    def healthy(self) -> bool:
        """Connected, or switched off on purpose; an integration not in Losant is drift, not health."""
        return self.matches == "missing live" or self.health.state in ("connected", "disabled")


@dataclass(frozen=True)
class StatusReport:
    rows: tuple[StatusRow, ...]
    applications: tuple[str, ...]

    @property
    def unhealthy(self) -> list[StatusRow]:
        return [row for row in self.rows if not row.healthy]

    def by_application(self) -> Iterator[tuple[str, list[StatusRow]]]:
        """Each application that has rows, with its rows, in report order."""
        for app in self.applications:
            rows = [r for r in self.rows if r.application_id == app]
            if rows:
                yield app, rows

    def summary(self) -> str:
        bad = len(self.unhealthy)
        total = counted(len(self.rows), "managed integration")
        return f"{total}: {bad} unhealthy." if bad else f"{total}: all connected (or disabled)."


def find_status(desired: DesiredState, live: LiveState, target: Target = EVERYTHING) -> StatusReport:
    """Rows for every integration an entry manages, in file order per application."""
    plan = make_plan(desired, live, prune=True, target=target)
    differs = {
        c.integration_id for c in plan.changes if c.action in ("update", "replace") and c.integration_id
    }
    unmanaged = {u.integration_id for u in plan.unmanaged}
    pruned = {c.integration_id for c in plan.changes if c.action == "delete" and c.source is None}
    rows: list[StatusRow] = []
    for app in plan.applications:
        for item in live.integrations.get(app, ()):
            item_id = str(item.get("id"))
            if item_id in unmanaged or item_id in pruned or not target.has_name(str(item.get("name"))):
                continue
            status = item.get("status") if isinstance(item.get("status"), dict) else {}
            rows.append(
                StatusRow(
                    app,
                    str(item.get("name")),
                    _text(item.get("integrationType")),
                    item_id,
                    current_health(item),
                    epoch_ms(status.get("lastKeepAlive")) if isinstance(status, dict) else None,
                    "differs" if item_id in differs else "yes",
                )
            )
        for change in plan.changes:
            if change.application_id == app and change.action == "create":
                rows.append(
                    StatusRow(
                        app,
                        change.name,
                        change.integration_type,
                        None,
                        Health("no status yet"),
                        None,
                        "missing live",
                    )
                )
    return StatusReport(tuple(rows), plan.applications)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _when(ms: float | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _state(row: StatusRow) -> str:
    health = row.health
    if row.matches == "missing live":
        return "not in Losant"
    if health.state == "connected":
        return f"connected since {_when(health.since_ms)}"
    if health.state == "failed":
        return f"failed at {_when(health.since_ms)}: {health.error}"
    return {"no status yet": "not connected", "unknown": "unknown"}.get(health.state, "disabled")


def status_text(report: StatusReport, style: Callable[[str, str], str]) -> str:
    """A block per application: state, last keep-alive, whether it matches the files."""
    out: list[str] = []
    for app, rows in report.by_application():
        out.append(f"Application {app}")
        for row in rows:
            line = printable(
                f"  {quoted(row.name)} ({row.integration_type}): {_state(row)}; "
                f"last keep-alive {_when(row.last_keep_alive_ms)}; matches the files: {row.matches}"
            )
            out.append(style(line, "green" if row.healthy else "red"))
        out.append("")
    out.append(report.summary())
    return "\n".join(out) + "\n"


def status_json(report: StatusReport) -> dict[str, Any]:
    from syncer.render.formats import versioned

    return {
        **versioned(1),
        "healthy": not report.unhealthy,
        "summary": {
            "managed": len(report.rows),
            "unhealthy": len(report.unhealthy),
            "text": report.summary(),
        },
        "integrations": [
            {
                "applicationId": r.application_id,
                "name": r.name,
                "integrationType": r.integration_type,
                "integrationId": r.integration_id,
                "state": r.health.state if r.matches != "missing live" else "missing",
                "since": _when(r.health.since_ms) if r.health.since_ms is not None else None,
                "error": r.health.error or None,
                "lastKeepAlive": _when(r.last_keep_alive_ms) if r.last_keep_alive_ms is not None else None,
                "matchesFiles": r.matches,
                "healthy": r.healthy,
            }
            for r in report.rows
        ],
    }


CELL = 200  # characters of a name or a state in a Markdown cell (a live name can be megabytes)


def status_markdown(report: StatusReport, redact: Callable[[str], str] = str) -> str:
    """A table per application, for the drift workflow's summary; text redacted before it is
    escaped into a cell."""
    from syncer.render.markdown import LIMIT, NOTE_ROOM, cut_note, fitting

    def cell(text: str) -> str:  # redacted, then cut (a secret across the cut), then escaped
        shown = redact(text)
        return markdown_text(shown if len(shown) <= CELL else shown[:CELL] + "…")

    out = [
        "<!-- syncer-status -->",
        "### syncer status",
        "",
        f"**{markdown_text(redact(report.summary()))}**",
        "",
    ]
    budget, shown = LIMIT - NOTE_ROOM - sum(len(line) + 1 for line in out), 0
    for app, rows in report.by_application():
        header = [
            f"Application `{redact(app)}`",  # an id: 24 hexadecimal characters, nothing to escape
            "",
            "| Integration | State | Last keep-alive | Matches the files |",
            "|---|---|---|---|",
        ]
        table = (
            f"| {cell(f'{row.name} ({row.integration_type})')} | {cell(_state(row))} "
            f"| {_when(row.last_keep_alive_ms)} | {row.matches} |"
            for row in rows
        )
        lines = fitting(table, budget - sum(len(line) + 1 for line in header) - 1)
        if lines:
            out += [*header, *lines, ""]
            budget -= sum(len(line) + 1 for line in (*header, *lines, ""))
            shown += len(lines)
    return "\n".join(out) + "\n" + cut_note(shown, len(report.rows), "integrations", "syncer status")
