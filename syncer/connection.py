"""Where a run talks to, with which token, and how patiently: one typed set of options.

The rules that keep the token home live here: the URL comes from the operator (`--api-url`,
`LOSANT_API_URL`), or from `syncer.yaml` only when that names a Losant host; the token comes
from `LOSANT_API_TOKEN` or a token file, never the command line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from syncer.errors import SyncerError
from syncer.losant import DEFAULT_API_URL

if TYPE_CHECKING:  # both are heavy (httpx, yaml): imported only when a command connects
    from syncer.client import LosantClient
    from syncer.desired import Project

TOKEN_FILE_CAP = 64 * 1024  # a Losant token is under 1 KiB; the cap stops /dev/zero


@dataclass(frozen=True)
class ConnectionOptions:
    """How to reach Losant: `syncer --help` documents each (`--api-url`, `--timeout`, ...)."""

    api_url: str | None = None
    token_file: str | None = None
    parallelism: int = 8  # requests in flight at once
    timeout: float = 30.0  # seconds for one whole request
    max_attempts: int = 5  # per request, retries included
    retry_time: float = 60.0  # seconds one request may spend retrying
    verify_tls: bool = True


@dataclass(frozen=True)
class Connection:
    """An open connection: the URL and token it uses, and the client to send requests with."""

    url: str
    token: str
    client: LosantClient
    parallelism: int


def api_url(options: ConnectionOptions, environ: Mapping[str, str], project: Project | None) -> str:
    """The base URL, checked: the operator's, else a Losant host from syncer.yaml, else Losant's."""
    from syncer.client import check_api_url, is_losant_host, shown_url

    if options.api_url is not None:
        return check_api_url(options.api_url, origin="--api-url")
    if "LOSANT_API_URL" in environ:
        return check_api_url(environ["LOSANT_API_URL"], origin="LOSANT_API_URL")
    if project is None or project.api_url is None:
        return DEFAULT_API_URL
    # syncer.yaml is under review in a pull request: it may not send the token elsewhere
    where = project.api_url_location or project.path
    url = check_api_url(project.api_url, origin=f"apiUrl in {where}")
    if not is_losant_host(url):
        raise SyncerError(
            f"{where}: apiUrl: {shown_url(project.api_url)} is not a Losant host, and a URL read from "
            "a file under review may only name one (https://*.losant.com); confirm it with "
            "--api-url or LOSANT_API_URL"
        )
    return url


def read_token(token_file: str | None, environ: Mapping[str, str]) -> str:
    """The API token, from `token_file` (a regular file, capped) or LOSANT_API_TOKEN."""
    if token_file:
        from syncer.load import FileRefused, read_regular_file

        try:
            # the regular-file rule stops a FIFO, the cap a device
            token = read_regular_file(token_file, TOKEN_FILE_CAP).decode("utf-8").strip()
        except FileRefused as exc:
            raise SyncerError(f"{token_file}: cannot read the token file ({exc})") from exc
        except UnicodeDecodeError as exc:  # its message would quote a byte of the token
            raise SyncerError(f"{token_file}: the token file is not UTF-8 text") from exc
        if not token:
            raise SyncerError(f"{token_file}: the token file is empty")
        return _checked_token(token, token_file)
    token = environ.get("LOSANT_API_TOKEN", "").strip()
    if not token:
        raise SyncerError(
            "no API token: set LOSANT_API_TOKEN, or pass --token-file FILE "
            "(never the token itself on the command line)"
        )
    return _checked_token(token, "LOSANT_API_TOKEN")


def _checked_token(token: str, origin: str) -> str:
    """A token is visible ASCII (Losant's are JWTs): anything else cannot go in a header."""
    if not all("!" <= ch <= "~" for ch in token):
        raise SyncerError(
            f"{origin}: the API token holds a space, a control or a non-ASCII character, which a "
            "token cannot have; copy it again from Losant"
        )
    return token


@contextmanager
def connect(
    options: ConnectionOptions,
    environ: Mapping[str, str],
    *,
    project: Project | None = None,
    redact: Callable[[str], str] = str,
    secret: Callable[[str], None] = lambda value: None,
    trace: Callable[[str], None] | None = None,
    warn: Callable[[str], None] = lambda line: None,
    cancel: threading.Event | None = None,
) -> Iterator[Connection]:
    """Open a connection (closed on leaving the block). `secret` learns the token at once, so
    nothing printed afterwards can show it."""
    from syncer._http import HttpSession
    from syncer.client import LosantClient, RetryPolicy

    token = read_token(options.token_file, environ)
    secret(token)  # first: an error about the URL must not be able to show it
    url = api_url(options, environ, project)
    if not options.verify_tls:
        warn(
            "warning: TLS certificate verification is off (--insecure-skip-tls-verify); "
            "anyone on the network path can read the token"
        )
    with HttpSession(
        url, token, timeout=options.timeout, verify=options.verify_tls, max_connections=options.parallelism
    ) as http:
        policy = RetryPolicy(attempts=options.max_attempts, timeout=options.retry_time)
        client = LosantClient(http, policy=policy, trace=trace, redact=redact, cancel=cancel)
        yield Connection(url, token, client, options.parallelism)
