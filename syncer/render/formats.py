"""One dispatcher for the output formats of every report.

Every renderer is given the run's redactor and applies it to content before framing it (a code
fence, a JSON string): redacting a finished document could eat a fence or a JSON literal.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from syncer.desired import DesiredState
from syncer.drift import DriftReport
from syncer.errors import SyncerError
from syncer.plan import Plan
from syncer.render.text import Style, plain

if TYPE_CHECKING:
    from syncer.apply import ApplyResult
    from syncer.promotion import Promotion
    from syncer.status import StatusReport

FORMATS = ("text", "json", "markdown")
Report: TypeAlias = "Plan | DriftReport | StatusReport | Promotion | ApplyResult"


def versioned(format_version: int) -> dict[str, Any]:
    """The keys every JSON document of syncer starts with: its format's version, and syncer's."""
    from syncer import __version__

    return {"formatVersion": format_version, "syncerVersion": __version__}


def redacted(data: Any, redact: Callable[[str], str]) -> Any:
    """`data` (JSON-shaped) with `redact` applied to every string in it."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {key: redacted(value, redact) for key, value in data.items()}
    if isinstance(data, list):
        return [redacted(value, redact) for value in data]
    return data


def as_json(data: Any, redact: Callable[[str], str] = str) -> str:
    """JSON text of `data`, its strings redacted first."""
    return json.dumps(redacted(data, redact), indent=2) + "\n"


def render_report(
    report: Report,
    output_format: str,
    *,
    style: Style = plain,
    redact: Callable[[str], str] = str,
    shown: Mapping[int, str] | None = None,
) -> str:
    """Any report of syncer (a plan, a drift, status or promotion report, an apply's account)
    in one of FORMATS, redacted; only the format asked for is rendered. `shown`: an apply's
    lines already streamed (its text then lists only what changed since)."""
    to_json, to_markdown, to_text = _renderers(report, shown)
    if output_format == "json":
        return as_json(to_json(report), redact)
    if output_format == "markdown":
        return str(to_markdown(report, redact=redact))
    if type(report).__name__ in SHOWS_VALUES:
        return redact(to_text(report, style, redact=redact))
    return redact(to_text(report, style))


# each kind of report -> its JSON, Markdown and text renderers ("module:function"), imported when
# one is rendered: a new kind of report is one row, a new format one column
RENDERERS: dict[str, tuple[str, str, str]] = {
    "Plan": (
        "syncer.render.jsonplan:plan_json",
        "syncer.render.markdown:render_markdown",
        "syncer.render.text:render_text",
    ),
    "DriftReport": (
        "syncer.render.drift:drift_json",
        "syncer.render.drift:render_drift_markdown",
        "syncer.render.drift:render_drift_text",
    ),
    "StatusReport": (
        "syncer.status:status_json",
        "syncer.status:status_markdown",
        "syncer.status:status_text",
    ),
    "Promotion": (
        "syncer.render.promotion:promotion_json",
        "syncer.render.promotion:promotion_markdown",
        "syncer.render.promotion:promotion_text",
    ),
    "ApplyResult": (
        "syncer.render.report:report_json",
        "syncer.render.report:report_markdown",
        "syncer.render.report:result_text",
    ),
}


# reports whose text shows field values, cut when long: redacted before the cut as well, where a
# secret across it would show its first characters
SHOWS_VALUES = frozenset({"Plan", "DriftReport", "Promotion"})


def renderer(spec: str) -> Callable[..., Any]:
    """The function a RENDERERS cell names."""
    module, _, name = spec.partition(":")
    found: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return found


def _renderers(report: Report, shown: Mapping[int, str] | None) -> tuple[Callable[..., Any], ...]:
    to_json, to_markdown, to_text = (renderer(spec) for spec in RENDERERS[type(report).__name__])
    return to_json, to_markdown, to_text if shown is None else functools.partial(to_text, shown=shown)


def validation_json(state: DesiredState | None, error: SyncerError | None) -> dict[str, Any]:
    """`validate --format json`: what was read, or every problem found (formatVersion 1)."""
    problems = error.problems if error is not None else []
    return {
        **versioned(1),
        "valid": error is None,
        "integrations": len(state.integrations) if state else None,
        "files": list(state.files) if state else None,
        "applications": sorted(state.applications) if state else None,
        "environment": state.environment if state else None,
        # with no environment chosen, each one was checked: its integrations
        "environments": dict(state.checked) if state else None,
        "summary": error.message if error is not None else "valid",
        "errors": [
            {
                "file": p.location.file if p.location else None,
                "line": p.location.line if p.location else None,
                "column": p.location.column if p.location else None,
                "where": p.where or None,
                "message": p.message,
            }
            for p in problems
        ],
    }


def validation_line(state: DesiredState) -> str:
    """What `validate` read, once every file passed."""
    from syncer.errors import counted
    from syncer.render.escape import printable

    if not state.files:  # a commit that touches only the project file
        return printable(f"{state.project.path}: valid")
    files, applications = counted(len(state.files), "file"), counted(len(state.applications), "application")
    if state.checked:
        each = ", ".join(f"{name} ({counted(n, 'integration')})" for name, n in state.checked.items())
        return f"{files} for {applications}: valid in every environment: {each}"
    integrations = counted(len(state.integrations), "integration")
    where = f" in environment {state.environment}" if state.environment else ""
    return f"{integrations} in {files} for {applications}: valid{where}"


def render_validation(
    outcome: DesiredState | SyncerError, output_format: str, style: Style, redact: Callable[[str], str]
) -> str:
    """What `validate` found (the state read, or the error) in text, JSON or Markdown, redacted."""
    state, error = (None, outcome) if isinstance(outcome, SyncerError) else (outcome, None)
    if output_format == "json":
        return as_json(validation_json(state, error), redact)
    line = validation_line(state) if state is not None else str(error)
    if output_format == "markdown":
        from syncer.render.escape import markdown_text

        return f"<!-- syncer-validate -->\n### syncer validate\n\n{markdown_text(redact(line))}\n"
    return redact(style(line, "green") + "\n")
