"""What apply did: progress while it runs, and the final account of every change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from syncer.apply import ApplyResult, Outcome
from syncer.errors import counted
from syncer.render.escape import markdown_text, printable
from syncer.render.formats import versioned
from syncer.render.jsonplan import change_json
from syncer.render.markdown import with_details
from syncer.render.text import Style, change_title, plain

HANDFUL = 5  # more changes than this get a progress bar on a terminal


def outcome_line(outcome: Outcome) -> str:
    """One change's outcome, on one line."""
    title = change_title(outcome.change)
    return printable(f"{outcome.status:<13}  {title}" + (f": {outcome.detail}" if outcome.detail else ""))


STATUS_COLOURS = {"done": "green", "failed": "red", "uncertain": "yellow", "not attempted": "yellow"}


class Progress:
    """A bar on a terminal once there are more than a handful of changes; else one line each,
    as each change finishes (`streams`: the lines are the account, not to be printed again)."""

    def __init__(self, total: int, *, terminal: bool, echo: Callable[[str], None]) -> None:
        self.total, self.echo, self.count = total, echo, 0
        self.shown: dict[int, str] = {}  # id(change) -> the line streamed for it
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

    @property
    def streams(self) -> bool:
        return self._bar is None

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("apply", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, outcome: Outcome) -> None:
        """One more change finished."""
        self.count += 1
        if self._bar is not None:
            self._bar.advance(self._task)
        else:
            line = outcome_line(outcome)
            self.shown[id(outcome.change)] = line
            self.echo(f"[{self.count}/{self.total}] {line}")


def headline(result: ApplyResult) -> str:
    """`Apply: 3 done, 0 failed, 1 not attempted.` (syncer's own words)."""
    c = result.counts()
    doubt = f", {c['uncertain']} uncertain" if c["uncertain"] else ""
    return f"Apply: {c['done']} done, {c['failed']} failed{doubt}, {c['not attempted']} not attempted."


def summary_line(result: ApplyResult) -> str:
    """The headline, and what a partial apply covered."""
    return printable(headline(result) + result.scope())


def verification_lines(result: ApplyResult) -> list[str]:
    """What the read after the writes showed, and what it did not check: never more than was seen."""
    check = result.verification
    c = result.counts()
    behind = [f"{c[s]} {s}" for s in ("failed", "uncertain", "not attempted") if c[s]]
    if result.converged:
        within = " within the target" if result.scope() else ""
        return [f"Converged: a fresh read of Losant matches the files{within}."]
    if check.checked and check.problems:
        return [
            "Not converged: a fresh read of Losant shows:",
            *(printable(f"  {p}") for p in check.problems),
        ]
    if check.checked:
        stuck = f"the {counted(c['done'], 'done change')} stuck; " if c["done"] else ""
        return [
            f"Checked by a fresh read: {stuck}Losant does not match the files yet ({', '.join(behind)}): "
            "run apply again."
        ]
    line = printable(f"Not checked against Losant: {check.why_not}.")
    if behind:
        line += f" Losant does not match the files yet ({', '.join(behind)}): run apply again."
    return [line]


HEALTH_COLOURS = {
    "connected": "green",
    "failed": "red",
    "no status yet": "yellow",
    "disabled": "yellow",
    "unknown": "red",
}


def health_lines(result: ApplyResult, style: Style = plain) -> list[str]:
    """With apply --wait: whether each written integration connected, with Losant's error."""
    waited = [o for o in result.outcomes if o.health is not None]
    if not waited:
        return []
    lines = ["Health after the writes:"]
    for o in waited:
        health = o.health
        assert health is not None
        error = f": {health.error}" if health.error else ""
        line = printable(f"  {health.state:<13}  {change_title(o.change)}{error}")
        lines.append(style(line, HEALTH_COLOURS[health.state]))
    return lines


def report_text(result: ApplyResult, *, shown: Mapping[int, str] | None = None, style: Style = plain) -> str:
    """The account of an apply for a terminal: every change, then what the read after it found.
    `shown`: the lines already streamed as changes finished (Progress.shown); only the changes
    whose account changed since (settled by the read after the writes) are listed again."""
    lines = [style(summary_line(result), "bold")]
    listed = [(o, outcome_line(o)) for o in result.outcomes]
    if shown is not None:
        listed = [(o, line) for o, line in listed if shown.get(id(o.change)) != line]
        if listed:
            lines.append("Not listed above, or settled since by the read after the writes:")
    lines += [style(f"  {line}", STATUS_COLOURS[o.status]) for o, line in listed]
    if result.stopped:
        lines.append(printable(f"Stopped: {result.stopped}."))
    lines += verification_lines(result)
    lines += health_lines(result, style)
    return "\n".join(lines) + "\n"


def report_json(result: ApplyResult) -> dict[str, Any]:
    """The account of an apply for tools (formatVersion 1)."""
    c = result.counts()
    entries = []
    for o in result.outcomes:
        entry = change_json(o.change)
        entry["outcome"] = o.status
        entry["detail"] = o.detail
        if o.integration_id:
            entry["newIntegrationId"] = o.integration_id
        if o.status == "failed":
            entry["error"] = {"status": o.error_status, "type": o.error_type, "message": o.error_message}
        entry["health"] = {"state": o.health.state, "error": o.health.error or None} if o.health else None
        entries.append(entry)
    waited = [o.health.state for o in result.outcomes if o.health is not None]
    check = result.verification
    return {
        **versioned(1),
        "partial": result.scope() != "",
        "target": {"names": list(result.target.names), "applications": list(result.target.applications)},
        "summary": {
            "done": c["done"],
            "failed": c["failed"],
            "uncertain": c["uncertain"],
            "notAttempted": c["not attempted"],
        },
        "stopped": result.stopped or None,
        "interrupted": result.interrupted,
        "checked": check.checked,
        "converged": result.converged,
        "convergence": list(check.problems) if check.checked else [],
        "notCheckedBecause": None if check.checked else check.why_not,
        # with --wait only: how many written integrations connected, failed, had no status yet
        "health": (
            {
                "connected": waited.count("connected"),
                "failed": waited.count("failed"),
                "noStatusYet": waited.count("no status yet"),
                "disabled": waited.count("disabled"),
                "unknown": waited.count("unknown"),
            }
            if waited
            else None
        ),
        "changes": entries,
    }


def report_markdown(result: ApplyResult, redact: Callable[[str], str] = str) -> str:
    """The account of an apply for the step summary and the merged pull request."""
    head = "<!-- syncer-apply -->\n### syncer apply\n\n"
    if not result.outcomes:
        return head + f"**No changes.**{markdown_text(redact(result.scope()))}\n"
    head += f"**{headline(result)}**{markdown_text(redact(result.scope()))}\n\n"
    # the job log holds the whole account; apply again is not the way to see it
    return with_details(
        head,
        [("Every change, and what the read after it found", report_text(result).splitlines())],
        None,
        redact=redact,
        opened=True,
    )


def result_text(result: ApplyResult, style: Style = plain, shown: Mapping[int, str] | None = None) -> str:
    """The account of an apply in text; `shown`: the lines already streamed as changes finished
    (the account lists only what changed since)."""
    if not result.outcomes:
        return f"No changes. Live state matches the files.{result.scope()}\n"
    return report_text(result, shown=shown, style=style)
