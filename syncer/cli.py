"""Command line: wires the stages together. Heavy modules are imported inside each command."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import click

from syncer import __version__
from syncer.errors import Cancelled, Problem, SyncerError, counted
from syncer.render.escape import printable

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERRUPTED = 0, 1, 2, 130


class Context:
    """What every command gets: the environment it runs in, and how to print."""

    def __init__(self, environ: dict[str, str], debug: bool) -> None:
        from syncer.secrets import Redactor

        self.environ = environ
        self.debug = debug
        self.redact = Redactor()
        self.cancel = threading.Event()  # set by Ctrl-C / SIGTERM: nothing new is sent

    def trace(self, line: str) -> None:
        """--debug output: stderr, with the token and every known secret redacted."""
        if self.debug:
            click.echo(printable(self.redact(f"debug: {line}")), err=True)

    def say(self, text: str, *, err: bool = False, color: bool | None = None) -> None:
        """Output that carries text from files, Losant or the API: redacted, and under GitHub
        Actions fenced so that no line of it can be read as a workflow command."""
        click.echo(_fence(self.redact(text), self.environ), nl=False, err=err, color=color)

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Before any write, a signal stops the reads (no retry, no wait) and the run, with 130."""
        from syncer.signals import interruptible

        def stop(signal_name: str) -> None:
            self.cancel.set()
            click.echo(f"{signal_name}: stopping; nothing was written.", err=True)

        with interruptible(stop, lambda signal_name: os._exit(EXIT_INTERRUPTED)):
            yield
        if self.cancel.is_set():
            raise Interrupted


class Interrupted(Exception):
    """A signal stopped the run before it wrote anything."""


def _fence(text: str, environ: Mapping[str, str]) -> str:
    text = text if text.endswith("\n") else text + "\n"
    if environ.get("GITHUB_ACTIONS") != "true":
        return text
    token = secrets.token_hex(16)  # unguessable: the fenced text cannot end the fence itself
    return f"::stop-commands::{token}\n{text}::{token}::\n"


def _fail(lines: Sequence[str]) -> None:
    """Errors, one line each (any newline in them shown escaped)."""
    click.echo(_fence("\n".join(printable(line) for line in lines), os.environ), nl=False, err=True)


class SyncerGroup(click.Group):
    """Turns every failure into one-line errors and exit code 1.

    Click's usage errors normally exit 2, which `plan --detailed-exitcode` uses for "changes";
    here any error is 1, so CI never mistakes a typo for a plan with changes.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Abort as exc:
            if isinstance(exc.__context__, KeyboardInterrupt):  # Ctrl-C at the confirmation prompt
                _fail(["Interrupted; nothing was written."])
                sys.exit(EXIT_INTERRUPTED)
            _fail(["Aborted."])
            sys.exit(EXIT_ERROR)
        except Interrupted:
            sys.exit(EXIT_INTERRUPTED)
        except click.exceptions.ClickException as exc:
            hint = ""
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                hint = f" (see `{exc.ctx.command_path} --help`)"
            _fail([f"Error: {exc.format_message()}{hint}"])
            sys.exit(EXIT_ERROR)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except SyncerError as exc:
            _fail(exc.lines())
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            _fail(["Interrupted."])
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def _guard(obj: Context, run: Callable[[], int]) -> int:
    """Errors leave redacted; unexpected exceptions are bugs: one line, or the traceback with --debug."""
    try:
        return run()
    except Cancelled as exc:  # a read cut short by a signal
        raise Interrupted from exc
    except SyncerError as exc:
        exc.message = obj.redact(exc.message)
        exc.problems = [Problem(p.location, obj.redact(p.message), p.where) for p in exc.problems]
        raise
    except (click.exceptions.ClickException, click.exceptions.Exit, Interrupted):
        raise
    except Exception as exc:
        if obj.debug:
            raise
        raise SyncerError(
            obj.redact(f"internal error: {type(exc).__name__}: {exc}; rerun with --debug for the traceback")
        ) from exc


@click.group(cls=SyncerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="syncer")
@click.option("-v", "--debug", is_flag=True, help="Trace requests (token and secrets redacted).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Losant integrations as code: validate, plan, apply, and detect drift."""
    if isinstance(ctx.obj, Context):  # `syncer demo` runs the commands in-process, with its own environment
        ctx.obj.debug = ctx.obj.debug or debug
    else:
        ctx.obj = Context(dict(os.environ), debug)


