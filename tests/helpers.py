"""Shared test helpers: run the real CLI in-process and look at what a user would see."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from syncer.cli import cli


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
