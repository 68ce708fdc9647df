"""The promises the repository itself makes: README commands, CI entry point, layout."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_readme_starts_with_two_setup_commands() -> None:
    main_job, tests = _readme_commands()
    assert main_job.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install -e .")
    assert tests.endswith("python -m pytest")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    _, tests = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci


def test_layout() -> None:
    for path in (
        "pyproject.toml",
        "README.md",
        "syncer/__init__.py",
        "examples/integrations",
        "tests",
        ".github",
        ".ci/run",
    ):
        assert (ROOT / path).exists(), path