PATHS = click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=True, file_okay=True))


@cli.command()
@PATHS
@click.option(
    "--env-optional",
    is_flag=True,
    help="Unset ${env:...} variables are not errors (for pre-commit, where secrets are absent).",
)
@click.pass_obj
def validate(obj: Context, paths: tuple[str, ...], env_optional: bool) -> int:
    """Check the files offline: YAML, schema, types, names. No token needed.

    Every error of every file is reported as file:line:column, then a summary.
    """

    def run() -> int:
        state = _load(obj, paths, require_env=not env_optional)
        count = len(state.integrations)
        files = len(state.files)
        apps = len(state.applications)
        click.echo(
            f"{counted(count, 'integration')} in {counted(files, 'file')} "
            f"for {counted(apps, 'application')}: valid"
        )
        return EXIT_OK

    return _guard(obj, run)


@cli.command()
@click.option("--project", is_flag=True, help="The schema of the project file (syncer.yaml) instead.")
def schema(project: bool) -> int:
    """Print the JSON Schema of the file format (for editors and other tools)."""
    import json

    from syncer.schema import file_schema, project_schema

    click.echo(json.dumps(project_schema() if project else file_schema(), indent=2))
    return EXIT_OK


def _api_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--api-url", help="Losant API URL [env: LOSANT_API_URL; default https://api.losant.com]."
        ),
        click.option(
            "--token-file",
            type=click.Path(exists=True, dir_okay=False),
            help="Read the API token from this file (otherwise from LOSANT_API_TOKEN).",
        ),
        click.option(
            "--parallelism",
            default=8,
            show_default=True,
            type=click.IntRange(1, 64),
            help="Requests in flight at once.",
        ),
        click.option(
            "--timeout",
            default=30.0,
            show_default=True,
            type=click.FloatRange(0.1),
            help="Seconds to wait for one answer.",
        ),
        click.option(
            "--max-attempts",
            default=5,
            show_default=True,
            type=click.IntRange(1, 20),
            help="Attempts per request, retries included.",
        ),
        click.option(
            "--retry-time",
            default=60.0,
            show_default=True,
            type=click.FloatRange(0),
            help="Seconds one request may spend retrying.",
        ),
        click.option(
            "--insecure-skip-tls-verify",
            is_flag=True,
            help="Do not verify the API's TLS certificate (warned; for test setups only).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _color_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--color",
        type=click.Choice(["auto", "always", "never"]),
        default="auto",
        show_default=True,
        help="Colours in text output (auto: on a terminal). NO_COLOR always turns them off.",
    )(command)


class Connection:
    """Everything a command needs to talk to Losant, closed when the command ends."""

    def __init__(self, obj: Context, options: dict[str, Any], project: Any = None) -> None:
        from syncer._http import HttpSession
        from syncer.client import LosantClient, RetryPolicy, check_api_url, is_losant_host, shown_url
        from syncer.losant import DEFAULT_API_URL

        if options["api_url"] is not None:
            self.url = check_api_url(options["api_url"], origin="--api-url")
        elif "LOSANT_API_URL" in obj.environ:
            self.url = check_api_url(obj.environ["LOSANT_API_URL"], origin="LOSANT_API_URL")
        elif project is not None and project.api_url is not None:
            # syncer.yaml is under review in a pull request: it may not send the token elsewhere
            where = project.api_url_location or project.path
            self.url = check_api_url(project.api_url, origin=f"apiUrl in {where}")
            if not is_losant_host(self.url):
                raise SyncerError(
                    f"{where}: apiUrl: {shown_url(project.api_url)} is not a Losant host, and a URL "
                    "read from a file under review may only name one (https://*.losant.com); "
                    "confirm it with --api-url or LOSANT_API_URL"
                )
        else:
            self.url = DEFAULT_API_URL
        token = _read_token(options["token_file"], obj.environ)
        obj.redact.add([token])
        self.token = token
        verify = not options["insecure_skip_tls_verify"]
        if not verify:
            click.echo(
                "warning: TLS certificate verification is off (--insecure-skip-tls-verify); "
                "anyone on the network path can read the token",
                err=True,
            )
        self.parallelism = options["parallelism"]
        self.session = HttpSession(
            self.url, token, timeout=options["timeout"], verify=verify, max_connections=self.parallelism
        )
        policy = RetryPolicy(attempts=options["max_attempts"], timeout=options["retry_time"])
        self.client = LosantClient(
            self.session, policy=policy, trace=obj.trace, redact=obj.redact, cancel=obj.cancel
        )

    def close(self) -> None:
        self.session.close()


