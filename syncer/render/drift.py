"""Drift reports as text, JSON (versioned) and Markdown (for the drift issue)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from syncer.compare import MISSING
from syncer.drift import DIRECTIONS, Drift, DriftReport, by_application
from syncer.fields import FieldChange
from syncer.render.escape import printable, quoted
from syncer.render.formats import versioned
from syncer.render.jsonplan import fields_json, scope_json
from syncer.render.markdown import markdown_head, table, with_details
from syncer.render.text import Style, plain, refusal_lines
from syncer.render.values import masked_text
from syncer.secrets import MASK

MARKER = "<!-- syncer-drift -->"
SIGNS = {"changed-live": "~", "missing-live": "-", "created-outside-git": "+"}
LIMIT = 60_000


def _field_line(field: FieldChange, redact: Callable[[str], str]) -> str:
    def side(value: Any) -> str:
        return "(absent)" if value is MISSING else masked_text(value, redact)

    before, after = field.shown_before(), field.shown_after()
    if field.sensitive and field.before is not MISSING and field.after is not MISSING and after == MASK:
        return f"{field.dotted}: sensitive value differs"
    return f"{field.dotted}: live {side(before)}, files {side(after)}"


def drift_lines(item: Drift, redact: Callable[[str], str] = str) -> list[str]:
    """One drifted integration as lines of text (escaped)."""
    short = DIRECTIONS[item.direction].split(" (")[0]
    head = f"{SIGNS[item.direction]} {short}: {quoted(item.name)} ({item.integration_type})"
    if item.integration_id:
        head += f" {item.integration_id}"
    lines = [head, f"    # {item.detail}" + (f" ({item.source})" if item.source else "")]
    if item.attribution:
        lines.append(f"    # {item.attribution}")
    lines += [f"    {_field_line(f, redact)}" for f in item.fields]
    return [printable(line) for line in lines]


COLOURS = {"changed-live": "yellow", "missing-live": "red", "created-outside-git": "green"}


def render_drift_text(report: DriftReport, style: Style = plain, redact: Callable[[str], str] = str) -> str:
    """A drift report for a terminal."""
    out: list[str] = []
    for app in report.applications:
        items = by_application(report, app)
        if items:
            out.append(f"Application {app}")
            for item in items:
                head, *rest = drift_lines(item, redact)
                out += [f"  {style(head, COLOURS[item.direction])}", *(f"  {line}" for line in rest)]
            out.append("")
    out.append(report.summary() if report.in_sync else style(report.summary(), "bold"))
    out += refusal_lines(report, style)
    return "\n".join(out) + "\n"


FORMAT_VERSION = 2  # 2: camelCase keys and directions, like the plan's JSON; partial, target, refusal
JSON_DIRECTIONS = {
    "changed-live": "changedLive",
    "missing-live": "missingLive",
    "created-outside-git": "createdOutsideGit",
}


def drift_json(report: DriftReport) -> dict[str, Any]:
    """A drift report for tools (docs/drift-json.md)."""
    items = [
        {
            "direction": JSON_DIRECTIONS[item.direction],
            "applicationId": item.application_id,
            "name": item.name,
            "integrationType": item.integration_type,
            "integrationId": item.integration_id,
            "detail": item.detail,
            "source": str(item.source) if item.source else None,
            "attribution": item.attribution or None,
            "fields": fields_json(item.fields, before="live", after="files"),
        }
        for item in report.items
    ]
    counts = report.counts()
    return {
        **versioned(FORMAT_VERSION),
        "inSync": report.in_sync,
        **scope_json(report),
        "summary": {**{JSON_DIRECTIONS[k]: v for k, v in counts.items()}, "text": report.summary()},
        "applications": list(report.applications),
        "drift": items,
    }


def render_drift_markdown(
    report: DriftReport, *, marker: str = MARKER, limit: int = LIMIT, redact: Callable[[str], str] = str
) -> str:
    """A drift report for the drift issue: a table, then details per application."""
    head = markdown_head(report, marker, "syncer drift", redact)
    if report.in_sync:
        return head
    rows = []
    for app in report.applications:
        items = by_application(report, app)
        rows.append([f"`{app}`", *(sum(1 for i in items if i.direction == d) for d in DIRECTIONS)])
    head += table(["Application", "Changed live", "Missing live", "Created outside git"], rows)
    sections = [
        (
            f"Application <code>{app}</code>",
            [line for item in by_application(report, app) for line in drift_lines(item, redact)],
        )
        for app in report.applications
        if by_application(report, app)
    ]
    return with_details(head, sections, "syncer drift", limit, redact)
