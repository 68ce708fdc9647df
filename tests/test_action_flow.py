"""The composite action as a user meets it: what it installs (pinned, hash-checked, under the
right name), which release the example workflows name, and the outputs it declares."""

from __future__ import annotations

import importlib.metadata
import os
import re
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import syncer
from syncer.emulator.api import DEFAULT_TOKEN
from syncer.emulator.server import RunningEmulator
from tests.builders import APP, FLEET, PARTICLE
from tests.e2e import actions_env, good_and_bad, run, step_outputs, tree, write_tree

ROOT = Path(__file__).parent.parent
ACTION = ROOT / "action"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


# --- the lock files -----------------------------------------------------------------------------


def _lock(path: Path) -> dict[str, tuple[Requirement, list[str]]]:
    """name -> (requirement, its hashes), from a pip requirements file with hashes."""
    text = re.sub(r"\\\n", " ", path.read_text())  # join continued lines
    pinned: dict[str, tuple[Requirement, list[str]]] = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        options = re.findall(r"--hash=(\S+)", line)
        requirement = Requirement(re.sub(r"\s*--hash=\S+", "", line))
        name = canonicalize_name(requirement.name)
        assert name not in pinned, f"{path.name}: {name} twice"
        pinned[name] = (requirement, options)
    return pinned