def _read_token(token_file: str | None, environ: dict[str, str]) -> str:
    if token_file:
        from syncer.load import FileRefused, read_regular_file

        try:
            # a Losant token is under 1 KiB; the cap stops /dev/zero, the regular-file rule a FIFO
            token = read_regular_file(token_file, 64 * 1024).decode("utf-8").strip()
        except FileRefused as exc:
            raise SyncerError(f"{token_file}: cannot read the token file ({exc})") from exc
        except UnicodeDecodeError as exc:  # its message would quote a byte of the token
            raise SyncerError(f"{token_file}: the token file is not UTF-8 text") from exc
        if not token:
            raise SyncerError(f"{token_file}: the token file is empty")
        return token
    token = environ.get("LOSANT_API_TOKEN", "").strip()
    if not token:
        raise SyncerError(
            "no API token: set LOSANT_API_TOKEN, or pass --token-file FILE "
            "(never the token itself on the command line)"
        )
    return token


def _styler(obj: Context, color: str) -> Callable[[str, str], str]:
    from syncer.render.text import plain

    use = color == "always" or (color == "auto" and sys.stdout.isatty())
    if "NO_COLOR" in obj.environ or not use:
        return plain

    def style(text: str, colour: str) -> str:
        return click.style(text, bold=True) if colour == "bold" else click.style(text, fg=colour)

    return style


def _load(obj: Context, paths: tuple[str, ...], *, require_env: bool = True) -> Any:
    """Files -> desired state, with its secrets known to the redactor from here on.

    File errors also become GitHub annotations under GitHub Actions.
    """
    from syncer.desired import load_desired
    from syncer.github import error_annotations, in_actions

    try:
        desired = load_desired(paths or (".",), obj.environ, require_env=require_env)
    except SyncerError as exc:
        if in_actions(obj.environ):
            for line in error_annotations(exc.problems):
                click.echo(line)
        raise
    obj.redact.add(desired.secret_values())
    # a value the files take from the environment is sensitive wherever it lands, even outside
    # a secret field (a topic, a host): the run never prints it
    obj.redact.add(obj.environ[name] for name in desired.env_names() if name in obj.environ)
    return desired


def _read_live(obj: Context, conn: Connection, applications: list[str]) -> Any:
    """Read live state, with its secrets known to the redactor from here on."""
    from syncer.live import read_live
    from syncer.secrets import secret_values

    live = read_live(conn.client, applications, parallelism=conn.parallelism)
    obj.redact.add(v for items in live.integrations.values() for i in items for v in secret_values(i))
    return live


def _check_credentials(obj: Context, conn: Connection, desired: Any) -> None:
    """Every credentialName must name a service credential of a fitting type, before any write.

    One list request per application that names a credential; a token that may not list
    credentials gets a warning, since the check is a help, not a condition of the run.
    """
    from syncer.client import ApiError
    from syncer.credentials import credential_names, credential_problems
    from syncer.live import read_credentials
    from syncer.losant import SCOPES

    users = credential_names(desired)
    if not users:
        return
    try:
        credentials = read_credentials(conn.client, list(users), parallelism=conn.parallelism)
    except ApiError as exc:
        if exc.status != 403:
            raise
        click.echo(
            "warning: credentialName not checked: the token may not list service credentials "
            f"(it needs one of {', '.join(SCOPES['credentials'])})",
            err=True,
        )
        return
    problems = credential_problems(users, credentials)
    if problems:
        problems.sort(key=Problem.sort_key)
        raise SyncerError(
            f"{counted(len(problems), 'credentialName')} Losant cannot honour; nothing was changed",
            problems,
        )


