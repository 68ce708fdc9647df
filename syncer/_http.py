"""The one module that imports httpx and its transport, httpcore (their maintained forks httpx2
and httpcore2 have the same API: switching is these two imports). Everything else sees
`HttpSession`, `HttpReply` and the failure classes.

Transport rules: TLS verified; redirects never followed, so the Authorization header can only
ever go to the configured host; the token travels only in the Authorization header.
"""

from __future__ import annotations

import json
import math
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from syncer import __version__
from syncer.losant import API_VERSION

SocketOption = Any  # httpcore's socket option tuples


class NotSent(Exception):
    """The request never reached the server (connection refused, connect timeout): safe to retry."""


class Unreachable(Exception):
    """The host cannot be reached in a way retrying cannot fix (its name does not resolve, TLS
    fails): the message names the host and the cause."""


class TlsRefused(Unreachable):
    """The server's TLS certificate did not verify."""


class MaybeSent(Exception):
    """The request may have been processed (read timeout, connection dropped mid-request)."""


class TooLarge(Exception):
    """The answer was larger than MAX_ANSWER_BYTES (decompressed): it is not read further."""


# no answer of Losant's comes near it (a page of 1,000 integrations is a few MB); a gzip bomb
# would otherwise fill memory before the JSON parser saw a byte of it
MAX_ANSWER_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class HttpReply:
    """One answer: status, headers (lower-case names) and the parsed body."""

    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or the text when the body is not JSON
    elapsed: float

    def header(self, name: str) -> str | None:
        """A header by name, any case; None when absent."""
        return self.headers.get(name.lower())


class _Deadline(threading.local):
    """When the request this thread is sending must be over (time.monotonic), or None."""

    at: float | None = None

    def bound(self, timeout: float | None) -> float | None:
        if self.at is None:
            return timeout
        remaining = self.at - time.monotonic()
        return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every read and write is cut to what is left of the request's deadline.

    httpx's timeouts apply to each read: a server that trickles one byte just inside the read
    timeout would hold a request forever. This makes `--timeout` bound the whole answer.
    """

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner, self._deadline = inner, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        left = self._left(timeout, httpcore.ReadTimeout, "the answer took longer than the timeout")
        return self._inner.read(max_bytes, left)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        left = self._left(timeout, httpcore.WriteTimeout, "sending took longer than the timeout")
        self._inner.write(buffer, left)

    def _left(self, timeout: float | None, expired: type[Exception], why: str) -> float | None:
        """What is left of the deadline for one read or write (at most `timeout`); `expired`
        when nothing is."""
        left = self._deadline.bound(timeout)
        if left is not None and left <= 0:
            raise expired(why)
        return left

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, self._deadline.bound(timeout)),
            self._deadline,
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, deadline: _Deadline) -> None:
        self._inner, self._deadline = inner, deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, self._deadline.bound(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SocketOption] | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.connect_unix_socket(path, self._deadline.bound(timeout), socket_options),
            self._deadline,
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class HttpSession:
    """A pooled HTTP/1.1 client, shared by all worker threads.

    `timeout` bounds each request as a whole (connecting, sending, and the complete answer).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        verify: bool = True,
        max_connections: int = 16,
    ) -> None:
        self._timeout = timeout
        self._deadline = _Deadline()
        url = httpx.URL(base_url)
        self.host = url.host + (f":{url.port}" if url.port else "")  # for errors: where we tried
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        transport = httpx.HTTPTransport(verify=verify, limits=limits, trust_env=False)
        # httpx has no public hook for the socket layer: these two private attributes are the way
        # in (tests/test_fault_matrix.py's trickle scenarios fail if they ever stop working)
        pool = transport._pool
        pool._network_backend = _DeadlineBackend(pool._network_backend, self._deadline)
        self._client = httpx.Client(
            transport=transport,
            base_url=base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "Accept-Version": API_VERSION,
                "User-Agent": f"syncer/{__version__}",
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0), pool=max(timeout, 60.0)),
            follow_redirects=False,
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
        """One request, no retry (LosantClient retries). Raises NotSent, MaybeSent or TlsRefused when
        there is no answer; an answer of any status is returned."""
        content = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if content is not None else None
        start = time.perf_counter()
        self._deadline.at = time.monotonic() + self._timeout
        try:
            streamed = self._client.stream(method, path, params=params, content=content, headers=headers)
            with streamed as response:
                answer = _capped(response)
        except httpx.ConnectError as exc:
            raise _connect_failure(exc, self.host) from None
        except httpx.ConnectTimeout:
            raise NotSent(f"connecting to {self.host} timed out") from None
        except (httpx.PoolTimeout, httpx.UnsupportedProtocol) as exc:
            raise NotSent(_describe(exc)) from None
        except httpx.HTTPError as exc:
            # anything else may have happened after the request left: the server may have acted
            raise MaybeSent(_describe(exc)) from None
        finally:
            self._deadline.at = None
        elapsed = time.perf_counter() - start
        try:
            parsed: Any = _strict_json(answer) if answer else None
        except ValueError:  # also NaN, infinities and integers Python will not convert
            parsed = answer.decode(response.encoding or "utf-8", errors="replace")
        headers_lower = {k.lower(): v for k, v in response.headers.items()}
        # httpx's answer and its stream refer to each other: cut, the answer and its body are
        # freed now, not by the garbage collector (paused while a run reads: gc_paused)
        response.stream = httpx.ByteStream(b"")
        return HttpReply(response.status_code, headers_lower, parsed, elapsed)


