"""How a run prints: redacted, one line per line, fenced from GitHub's workflow commands, and
stopped by Ctrl-C / SIGTERM the way docs/decisions.md describes.

The CLI owns one Console per command; the session (syncer.session) never prints.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from syncer.errors import Cancelled, Problem, SyncerError
from syncer.render.escape import fenced, printable

if TYPE_CHECKING:
    from syncer.apply import ApplyResult
    from syncer.session import Session

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERRUPTED = 0, 1, 2, 130
# what each command's failure reports in place of its result, for the step outputs (with error=true)
FAILED_OUTPUTS: dict[str, dict[str, str | bool]] = {
    "plan": {"has_changes": "unknown"},
    "drift": {"has_drift": "unknown"},
    "apply": {"converged": "unknown"},
    "status": {"unhealthy": "unknown"},
    "compare": {"same": "unknown"},
}


class Interrupted(Exception):
    """A signal stopped the run before it wrote anything."""


def in_github_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def fence(text: str, environ: Mapping[str, str]) -> str:
    """Under GitHub Actions, text no line of which can be read as a workflow command."""
    text = text if text.endswith("\n") else text + "\n"
    if not in_github_actions(environ):
        return text
    import secrets  # 4 ms of imports (hmac, hashlib): only runs under GitHub Actions need it

    token = secrets.token_hex(16)  # unguessable: the fenced text cannot end the fence itself
    return f"::stop-commands::{token}\n{text}::{token}::\n"


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def fail(lines: Sequence[str]) -> None:
    """Errors, one line each (any newline in them shown escaped), on stderr."""
    click.echo(fence("\n".join(printable(line) for line in lines), os.environ), nl=False, err=True)


class Console:
    """One command's output, bound to its session (whose redactor knows every secret so far)."""

    def __init__(self, environ: Mapping[str, str], debug: bool, *, whole_process: bool = False) -> None:
        self.debug = debug
        self.environ: Mapping[str, str] = dict(environ)
        self._whole_process = whole_process
        self._reporting: tuple[str, str | None] | None = None

    @functools.cached_property
    def session(self) -> Session:
        """Made when a command first needs it (`syncer --help` never does: it imports it all)."""
        from syncer.session import Session

        return Session(self.environ, trace=self.trace, warn=self.warn, whole_process=self._whole_process)

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

    def show(self, rendered: str, output_format: str) -> None:
        """A rendered plan or report: text for people (fenced, in colour when asked), or a
        document for tools."""
        if output_format == "text":
            self.say(rendered, color=True, redacted=True)
        else:
            self.document(rendered, output_format)

    def document(self, text: str, kind: str) -> None:
        """A document for tools or files on stdout (`kind`: json, markdown or yaml), already
        redacted by its renderer: never fenced, so `| jq` and `> file` get it whole. It cannot
        act as a workflow command: JSON and Markdown lines never start with `::`, and `##[` is
        written escaped; a YAML export that would need escaping is refused here (--out writes it)."""
        if kind == "json":
            text = text.replace("##[", "##\\u005b")  # the same JSON value, no `##[` in the text
        elif kind == "markdown":
            text = text.replace("##[", "##\\[")
        elif in_github_actions(self.environ) and any(
            line.lstrip().startswith("::") or "##[" in line for line in text.splitlines()
        ):
            raise SyncerError(
                "the export holds text a GitHub runner would read as a command; write it with --out DIR"
            )
        click.echo(text, nl=False)

    def approve(self, auto_approve: bool) -> None:
        """apply's confirmation: `yes` typed at a terminal, or --auto-approve; else SyncerError."""
        if auto_approve:
            return
        if not _stdin_is_tty():
            raise SyncerError(
                "apply asks for confirmation and there is no terminal to ask: run it in a terminal, or "
                "pass --auto-approve (as CI does after review); nothing was changed"
            )
        answer = click.prompt(
            "Apply these changes? Only 'yes' is accepted", default="", show_default=False, err=True
        )
        if answer.strip() != "yes":
            raise SyncerError("Apply cancelled; nothing was changed.")

    def progress_writer(self, *, err: bool = True) -> Callable[[str], None]:
        """Writes one line as each change finishes (no workflow command can start it: it starts
        with `[n/N]`). The stream is looked up once, not per line with an isatty call as
        click.echo does: the lines carry no colour to strip."""
        stream = sys.stderr if err else sys.stdout
        redact = self.session.redact

        def write(line: str) -> None:
            stream.write(printable(redact(line)) + "\n")
            stream.flush()  # shown as its change finishes, in a CI log too

        return write

    def reporting(self, command: str, report_file: str | None) -> None:
        """From here on, a failure of `command` is reported where its result would be (the
        --report file, the step summary and outputs), so a stale report never stays."""
        self._reporting = (command, report_file)

    def failed(self, error: SyncerError) -> None:
        """Publish a failure: annotations for located problems, and the failure report."""
        from syncer.github import error_annotations, in_actions

        if in_actions(self.environ):
            click.echo("".join(line + "\n" for line in error_annotations(error.problems)), nl=False)
        if error.published:
            return
        error.published = True
        if self._reporting is None:  # a command without a report (ping, export, schema) still says so
            with contextlib.suppress(SyncerError):
                self.publish_outputs({"error": True})
            return
        command, report_file = self._reporting
        lines = _fitting([self.session.redact(line) for line in error.lines()])
        markdown = f"<!-- syncer-{command} -->\n### syncer {command}\n\n**Failed.**\n\n" + fenced(lines)
        with contextlib.suppress(SyncerError):  # the error being reported is the one to show
            self.publish(markdown, {**FAILED_OUTPUTS.get(command, {}), "error": True}, report_file)

    def publish_outputs(self, outputs: Mapping[str, Any]) -> None:
        """Step outputs only, under GitHub Actions."""
        from syncer.github import in_actions, write_outputs

        if in_actions(self.environ):
            write_outputs(self.environ, outputs)

    def publish(self, markdown: str, outputs: Mapping[str, Any], report_file: str | None) -> None:
        """The Markdown report (redacted by its renderer) to --report FILE; under GitHub Actions,
        to the step summary and the step outputs."""
        from syncer.github import publish

        publish(self.environ, markdown, outputs, report_file)

    def style(self, color: str) -> Callable[[str, str], str]:
        """How to colour stdout: `always`, `never`, or `auto` (a terminal, or FORCE_COLOR set); NO_COLOR
        turns colour off unless `always`, and counts only when not empty (no-color.org)."""
        from syncer.render.text import plain

        environ = self.environ
        use = color == "always" or (
            color == "auto"
            and not environ.get("NO_COLOR")
            and (bool(environ.get("FORCE_COLOR")) or sys.stdout.isatty())
        )
        if not use:
            return plain
        from rich.color import ColorSystem
        from rich.style import Style

        def style(text: str, colour: str) -> str:
            return Style.parse(colour).render(text, color_system=ColorSystem.STANDARD)

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