def _read_state(obj: Context, paths: tuple[str, ...], options: dict[str, Any]) -> tuple[Any, Any, Connection]:
    """validate -> read live (and check named credentials). The caller closes the connection."""
    desired = _load(obj, paths)
    conn = Connection(obj, options, desired.project)
    try:
        live = _read_live(obj, conn, list(desired.applications))
        _check_credentials(obj, conn, desired)
    except BaseException:
        conn.close()
        raise
    return desired, live, conn


def _planned(
    obj: Context, paths: tuple[str, ...], options: dict[str, Any], prune: bool, push_secrets: bool
) -> tuple[Any, Any, Any]:
    """validate -> read live -> plan. Returns (desired, plan, connection); the caller closes it."""
    from syncer.plan import make_plan

    desired, live, conn = _read_state(obj, paths, options)
    try:
        plan = make_plan(desired, live, prune=prune, push_secrets=push_secrets)
    except BaseException:
        conn.close()
        raise
    return desired, plan, conn


def _emit(obj: Context, plan: Any, output_format: str, color: str) -> None:
    import json

    if output_format == "json":
        from syncer.render.jsonplan import plan_json

        obj.say(json.dumps(plan_json(plan), indent=2))
    elif output_format == "markdown":
        from syncer.render.markdown import render_markdown

        obj.say(render_markdown(plan))
    else:
        from syncer.render.text import render_text

        obj.say(render_text(plan, _styler(obj, color)), color=True)


REPORT = click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False),
    help="Also write the Markdown report to FILE (for a pull-request comment or an issue).",
)


def _publish(obj: Context, markdown: str, outputs: dict[str, Any], report_file: str | None) -> None:
    """The Markdown report to --report FILE; under GitHub Actions, to the step summary and outputs."""
    from syncer.github import append_step_summary, in_actions, write_outputs

    markdown = obj.redact(markdown)
    if report_file:
        try:
            with open(report_file, "w", encoding="utf-8") as handle:
                handle.write(markdown)
        except OSError as exc:
            raise SyncerError(f"{report_file}: cannot write the report ({exc.strerror})") from exc
    if in_actions(obj.environ):
        append_step_summary(obj.environ, markdown)
        write_outputs(obj.environ, outputs)


def _plan_outputs(plan: Any) -> dict[str, Any]:
    counts = plan.counts()
    return {
        "has_changes": plan.has_changes,
        "creates": counts["create"],
        "updates": counts["update"],
        "deletes": counts["delete"],
        "replaces": counts["replace"],
    }


PUSH_SECRETS = click.option(
    "--push-secrets",
    is_flag=True,
    help="Send the secrets of the files even where Losant does not show its own (to rotate them).",
)


FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Output for people, tools, or a pull-request comment.",
)


