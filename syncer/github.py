"""GitHub Actions: annotations, step summary and step outputs (only when GITHUB_ACTIONS=true)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from syncer.errors import Problem, SyncerError
from syncer.files import write_file
from syncer.render.escape import printable

if TYPE_CHECKING:
    from syncer.apply import ApplyResult
    from syncer.drift import DriftReport
    from syncer.plan import Plan

# GitHub shows at most 10 error annotations per step; the rest are summarised in one more
MAX_ANNOTATIONS = 10
STEP_SUMMARY_LIMIT = 1024 * 1024


def in_actions(environ: Mapping[str, str]) -> bool:
    """Whether syncer runs as a GitHub Actions step."""
    return environ.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    """Text as a workflow command's data: `%`, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def error_annotations(problems: Sequence[Problem]) -> list[str]:
    """`::error file=..,line=..,col=..::message` lines, capped as GitHub displays them."""
    lines = []
    for problem in problems[:MAX_ANNOTATIONS]:
        props = ""
        if problem.location:
            loc = problem.location
            props = f" file={_escape_property(printable(loc.file))},line={loc.line},col={loc.column}"
        message = f"{problem.where}: {problem.message}" if problem.where else problem.message
        # one line, controls shown as escapes and `##[` broken, like every line syncer prints
        lines.append(f"::error{props}::{escape_data(printable(message))}")
    if len(problems) > MAX_ANNOTATIONS:
        lines.append(f"::error::{len(problems) - MAX_ANNOTATIONS} more errors; see the log for all of them")
    return lines


def append_step_summary(environ: Mapping[str, str], markdown: str) -> None:
    """Append Markdown to the step summary, cut to GitHub's 1 MiB limit."""
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    data = markdown.encode("utf-8")
    if len(data) > STEP_SUMMARY_LIMIT - 1024:  # GitHub drops the whole summary past 1 MiB
        cut = data[: STEP_SUMMARY_LIMIT - 2048].decode("utf-8", "ignore")
        markdown = cut + "\n\n_Report cut to fit GitHub's 1 MiB step summary limit._\n"
    _append(path, markdown if markdown.endswith("\n") else markdown + "\n", "the step summary")


def write_outputs(environ: Mapping[str, str], outputs: Mapping[str, str | int | bool]) -> None:
    """Append `key=value` step outputs (booleans as true/false)."""
    path = environ.get("GITHUB_OUTPUT")
    if not path:
        return
    lines = "".join(
        f"{key}={str(value).lower() if isinstance(value, bool) else value}\n"
        for key, value in outputs.items()
    )
    _append(path, lines, "the step outputs")


def _append(path: str, text: str, what: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise SyncerError(f"{path}: cannot write {what} ({exc.strerror})") from exc


def publish(
    environ: Mapping[str, str],
    markdown: str,
    outputs: Mapping[str, str | int | bool],
    report_file: str | None,
) -> None:
    """Under GitHub Actions, the step summary and outputs; then the Markdown report to
    `report_file` (a report that cannot be written must not cost the workflow its outputs)."""
    if in_actions(environ):
        append_step_summary(environ, markdown)
        write_outputs(environ, outputs)
    if report_file:
        write_file(report_file, markdown, "the report")


# -- step outputs, one builder per command -------------------------------------------------------


def plan_outputs(plan: Plan) -> dict[str, str | int | bool]:
    """The step outputs of a plan."""
    counts = plan.counts()
    return {
        "error": False,
        "has_changes": plan.has_changes,
        "creates": counts["create"],
        "updates": counts["update"],
        "deletes": counts["delete"],
        "replaces": counts["replace"],
    }


def drift_outputs(report: DriftReport) -> dict[str, str | int | bool]:
    """The step outputs of a drift check."""
    counts = report.counts()
    return {
        "error": False,
        "has_drift": not report.in_sync,
        "changed_live": counts["changed-live"],
        "missing_live": counts["missing-live"],
        "created_outside_git": counts["created-outside-git"],
    }


def apply_outputs(result: ApplyResult) -> dict[str, str | int | bool]:
    """`converged` is `true` only when checked and true."""
    counts = result.counts()
    converged = result.converged
    return {
        "error": False,  # it ran to the end: the counts say how the changes went
        "done": counts["done"],
        "failed": counts["failed"],
        "uncertain": counts["uncertain"],
        "not_attempted": counts["not attempted"],
        "converged": "unknown" if converged is None else converged,
        # with --wait: written integrations whose connection failed (else not written at all)
        **({"unhealthy": result.unhealthy} if any(o.health for o in result.outcomes) else {}),
    }