def _usage_error_output() -> None:
    """A mistyped option or a missing path is a failed step too: `error=true` for the workflow."""
    from syncer.github import in_actions, write_outputs

    if in_actions(os.environ):
        with contextlib.suppress(SyncerError):  # the usage error is the one to report
            write_outputs(os.environ, {"error": True})


def _fitting(lines: list[str], room: int = 50_000) -> list[str]:
    """The first lines, as many as fit a pull-request comment (GitHub refuses one over 65,536
    characters, and then the last report would stay), and how many more the log has."""
    kept: list[str] = []
    used = 0
    for line in lines:
        used += len(line) + 1
        if used > room:
            return [*kept, f"... and {len(lines) - len(kept)} more lines: see the job log"]
        kept.append(line)
    return kept


class OneLineErrors(click.Group):
    """Every failure is one-line errors and exit code 1; an interrupted run exits 130.

    Click's usage errors normally exit 2, which `plan --detailed-exitcode` uses for "changes";
    here any error is 1, so CI never mistakes a typo for a plan with changes.
    """

    def invoke(self, ctx: click.Context) -> Any:
        """Errors leave redacted (and as annotations under GitHub Actions); an unexpected
        exception is a bug: one line, or the traceback with --debug."""
        try:
            return super().invoke(ctx)
        except (Cancelled, Interrupted, click.exceptions.Abort) as exc:
            interrupted = not isinstance(exc, click.exceptions.Abort) or isinstance(
                exc.__context__,
                KeyboardInterrupt,  # Ctrl-C at the confirmation prompt
            )
            if interrupted and isinstance(ctx.obj, Console):  # the report of an earlier run must not stay
                ctx.obj.failed(SyncerError("interrupted before any write; nothing was written"))
            if isinstance(exc, click.exceptions.Abort):
                raise
            raise Interrupted from exc
        except SyncerError as exc:
            obj = ctx.obj
            if isinstance(obj, Console):
                exc.message = obj.session.redact(exc.message)
                exc.problems = [
                    Problem(p.location, obj.session.redact(p.message), p.where) for p in exc.problems
                ]
                obj.failed(exc)
            raise
        except (click.exceptions.ClickException, click.exceptions.Exit):
            raise
        except Exception as exc:
            obj = ctx.obj
            if isinstance(obj, Console) and obj.debug:
                raise
            redact = obj.session.redact if isinstance(obj, Console) else str
            message = f"internal error: {type(exc).__name__}: {exc}; rerun with --debug for the traceback"
            raise SyncerError(redact(message)) from exc

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Abort as exc:
            if isinstance(exc.__context__, KeyboardInterrupt):  # Ctrl-C at the confirmation prompt
                fail(["Interrupted; nothing was written."])
                sys.exit(EXIT_INTERRUPTED)
            fail(["Aborted."])
            sys.exit(EXIT_ERROR)
        except Interrupted:
            sys.exit(EXIT_INTERRUPTED)
        except click.exceptions.ClickException as exc:
            hint = ""
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                hint = f" (see `{exc.ctx.command_path} --help`)"
            fail([f"Error: {exc.format_message()}{hint}"])
            _usage_error_output()
            sys.exit(EXIT_ERROR)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except SyncerError as exc:
            fail(exc.lines())
            sys.exit(EXIT_ERROR)
        sys.exit(code if isinstance(code, int) else EXIT_OK)