def _capped(response: httpx.Response) -> bytes:
    """The whole answer, decompressed, refused past MAX_ANSWER_BYTES as it arrives."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise TooLarge(
                f"the answer ({response.status_code}) is over {MAX_ANSWER_BYTES // 1048576} MiB once "
                "decompressed, more than any of Losant's; it was not read"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} overflows")
    return value


def _strict_json(content: bytes) -> Any:
    """JSON as RFC 8259 has it: no NaN or Infinity, no number that overflows, and not nested
    deeper than Python can parse."""
    try:
        return json.loads(content, parse_constant=_refuse, parse_float=_finite)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _root_cause(exc: BaseException) -> BaseException:
    while (inner := exc.__cause__ or exc.__context__) is not None:
        exc = inner
    return exc


def _connect_failure(exc: httpx.ConnectError, host: str) -> Exception:
    """What a failed connection says: the host, and why (the name, the port, TLS), and whether a
    retry may help (a refused connection: the server may be restarting)."""
    cause = _root_cause(exc)
    if isinstance(cause, socket.gaierror):
        message = f"cannot resolve {host} (DNS: {cause.strerror or cause})"
        # "try again" is the resolver's own word that a retry may help; any other answer stands
        return NotSent(message) if cause.errno == socket.EAI_AGAIN else Unreachable(message)
    if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        reason = getattr(cause, "verify_message", None) or str(cause).split("] ", 1)[-1]
        return TlsRefused(f"the TLS certificate of {host} did not verify ({str(reason)[:200]})")
    if isinstance(cause, ssl.SSLError):
        reason = cause.reason or str(cause)
        return Unreachable(
            f"the TLS handshake with {host} failed ({str(reason)[:200]}): is the URL's scheme right?"
        )
    if isinstance(cause, ConnectionRefusedError):
        return NotSent(f"{host} refused the connection")
    if isinstance(cause, OSError) and cause.strerror:
        return NotSent(f"cannot connect to {host} ({cause.strerror})")
    return NotSent(f"cannot connect to {host}")


def _describe(exc: httpx.HTTPError) -> str:
    kinds: dict[type[httpx.HTTPError], str] = {
        httpx.PoolTimeout: "no free connection in time",
        httpx.ReadTimeout: "no answer in time",
        httpx.WriteTimeout: "sending timed out",
        httpx.RemoteProtocolError: "the server closed the connection without answering",
        httpx.ReadError: "the connection was cut",
        httpx.WriteError: "the connection was cut",
    }
    return kinds.get(type(exc), type(exc).__name__)