@cli.command()
@PATHS
@_api_options
@FORMAT
@_color_option
@click.option(
    "--prune", is_flag=True, help="Also delete live integrations no file declares, in every application."
)
@PUSH_SECRETS
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0 none, 1 error).")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False),
    help="Also save the plan to FILE, for `syncer apply FILE` (no secret is stored in clear).",
)
@REPORT
@click.pass_obj
def plan(
    obj: Context,
    /,
    paths: tuple[str, ...],
    output_format: str,
    color: str,
    prune: bool,
    push_secrets: bool,
    detailed_exitcode: bool,
    out_file: str | None,
    report_file: str | None,
    **options: Any,
) -> int:
    """Show what apply would change: read-only, a dry run.

    Reads the live integrations of every application in the files (completely, or the run
    stops), compares them with the files, and prints the changes with secrets masked.
    """

    def run() -> int:
        with obj.reading():
            desired, result, conn = _planned(obj, paths, options, prune, push_secrets)
        conn.close()
        if out_file:
            from syncer.planfile import plan_key, write_plan_file

            key = plan_key(obj.environ, conn.token)
            write_plan_file(
                out_file,
                result,
                desired,
                key=key,
                paths=list(paths or (".",)),
                api_url=conn.url,
                prune=prune,
                push_secrets=push_secrets,
            )
        _emit(obj, result, output_format, color)
        from syncer.render.markdown import render_markdown

        _publish(obj, render_markdown(result), _plan_outputs(result), report_file)
        return EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK

    return _guard(obj, run)


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def _approve(auto_approve: bool) -> None:
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


def _from_saved(obj: Context, path: str, options: dict[str, Any]) -> tuple[Any, Any, Connection, bool]:
    """A saved plan, checked against the files and the integrations it touches, read again.

    Returns (desired, plan, connection, prune); the caller closes the connection.
    """
    from syncer.live import read_touched
    from syncer.planfile import plan_key, read_plan_file, replan_saved

    conn = Connection(obj, options)
    try:
        key = plan_key(obj.environ, conn.token)
        saved = read_plan_file(path, key)
        if conn.url != saved.api_url.rstrip("/"):
            raise SyncerError(
                f"{path}: the plan was made against {saved.api_url}, and this apply would "
                f"talk to {conn.url}; nothing was changed"
            )
        desired = _load(obj, tuple(saved.paths))
        _check_credentials(obj, conn, desired)
        targets = [(r["applicationId"], r["integrationId"], r["name"]) for r in saved.changes]
        live, gone = read_touched(conn.client, targets, parallelism=conn.parallelism)
        plan = replan_saved(key, saved, desired, live, gone)
    except BaseException:
        conn.close()
        raise
    return desired, plan, conn, saved.prune


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@_api_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="The result for people, or for tools.",
)
@_color_option
@click.option(
    "--prune", is_flag=True, help="Also delete live integrations no file declares, in every application."
)
@PUSH_SECRETS
@click.option(
    "--auto-approve", is_flag=True, help="Do not ask for confirmation (required without a terminal)."
)
@click.option(
    "--max-deletes",
    type=click.IntRange(0),
    default=None,
    help="Refuse a run deleting more than this [default: maxDeletes in syncer.yaml, else 5].",
)
@click.option("--allow-empty", is_flag=True, help="Allow pruning an application whose files declare nothing.")
@click.option(
    "--fail-fast", is_flag=True, help="Stop at the first failed change (default: independent ones go on)."
)
@click.option(
    "--settle",
    default=3.0,
    show_default=True,
    type=click.FloatRange(0, 600),
    help="Seconds to wait before looking for a POST whose answer was lost (it is never sent twice).",
)
@REPORT
@click.pass_obj
def apply(
    obj: Context,
    /,
    paths: tuple[str, ...],
    output_format: str,
    color: str,
    prune: bool,
    push_secrets: bool,
    auto_approve: bool,
    max_deletes: int | None,
    allow_empty: bool,
    report_file: str | None,
    fail_fast: bool,
    settle: float,
    **options: Any,
) -> int:
    """Make Losant match the files: plan, confirm, apply, verify.

    PATHS are the integration files (as for plan), or one plan file saved by `syncer plan --out`.
    """

    def run() -> int:
        import json

        from syncer.apply import (
            GUARD_DEFAULT_MAX_DELETES,
            ApplyResult,
            ApplyRun,
            Guards,
            Verification,
            check_guards,
        )
        from syncer.planfile import is_plan_file
        from syncer.render.report import Progress, report_json, report_markdown, report_outputs, report_text
        from syncer.signals import interruptible

        def finish(outcome: ApplyResult) -> None:
            """The account of the run: printed once, and published (also when interrupted)."""
            if output_format == "json":
                obj.say(json.dumps(report_json(outcome), indent=2))
            elif outcome.outcomes:
                obj.say(report_text(outcome))
            else:
                click.echo("No changes. Live state matches the files.")
            _publish(obj, report_markdown(outcome), report_outputs(outcome), report_file)

        if len(paths) == 1 and is_plan_file(paths[0]):
            if prune or push_secrets:
                raise SyncerError(
                    "--prune and --push-secrets cannot change a saved plan; make a new plan with them"
                )
            with obj.reading():
                desired, result, conn, planned_prune = _from_saved(obj, paths[0], options)
        else:
            with obj.reading():
                desired, result, conn = _planned(obj, paths, options, prune, push_secrets)
            planned_prune = prune
        with contextlib.closing(conn):
            if not result.has_changes:
                finish(ApplyResult([], verification=Verification(True)))
                return EXIT_OK
            limit = max_deletes if max_deletes is not None else desired.project.max_deletes
            declared = {
                app: sum(1 for i in desired.for_application(app) if not i.absent)
                for app in desired.applications
            }
            check_guards(
                result,
                declared,
                Guards(limit if limit is not None else GUARD_DEFAULT_MAX_DELETES, allow_empty),
            )
            if output_format == "text":
                _emit(obj, result, "text", color)
            _approve(auto_approve)

            def echo(line: str) -> None:
                click.echo(printable(obj.redact(line)), err=True)

            apply_run = ApplyRun(
                conn.client, result.changes, parallelism=conn.parallelism, fail_fast=fail_fast
            )

            report_once = threading.Lock()  # whoever takes it writes the one final report

            def stop(signal_name: str) -> None:
                if report_once.locked():
                    return
                apply_run.interrupt(f"interrupted ({signal_name}): nothing new was sent")
                echo(
                    f"{signal_name}: stopping; nothing new is sent, requests in flight finish "
                    "(each within --timeout). Press Ctrl-C again to quit at once."
                )

            def quit_now(signal_name: str) -> None:
                if not report_once.acquire(blocking=False):
                    return  # the run is writing its report already
                finish(apply_run.result_so_far())
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(EXIT_INTERRUPTED)  # worker threads may still wait on the network

            with interruptible(stop, quit_now):
                with Progress(len(result.changes), terminal=sys.stderr.isatty(), echo=echo) as progress:
                    apply_run.write(report=progress.advance)
                verification = apply_run.verify(desired, prune=planned_prune, settle=settle)
                outcome = apply_run.result(verification)
                if not report_once.acquire(blocking=False):
                    threading.Event().wait()  # a second signal is writing the report and quitting
                finish(outcome)
        if outcome.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_OK if outcome.ok else EXIT_ERROR

    return _guard(obj, run)


