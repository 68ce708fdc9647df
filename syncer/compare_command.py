"""`syncer compare`: the promotion view between two environments (registered by syncer.cli)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from syncer import options as opt
from syncer.console import EXIT_CHANGES, EXIT_OK, Console
from syncer.options import Output

if TYPE_CHECKING:
    from syncer.connection import ConnectionOptions


@click.command()
@opt.PATHS
@click.option("--from", "source", required=True, metavar="ENVIRONMENT", help="The environment promoted from.")
@click.option("--to", "target", required=True, metavar="ENVIRONMENT", help="The environment promoted to.")
@opt.connection_options
@opt.output_options("text", "json", "markdown", help="For people, tools, or a release summary.")
@opt.REPORT
@click.pass_obj
def compare(
    obj: Console,
    /,
    paths: tuple[str, ...],
    source: str,
    target: str,
    connection: ConnectionOptions,
    output: Output,
    report_file: str | None,
) -> int:
    """Show how the live integrations of two environments differ, after their variables.

    Per integration: only in one, the fields that differ, or the same. Read-only; needs no
    secret. Exit 0 the same, 2 different, 1 error.
    """
    from syncer.render.formats import render_report

    obj.reporting("compare", report_file)
    with obj.reading():
        promotion = obj.session.compare(paths, connection, source, target)
    redact = obj.session.redact
    obj.show(
        render_report(promotion, output.format, style=obj.style(output.color), redact=redact), output.format
    )
    outputs = {"error": False, "same": promotion.same}
    obj.publish(render_report(promotion, "markdown", redact=redact), outputs, report_file)
    return EXIT_OK if promotion.same else EXIT_CHANGES
