"""Errors a user can act on: one line each, located where possible, exit code 1."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based position in a file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One located mistake in the user's input."""

    location: Location | None
    message: str
    where: str = ""  # path inside the document, e.g. integrations[2].mqttConfig.port

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        where = f"{self.where}: " if self.where else ""
        return f"{prefix}{where}{self.message}"

    def sort_key(self) -> tuple[str, int, int, str]:
        """File, line, column, message: errors print in reading order."""
        loc = self.location
        return (loc.file, loc.line, loc.column, self.message) if loc else ("", 0, 0, self.message)


class SyncerError(Exception):
    """Stops the run: printed without a traceback, exit code 1.

    `problems` holds every located mistake found, so a user fixes them all in one go.
    """

    def __init__(self, message: str, problems: Sequence[Problem] = (), *, published: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)
        self.published = published  # its command already reported it (a refusal after the plan)

    def lines(self) -> list[str]:
        """Every problem, then the summary: what the user sees, one line each."""
        return [str(p) for p in self.problems] + ([self.message] if self.message else [])


class Cancelled(Exception):
    """The run was interrupted (Ctrl-C, SIGTERM) before this request was sent: nothing was done."""


def tally(values: Iterable[T], keys: Iterable[T]) -> dict[T, int]:
    """How many of `values` are each of `keys` (every key present, zero or not)."""
    out = dict.fromkeys(keys, 0)
    for value in values:
        out[value] += 1
    return out


def counted(number: int, noun: str) -> str:
    """`1 error`, `3 errors`: a count with its noun, for every message that counts something."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def document_path(parts: Iterable[str | int]) -> str:
    """`["integrations", 2, "mqttConfig", "port"]` -> `integrations[2].mqttConfig.port`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