@cli.command()
@PATHS
@_api_options
@FORMAT
@REPORT
@click.pass_obj
def drift(
    obj: Context, /, paths: tuple[str, ...], output_format: str, report_file: str | None, **options: Any
) -> int:
    """Report how Losant differs from the files (for a scheduled check).

    Each drifted integration says which way: changed live (edited outside git), missing live
    (deleted outside git), or created outside git (no file declares it). Exit 0 in sync,
    2 drift, 1 error.
    """

    def run() -> int:
        import json

        from syncer.drift import find_drift
        from syncer.render.drift import drift_json, render_drift_markdown, render_drift_text

        with obj.reading():
            desired, live, conn = _read_state(obj, paths, options)
        conn.close()
        report = find_drift(desired, live)
        markdown = render_drift_markdown(report)
        if output_format == "json":
            obj.say(json.dumps(drift_json(report), indent=2))
        elif output_format == "markdown":
            obj.say(markdown)
        else:
            obj.say(render_drift_text(report))
        counts = report.counts()
        outputs = {
            "has_drift": not report.in_sync,
            "changed_live": counts["changed-live"],
            "missing_live": counts["missing-live"],
            "created_outside_git": counts["created-outside-git"],
        }
        _publish(obj, markdown, outputs, report_file)
        return EXIT_OK if report.in_sync else EXIT_CHANGES

    return _guard(obj, run)


