"""A plain `pip install syncer-for-losant` (no test extras) must run every command.

The distribution is named `syncer-for-losant`: `syncer` on the package index is an unrelated
project (which also installs an import package named `syncer`). The command and the import
package stay `syncer`.

Only the pytest plugin, syncer/emulator/testing.py, may import a test-only package: every other
module is imported here in a fresh interpreter where those packages cannot be imported. The
wheel itself is installed into a fresh virtual environment by .ci/smoke-install. The installed
`syncer` also prints its shell completion script.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import syncer
from tests.helpers import PYTHON_M_SYNCER

# import names of the [test] extras that a module could import by mistake
TEST_ONLY = ("pytest", "_pytest", "hypothesis", "losant_rest")
PLUGIN = "syncer.emulator.testing"

_IMPORT_ALL = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    for name in {blocked!r}:
        sys.modules[name] = None  # `import name` now raises ImportError
    import syncer
    failed = []
    names = [m.name for m in pkgutil.walk_packages(syncer.__path__, "syncer.")]
    for name in names:
        if name in {skip!r}:
            continue
        if name == "syncer.__main__":  # runs the CLI when imported
            sys.argv = ["syncer", "--help"]
        try:
            importlib.import_module(name)
        except SystemExit as exc:
            if exc.code not in (0, None):
                failed.append(f"{{name}}: exit {{exc.code}}")
        except ImportError as exc:
            failed.append(f"{{name}}: {{exc}}")
    sys.stdout = sys.__stdout__  # after __main__'s help text: the verdict is the last lines
    print("\\n".join(failed))
    print("imported", 1 + len(names) - len({skip!r}))  # syncer itself, then the rest
    sys.exit(1 if failed else 0)
    """
)


def _modules() -> list[Path]:
    """syncer's modules, the pytest plugin aside."""
    root = Path(syncer.__file__).parent
    return sorted(p for p in root.rglob("*.py") if p != root / "emulator" / "testing.py")


def _import_everything_without_test_packages(skip: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    code = _IMPORT_ALL.format(blocked=TEST_ONLY, skip=skip)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(syncer.__file__).parent.parent,
        check=False,
    )


def test_no_module_but_the_pytest_plugin_needs_a_test_package() -> None:
    run = _import_everything_without_test_packages(skip=(PLUGIN,))
    assert run.returncode == 0, run.stdout + run.stderr
    count = int(run.stdout.split()[-1])
    assert count == len(_modules())  # every module was tried, none skipped by the walk


def test_the_check_notices_a_module_that_needs_pytest() -> None:
    # the same check, not skipping the plugin: it must fail, or it proves nothing
    run = _import_everything_without_test_packages(skip=())
    assert run.returncode == 1
    assert f"{PLUGIN}: import of pytest halted" in run.stdout


def test_no_module_imports_the_plugin_or_a_test_package_even_inside_a_function() -> None:
    # a lazy import inside a command (how `syncer emulator` once needed pytest) escapes the
    # import check above: read every import statement instead
    offenders = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name == PLUGIN or name.split(".")[0] in TEST_ONLY:
                    offenders.append(f"{path.name}:{node.lineno}: {name}")
    assert offenders == []


@pytest.mark.parametrize(
    ("command", "shell", "expected"),
    [
        (PYTHON_M_SYNCER, "bash_source", "_syncer_completion"),
        ([str(Path(sys.executable).parent / "syncer")], "zsh_source", "compdef _syncer_completion syncer"),
    ],
    ids=["bash, python -m syncer", "zsh, the script pip installs"],
)
def test_shell_completion_script(command: list[str], shell: str, expected: str) -> None:
    done = subprocess.run(
        command,
        env={**os.environ, "_SYNCER_COMPLETE": shell},
        capture_output=True,
        text=True,
        check=False,
    )
    assert expected in done.stdout


# `pip install` naming the unrelated `syncer` project: a bare `syncer`, or `syncer` with a version
WRONG_NAME = re.compile(r"pip install\b[^\n&;#|]*?(?<![\w./-])[\"']?syncer(?=[=<>~!\[\s\"']|$)", re.MULTILINE)


def _install_texts() -> dict[str, str]:
    """Where a user reads how to install syncer: the README, the docs, the action."""
    root = Path(__file__).parent.parent
    paths = [root / "README.md", root / "action.yml", *root.glob("docs/*.md"), *root.glob("action/*")]
    paths += list(root.glob("examples/github-workflows/*.yml"))
    return {str(p.relative_to(root)): p.read_text("utf-8") for p in paths if p.is_file()}


def test_the_distribution_is_syncer_for_losant_with_the_syncer_command() -> None:
    dist = importlib.metadata.distribution("syncer-for-losant")
    assert dist.version == syncer.__version__
    assert [(e.name, e.value) for e in dist.entry_points if e.group == "console_scripts"] == [
        ("syncer", "syncer.cli:main")
    ]


def test_no_install_instruction_names_the_unrelated_syncer_project() -> None:
    texts = _install_texts()
    assert any("syncer-for-losant" in text for text in texts.values())
    offenders = [f"{name}: {m.group(0)}" for name, text in texts.items() for m in WRONG_NAME.finditer(text)]
    assert offenders == []


@pytest.mark.parametrize(
    ("line", "wrong"),
    [
        ("pip install syncer", True),
        ('python -m pip install "syncer==$VERSION"', True),
        ("pip install syncer>=0.2", True),
        ("pip install syncer-for-losant", False),
        ('pip install --no-deps "syncer-for-losant==$VERSION"', False),
        ("pip install -e .  # then run syncer demo", False),
    ],
)
def test_the_wrong_name_check_tells_them_apart(line: str, wrong: bool) -> None:
    # the check above proves nothing unless it catches the wrong name
    assert bool(WRONG_NAME.search(line)) is wrong
