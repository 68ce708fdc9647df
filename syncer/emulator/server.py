"""HTTP adapter: the stdlib ThreadingHTTPServer in front of `Emulator.handle`.

Chosen by measurement (benchmarks/bench_emulator.py): with keep-alive and Nagle off it serves
well over the 1,000 GET/s target on loopback, needs no dependency, and gives the socket control
that faults need (a reset or a "commit then drop" cuts the connection with no answer), which a
WSGI or ASGI server does not offer.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from syncer.emulator.api import Emulator

MAX_BODY = 10 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # without it, keep-alive requests wait ~40 ms for delayed ACKs
    server: EmulatorServer
    server_version = "losant-emulator"
    sys_version = ""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.emulator.handle(self.command, self.path, headers, body)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.fault:
            self._cut()
            return
        data = reply.encoded()
        self.send_response(reply.status)
        if data:
            content_type = "text/html" if data.startswith(b"<") else "application/json"
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if reply.cut is not None:
            self.wfile.write(data[: reply.cut])
            self.wfile.flush()
            self._cut()
        elif reply.trickle:
            for byte in range(len(data)):
                self.wfile.write(data[byte : byte + 1])
                self.wfile.flush()
                time.sleep(reply.trickle)
        else:
            self.wfile.write(data)

    def _cut(self) -> None:
        """Close with a TCP reset and no answer, like a proxy that drops the connection."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.close()

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)  # method, path and status only: never bodies


class EmulatorServer(ThreadingHTTPServer):
    """The emulator on a socket: one thread per connection, keep-alive, faults that cut connections."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops connections when several clients open theirs at
    # once; the client then waits for an answer to a request the server never saw
    request_queue_size = 1024

    def __init__(
        self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0, verbose: bool = False
    ) -> None:
        self.emulator = emulator
        self.verbose = verbose
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut every open keep-alive connection, as a process that exits would."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # clients that time out or drop connections are normal here; never print a traceback
        pass


class RunningEmulator:
    """An emulator served on a free loopback port in a background thread."""

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        self.server = EmulatorServer(emulator, host, port)
        self.url = self.server.url
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="emulator", daemon=True
        )

    def __enter__(self) -> RunningEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving and cut every open connection."""
        self.server.shutdown()
        self.server.close_connections()
        self.server.server_close()
        self._thread.join(timeout=5)
