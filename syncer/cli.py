"""Command line: wires the stages together. Heavy modules are imported inside each command."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from syncer import __version__
from syncer.errors import SyncerError

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


class Context:
    """What every command gets: the environment it runs in, and how to print."""

    def __init__(self, environ: dict[str, str], debug: bool) -> None:
        self.environ = environ
        self.debug = debug


def _fail(lines: Sequence[str]) -> None:
    for line in lines:
        click.echo(line, err=True)


class SyncerGroup(click.Group):
    """Turns every failure into one-line errors and exit code 1.

    Click's usage errors normally exit 2, which `plan --detailed-exitcode` uses for "changes";
    here any error is 1, so CI never mistakes a typo for a plan with changes.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Abort:
            _fail(["Aborted."])
            sys.exit(EXIT_ERROR)
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
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def _guard(debug: bool, run: Callable[[], int]) -> int:
    """Unexpected exceptions are bugs: one line by default, the traceback with --debug."""
    try:
        return run()
    except (SyncerError, click.exceptions.ClickException, click.exceptions.Exit):
        raise
    except Exception as exc:
        if debug:
            raise
        raise SyncerError(
            f"internal error: {type(exc).__name__}: {exc}; rerun with --debug for the traceback and report it"
        ) from exc


@click.group(cls=SyncerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="syncer")
@click.option("-v", "--debug", is_flag=True, help="Trace requests (token and secrets redacted).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Losant integrations as code: validate, plan, apply, and detect drift."""
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
    from syncer.desired import load_desired
    from syncer.github import error_annotations, in_actions

    def run() -> int:
        try:
            state = load_desired(paths or (".",), obj.environ, require_env=not env_optional)
        except SyncerError as exc:
            if in_actions(obj.environ):
                for line in error_annotations(exc.problems):
                    click.echo(line)
            raise
        count = len(state.integrations)
        files = len(state.files)
        apps = len(state.applications)
        click.echo(
            f"{count} integration{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''} "
            f"for {apps} application{'s' if apps != 1 else ''}: valid"
        )
        return EXIT_OK

    return _guard(obj.debug, run)


@cli.command()
@click.option("--project", is_flag=True, help="The schema of the project file (syncer.yaml) instead.")
def schema(project: bool) -> int:
    """Print the JSON Schema of the file format (for editors and other tools)."""
    import json

    from syncer.schema import file_schema, project_schema

    click.echo(json.dumps(project_schema() if project else file_schema(), indent=2))
    return EXIT_OK


def main() -> None:
    cli(prog_name="syncer")
