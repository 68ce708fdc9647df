"""GitHub Actions: annotations, step summary and step outputs (only when GITHUB_ACTIONS=true)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from syncer.errors import Problem

# GitHub shows at most 10 error annotations per step; the rest are summarised in one more
MAX_ANNOTATIONS = 10
STEP_SUMMARY_LIMIT = 1024 * 1024


def in_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
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
            props = f" file={_escape_property(loc.file)},line={loc.line},col={loc.column}"
        message = f"{problem.where}: {problem.message}" if problem.where else problem.message
        lines.append(f"::error{props}::{escape_data(message)}")
    if len(problems) > MAX_ANNOTATIONS:
        lines.append(f"::error::{len(problems) - MAX_ANNOTATIONS} more errors; see the log for all of them")
    return lines


def append_step_summary(environ: Mapping[str, str], markdown: str) -> None:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    data = markdown.encode("utf-8")
    if len(data) > STEP_SUMMARY_LIMIT - 1024:  # GitHub drops the whole summary past 1 MiB
        cut = data[: STEP_SUMMARY_LIMIT - 2048].decode("utf-8", "ignore")
        markdown = cut + "\n\n_Report cut to fit GitHub's 1 MiB step summary limit._\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(markdown if markdown.endswith("\n") else markdown + "\n")


def write_outputs(environ: Mapping[str, str], outputs: Mapping[str, str | int | bool]) -> None:
    path = environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for key, value in outputs.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            handle.write(f"{key}={text}\n")