@cli.command()
@click.option(
    "--application", "application_id", required=True, metavar="ID", help="The application to export."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Write DIR/<application>.yaml and DIR/syncer.schema.json (default: print the file).",
)
@_api_options
@click.pass_obj
def export(obj: Context, /, application_id: str, out_dir: str | None, **options: Any) -> int:
    """Write the live integrations of an application as a syncer file.

    Secret values are replaced by ${env:NAME} placeholders; the names to set are printed.
    """

    def run() -> int:
        import json

        from syncer.export import export_application
        from syncer.losant import OBJECT_ID_PATTERN
        from syncer.schema import file_schema

        app = application_id.lower()
        if not re.fullmatch(OBJECT_ID_PATTERN, app):
            raise SyncerError(
                f"--application {application_id!r} is not a Losant id (24 hexadecimal characters)"
            )
        conn = Connection(obj, options)
        try:
            with obj.reading():
                items = _read_live(obj, conn, [app]).integrations[app]
        finally:
            conn.close()
        result = export_application(app, items, schema_ref="syncer.schema.json")
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
            target = os.path.join(out_dir, f"{app}.yaml")
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(result.text)
            with open(os.path.join(out_dir, "syncer.schema.json"), "w", encoding="utf-8") as handle:
                handle.write(json.dumps(file_schema(), indent=2) + "\n")
            click.echo(f"Wrote {counted(result.count, 'integration')} to {target}", err=True)
        else:
            obj.say(result.text)
        if result.variables:
            click.echo(
                "Set these environment variables to the secret values (export never writes a secret):",
                err=True,
            )
            obj.say(
                "".join(printable(f"  {variable}  ({where})") + "\n" for variable, where in result.variables),
                err=True,
            )
        return EXIT_OK

    return _guard(obj, run)


@cli.command()
@click.pass_obj
def demo(obj: Context) -> int:
    """Run validate, plan, apply and drift on a built-in emulator (no account needed)."""
    from syncer.demo import run_demo

    def invoke(args: list[str], environ: Mapping[str, str]) -> int:
        try:
            cli.main(args, prog_name="syncer", obj=Context(dict(environ), obj.debug))
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else EXIT_ERROR
        return EXIT_OK

    return _guard(obj, lambda: run_demo(invoke, click.echo, obj.environ))


def _parse_token(spec: str) -> tuple[str, tuple[str, ...]]:
    token, _, scopes = spec.partition("=")
    if not token:
        raise click.BadParameter(f"{spec!r}: write TOKEN or TOKEN=scope1,scope2", param_hint="--token")
    return token, tuple(s for s in scopes.split(",") if s) or ("all.Application",)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port)."
)
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False),
    help="Load state from this file and save it after every write (atomically).",
)
@click.option(
    "--token",
    "tokens",
    multiple=True,
    metavar="TOKEN[=SCOPE,...]",
    help="Accepted token and its scopes (default scope all.Application). Repeatable.",
)
@click.option(
    "--application",
    "applications",
    multiple=True,
    metavar="ID",
    help="Declare an application. Without any, applications are created on first use.",
)
@click.option(
    "--secrets",
    type=click.Choice(["echo", "omit", "mask"]),
    default="echo",
    show_default=True,
    help="Integration secret fields in answers. echo: as stored (the published contract); "
    "omit: left out (write-only); mask: each replaced by --secret-mask.",
)
@click.option(
    "--secret-mask",
    default="****",
    show_default=True,
    metavar="TEXT",
    help="What --secrets mask shows instead of each secret.",
)
@click.option("--latency", type=click.FloatRange(0), default=0, help="Milliseconds added to each request.")
@click.option("--jitter", type=click.FloatRange(0), default=0, help="Plus up to this many ms at random.")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="SPEC",
    help="Inject a fault, e.g. 429@list:times=3,retry-after=1 (see docs/emulator.md).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for jitter and faults.")
