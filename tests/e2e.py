"""End-to-end helpers: a tree of integration files, and the CLI pointed at an emulator."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from syncer.emulator.api import DEFAULT_TOKEN
from syncer.emulator.server import RunningEmulator
from tests.builders import APP
from tests.helpers import PYTHON_M_SYNCER, Run, failed, syncer

EXAMPLES = Path(__file__).parent.parent / "examples" / "integrations"
EXAMPLE_ENV = {
    "LINE1_MQTT_PASSWORD": "line1-password",
    "LINE2_MQTT_CERTIFICATE": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "LINE2_MQTT_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
    "FLEET_PARTICLE_TOKEN": "particle-token-123",
    "FLEET_DISPATCH_TOKEN": "dispatch-token-456",
}


def seed_example_credentials(running: RunningEmulator) -> None:
    """The service credentials examples/integrations names, as the demo seeds them."""
    from syncer.demo import CREDENTIALS

    for app, credentials in CREDENTIALS.items():
        running.emulator.seed_credentials(app, credentials)


def write_tree(root: Path, files: dict[str, Any]) -> Path:
    """{relative path: document} -> YAML files under root."""
    for name, document in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    return root


def tree(
    root: Path, *integrations: dict[str, Any], app: str = APP, project: dict[str, Any] | None = None
) -> Path:
    files: dict[str, Any] = {"integrations.yaml": {"application": app, "integrations": list(integrations)}}
    if project is not None:
        files["syncer.yaml"] = project
    return write_tree(root, files)


def invalid_file(path: Path) -> Path:
    """A syncer file with one schema error (a mistyped integrationType, at line 4)."""
    path.write_text(f"application: {APP}\nintegrations:\n  - name: x\n    integrationType: mqqt\n")
    return path


def good_and_bad(tmp_path: Path) -> tuple[str, str]:
    """Two inputs for one command: a valid file tree (one Particle), and an invalid file."""
    from tests.builders import PARTICLE

    return str(tree(tmp_path / "f", PARTICLE)), str(invalid_file(tmp_path / "bad.yaml"))


def actions_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a GitHub Actions step: its summary and output files, empty, in tmp_path."""
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    summary.write_text("")
    output.write_text("")
    return {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)}


def step_outputs(env: Mapping[str, str]) -> dict[str, str]:
    """The step outputs a run wrote to the GITHUB_OUTPUT file of `actions_env`."""
    return dict(line.split("=", 1) for line in Path(env["GITHUB_OUTPUT"]).read_text().splitlines())


def run(
    running: RunningEmulator,
    *args: str,
    env: Mapping[str, str | None] | None = None,
    token: str = DEFAULT_TOKEN,
    input: str | None = None,
) -> Run:
    base: dict[str, str | None] = {
        "LOSANT_API_URL": running.url,
        "LOSANT_API_TOKEN": token,
        "GITHUB_ACTIONS": None,
        "NO_COLOR": None,
    }
    return syncer(*args, env={**base, **(env or {})}, input=input)


def syncer_process(
    running: RunningEmulator, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """`python -m syncer ARGS` against the emulator as a child process, as a shell starts it (from
    the checkout's root); its output is text on pipes."""
    environ = {
        **{k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR")},
        "LOSANT_API_URL": running.url,
        "LOSANT_API_TOKEN": DEFAULT_TOKEN,
        **(env or {}),
    }
    return subprocess.Popen(
        [*PYTHON_M_SYNCER, *args],
        cwd=Path(__file__).parent.parent,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def auto_apply(running: RunningEmulator, *args: str, env: Mapping[str, str | None] | None = None) -> Run:
    """`syncer apply --auto-approve ARGS`: an apply with no one to confirm it, as CI runs it."""
    return run(running, "apply", "--auto-approve", *args, env=env)


def exported(running: RunningEmulator, out: Path, app: str = APP, *options: str) -> Path:
    """`syncer export --application APP --out OUT OPTIONS` succeeded: the file it wrote (named by
    APP, an id or, with --environment, an alias)."""
    result = run(running, "export", "--application", app, "--out", str(out), *options)
    assert result.exit_code == 0, result.output
    return out / f"{app}.yaml"


def api_requests(running: RunningEmulator) -> list[dict[str, Any]]:
    return list(running.emulator.log)


def writes(running: RunningEmulator) -> list[dict[str, Any]]:
    return [r for r in running.emulator.log if r["method"] in ("POST", "PATCH", "DELETE")]


def failed_without_writes(result: Run, running: RunningEmulator) -> str:
    """What a refused run printed on stderr (stripped): it exited 1, and no write reached Losant."""
    assert writes(running) == []
    return failed(result)


def while_confirming(monkeypatch: pytest.MonkeyPatch, action: Callable[[], object]) -> None:
    """apply's confirmation does `action` instead of asking: something happens to Losant between
    the plan and the writes (by hand, or another run)."""
    monkeypatch.setattr("syncer.console.Console.approve", lambda console, auto_approve: action())


def edit_by_hand(running: RunningEmulator, integration_id: str, body: str, app: str = APP) -> None:
    """Someone changes an integration in Losant, outside git (not through syncer)."""
    reply = running.emulator.handle(
        "PATCH",
        f"/applications/{app}/integrations/{integration_id}",
        {"authorization": f"Bearer {DEFAULT_TOKEN}"},
        body.encode(),
    )
    assert reply.status == 200, reply.body
