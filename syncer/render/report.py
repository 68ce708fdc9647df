"""What apply did: progress while it runs, and the final account of every change."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from syncer import __version__
from syncer.apply import Outcome
from syncer.render.jsonplan import change_json
from syncer.render.text import change_title

HANDFUL = 5  # more changes than this get a progress bar on a terminal


def outcome_line(outcome: Outcome) -> str:
    title = change_title(outcome.change)
    return f"{outcome.status:<13}  {title}" + (f": {outcome.detail}" if outcome.detail else "")


class Progress:
    """A bar on a terminal once there are more than a handful of changes; else one line each."""

    def __init__(self, total: int, *, terminal: bool, echo: Callable[[str], None]) -> None:
        self.total, self.echo, self.count = total, echo, 0
        self._bar: Any = None
        self._task: Any = None
        if terminal and total > HANDFUL:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("applying"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("apply", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, outcome: Outcome) -> None:
        self.count += 1
        if self._bar is not None:
            self._bar.advance(self._task)
        else:
            self.echo(f"[{self.count}/{self.total}] {outcome_line(outcome)}")


def counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    return {s: sum(1 for o in outcomes if o.status == s) for s in ("done", "failed", "not attempted")}


def report_text(outcomes: Sequence[Outcome], stopped: str, convergence: list[str] | None) -> str:
    c = counts(outcomes)
    lines = [f"Apply: {c['done']} done, {c['failed']} failed, {c['not attempted']} not attempted."]
    lines += [f"  {outcome_line(o)}" for o in outcomes]
    if stopped:
        lines.append(f"Stopped: {stopped}.")
    if convergence is None:
        lines.append("Convergence not checked: changes failed or were not attempted; run apply again.")
    elif convergence:
        lines.append("Not converged:")
        lines += [f"  {problem}" for problem in convergence]
    else:
        lines.append("Converged: a fresh read of Losant matches the files.")
    return "\n".join(lines) + "\n"


def report_json(outcomes: Sequence[Outcome], stopped: str, convergence: list[str] | None) -> dict[str, Any]:
    c = counts(outcomes)
    entries = []
    for o in outcomes:
        entry = change_json(o.change)
        entry["outcome"] = o.status
        entry["detail"] = o.detail
        if o.integration_id:
            entry["newIntegrationId"] = o.integration_id
        if o.status == "failed":
            entry["error"] = {"status": o.error_status, "type": o.error_type, "message": o.error_message}
        entries.append(entry)
    return {
        "formatVersion": 1,
        "syncerVersion": __version__,
        "summary": {"done": c["done"], "failed": c["failed"], "notAttempted": c["not attempted"]},
        "stopped": stopped or None,
        "converged": None if convergence is None else not convergence,
        "convergence": convergence or [],
        "changes": entries,
    }


def report_markdown(outcomes: Sequence[Outcome], stopped: str, convergence: list[str]) -> str:
    head = "<!-- syncer-apply -->\n### syncer apply\n\n"
    if not outcomes:
        return head + "**No changes.**\n"
    text = report_text(outcomes, stopped, convergence)
    return head + f"**{text.splitlines()[0]}**\n\n```\n{text}```\n"


def report_outputs(outcomes: Sequence[Outcome], convergence: list[str]) -> dict[str, Any]:
    """GitHub step outputs of an apply."""
    c = counts(outcomes)
    return {
        "done": c["done"],
        "failed": c["failed"],
        "not_attempted": c["not attempted"],
        "converged": not convergence,
    }
