"""Command line: parse options, call the session (syncer.session), print. Nothing else.

Heavy modules are imported inside each command, so `syncer --help` stays fast.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

import click

from syncer import __version__
from syncer import options as opt
from syncer.compare_command import compare
from syncer.console import EXIT_CHANGES, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, Console, OneLineErrors
from syncer.emulator.command import emulator
from syncer.errors import SyncerError, counted
from syncer.options import Output

if TYPE_CHECKING:
    from syncer.connection import ConnectionOptions
    from syncer.session import ApplyOptions, PlanOptions


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="syncer")
@click.option("-v", "--debug", is_flag=True, help="Trace requests (token and secrets redacted).")
@click.option(
    "--project", "project_file", type=click.Path(dir_okay=False), help="The project file [found upward]."
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, project_file: str | None) -> None:
    """Losant integrations as code: validate, plan, apply, and detect drift."""
    if isinstance(ctx.obj, Console):  # from main(), or `syncer demo` running commands in-process
        ctx.obj.debug = ctx.obj.debug or debug
    else:
        ctx.obj = Console(os.environ, debug)
    ctx.obj.session.project_file = project_file or ctx.obj.session.project_file


# -- commands (the options several share are in syncer.options) ----------------------------------


@cli.command()
@opt.PATHS
@opt.ENV_OPTIONAL
@opt.output_options("text", "json", help="For people, or for tools.")
@opt.ENVIRONMENT
@click.pass_obj
def validate(obj: Console, paths: tuple[str, ...], env_optional: bool, output: Output) -> int:
    """Check the files offline: YAML, schema, types, names. No token needed.

    Every error of every file is reported as file:line:column, then a summary (with --format
    json, also as JSON on stdout).
    """
    from syncer.render.formats import render_validation

    obj.reporting("validate", None)
    redact = obj.session.redact
    try:
        state = obj.session.load(paths, require_env=not env_optional, every_environment=True)
    except SyncerError as exc:
        if output.format == "json":
            obj.document(render_validation(exc, "json", obj.style("never"), redact), "json")
        raise
    obj.show(render_validation(state, output.format, obj.style(output.color), redact), output.format)
    obj.publish(render_validation(state, "markdown", obj.style("never"), redact), {"error": False}, None)
    return EXIT_OK


@cli.command()
@opt.flag("--project", "The schema of the project file (syncer.yaml) instead.")
def schema(project: bool) -> int:
    """Print the JSON Schema of the file format (for editors and other tools)."""
    import json

    from syncer.schema import editor_schema, project_schema

    click.echo(json.dumps(project_schema() if project else editor_schema(), indent=2))
    return EXIT_OK


@cli.command()
@opt.PATHS
@opt.connection_options
@opt.plan_options("prune", "push_secrets", "env_optional")
@opt.apply_options("max_deletes", "allow_empty", "allow_breaking_workflows")
@opt.output_options("text", "json", "markdown", help="For people, tools, or a PR comment.")
@opt.flag("--detailed-exitcode", "Exit 2 when there are changes (0 none, 1 error).")
@click.option("--out", "out_file", type=opt.FILE, help="Also save the plan to FILE, for `syncer apply FILE`.")
@opt.REPORT
@click.pass_obj
def plan(
    obj: Console,
    /,
    paths: tuple[str, ...],
    connection: ConnectionOptions,
    plan: PlanOptions,
    guards: ApplyOptions,
    output: Output,
    detailed_exitcode: bool,
    out_file: str | None,
    report_file: str | None,
) -> int:
    """Show what apply would change: read-only, a dry run.

    Reads the live integrations of every application in the files (completely, or the run
    stops), compares them with the files, and prints the changes with secrets masked. Exits 1
    where apply would refuse the plan (--max-deletes, --allow-empty).
    """
    from syncer.github import plan_outputs
    from syncer.render.formats import render_report

    obj.reporting("plan", report_file)
    session = obj.session
    with obj.reading(), session.plan_from_files(paths, connection, plan) as planned:
        refusal = session.refusal(planned, guards)
        if out_file and not refusal:
            session.save(planned, out_file)
    made, redact = dataclasses.replace(planned.plan, refusal=refusal), session.redact
    shown = render_report(made, output.format, style=obj.style(output.color), redact=redact)
    obj.show(shown, output.format)
    # a refused plan is a failed step (exit 1): error=true, with the plan's counts beside it
    outputs = {**plan_outputs(made), "error": bool(refusal)}
    obj.publish(render_report(made, "markdown", redact=redact), outputs, report_file)
    if refusal:
        raise SyncerError(refusal, published=True)
    return EXIT_CHANGES if detailed_exitcode and made.has_changes else EXIT_OK


@cli.command()
@opt.PATHS
@opt.connection_options
@opt.plan_options("prune", "push_secrets")
@opt.apply_options("max_deletes", "allow_empty", "allow_breaking_workflows", "fail_fast", "settle", "wait")
@opt.output_options("text", "json", "markdown", help="For people, tools, or a PR comment.")
@opt.flag("--auto-approve", "Do not ask for confirmation (required without a terminal).")
@opt.REPORT
@click.pass_obj
def apply(
    obj: Console,
    /,
    paths: tuple[str, ...],
    connection: ConnectionOptions,
    plan: PlanOptions,
    guards: ApplyOptions,
    output: Output,
    auto_approve: bool,
    report_file: str | None,
) -> int:
    """Make Losant match the files: plan, confirm, apply, verify.

    PATHS are the integration files (as for plan), or one plan file saved by `syncer plan --out`.
    """
    from syncer.apply import ApplyResult, Verification
    from syncer.github import apply_outputs
    from syncer.planfile import is_plan_file
    from syncer.render.formats import render_report
    from syncer.render.report import Progress

    obj.reporting("apply", report_file)
    session = obj.session

    style = obj.style(output.color)
    progress: Progress | None = None  # made once the plan is known

    def finish(result: ApplyResult) -> None:
        """The account of the run: printed once, and published (also when interrupted)."""
        # in text, the line of each change as it finished is the account (unless a bar showed)
        shown = progress.shown if progress is not None and progress.streams else None
        obj.show(
            render_report(result, output.format, style=style, redact=session.redact, shown=shown),
            output.format,
        )
        obj.publish(
            render_report(result, "markdown", redact=session.redact), apply_outputs(result), report_file
        )

    if len(paths) == 1 and is_plan_file(paths[0]):
        planning = session.plan_from_saved(paths[0], connection, plan)
    else:
        planning = session.plan_from_files(paths, connection, plan)
    with contextlib.ExitStack() as stack:
        with obj.reading():
            planned = stack.enter_context(planning)
        if not planned.plan.has_changes:
            finish(ApplyResult([], verification=Verification(True), target=planned.plan.target))
            return EXIT_OK
        session.guard(planned, guards)
        if output.format == "text" or not auto_approve:  # nobody approves a plan they did not see
            obj.say(
                render_report(planned.plan, "text", style=style, redact=session.redact),
                err=output.format != "text",  # stdout is the JSON or Markdown document
                color=True,
                redacted=True,
            )
        obj.approve(auto_approve)
        echo = obj.progress_writer(err=output.format != "text")
        progress = Progress(len(planned.plan.changes), terminal=sys.stderr.isatty(), echo=echo)
        with obj.writing(finish) as final:
            with progress:
                result = session.apply_plan(planned, guards, progress=progress.advance)
            final(result)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if result.ok else EXIT_ERROR


@cli.command()
@opt.PATHS
@opt.connection_options
@opt.plan_options("env_optional")
@opt.output_options("text", "json", "markdown", help="For people, tools, or an issue.")
@opt.ATTRIBUTION_DAYS
@opt.REPORT
@click.pass_obj
def drift(
    obj: Console,
    /,
    paths: tuple[str, ...],
    connection: ConnectionOptions,
    plan: PlanOptions,
    output: Output,
    attribution_days: float,
    report_file: str | None,
) -> int:
    """Report how Losant differs from the files (for a scheduled check).

    Each drifted integration says which way: changed live (edited outside git), missing live
    (deleted outside git), or created outside git (no file declares it). Exit 0 in sync,
    2 drift, 1 error.
    """
    from syncer.github import drift_outputs
    from syncer.render.formats import render_report

    obj.reporting("drift", report_file)
    with obj.reading():
        report = obj.session.drift(paths, connection, plan, attribution_days=attribution_days)
    redact = obj.session.redact
    shown = render_report(report, output.format, style=obj.style(output.color), redact=redact)
    obj.show(shown, output.format)
    obj.publish(render_report(report, "markdown", redact=redact), drift_outputs(report), report_file)
    return EXIT_OK if report.in_sync else EXIT_CHANGES


@cli.command()
@opt.PATHS
@opt.connection_options
@opt.plan_options("env_optional")
@opt.output_options("text", "json", "markdown", help="For people, tools, or a summary.")
@opt.flag("--detailed-exitcode", "Exit 2 when an integration is unhealthy (0 healthy, 1 error).")
@opt.REPORT
@click.pass_obj
def status(
    obj: Console,
    /,
    paths: tuple[str, ...],
    connection: ConnectionOptions,
    plan: PlanOptions,
    output: Output,
    detailed_exitcode: bool,
    report_file: str | None,
) -> int:
    """Show whether each managed integration is connected, and whether it matches the files.

    Enabled, connected since or the last error, the last keep-alive, per application. Read-only.
    """
    from syncer.render.formats import render_report

    obj.reporting("status", report_file)
    with obj.reading():
        report = obj.session.status(paths, connection, plan)
    redact = obj.session.redact
    obj.show(
        render_report(report, output.format, style=obj.style(output.color), redact=redact), output.format
    )
    outputs = {"error": False, "unhealthy": len(report.unhealthy)}
    obj.publish(render_report(report, "markdown", redact=redact), outputs, report_file)
    return EXIT_CHANGES if detailed_exitcode and report.unhealthy else EXIT_OK


@cli.command()
@opt.PATHS
@opt.connection_options
@click.option(
    "--application", "applications", multiple=True, metavar="ID", help="Also check this application."
)
@opt.output_options("text", "json", help="For people, or for tools.")
@click.pass_obj
def ping(
    obj: Console,
    /,
    paths: tuple[str, ...],
    connection: ConnectionOptions,
    applications: tuple[str, ...],
    output: Output,
) -> int:
    """Check the API URL, the token, and that it may read each application of the files.

    Reads one small page per check and writes nothing; needs no secret. Exit 0 when every
    check passed, 1 otherwise.
    """
    from syncer.ping import render_ping

    with obj.reading():
        checks = obj.session.ping(paths, connection, applications)
    obj.show(render_ping(checks, output.format, obj.style(output.color), obj.session.redact), output.format)
    return EXIT_OK if all(check.ok for check in checks) else EXIT_ERROR


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
@opt.flag("--force", "With --out: replace an existing DIR/<application>.yaml.")
@click.option(
    "--merge",
    "merge_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Update the entries of this syncer file in place, keeping what only the file knows.",
)
@opt.connection_options
@click.pass_obj
def export(
    obj: Console,
    /,
    application_id: str,
    out_dir: str | None,
    force: bool,
    merge_file: str | None,
    connection: ConnectionOptions,
) -> int:
    """Write the live integrations of an application as a syncer file.

    Secret values are replaced by ${env:NAME} placeholders; the names to set are printed.
    --merge keeps each entry's name, id, previousNames and absent, entries Losant does not
    hold, existing ${env:...} references, comments and layout.
    """
    from syncer.export import variables_text, write_export
    from syncer.render.escape import printable

    if merge_file and (out_dir or force):
        raise SyncerError("--merge updates a file in place: use it without --out and --force")
    if merge_file:
        from syncer.merge import describe

        with obj.reading():
            merged = obj.session.merge_export(application_id, merge_file, connection)
        obj.say(printable(describe(merged)) + "\n", err=True)
        variables = merged.variables
    else:
        with obj.reading():
            result = obj.session.export(application_id, connection, out_dir, force=force)
        if out_dir:
            target = write_export(result, out_dir)
            obj.say(printable(f"Wrote {counted(result.count, 'integration')} to {target}") + "\n", err=True)
        else:
            obj.document(obj.session.redact(result.text), "yaml")
        variables = result.variables
    if variables:
        obj.say(variables_text(variables), err=True)
    return EXIT_OK


@cli.command()
@click.pass_obj
def demo(obj: Console) -> int:
    """Run validate, plan, apply and drift on a built-in emulator (no account needed)."""
    from syncer.demo import run_demo

    def invoke(args: list[str], environ: Mapping[str, str]) -> int:
        try:
            cli.main(args, prog_name="syncer", obj=Console(environ, obj.debug))
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else EXIT_ERROR
        return EXIT_OK

    return run_demo(invoke, click.echo, obj.environ)


cli.add_command(emulator)
cli.add_command(compare)


def main() -> None:
    """The `syncer` process: one command, then exit (see Session.whole_process)."""
    cli(prog_name="syncer", obj=Console(os.environ, False, whole_process=True))
