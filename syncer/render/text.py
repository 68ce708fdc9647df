"""The plan as people read it in a terminal, Terraform-like."""

from __future__ import annotations

from collections.abc import Callable

from syncer.errors import counted
from syncer.live import Impact
from syncer.plan import Change, Plan, Targeted
from syncer.render.escape import printable, quoted
from syncer.render.values import describe

SIGNS = {"create": "+", "update": "~", "delete": "-", "replace": "-/+"}
COLOURS = {"+": "green", "~": "yellow", "-": "red", "-/+": "magenta"}

Style = Callable[[str, str], str]


def plain(text: str, colour: str) -> str:
    """No colour: the style for pipes, files and NO_COLOR."""
    return text


def change_title(change: Change) -> str:
    """`~ update "Line 1 broker" (mqtt) <id>`; a replace shows both types."""
    types = change.integration_type or "?"
    if change.action == "replace":
        types = f"{change.live_type} -> {change.integration_type}"
    title = f"{SIGNS[change.action]} {change.action} {quoted(change.name)} ({types})"
    return printable(f"{title} {change.integration_id}" if change.integration_id else title)


def impact_line(impact: Impact) -> str:
    """`used by 2 workflows: "Ingest GPS" (trigger), ...`, or why it is not known."""
    if impact.unknown:
        return f"workflow impact unknown: {impact.unknown}"
    if not impact.workflows:
        return "used by no workflow"
    names = ", ".join(f"{quoted(w.name)} ({w.via})" for w in impact.workflows)
    return f"used by {counted(len(impact.workflows), 'workflow')}: {names}"


def change_lines(change: Change, style: Style = plain, redact: Callable[[str], str] = str) -> list[str]:
    """One change: a title, a `#` line saying why (and from where), then each field."""
    sign = SIGNS[change.action]
    title = change_title(change)
    why = change.reason + (f" ({change.source})" if change.source else "")
    lines = [style(title, COLOURS[sign]), printable(f"    # {why}")]
    for field in change.fields:
        mark, text = describe(field, redact)
        lines.append(style(printable(f"    {mark} {field.dotted}: {text}"), COLOURS[mark]))
    lines += [printable(f"    ! {note}") for note in change.notes]
    if change.impact is not None and change.impact.breaks:
        lines.append(style(printable(f"    ! {impact_line(change.impact)}"), "red"))
    return lines


def application_lines(
    plan: Plan, app: str, style: Style = plain, redact: Callable[[str], str] = str
) -> list[str]:
    """The changes of one application and what it leaves alone, not indented."""
    lines: list[str] = []
    for change in plan.changes:
        if change.application_id == app:
            lines += change_lines(change, style, redact)
    unmanaged = [u for u in plan.unmanaged if u.application_id == app]
    if unmanaged:
        lines.append(f"left alone ({len(unmanaged)}):")
        lines += [
            printable(f"    {quoted(u.name)} ({u.integration_type}) {u.integration_id}: {u.reason}")
            for u in unmanaged
        ]
    return lines


def refusal_lines(report: Targeted, style: Style = plain) -> list[str]:
    """What apply would refuse, if it would (syncer's own words)."""
    return [style(printable(f"Apply would refuse: {report.refusal}"), "red")] if report.refusal else []


def render_text(plan: Plan, style: Style = plain, redact: Callable[[str], str] = str) -> str:
    """A plan for a terminal, Terraform-like."""
    out: list[str] = []
    for app in plan.applications:
        body = application_lines(plan, app, style, redact)
        if body:
            alias = plan.aliases.get(app)
            out.append(f"Application {app}" + (f" ({printable(alias)})" if alias else ""))
            out += [f"  {line}" for line in body]
            out.append("")
    summary = plan.summary()
    out.append(style(summary, "bold") if plan.has_changes else summary)
    out += refusal_lines(plan, style)
    return "\n".join(out) + "\n"
