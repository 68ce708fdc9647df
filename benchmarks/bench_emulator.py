"""Emulator speed (issue 3), and the measurement behind the choice of HTTP server.

- GET requests per second on loopback, latency off: one keep-alive client, and 8 in parallel;
- time to serve a 1,000-item list page;
- the same core behind other servers: stdlib wsgiref (threaded) and waitress, if installed.

Run: python -m benchmarks.bench_emulator
"""

from __future__ import annotations

import http.client
import socketserver
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from benchmarks.common import bench_options
from syncer.emulator.api import DEFAULT_TOKEN, Emulator, EmulatorConfig
from syncer.emulator.samples import sample_integration
from syncer.emulator.server import RunningEmulator
from tests.builders import APP

HEADERS = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def _emulator(items: int) -> tuple[Emulator, str]:
    emu = Emulator(EmulatorConfig(applications=(APP,)))
    records = emu.seed(APP, [sample_integration(i) for i in range(items)])
    return emu, records[0]["id"]


def _wsgi_app(emu: Emulator) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        target = environ["PATH_INFO"] + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
        reply = emu.handle(environ["REQUEST_METHOD"], target, headers, body)
        data = reply.encoded()
        start_response(
            f"{reply.status} X", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        )
        return [data]

    return app


@contextmanager
def ours(emu: Emulator) -> Iterator[str]:
    with RunningEmulator(emu) as running:
        yield running.url


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def wsgiref_server(emu: Emulator) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _wsgi_app(emu), _ThreadingWSGIServer, _QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def waitress_server(emu: Emulator) -> Iterator[str]:
    import logging

    from waitress.server import create_server  # type: ignore[import-not-found, import-untyped, unused-ignore]

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(_wsgi_app(emu), host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()


def _gets(url: str, path: str, count: int) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    for _ in range(count):
        conn.request("GET", path, headers=HEADERS)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    conn.close()


def measure(url: str, one: str, count: int) -> tuple[float, float, float]:
    path = f"/applications/{APP}/integrations/{one}"
    _gets(url, path, 50)  # warm up
    start = time.perf_counter()
    _gets(url, path, count)
    sequential = count / (time.perf_counter() - start)
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: _gets(url, path, count // 8), range(8)))
    parallel = (count // 8 * 8) / (time.perf_counter() - start)
    page_times = []
    for _ in range(20):
        start = time.perf_counter()
        _gets(url, f"/applications/{APP}/integrations?perPage=1000", 1)
        page_times.append(time.perf_counter() - start)
    return sequential, parallel, statistics.median(page_times)


def main() -> None:
    args = bench_options(requests=2000)
    servers: list[tuple[str, Callable[[Emulator], Any]]] = [
        ("stdlib ThreadingHTTPServer, keep-alive, no Nagle (syncer's)", ours),
        ("stdlib wsgiref, threaded (HTTP/1.0)", wsgiref_server),
    ]
    try:
        import waitress  # type: ignore[import-not-found, import-untyped, unused-ignore]  # noqa: F401

        servers.append(("waitress 8 threads (WSGI)", waitress_server))
    except ImportError:
        print("(waitress not installed: pip install waitress to compare it)")
    print(f"{'server':60} {'GET/s 1 client':>15} {'GET/s 8 clients':>16} {'1,000-item page':>16}")
    for label, serve in servers:
        emu, one = _emulator(1000)
        with serve(emu) as url:
            seq, par, page = measure(url, one, args.requests)
        print(f"{label:60} {seq:15.0f} {par:16.0f} {page * 1000:13.1f} ms")
    print("targets: >= 1,000 GET/s on loopback; a 1,000-item page in < 50 ms")


if __name__ == "__main__":
    main()
