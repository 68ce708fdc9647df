"""`syncer emulator`: the emulator served from the command line (a click command the CLI adds)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from syncer.errors import SyncerError
from syncer.params import FiniteRange


def _parse_token(spec: str) -> tuple[str, tuple[str, ...]]:
    token, _, scopes = spec.partition("=")
    if not token:
        raise click.BadParameter(f"{spec!r}: write TOKEN or TOKEN=scope1,scope2", param_hint="--token")
    return token, tuple(s for s in scopes.split(",") if s) or ("all.Application",)


def _parse_failing(spec: str) -> tuple[str, str]:
    name, equals, message = spec.partition("=")
    if not (name and equals and message):
        raise click.BadParameter(
            f"{spec!r}: write NAME=MESSAGE, e.g. 'Line 1=Connection refused: bad username or password'",
            param_hint="--fail-integration",
        )
    return name, message


def _parse_actor(spec: str) -> tuple[str, tuple[str, str]]:
    """TOKEN=[TYPE:]NAME -> (token, (name, type)); the message never repeats the token."""
    from syncer.emulator.audit import ACTOR_TYPES

    token, equals, rest = spec.partition("=")
    kind, colon, name = rest.partition(":")
    if not colon or kind not in ACTOR_TYPES:
        kind, name = "User", rest
    if not (token and equals and name):
        hint = "write TOKEN=NAME or TOKEN=TYPE:NAME, e.g. T=jane@example.com"
        raise click.BadParameter(hint, param_hint="--actor")
    return token, (name, kind)


def _parse_owner(spec: str) -> tuple[str, tuple[str, str]]:
    app, equals, rest = spec.partition("=")
    kind, colon, owner = rest.partition(":")
    if not (equals and colon and kind in ("organization", "user")):
        raise click.BadParameter(
            f"{spec!r}: write APPLICATION=organization:ID or APPLICATION=user:ID", param_hint="--owner"
        )
    return app.lower(), (kind, owner.lower())


F = TypeVar("F", bound=Callable[..., Any])


def _repeatable(name: str, dest: str, metavar: str, help: str) -> Callable[[F], F]:
    """An option that may be given several times (its values, in order)."""
    return click.option(name, dest, multiple=True, metavar=metavar, help=f"{help} Repeatable.")


def _choice(name: str, choices: list[str], help: str) -> Callable[[F], F]:
    """An option choosing one of `choices` (the first is the default)."""
    return click.option(name, type=click.Choice(choices), default=choices[0], show_default=True, help=help)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port)."
)
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False),
    help="Load state from this file and save it after every write (atomically).",
)
@_repeatable("--token", "tokens", "TOKEN[=SCOPE,...]", "An accepted token, and its scopes (all.Application).")
@_repeatable("--application", "applications", "ID", "Declare an application (else made on first use).")
@_choice(
    "--secrets",
    ["echo", "omit", "mask"],
    "Integration secret fields in answers. echo: as stored (the published contract); "
    "omit: left out (write-only); mask: each replaced by --secret-mask.",
)
@click.option(
    "--secret-mask",
    default="****",
    show_default=True,
    metavar="TEXT",
    help="What --secrets mask shows instead of each secret.",
)
@click.option("--latency", type=FiniteRange(0), default=0, help="Milliseconds added to each request.")
@click.option("--jitter", type=FiniteRange(0), default=0, help="Plus up to this many ms at random.")
@_repeatable("--fault", "faults", "SPEC", "Inject a fault, e.g. 429@list:times=3 (docs/emulator.md).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for jitter and faults.")
@click.option("--admin", is_flag=True, help="Enable the admin API under /_emulator/.")
@_choice("--patch-config", ["replace", "merge"], "How PATCH treats a config object.")
@click.option(
    "--no-config-defaults",
    is_flag=True,
    help="Add none of the built-in server defaults (websocketConfig's); --server-default still adds.",
)
@_repeatable(
    "--server-default",
    "server_defaults",
    "CONFIG.FIELD=JSON",
    "The server adds this field to a config object that leaves it out, e.g. "
    "mqttConfig.clean=false (a JSON value; a plain word is a string).",
)
@click.option("--unique-names", is_flag=True, help="Reject a second integration of the same name.")
@click.option(
    "--max-per-page",
    type=click.IntRange(1),
    metavar="N",
    help="Serve at most N items per list page, silently (perPage in the answer says N). "
    "Default: up to 1000, more is a 400.",
)
@click.option(
    "--connect-delay",
    type=FiniteRange(0),
    default=0.5,
    show_default=True,
    metavar="SECONDS",
    help="An integration reports its connection this long after a write through the API.",
)
@_repeatable("--fail-integration", "failing", "NAME=MESSAGE", "This integration fails to connect, so.")
@click.option(
    "--organization",
    metavar="ID",
    help="The organisation that owns the applications (default: the emulator's own).",
)
@_repeatable("--owner", "owners", "APPLICATION=TYPE:ID", "Its owner: organization:ID or user:ID.")
@_repeatable(
    "--actor", "actors", "TOKEN=[TYPE:]NAME", "Who acts with TOKEN in the audit log (TYPE: User...)."
)
@_choice(
    "--query-objects",
    ["both", "json", "brackets"],
    "How triggerFilter, query and auditLogFilter may come: JSON or bracket notation, or only one.",
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
    connect_delay: float,
    failing: tuple[str, ...],
    organization: str | None,
    owners: tuple[str, ...],
    actors: tuple[str, ...],
    query_objects: str,
    log_requests: bool,
) -> int:
    """Serve an emulator of Losant's integration endpoints (no account needed)."""
    from syncer.emulator import api
    from syncer.emulator.audit import actor_id
    from syncer.emulator.faults import parse_rule
    from syncer.emulator.server import EmulatorServer

    try:
        rules = [parse_rule(spec) for spec in faults]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault") from exc
    try:
        defaults = api.server_defaults_from_specs(server_defaults, builtin=not no_config_defaults)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--server-default") from exc
    from syncer.losant import OBJECT_ID_PATTERN

    for app in applications:
        if not re.fullmatch(OBJECT_ID_PATTERN, app):
            raise click.BadParameter(f"{app!r} is not 24 hexadecimal characters", param_hint="--application")
    token_map = dict(_parse_token(t) for t in tokens) or {
        api.DEFAULT_TOKEN: ("all.Application",),
        api.DEFAULT_ORG_TOKEN: ("all.Organization.read",),
    }
    actor_map = api.EmulatorConfig().actors
    for token, (name, kind) in map(_parse_actor, actors):
        actor_map[token] = (name, kind, actor_id(token))
    org = (organization or api.DEFAULT_ORGANIZATION).lower()
    config = api.EmulatorConfig(
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
        connect_delay=connect_delay,
        failing=dict(map(_parse_failing, failing)),
        organization=org,
        owners=dict(map(_parse_owner, owners)),
        actors=actor_map,
        query_objects=query_objects,  # type: ignore[arg-type]
    )
    try:
        emu = api.Emulator(config)
        server = EmulatorServer(emu, host, port, verbose=log_requests)
    except (OSError, ValueError) as exc:
        raise SyncerError(f"cannot start the emulator: {exc}") from exc
    app_line = (
        ", ".join(a.lower() for a in applications)
        if applications
        else f"{api.DEFAULT_APPLICATION} (any id works: applications are created on first use)"
    )
    token_line = (
        f"export LOSANT_API_TOKEN={api.DEFAULT_TOKEN}"
        if not tokens
        else f"# {len(token_map)} token(s) from --token"
    )
    click.echo(
        f"Losant emulator listening on {server.url}\n"
        f"  export LOSANT_API_URL={server.url}\n  {token_line}\n"
        f"  application: {app_line}\n"
        f"  secrets: {secrets}; latency: {latency:g} ms; faults: {len(rules)}; "
        f"admin API: {'on' if admin else 'off'}; state: {state_file or 'in memory'}\n"
        f"  organization: {org}{'' if tokens else f' (audit log token {api.DEFAULT_ORG_TOKEN})'}; "
        f"connect delay: {connect_delay:g} s; failing integrations: {len(failing)}\n"
        "Press Ctrl+C to stop."
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.server_close()
    return 0
