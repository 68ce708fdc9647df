"""The one module that imports httpx (its maintained fork httpx2 has the same API: switching is
this import). Everything else sees `HttpSession`, `HttpReply` and the two failure classes.

Transport rules: TLS verified; redirects never followed, so the Authorization header can only
ever go to the configured host; the token travels only in the Authorization header.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from syncer import __version__


class NotSent(Exception):
    """The request never reached the server (connection refused, connect timeout): safe to retry."""


class TlsRefused(Exception):
    """The server's TLS certificate did not verify: retrying cannot help."""


class MaybeSent(Exception):
    """The request may have been processed (read timeout, connection dropped mid-request)."""


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or the text when the body is not JSON
    elapsed: float

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class HttpSession:
    """A pooled HTTP/1.1 client, shared by all worker threads."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        verify: bool = True,
        max_connections: int = 16,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": f"syncer/{__version__}",
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0), pool=max(timeout, 60.0)),
            verify=verify,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            trust_env=False,  # no proxy or netrc credentials picked up behind the user's back
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: Any = None
    ) -> HttpReply:
        content = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if content is not None else None
        start = time.perf_counter()
        try:
            response = self._client.request(method, path, params=params, content=content, headers=headers)
        except httpx.ConnectError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise TlsRefused(str(exc).split("] ", 1)[-1][:200]) from None
            raise NotSent(_describe(exc)) from None
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise NotSent(_describe(exc)) from None
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise MaybeSent(_describe(exc)) from None
        except httpx.HTTPError as exc:
            raise NotSent(_describe(exc)) from None
        elapsed = time.perf_counter() - start
        try:
            parsed: Any = response.json() if response.content else None
        except ValueError:
            parsed = response.text
        headers_lower = {k.lower(): v for k, v in response.headers.items()}
        return HttpReply(response.status_code, headers_lower, parsed, elapsed)


def _describe(exc: httpx.HTTPError) -> str:
    kinds: dict[type[httpx.HTTPError], str] = {
        httpx.ConnectError: "connection failed",
        httpx.ConnectTimeout: "connection timed out",
        httpx.PoolTimeout: "no free connection in time",
        httpx.ReadTimeout: "no answer in time",
        httpx.WriteTimeout: "sending timed out",
        httpx.RemoteProtocolError: "the server closed the connection without answering",
        httpx.ReadError: "the connection was cut",
        httpx.WriteError: "the connection was cut",
    }
    return kinds.get(type(exc), type(exc).__name__)
