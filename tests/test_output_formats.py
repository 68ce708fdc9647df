"""One style across commands: every command that prints takes --color, tools get JSON where they
need it (validate too), apply reports in Markdown, and counts add up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from syncer.emulator.server import RunningEmulator
from tests.builders import APP, PARTICLE
from tests.e2e import actions_env, run, step_outputs, tree
from tests.helpers import syncer


def test_validate_json_lists_every_error_located_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"application: {APP}\nintegrations:\n  - name: x\n    integrationType: nope\n")
    result = syncer("validate", str(bad), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["summary"] == "1 error in 1 of 1 file"
    [error] = report["errors"]
    assert (error["file"], error["line"], error["column"]) == (str(bad), 4, 22)
    assert error["where"] == "integrations[0].integrationType"
    assert result.stderr.splitlines()[-1] == "1 error in 1 of 1 file"  # the one-line errors stay


def test_validate_json_of_good_files(tmp_path: Path) -> None:
    result = syncer("validate", str(tree(tmp_path, PARTICLE)), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["valid"], report["integrations"], report["applications"]) == (True, 1, [APP])
    assert report["errors"] == []


def test_a_file_given_twice_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "sub" / "bad.yaml"
    bad.parent.mkdir()
    bad.write_text(f"application: {APP}\nintegrations:\n  - name: x\n    integrationType: nope\n")
    monkeypatch.chdir(bad.parent)
    result = syncer("validate", "bad.yaml", "../sub/bad.yaml")
    assert result.stderr.splitlines()[-1] == "1 error in 1 of 1 file"


def test_apply_reports_in_markdown(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    files = str(tree(tmp_path, PARTICLE))
    result = run(losant_emulator, "apply", files, "--auto-approve", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "<!-- syncer-apply -->\n### syncer apply\n\n**Apply: 1 done, 0 failed, 0 not attempted.**"
    )
    assert result.stderr.startswith("[1/1] done")  # progress stays off the report's stream


@pytest.mark.parametrize(
    "command",
    [("validate",), ("plan",), ("drift",), ("ping",), ("apply", "--auto-approve")],
    ids=lambda c: c[0],
)
def test_every_printing_command_colours_only_when_asked(
    command: tuple[str, ...], losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    files = str(tree(tmp_path, PARTICLE))  # not in Losant: plan, drift and apply have something to say
    coloured = run(losant_emulator, *command, files, "--color", "always")
    plain = run(losant_emulator, *command, files, "--color", "never")
    assert "\x1b[" in coloured.stdout, coloured.output
    assert "\x1b[" not in plain.stdout


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("validate",), "false"),
        (("validate", "--no-such-option"), "true"),
        (("plan", "--format", "yaml"), "true"),
    ],
    ids=["valid", "mistyped option", "bad choice"],
)
def test_every_run_says_whether_it_failed_in_the_step_outputs(
    args: tuple[str, ...], error: str, tmp_path: Path
) -> None:
    env = actions_env(tmp_path)
    result = syncer(*args, str(tree(tmp_path / "f", PARTICLE)), env=env)
    assert result.exit_code == (0 if error == "false" else 1)
    assert step_outputs(env)["error"] == error


def test_documents_for_tools_are_whole_under_github_actions(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = actions_env(tmp_path)
    losant_emulator.emulator.seed(APP, [PARTICLE])
    exported = run(losant_emulator, "export", "--application", APP, env=env)
    assert exported.exit_code == 0, exported.output
    assert yaml.safe_load(exported.stdout)["application"] == APP  # `> file.yaml` gives a valid file
    for command in ("plan", "drift", "validate"):
        result = run(
            losant_emulator, command, str(tree(tmp_path / "f", PARTICLE)), "--format", "json", env=env
        )
        assert json.loads(result.stdout)["formatVersion"] >= 1

    # a live name a runner would read as a command: printed, it could act; so it is refused
    losant_emulator.emulator.seed(APP, [{**PARTICLE, "name": "x ##[warning]INJECTED"}])
    refused = run(losant_emulator, "export", "--application", APP, env=env)
    assert refused.exit_code == 1
    assert "##[warning]" not in refused.stdout
    assert refused.stderr.splitlines()[-2].endswith("write it with --out DIR")


def test_annotations_carry_no_workflow_command(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    hostile = {"name": "x ##[warning]INJECTED", "type": "gcp", "gcpConfig": {"keyJson": "{}"}}
    losant_emulator.emulator.seed_credentials(APP, [hostile])
    entry = {"name": "hist", "integrationType": "googlePubSub", "credentialName": "typo"}
    env = actions_env(tmp_path)
    result = run(losant_emulator, "plan", str(tree(tmp_path / "f", entry)), env=env)
    assert result.exit_code == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert annotations, result.output
    assert not any("##[" in line for line in annotations)
    assert "##\\[warning]INJECTED" in annotations[0]


def test_every_kind_of_report_names_renderers_that_exist() -> None:
    import inspect

    from syncer.apply import ApplyResult
    from syncer.drift import DriftReport
    from syncer.plan import Plan
    from syncer.promotion import Promotion
    from syncer.render.formats import RENDERERS, renderer
    from syncer.status import StatusReport

    kinds = {Plan, DriftReport, StatusReport, Promotion, ApplyResult}
    assert set(RENDERERS) == {kind.__name__ for kind in kinds}
    for cells in RENDERERS.values():
        to_json, to_markdown, to_text = (renderer(cell) for cell in cells)
        assert "redact" in inspect.signature(to_markdown).parameters  # it redacts before framing
        assert len(inspect.signature(to_text).parameters) >= 2  # (report, style)
        assert callable(to_json)
