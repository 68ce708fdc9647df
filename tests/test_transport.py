"""Transport: TLS is verified unless explicitly and loudly turned off; plain http only to
loopback; no redirect carries the token away (tests/test_plan_e2e.py covers the last two)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncer.emulator.api import DEFAULT_TOKEN, Emulator, EmulatorConfig
from syncer.emulator.server import EmulatorServer
from tests.builders import APP, PARTICLE
from tests.e2e import tree
from tests.helpers import Run, syncer


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


def _plan_over_tls(url: str, tmp_path: Path, *options: str) -> Run:
    return syncer(
        "plan",
        str(tree(tmp_path, PARTICLE)),
        "--api-url",
        url,
        *options,
        env={"LOSANT_API_TOKEN": DEFAULT_TOKEN},
    )


def test_tls_is_verified(https_emulator: str, tmp_path: Path) -> None:
    result = _plan_over_tls(https_emulator, tmp_path)
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
    result = _plan_over_tls(https_emulator, tmp_path, "--insecure-skip-tls-verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("Plan: 1 to create, 0 to update, 0 to delete.\n")
    assert result.stderr.startswith(
        "warning: TLS certificate verification is off (--insecure-skip-tls-verify)"
    )
