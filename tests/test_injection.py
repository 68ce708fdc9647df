"""Untrusted text cannot act where syncer prints it: no GitHub workflow command from a live
name, a file name or an API message, and no Markdown forged into the pull-request comment, the
drift issue or the step summary."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from syncer.emulator.testing import running_emulator
from tests.builders import APP, PARTICLE, PARTICLE_TOKEN
from tests.e2e import actions_env, run, tree

# every way a line could begin inside a name: newline, carriage return, the separators Python and
# browsers treat as line breaks, and a bare workflow command
HOSTILE_NAMES = [
    "legacy\n::warning file=x::INJECTED",
    "legacy\r::error::INJECTED",
    "x\u2028::notice::INJECTED",
    "x\x85::notice::INJECTED",
    "::set-output name=converged::true",
    f"::add-mask::{PARTICLE_TOKEN}",
    "```\n## Approved by @security-team\n```",
    "<img src=x onerror=alert(1)> @security-team #1",
    "\x1b[2J\x1b[31mred\u202eevil",
]


def _commands(text: str) -> list[str]:
    """Lines GitHub would read as workflow commands, minus syncer's own stop-commands fences."""
    lines, open_tokens = [], set()
    for line in text.splitlines():
        if match := re.fullmatch(r"::stop-commands::([0-9a-f]{32})", line):
            open_tokens.add(match.group(1))
            continue
        if (match := re.fullmatch(r"::([0-9a-f]{32})::", line)) and match.group(1) in open_tokens:
            open_tokens.discard(match.group(1))
            continue
        if line.lstrip().startswith("::") and not open_tokens:
            lines.append(line)
    return lines


def _outside_code(markdown: str) -> list[str]:
    """The lines of a Markdown text that are not in a fenced code block (CommonMark's rule: a
    block ends at a line of at least as many backticks as opened it)."""
    outside, fence = [], 0
    for line in markdown.splitlines():
        run_ = re.match(r"^ {0,3}(`{3,})", line)
        if fence == 0 and run_:
            fence = len(run_.group(1))
        elif fence and re.fullmatch(r" {0,3}`{" + str(fence) + r",}\s*", line):
            fence = 0
        elif fence == 0:
            outside.append(line)
    return outside


def _seed_hostile(running: Any) -> None:
    running.emulator.seed(APP, [{**PARTICLE, "name": name} for name in HOSTILE_NAMES])


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--prune", "--max-deletes", "20"),
        ("plan", "--prune", "--max-deletes", "20", "--format", "markdown"),
        ("plan", "--prune", "--max-deletes", "20", "--format", "json"),
        ("drift",),
        ("drift", "--format", "markdown"),
        ("apply", "--prune", "--auto-approve", "--max-deletes", "20"),
    ],
    ids=lambda a: " ".join(a),
)
def test_live_names_issue_no_workflow_command_and_forge_no_markdown(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    env, report = actions_env(tmp_path), tmp_path / "report.md"
    summary = Path(env["GITHUB_STEP_SUMMARY"])
    with running_emulator() as running:
        _seed_hostile(running)
        files = tree(tmp_path / "files", {**PARTICLE, "name": "Keep"})
        result = run(running, args[0], str(files), *args[1:], "--report", str(report), env=env)
    assert result.exit_code in (0, 2), result.output
    assert _commands(result.stdout) == []
    assert _commands(result.stderr) == []
    assert "\x1b" not in result.output
    assert "\u202e" not in result.output
    for markdown in (summary.read_text(), report.read_text()):
        outside = "\n".join(_outside_code(markdown))
        assert "Approved" not in outside
        assert "@security-team" not in outside
        assert "<img" not in outside
    assert "converged=true" not in Path(env["GITHUB_OUTPUT"]).read_text() or args[0] == "apply"


def test_the_names_are_still_shown_escaped(tmp_path: Path) -> None:
    with running_emulator() as running:
        _seed_hostile(running)
        result = run(running, "plan", str(tree(tmp_path, {**PARTICLE, "name": "Keep"})), "--prune")
    assert '- delete "legacy\\n::warning file=x::INJECTED" (particle)' in result.stdout
    assert '- delete "\\x1b[2J\\x1b[31mred\\u202eevil" (particle)' in result.stdout


def test_a_file_name_issues_no_workflow_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "::warning file=x::INJECTED.yaml"
    (tmp_path / name).write_text(
        f"application: {APP}\nintegrations:\n  - name: x\n    integrationType: sftp\n"
    )
    monkeypatch.chdir(tmp_path)
    with running_emulator() as running:
        result = run(running, "plan", name, env={"GITHUB_ACTIONS": "true"})
    assert result.exit_code == 1
    assert _commands(result.stderr) == []
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    [annotation] = annotations
    assert annotation.startswith("::error file=%3A%3Awarning file=x%3A%3AINJECTED.yaml,line=4,col=22::")


@pytest.mark.parametrize("how", ["--merge", "--out"])
def test_an_export_path_issues_no_workflow_command(how: str, tmp_path: Path) -> None:
    hostile = tmp_path / "m\n::warning file=x::INJECTED\u202e"
    hostile.mkdir()
    env = actions_env(tmp_path)
    with running_emulator() as running:
        running.emulator.seed(APP, [{**PARTICLE, "name": "Trackers"}])
        if how == "--merge":
            target = tree(hostile, {**PARTICLE, "name": "Trackers"}) / "integrations.yaml"
            result = run(running, "export", "--application", APP, "--merge", str(target), env=env)
        else:
            result = run(running, "export", "--application", APP, "--out", str(hostile), env=env)
    assert result.exit_code == 0, result.output
    assert _commands(result.stderr) == []
    assert "\u202e" not in result.output
    assert "m\\n::warning file=x::INJECTED\\u202e" in result.stderr  # shown, escaped


# look-alikes: each of these shows nothing, or nothing of its own, in most terminals and browsers
INVISIBLE = ["\u200b", "\u2060", "\u061c", "\u00ad", "\U000e0041", "\u180e", "\ufff9"]


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_a_name_that_looks_like_another_is_shown_apart(char: str, tmp_path: Path) -> None:
    files = str(tree(tmp_path, {**PARTICLE, "name": "Keep"}))
    code = ord(char)
    escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    with running_emulator() as running:
        running.emulator.seed(APP, [{**PARTICLE, "name": f"Keep{char}"}])
        for fmt in ("text", "markdown"):
            result = run(running, "plan", files, "--prune", "--format", fmt)
            assert char not in result.output
            assert f"Keep{escape}" in result.stdout.replace("\\\\", "\\")  # Markdown doubles it


def test_every_invisible_or_control_character_is_escaped() -> None:
    """The class printable escapes is Unicode's Cc, Cf, Cs, Zl and Zp, as the running Python's
    unicodedata has them (a newer Unicode may add some: those must be added too)."""
    import unicodedata

    from syncer.render.escape import printable

    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            assert printable(char) != char, f"U+{code:04X}"
        else:
            assert printable(char) == char, f"U+{code:04X}"


def test_an_api_message_issues_no_workflow_command(tmp_path: Path) -> None:
    from syncer.emulator.faults import FaultRule

    with running_emulator() as running:
        running.emulator.faults.rules.append(FaultRule("body", on=("list",), body="text"))
        result = run(
            running, "plan", str(tree(tmp_path, {**PARTICLE, "name": "x"})), env={"GITHUB_ACTIONS": "true"}
        )
    assert result.exit_code == 1
    assert _commands(result.stderr) == []
