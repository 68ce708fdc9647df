"""Markdown for a pull-request comment, a step summary or an issue.

Summary first, details in collapsible blocks, and always under the size limit (GitHub refuses
comments over 65,536 characters), with a note saying what was cut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from syncer.errors import counted
from syncer.plan import Plan, Targeted
from syncer.render.escape import fenced, markdown_text
from syncer.render.text import application_lines

LIMIT = 60_000
MARKER = "<!-- syncer-plan -->"
NOTE_ROOM = 500


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (cells are syncer's own text: counts and ids)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n"


def fitting(lines: Iterable[str], room: int) -> list[str]:
    """The first `lines` that fit in `room` characters, a newline after each."""
    kept: list[str] = []
    for line in lines:
        room -= len(line) + 1
        if room < 0:
            break
        kept.append(line)
    return kept


def cut_note(shown: int, total: int, what: str, command: str | None) -> str:
    """The note under a report cut to fit (empty when nothing was cut); `command` shows it all."""
    if shown >= total:
        return ""
    how = f"Run `{command}` or read the job log" if command else "Read the job log"
    return f"\n_Cut to fit: {total - shown} of {total} {what} are not shown. {how} for all of them._\n"


def with_details(
    head: str,
    sections: Sequence[tuple[str, list[str]]],
    command: str | None,
    limit: int = LIMIT,
    redact: Callable[[str], str] = str,
    *,
    opened: bool = False,
) -> str:
    """`head`, then one collapsible ```diff block per (summary, lines) (`opened`: shown
    unfolded), cut to fit `limit`.

    Lines are redacted before they are fenced: redacting afterwards could eat a fence."""
    text = head
    shown = total = 0
    for summary, lines in sections:
        total += len(lines)
        opening = f"<details{' open' if opened else ''}><summary>{summary}</summary>\n\n"
        closing = "\n</details>\n"
        # the fence grows with the backticks inside: budget for the longest it can be
        fence_room = 2 * (max((len(line) for line in lines), default=0) + 8)
        budget = limit - len(text) - len(opening) - len(closing) - fence_room - NOTE_ROOM
        kept = fitting(map(redact, lines), budget)
        if kept:
            text += opening + fenced(kept, "diff") + closing
            shown += len(kept)
    return text + cut_note(shown, total, "detail lines", command)


def markdown_head(report: Targeted, marker: str, title: str, redact: Callable[[str], str]) -> str:
    """The marker, the title, the summary in bold, and what apply would refuse; the text that
    is not syncer's own redacted before it is escaped (escaping can split a secret)."""
    head = f"{marker}\n### {title}\n\n**{report.headline()}**{markdown_text(redact(report.scope()))}\n\n"
    if report.refusal:
        # syncer's words, with live names in them (a workflow's, a pruned integration's)
        head += f"> **Apply would refuse:** {markdown_text(redact(report.refusal))}\n\n"
    return head


def render_markdown(
    plan: Plan,
    *,
    title: str = "syncer plan",
    marker: str = MARKER,
    limit: int = LIMIT,
    redact: Callable[[str], str] = str,
) -> str:
    """A plan for a pull-request comment: a table per application, then the details."""
    head = markdown_head(plan, marker, title, redact)
    rows = []
    for app in plan.applications:
        mine = [c for c in plan.changes if c.application_id == app]
        counts = [sum(1 for c in mine if c.action == a) for a in ("create", "update", "delete", "replace")]
        alone = sum(1 for u in plan.unmanaged if u.application_id == app)
        rows.append([f"`{app}`", *counts, alone])
    if rows:
        head += table(["Application", "Create", "Update", "Delete", "Replace", "Left alone"], rows)
    sections = []
    for app in plan.applications:
        lines = application_lines(plan, app, redact=redact)
        count = sum(1 for c in plan.changes if c.application_id == app)
        if lines:
            sections.append((f"Application <code>{app}</code>: {counted(count, 'change')}", lines))
    return with_details(head, sections, "syncer plan", limit, redact)
