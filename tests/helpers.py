"""Shared test helpers: run the real CLI in-process and look at what a user would see."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft7Validator

from syncer.cli import cli

PYTHON_M_SYNCER = [sys.executable, "-m", "syncer"]  # syncer as a separate process, as a shell runs it


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def syncer(*args: str, env: Mapping[str, str | None] | None = None, input: str | None = None) -> Run:
    """Run `syncer ARGS` as a user would, in-process; asserts no traceback ever escapes."""
    runner = CliRunner()
    result = runner.invoke(cli, list(args), env=dict(env or {}), input=input, prog_name="syncer")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    run = Run(result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in run.output, run.output
    return run


def failed(result: Run) -> str:
    """What a run that failed printed on stderr (stripped); it must have exited 1."""
    assert result.exit_code == 1, result.output
    return result.stderr.strip()


def failed_saying(result: Run, *lines: str) -> None:
    """The run failed (exit 1) and its report (stdout) says each of `lines`."""
    assert result.exit_code == 1, result.output
    for line in lines:
        assert line in result.stdout, (line, result.stdout)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` answering on a free loopback port for the block; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class JsonApi(BaseHTTPRequestHandler):
    """A hand-made API for a test (run it with `serving`): every verb goes to `answer`, which
    replies with `send_json`; nothing is logged."""

    def answer(self) -> None:
        raise NotImplementedError

    def send_json(self, status: int, body: Any) -> None:
        self.send_bytes(status, json.dumps(body).encode(), "application/json")

    def send_bytes(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self.answer()

    do_POST = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


# Losant's official JS client, mirrored beside the checkout on the build machine; commit
# 529fc39e is the client for API v1.30.0, the version the emulator follows
LOSANT_REST_JS = Path("/work/.mirror/Losant+losant-rest-js/repo")
LOSANT_REST_JS_V1_30_0 = "529fc39e"


def published(path: str) -> bytes | None:
    """A file of losant-rest-js v1.30.0 (e.g. lib/schemas/credential.json), None without the mirror."""
    if not LOSANT_REST_JS.is_dir():
        return None
    return subprocess.run(
        ["git", "-C", str(LOSANT_REST_JS), "show", f"{LOSANT_REST_JS_V1_30_0}:{path}"],
        capture_output=True,
        check=True,
    ).stdout


def published_validator(name: str) -> Draft7Validator:
    """The published schema lib/schemas/NAME.json as a validator (the test skips without the mirror)."""
    text = published(f"lib/schemas/{name}.json")
    if text is None:
        pytest.skip("losant-rest-js is not beside this checkout")
    return Draft7Validator(json.loads(text), format_checker=Draft7Validator.FORMAT_CHECKER)
