"""Shared test helpers: run the real CLI in-process and look at what a user would see."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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
