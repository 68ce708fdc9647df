"""When Losant cannot be reached, or the URL is not Losant's: one line naming the host and the
cause, retried only where a retry can help, and a hint at the URL where it is the likely cause."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncer.emulator.server import RunningEmulator
from tests.builders import APP
from tests.e2e import tree
from tests.helpers import syncer

PARTICLE = {
    "name": "Trackers",
    "integrationType": "particle",
    "particleConfig": {"accessToken": "tok-1234abcd"},
}
TOKEN = {"LOSANT_API_TOKEN": "emulator-token", "LOSANT_API_URL": None}


def _plan(tmp_path: Path, url: str, *extra: str, debug: bool = False) -> Any:
    return syncer(
        *(["-v"] if debug else []),
        "plan",
        str(tree(tmp_path, PARTICLE)),
        "--api-url",
        url,
        "--retry-time",
        "5",
        *extra,
        env=TOKEN,
    )


def test_a_name_that_does_not_resolve_is_named_and_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []

    def no_such_host(host: str, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)  # no resolver is asked: loopback only
    result = _plan(tmp_path, "https://api.losant.example")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"GET /applications/{APP}/integrations: cannot resolve api.losant.example (DNS: Name or service "
        "not known); check the API URL (--api-url, LOSANT_API_URL); not retried"
    ]
    assert lookups == ["api.losant.example"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_names_host_and_port_and_is_retried(tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there
    result = _plan(tmp_path, f"http://127.0.0.1:{port}", "--max-attempts", "2", debug=True)
    assert result.exit_code == 1
    error = result.stderr.splitlines()[-1]
    assert error == (
        f"GET /applications/{APP}/integrations: 127.0.0.1:{port} refused the connection "
        "(gave up after 2 attempts)"
    )
    assert "(attempt 2)" in result.stderr  # -v shows each request, so the retry is visible


def test_tls_spoken_to_a_plain_http_server_says_so(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    https_url = losant_emulator.url.replace("http://", "https://")
    host = https_url.removeprefix("https://")
    result = _plan(tmp_path, https_url)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"GET /applications/{APP}/integrations: the TLS handshake with {host} failed (")
    assert line.endswith(
        "is the URL's scheme right?; check the API URL (--api-url, LOSANT_API_URL); not retried"
    )
    assert losant_emulator.emulator.log == []  # no request got through


class _WebServer(http.server.BaseHTTPRequestHandler):
    """A web site, not an API: what a mistyped API URL usually reaches."""

    def do_GET(self) -> None:
        page = b"<!DOCTYPE html><html><body><h1>404 Not Found</h1>" + b"x" * 2000 + b"</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def web_site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _WebServer)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_html_404_hints_that_the_api_url_is_wrong(web_site: str, tmp_path: Path) -> None:
    result = _plan(tmp_path, web_site)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"GET /applications/{APP}/integrations: 404 Error: an HTML page, not JSON; this is not an answer "
        "of the Losant API: check the API URL (--api-url, LOSANT_API_URL), which is the API's root, "
        "e.g. https://api.losant.com"
    ]
