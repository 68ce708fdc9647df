"""The command-line options several commands share, each turned into the typed value the session
takes (`ConnectionOptions`, `Target`): one place declares a flag and says what it means."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from syncer.connection import ConnectionOptions

Decorator = Callable[[Callable[..., Any]], Any]


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
    number("--timeout", 30.0, click.FloatRange(0.1), "Seconds for one whole answer."),
    number("--max-attempts", 5, click.IntRange(1, 20), "Attempts per request, retries included."),
    number("--retry-time", 60.0, click.FloatRange(0), "Seconds one request may spend retrying."),
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


def _target(kwargs: dict[str, Any]) -> tuple[str, Any]:
    from syncer.losant import checked_application_id
    from syncer.plan import EVERYTHING, Target  # the planner is heavy: only when a command runs

    names, applications = kwargs.pop("targets"), kwargs.pop("applications")
    if not names and not applications:
        return "target", EVERYTHING
    return "target", Target(tuple(names), tuple(checked_application_id(a) for a in applications))


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


connection_options = _gathered(_CONNECTION, _connection)
target_options = _gathered(
    [
        click.option(
            "--target", "targets", multiple=True, metavar="NAME", help="Only names matching (glob)."
        ),
        click.option(
            "--application", "applications", multiple=True, metavar="ID", help="Only this application."
        ),
    ],
    _target,
)
