"""The command-line options several commands share, each turned into the typed value the session
takes (`ConnectionOptions`, `Target`): one place declares a flag and says what it means."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

from syncer.connection import ConnectionOptions
from syncer.params import FiniteRange

Decorator = Callable[[Callable[..., Any]], Any]


PATHS = click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=True, file_okay=True))
FILE = click.Path(dir_okay=False)
REPORT = click.option("--report", "report_file", type=FILE, help="Also write the Markdown report to FILE.")


def flag(name: str, help: str) -> Decorator:
    return click.option(name, is_flag=True, help=help)


def number(name: str, default: float, param_type: Any, help: str) -> Decorator:
    return click.option(name, default=default, show_default=True, type=param_type, help=help)


_CONNECTION = [
    click.option("--api-url", help="Losant API URL [env: LOSANT_API_URL; default https://api.losant.com]."),
    click.option(
        "--token-file", type=click.Path(exists=True, dir_okay=False), help="Read the token from FILE."
    ),
    number("--parallelism", 8, click.IntRange(1, 64), "Requests in flight at once."),
    number("--timeout", 30.0, FiniteRange(0.1), "Seconds for one whole answer."),
    number("--max-attempts", 5, click.IntRange(1, 20), "Attempts per request, retries included."),
    number("--retry-time", 60.0, FiniteRange(0), "Seconds one request may spend retrying."),
    flag("--insecure-skip-tls-verify", "Do not verify the API's TLS certificate (warned; tests only)."),
]


def _gathered(options: list[Decorator], gather: Callable[[dict[str, Any]], tuple[str, Any]]) -> Decorator:
    """A decorator adding `options`, whose values `gather` turns into one keyword argument."""

    def decorate(command: Callable[..., Any]) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            name, value = gather(kwargs)
            kwargs[name] = value
            return command(*args, **kwargs)

        functools.update_wrapper(wrapped, command)  # keeps the click parameters declared so far
        for option in reversed(options):
            wrapped = option(wrapped)
        return wrapped

    return decorate


@dataclass(frozen=True)
class Output:
    """How a command prints: its --format, and --color (which Console.style resolves)."""

    format: str = "text"
    color: str = "auto"


def output_options(*formats: str, help: str) -> Decorator:
    """--format (the first of `formats` by default) and --color, gathered into `output: Output`."""
    options = [
        click.option(
            "--format",
            "output_format",
            type=click.Choice(formats),
            default=formats[0],
            show_default=True,
            help=help,
        ),
        click.option(
            "--color",
            type=click.Choice(["auto", "always", "never"]),
            default="auto",
            show_default=True,
            help="Colours (auto: on a terminal, or with FORCE_COLOR; not with NO_COLOR).",
        ),
    ]
    return _gathered(
        options, lambda kwargs: ("output", Output(kwargs.pop("output_format"), kwargs.pop("color")))
    )


def _connection(kwargs: dict[str, Any]) -> tuple[str, Any]:
    return "connection", ConnectionOptions(
        api_url=kwargs.pop("api_url"),
        token_file=kwargs.pop("token_file"),
        parallelism=kwargs.pop("parallelism"),
        timeout=kwargs.pop("timeout"),
        max_attempts=kwargs.pop("max_attempts"),
        retry_time=kwargs.pop("retry_time"),
        verify_tls=not kwargs.pop("insecure_skip_tls_verify"),
    )


def _choose_environment(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.obj.session.environment = value


ENVIRONMENT = click.option(
    "--environment",
    metavar="NAME",
    expose_value=False,
    is_eager=True,
    callback=_choose_environment,
    help="The environment of syncer.yaml whose applications and variables apply [env: SYNCER_ENVIRONMENT].",
)
# which environment's applications a command talks to goes with how it talks to them
connection_options = _gathered([*_CONNECTION, ENVIRONMENT], _connection)

ENV_OPTIONAL = flag(
    "--env-optional", "Unset ${env:...} variables are unknown: their fields are not checked (no secrets)."
)
_PLAN = {
    "target": click.option(
        "--target", "targets", multiple=True, metavar="NAME", help="Only names matching (glob)."
    ),
    "application": click.option(
        "--application",
        "applications",
        multiple=True,
        metavar="ID",
        help="Only this application (its id or alias).",
    ),
    "prune": flag("--prune", "Also delete live integrations no file declares, in every application."),
    "push_secrets": flag("--push-secrets", "Send secrets even where Losant hides its own (to rotate them)."),
    "env_optional": ENV_OPTIONAL,
}
_GUARDS = {
    "max_deletes": click.option(
        "--max-deletes", type=click.IntRange(0), help="Refuse more deletions [maxDeletes, else 5]."
    ),
    "allow_empty": flag("--allow-empty", "Allow pruning an application whose files declare nothing."),
    "allow_breaking_workflows": flag(
        "--allow-breaking-workflows",
        "Allow deleting or replacing integrations that workflows use (or may use) [allowBreakingWorkflows].",
    ),
    "fail_fast": flag("--fail-fast", "Stop at the first failed or uncertain change."),
    "wait": click.option(
        "--wait",
        type=FiniteRange(0, 3600),
        is_flag=False,
        flag_value=120.0,
        default=None,
        metavar="[SECONDS]",
        help="Then wait for each written integration to connect (default 120 s); exit 1 if one fails.",
    ),
    "settle": number(
        "--settle", 3.0, FiniteRange(0, 600), "Seconds before looking for a POST whose answer was lost."
    ),
}


def plan_options(*names: str) -> Decorator:
    """--target and --application, and the named ones of prune, push_secrets, env_optional:
    gathered into `plan: PlanOptions`."""
    chosen = ["target", "application", *names]

    def gather(kwargs: dict[str, Any]) -> tuple[str, Any]:
        from syncer.environments import is_alias
        from syncer.losant import checked_application_id
        from syncer.plan import Target
        from syncer.session import PlanOptions  # heavy: only when a command runs

        # an alias is resolved once the environment's files are read
        applications = [a if is_alias(a) else checked_application_id(a) for a in kwargs.pop("applications")]
        target = Target(tuple(kwargs.pop("targets")), tuple(applications))
        flags = {name: kwargs.pop(name) for name in names}
        return "plan", PlanOptions(target=target, **flags)

    return _gathered([_PLAN[name] for name in chosen], gather)


def apply_options(*names: str) -> Decorator:
    """The named ones of max_deletes, allow_empty, fail_fast, settle: gathered into
    `guards: ApplyOptions` (the refusals a plan also evaluates, and how apply writes)."""

    def gather(kwargs: dict[str, Any]) -> tuple[str, Any]:
        from syncer.session import ApplyOptions

        return "guards", ApplyOptions(**{name: kwargs.pop(name) for name in names})

    return _gathered([_GUARDS[name] for name in names], gather)


ATTRIBUTION_DAYS = number(
    "--attribution-days",
    30.0,
    FiniteRange(0, 365),
    "Audit log days to search for who drifted it (0: off).",
)
