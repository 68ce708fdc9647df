"""The plan as Markdown for a pull-request comment or a step summary.

Summary first, details per application in collapsible blocks, and always under the size limit
(GitHub refuses comments over 65,536 characters), with a note saying what was cut.
"""

from __future__ import annotations

from syncer.plan import Plan
from syncer.render.text import application_lines

LIMIT = 60_000
MARKER = "<!-- syncer-plan -->"


def render_markdown(
    plan: Plan, *, title: str = "syncer plan", marker: str = MARKER, limit: int = LIMIT
) -> str:
    head = [marker, f"### {title}", "", f"**{plan.summary()}**", ""]
    if plan.applications:
        head += [
            "| Application | Create | Update | Delete | Replace | Left alone |",
            "|---|---|---|---|---|---|",
        ]
        for app in plan.applications:
            mine = [c for c in plan.changes if c.application_id == app]
            counts = {
                a: sum(1 for c in mine if c.action == a) for a in ("create", "update", "delete", "replace")
            }
            alone = sum(1 for u in plan.unmanaged if u.application_id == app)
            head.append(
                f"| `{app}` | {counts['create']} | {counts['update']} | {counts['delete']} | "
                f"{counts['replace']} | {alone} |"
            )
        head.append("")
    text = "\n".join(head) + "\n"
    shown = 0
    blocks = [(app, application_lines(plan, app)) for app in plan.applications]
    blocks = [(app, lines) for app, lines in blocks if lines]
    total_lines = sum(len(lines) for _, lines in blocks)
    for app, lines in blocks:
        count = sum(1 for c in plan.changes if c.application_id == app)
        plural = "s" if count != 1 else ""
        summary = f"Application <code>{app}</code>: {count} change{plural}"
        opening = f"<details><summary>{summary}</summary>\n\n```diff\n"
        closing = "```\n\n</details>\n"
        budget = limit - len(text) - len(opening) - len(closing) - 400  # room for the note
        kept: list[str] = []
        for line in lines:
            if len(line) + 1 > budget:
                break
            kept.append(line)
            budget -= len(line) + 1
        if not kept:
            break
        text += opening + "\n".join(kept) + "\n" + closing
        shown += len(kept)
        if len(kept) < len(lines):
            break
    if shown < total_lines:
        text += (
            f"\n_Cut to fit: {total_lines - shown} of {total_lines} detail lines are not shown. "
            "Run `syncer plan` or read the job log for the whole plan._\n"
        )
    return text