@click.option("--admin", is_flag=True, help="Enable the admin API under /_emulator/.")
@click.option(
    "--patch-config",
    type=click.Choice(["replace", "merge"]),
    default="replace",
    show_default=True,
    help="How PATCH treats a config object.",
)
@click.option(
    "--no-config-defaults",
    is_flag=True,
    help="Add none of the built-in server defaults (websocketConfig's); --server-default still adds.",
)
@click.option(
    "--server-default",
    "server_defaults",
    multiple=True,
    metavar="CONFIG.FIELD=JSON",
    help="The server adds this field to a config object that leaves it out, e.g. "
    "mqttConfig.clean=false (a JSON value; a plain word is a string). Repeatable.",
)
@click.option("--unique-names", is_flag=True, help="Reject a second integration of the same name.")
@click.option(
    "--max-per-page",
    type=click.IntRange(1),
    metavar="N",
    help="Serve at most N items per list page, silently (perPage in the answer says N). "
    "Default: up to 1000, more is a 400.",
)
@click.option("--log-requests", is_flag=True, help="Print one line per request (no bodies).")
def emulator(
    host: str,
    port: int,
    state_file: str | None,
    tokens: tuple[str, ...],
    applications: tuple[str, ...],
    secrets: str,
    secret_mask: str,
    latency: float,
    jitter: float,
    faults: tuple[str, ...],
    seed: int,
    admin: bool,
    patch_config: str,
    no_config_defaults: bool,
    server_defaults: tuple[str, ...],
    unique_names: bool,
    max_per_page: int | None,
    log_requests: bool,
) -> int:
    """Serve an emulator of Losant's integration endpoints (no account needed)."""
    from syncer.emulator.api import (
        DEFAULT_APPLICATION,
        DEFAULT_TOKEN,
        Emulator,
        EmulatorConfig,
        server_defaults_from_specs,
    )
    from syncer.emulator.faults import parse_rule
    from syncer.emulator.server import EmulatorServer

    try:
        rules = [parse_rule(spec) for spec in faults]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault") from exc
    try:
        defaults = server_defaults_from_specs(server_defaults, builtin=not no_config_defaults)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--server-default") from exc
    from syncer.losant import OBJECT_ID_PATTERN

    for app in applications:
        if not re.fullmatch(OBJECT_ID_PATTERN, app):
            raise click.BadParameter(f"{app!r} is not 24 hexadecimal characters", param_hint="--application")
    token_map = dict(_parse_token(t) for t in tokens) or {DEFAULT_TOKEN: ("all.Application",)}
    config = EmulatorConfig(
        tokens=token_map,
        applications=applications,
        auto_create_applications=not applications,
        secrets=secrets,  # type: ignore[arg-type]
        secret_mask=secret_mask,
        server_defaults=defaults,
        patch_config=patch_config,  # type: ignore[arg-type]
        unique_names=unique_names,
        per_page_cap=max_per_page,
        state_file=state_file,
        admin=admin,
        latency=latency / 1000,
        jitter=jitter / 1000,
        seed=seed,
        faults=rules,
    )
    try:
        emu = Emulator(config)
        server = EmulatorServer(emu, host, port, verbose=log_requests)
    except (OSError, ValueError) as exc:
        raise SyncerError(f"cannot start the emulator: {exc}") from exc
    app_line = (
        ", ".join(a.lower() for a in applications)
        if applications
        else f"{DEFAULT_APPLICATION} (any id works: applications are created on first use)"
    )
    token_line = (
        f"export LOSANT_API_TOKEN={DEFAULT_TOKEN}"
        if not tokens
        else f"# {len(token_map)} token(s) from --token"
    )
    click.echo(
        f"Losant emulator listening on {server.url}\n"
        f"  export LOSANT_API_URL={server.url}\n  {token_line}\n"
        f"  application: {app_line}\n"
        f"  secrets: {secrets}; latency: {latency:g} ms; faults: {len(rules)}; "
        f"admin API: {'on' if admin else 'off'}; state: {state_file or 'in memory'}\n"
        "Press Ctrl+C to stop."
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.server_close()
    return EXIT_OK


def main() -> None:
    cli(prog_name="syncer")
