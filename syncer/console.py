"""How a run prints: redacted, one line per line, fenced from GitHub's workflow commands, and
stopped by Ctrl-C / SIGTERM the way docs/decisions.md describes.

The CLI owns one Console per command; the session (syncer.session) never prints.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from syncer.render.escape import printable

if TYPE_CHECKING:
    from syncer.apply import ApplyResult
    from syncer.session import Session

EXIT_INTERRUPTED = 130


class Interrupted(Exception):
    """A signal stopped the run before it wrote anything."""


def fence(text: str, environ: Mapping[str, str]) -> str:
    """Under GitHub Actions, text no line of which can be read as a workflow command."""
    text = text if text.endswith("\n") else text + "\n"
    if environ.get("GITHUB_ACTIONS") != "true":
        return text
    token = secrets.token_hex(16)  # unguessable: the fenced text cannot end the fence itself
    return f"::stop-commands::{token}\n{text}::{token}::\n"


def fail(lines: Sequence[str]) -> None:
    """Errors, one line each (any newline in them shown escaped), on stderr."""
    click.echo(fence("\n".join(printable(line) for line in lines), os.environ), nl=False, err=True)


class Console:
    """One command's output, bound to its session (whose redactor knows every secret so far)."""

    def __init__(self, environ: Mapping[str, str], debug: bool) -> None:
        from syncer.session import Session

        self.debug = debug
        self.session: Session = Session(dict(environ), trace=self.trace, warn=self.warn)

    @property
    def environ(self) -> Mapping[str, str]:
        return self.session.environ

    def trace(self, line: str) -> None:
        """--debug output: stderr, with the token and every known secret redacted."""
        if self.debug:
            click.echo(printable(self.session.redact(f"debug: {line}")), err=True)

    def warn(self, line: str) -> None:
        self.say(line, err=True)

    def say(self, text: str, *, err: bool = False, color: bool | None = None, redacted: bool = False) -> None:
        """Output that carries text from files, Losant or the API: redacted (unless the renderer
        did it already, before framing), and fenced under GitHub Actions."""
        text = text if redacted else self.session.redact(text)
        click.echo(fence(text, self.environ), nl=False, err=err, color=color)

    def progress_line(self, line: str) -> None:
        click.echo(printable(self.session.redact(line)), err=True)

    def publish(self, markdown: str, outputs: Mapping[str, Any], report_file: str | None) -> None:
        """The Markdown report (redacted by its renderer) to --report FILE; under GitHub Actions,
        to the step summary and the step outputs."""
        from syncer.github import publish

        publish(self.environ, markdown, outputs, report_file)

    def style(self, color: str) -> Callable[[str, str], str]:
        from syncer.render.text import plain

        use = color == "always" or (color == "auto" and sys.stdout.isatty())
        if self.environ.get("NO_COLOR") or not use:  # NO_COLOR counts only when not empty
            return plain

        def style(text: str, colour: str) -> str:
            return click.style(text, bold=True) if colour == "bold" else click.style(text, fg=colour)

        return style

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Before any write, a signal stops the reads (no retry, no wait) and the run, with 130."""
        from syncer.signals import interruptible

        def stop(signal_name: str) -> None:
            self.session.cancel.set()
            click.echo(f"{signal_name}: stopping; nothing was written.", err=True)

        with interruptible(stop, lambda signal_name: os._exit(EXIT_INTERRUPTED)):
            yield
        if self.session.cancel.is_set():
            raise Interrupted

    @contextmanager
    def writing(self, finish: Callable[[ApplyResult], None]) -> Iterator[Callable[[ApplyResult], None]]:
        """While apply writes: the first signal stops sending (requests in flight finish), a second
        one writes the report as it stands and quits at once. Yields the function that writes the
        final report, so that exactly one report is ever written."""
        from syncer.signals import interruptible

        once = threading.Lock()  # whoever takes it writes the one final report

        def stop(signal_name: str) -> None:
            if not once.locked():
                self.session.interrupt(f"interrupted ({signal_name}): nothing new was sent")
                self.warn(
                    f"{signal_name}: stopping; nothing new is sent, requests in flight finish "
                    "(each within --timeout). Press Ctrl-C again to quit at once."
                )

        def quit_now(signal_name: str) -> None:
            so_far = self.session.result_so_far()
            if so_far is None or not once.acquire(blocking=False):
                return  # nothing sent yet, or the run is writing its report already
            finish(so_far)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)  # worker threads may still wait on the network

        def final(result: ApplyResult) -> None:
            if not once.acquire(blocking=False):
                threading.Event().wait()  # a second signal is writing the report and quitting
            finish(result)

        with interruptible(stop, quit_now):
            yield final
