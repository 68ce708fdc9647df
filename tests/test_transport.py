"""Transport: TLS is verified unless explicitly and loudly turned off; plain http only to
loopback; no redirect carries the token away (tests/test_plan_e2e.py covers the last two).
When Losant cannot be reached, or the URL is not Losant's: one line naming the host and the
cause, retried only where a retry can help, and a hint at the URL where it is the likely cause."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncer.emulator.api import DEFAULT_TOKEN, Emulator, EmulatorConfig
from syncer.emulator.server import EmulatorServer, RunningEmulator
from tests.builders import APP, PARTICLE
from tests.e2e import tree
from tests.helpers import JsonApi, Run, failed, serving, syncer


@pytest.fixture
def https_emulator(tmp_path: Path) -> Iterator[str]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    server = EmulatorServer(Emulator(EmulatorConfig(applications=(APP,))))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.close_connections()
    server.server_close()


def _plan_at(url: str, tmp_path: Path, *options: str, debug: bool = False) -> Run:
    """`syncer plan` of one integration against `url` (only --api-url names it)."""
    return syncer(
        *(["-v"] if debug else []),
        "plan",
        str(tree(tmp_path, PARTICLE)),
        "--api-url",
        url,
        "--retry-time",
        "5",
        *options,
        env={"LOSANT_API_TOKEN": DEFAULT_TOKEN, "LOSANT_API_URL": None},
    )


def test_tls_is_verified(https_emulator: str, tmp_path: Path) -> None:
    result = _plan_at(https_emulator, tmp_path)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"GET /applications/{APP}/integrations: the TLS certificate of {https_emulator[8:]} did not verify ("
    )
    assert line.endswith(
        "fix the certificate chain or the URL, or for a test setup only pass --insecure-skip-tls-verify; "
        "not retried"
    )


def test_tls_verification_off_only_when_asked_and_then_warned(https_emulator: str, tmp_path: Path) -> None:
    result = _plan_at(https_emulator, tmp_path, "--insecure-skip-tls-verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("Plan: 1 to create, 0 to update, 0 to delete.\n")
    assert result.stderr.startswith(
        "warning: TLS certificate verification is off (--insecure-skip-tls-verify)"
    )


def test_a_name_that_does_not_resolve_is_named_and_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups: list[str] = []

    def no_such_host(host: str, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)  # no resolver is asked: loopback only
    assert failed(_plan_at("https://api.losant.example", tmp_path)) == (
        f"GET /applications/{APP}/integrations: cannot resolve api.losant.example (DNS: Name or service "
        "not known); check the API URL (--api-url, LOSANT_API_URL); not retried"
    )
    assert lookups == ["api.losant.example"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_names_host_and_port_and_is_retried(tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there
    result = _plan_at(f"http://127.0.0.1:{port}", tmp_path, "--max-attempts", "2", debug=True)
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
    result = _plan_at(https_url, tmp_path)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"GET /applications/{APP}/integrations: the TLS handshake with {host} failed (")
    assert line.endswith(
        "is the URL's scheme right?; check the API URL (--api-url, LOSANT_API_URL); not retried"
    )
    assert losant_emulator.emulator.log == []  # no request got through


class _WebSite(JsonApi):
    """A web site, not an API: what a mistyped API URL usually reaches."""

    def answer(self) -> None:
        page = b"<!DOCTYPE html><html><body><h1>404 Not Found</h1>" + b"x" * 2000 + b"</body></html>"
        self.send_bytes(404, page, "text/html")


def test_an_html_404_hints_that_the_api_url_is_wrong(tmp_path: Path) -> None:
    with serving(_WebSite) as web_site:
        assert failed(_plan_at(web_site, tmp_path)) == (
            f"GET /applications/{APP}/integrations: 404 Error: an HTML page, not JSON; this is not an "
            "answer of the Losant API: check the API URL (--api-url, LOSANT_API_URL), which is the "
            "API's root, e.g. https://api.losant.com"
        )