def _closure(names: list[str]) -> set[str]:
    """The names of `names` and of everything they need, as installed here (markers evaluated
    for this interpreter, no extras)."""
    seen: set[str] = set()
    todo = [canonicalize_name(name) for name in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in importlib.metadata.distribution(name).requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is None or marker.evaluate({"extra": ""}):  # the rest: this interpreter
                todo.append(canonicalize_name(requirement.name))
    return seen


@pytest.mark.parametrize("name", ["requirements.txt", "build-requirements.txt"])
def test_every_line_of_a_lock_file_is_pinned_and_hashed(name: str) -> None:
    lock = _lock(ACTION / name)
    assert lock
    for package, (requirement, hashes) in lock.items():
        [spec] = requirement.specifier
        assert spec.operator == "==", f"{package} is not pinned: {requirement}"
        assert hashes, f"{package} has no hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), f"{package}: {hashes}"


def test_the_lock_covers_syncers_dependencies_and_fits_their_ranges() -> None:
    lock = _lock(ACTION / "requirements.txt")
    declared = [Requirement(line) for line in PYPROJECT["project"]["dependencies"]]
    for requirement in declared:
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{name} (pyproject.toml) is not in action/requirements.txt"
        [pin] = lock[name][0].specifier
        assert Version(pin.version) in requirement.specifier, f"{name}=={pin.version} vs {requirement}"
    # and what they need in turn, as resolved for this interpreter
    missing = _closure([r.name for r in declared]) - set(lock)
    assert missing == set(), f"not in action/requirements.txt: {sorted(missing)}"


def test_the_build_lock_covers_the_build_backend() -> None:
    lock = _lock(ACTION / "build-requirements.txt")
    for line in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(line)
        [pin] = lock[canonicalize_name(requirement.name)][0].specifier
        assert Version(pin.version) in requirement.specifier


def test_the_lock_parser_sees_an_unpinned_or_unhashed_line(tmp_path: Path) -> None:
    # the checks above prove nothing unless the parser reads what a bad line says
    bad = tmp_path / "requirements.txt"
    bad.write_text("click>=8 \\\n    --hash=sha256:" + "0" * 64 + "\nrich==15.0.0\n    # via x\n")
    lock = _lock(bad)
    assert [s.operator for s in lock["click"][0].specifier] == [">="]
    assert lock["rich"][1] == []


# --- action/install.sh, with a stand-in python that records what it is asked -------------------

FAKE_PYTHON = """#!/usr/bin/env bash
echo "$0 $*" >> "$INSTALL_LOG"
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi
"""


def _install(tmp_path: Path, version: str) -> tuple[int, list[str], str, str]:
    """install.sh's exit code, the python commands it ran, its output file and its log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    log, outputs, runner_temp = tmp_path / "log", tmp_path / "outputs", tmp_path / "runner"
    runner_temp.mkdir(exist_ok=True)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "INSTALL_LOG": str(log),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_OUTPUT": str(outputs),
        "VERSION": version,
    }
    done = subprocess.run(
        ["bash", str(ACTION / "install.sh")], env=env, capture_output=True, text=True, check=False
    )
    ran = log.read_text().replace(str(tmp_path), "TMP").splitlines() if log.exists() else []
    written = outputs.read_text().replace(str(tmp_path), "TMP") if outputs.exists() else ""
    return done.returncode, ran, written, done.stdout + done.stderr


PIP = "TMP/runner/syncer-venv/bin/python -m pip install --disable-pip-version-check --no-input --quiet"


def test_install_puts_the_checkout_and_hash_checked_dependencies_in_a_venv_of_its_own(
    tmp_path: Path,
) -> None:
    code, ran, outputs, _ = _install(tmp_path, version="")
    assert code == 0
    assert ran == [
        f"{tmp_path}/bin/python -m venv TMP/runner/syncer-venv".replace(str(tmp_path), "TMP"),
        f"{PIP} --require-hashes --only-binary :all: -r {ACTION}/requirements.txt",
        f"{PIP} --require-hashes --only-binary :all: -r {ACTION}/build-requirements.txt",
        f"{PIP} --no-deps --no-build-isolation {ROOT}",
    ]
    assert outputs == "syncer=TMP/runner/syncer-venv/bin/syncer\n"


def test_install_of_a_release_takes_syncer_for_losant_by_name(tmp_path: Path) -> None:
    code, ran, _, _ = _install(tmp_path, version="0.2.0")
    assert code == 0
    assert ran[1:] == [
        f"{PIP} --require-hashes --only-binary :all: -r {ACTION}/requirements.txt",
        f"{PIP} --no-deps --only-binary :all: syncer-for-losant==0.2.0",
    ]


@pytest.mark.parametrize(
    "version", ["0.2.0 --index-url http://127.0.0.1:1/", "@ file:///tmp/x", "latest", "0.2.0\n"]
)
def test_install_refuses_a_version_that_is_not_a_release_number(tmp_path: Path, version: str) -> None:
    code, ran, _, log = _install(tmp_path, version=version)
    assert (code, ran) == (1, [])
    assert log == "::error::syncer action: version must be a release number such as 0.2.0\n"


# --- the release the examples name ---------------------------------------------------------------


def test_the_example_workflows_use_the_release_of_syncer_version() -> None:
    # releasing = bump syncer/__init__.py, tag v<version>: the examples must already say so
    refs = {
        f"{path.name}: {ref}"
        for path in sorted((ROOT / "examples" / "github-workflows").glob("*.yml"))
        for ref in re.findall(r"uses:\s*OWNER/syncer@(\S+)", path.read_text())
    }
    assert refs
    assert {ref.split(": ")[1] for ref in refs} == {f"v{syncer.__version__}"}, sorted(refs)


# --- the outputs action.yml declares --------------------------------------------------------------

ACTION_ONLY = {"exit-code", "report"}  # written by action/run.sh, not by syncer


def _written(
    running: RunningEmulator, tmp_path: Path, *args: str, token: str = DEFAULT_TOKEN
) -> dict[str, str]:
    """The step outputs one real syncer command writes, under a fake GITHUB_OUTPUT."""
    tmp_path.mkdir()
    env = actions_env(tmp_path)
    run(running, *args, env=env, token=token)
    return step_outputs(env)


@pytest.mark.emulator(applications=(APP, FLEET))
def test_action_outputs_are_exactly_what_syncer_and_the_script_write(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    files, bad = good_and_bad(tmp_path)
    other = str(tree(tmp_path / "other", {**PARTICLE, "name": "waited for"}))  # a write to wait for
    two = {"a": {"applications": {"floor": APP}}, "b": {"applications": {"floor": FLEET}}}  # both empty
    environments = str(
        write_tree(
            tmp_path / "env",
            {"syncer.yaml": {"environments": two}, "x.yaml": {"application": "floor", "integrations": []}},
        )
    )
    runs = {
        "plan": _written(losant_emulator, tmp_path / "1", "plan", files),
        "plan, refused token": _written(losant_emulator, tmp_path / "2", "plan", files, token="x"),
        "plan, bad file": _written(losant_emulator, tmp_path / "3", "plan", bad),
        "drift": _written(losant_emulator, tmp_path / "4", "drift", files),
        "drift, refused token": _written(losant_emulator, tmp_path / "5", "drift", files, token="x"),
        "apply": _written(losant_emulator, tmp_path / "6", "apply", "--auto-approve", files),
        "apply, refused token": _written(
            losant_emulator, tmp_path / "7", "apply", "--auto-approve", files, token="x"
        ),
        "validate": _written(losant_emulator, tmp_path / "8", "validate", files),
        "apply, waited": _written(
            losant_emulator, tmp_path / "10", "apply", "--auto-approve", "--wait", "5", other
        ),
        "validate, bad file": _written(losant_emulator, tmp_path / "9", "validate", bad),
        "compare": _written(
            losant_emulator, tmp_path / "11", "compare", "--from", "a", "--to", "b", environments
        ),
        "compare, refused token": _written(
            losant_emulator, tmp_path / "12", "compare", "--from", "a", "--to", "b", environments, token="x"
        ),
    }
    # the runs did what their names say, so their outputs are the ones a user meets
    assert {name: written.get("error") for name, written in runs.items()} == {
        "validate": "false",
        "validate, bad file": "true",
        "plan": "false",
        "plan, refused token": "true",
        "plan, bad file": "true",
        "drift": "false",
        "drift, refused token": "true",
        "apply": "false",
        "apply, refused token": "true",
        "apply, waited": "false",
        "compare": "false",
        "compare, refused token": "true",
    }
    # the applies above wrote to APP only: the two environments differ, which is a result, not an error
    assert (runs["compare"]["same"], runs["compare, refused token"]["same"]) == ("false", "unknown")
    assert (runs["plan, refused token"]["has_changes"], runs["drift, refused token"]["has_drift"]) == (
        "unknown",
        "unknown",
    )
    assert runs["apply, refused token"]["converged"] == "unknown"
    written = set().union(*runs.values())
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert set(action["outputs"]) == written | ACTION_ONLY
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
        assert output["description"].strip()
