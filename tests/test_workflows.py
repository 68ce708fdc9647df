"""Made for GitHub: step summary, outputs and annotations, the composite action and the scripts
it calls, the example workflows and the pre-commit hook."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any, ClassVar

import pytest
import yaml

from syncer.emulator.server import RunningEmulator
from tests.builders import APP, FLEET, MQTT, MQTT_PASSWORD, PARTICLE
from tests.e2e import EXAMPLE_ENV, EXAMPLES, actions_env, good_and_bad, invalid_file, run, tree, write_tree
from tests.helpers import JsonApi, serving

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent


# --- GitHub Actions: summary, outputs, annotations ------------------------------------------


def _outputs(path: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in Path(path).read_text().splitlines())


def test_plan_under_actions_writes_summary_and_outputs(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = actions_env(tmp_path)
    losant_emulator.emulator.seed(APP, [{**MQTT, "enabled": False}])
    files = str(tree(tmp_path / "f", {**MQTT, "enabled": True}, PARTICLE))
    result = run(losant_emulator, "plan", files, "--detailed-exitcode", env=env)
    assert result.exit_code == 2
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith(
        "<!-- syncer-plan -->\n### syncer plan\n\n**Plan: 1 to create, 1 to update, 0 to delete.**"
    )
    assert MQTT_PASSWORD not in summary
    assert _outputs(env["GITHUB_OUTPUT"]) == {
        "error": "false",
        "has_changes": "true",
        "creates": "1",
        "updates": "1",
        "deletes": "0",
        "replaces": "0",
    }


def test_drift_and_apply_under_actions_write_outputs(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    env = actions_env(tmp_path)
    files = str(tree(tmp_path / "f", PARTICLE))
    assert run(losant_emulator, "drift", files, env=env).exit_code == 2
    assert _outputs(env["GITHUB_OUTPUT"]) == {
        "error": "false",
        "has_drift": "true",
        "changed_live": "0",
        "missing_live": "1",
        "created_outside_git": "0",
    }
    env = actions_env(tmp_path)
    assert run(losant_emulator, "apply", files, "--auto-approve", env=env).exit_code == 0
    assert _outputs(env["GITHUB_OUTPUT"]) == {
        "error": "false",
        "done": "1",
        "failed": "0",
        "uncertain": "0",
        "not_attempted": "0",
        "converged": "true",
    }
    assert "### syncer apply" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()


def test_validation_errors_become_annotations_in_every_command(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    bad = invalid_file(tmp_path / "bad.yaml")
    for command in ("plan", "apply", "drift"):
        result = run(losant_emulator, command, str(bad), env={"GITHUB_ACTIONS": "true"})
        assert result.exit_code == 1
        assert result.stdout.startswith(
            f"::error file={bad},line=4,col=22::integrations[0].integrationType: must be"
        )


def test_report_file(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    run(losant_emulator, "plan", str(tree(tmp_path / "f", PARTICLE)), "--report", str(report))
    assert report.read_text().startswith("<!-- syncer-plan -->")


# --- the composite action -------------------------------------------------------------------


def _run_action(
    running: RunningEmulator,
    tmp_path: Path,
    command: str,
    paths: str,
    token: str = "emulator-token",
    args: str = "",
    environment: str = "",
) -> tuple[int, dict[str, str], str]:
    env = {
        **os.environ,
        **actions_env(tmp_path),
        "SYNCER_ENVIRONMENT": environment,
        "COMMAND": command,
        "PATHS": paths,
        "ARGS": args,
        "RUNNER_TEMP": str(tmp_path),
        "LOSANT_API_URL": running.url,
        "LOSANT_API_TOKEN": token,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    done = subprocess.run(
        ["bash", str(ROOT / "action" / "run.sh")], env=env, capture_output=True, text=True, check=False
    )
    return done.returncode, _outputs(env["GITHUB_OUTPUT"]), done.stdout + done.stderr


def test_action_script_plan_changes_are_not_a_failure(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    code, outputs, _ = _run_action(losant_emulator, tmp_path, "plan", str(tree(tmp_path / "f", PARTICLE)))
    assert code == 0
    assert outputs["exit-code"] == "2"
    assert outputs["has_changes"] == "true"
    assert Path(outputs["report"]).read_text().startswith("<!-- syncer-plan -->")


def test_action_script_fails_on_errors(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    code, outputs, log = _run_action(
        losant_emulator, tmp_path, "plan", str(tree(tmp_path / "f", PARTICLE)), token="x"
    )
    assert code == 1
    assert outputs["exit-code"] == "1"
    assert "401 Unauthorized" in log
    code, _, log = _run_action(losant_emulator, tmp_path, "destroy", ".")
    assert code == 1
    assert "command must be validate, plan, apply, drift, status or compare" in log


def test_action_script_apply_and_drift(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    files = str(tree(tmp_path / "f", PARTICLE))
    code, outputs, _ = _run_action(losant_emulator, tmp_path, "apply", files)
    assert (code, outputs["exit-code"], outputs["done"]) == (0, "0", "1")
    code, outputs, _ = _run_action(losant_emulator, tmp_path, "drift", files)
    assert (code, outputs["has_drift"]) == (0, "false")


@pytest.mark.emulator(applications=(APP, FLEET))
def test_action_script_plans_each_environment_and_compares_them(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    # what environments.yml does: the environment input picks the applications; a difference
    # between two environments is a result, not a failure
    files = write_tree(
        tmp_path / "losant",
        {
            "syncer.yaml": {
                "environments": {
                    "staging": {"applications": {"floor": APP}},
                    "production": {"applications": {"floor": FLEET}},
                }
            },
            "floor.yaml": {"application": "floor", "integrations": [PARTICLE]},
        },
    )
    code, outputs, _ = _run_action(losant_emulator, tmp_path, "apply", str(files), environment="staging")
    assert (code, outputs["done"]) == (0, "1")
    assert [i["name"] for i in losant_emulator.emulator.integrations(APP)] == [PARTICLE["name"]]
    code, outputs, _ = _run_action(losant_emulator, tmp_path, "plan", str(files), environment="production")
    assert (code, outputs["exit-code"], outputs["creates"]) == (0, "2", "1")
    compare = "--from staging --to production"
    code, outputs, _ = _run_action(losant_emulator, tmp_path, "compare", str(files), args=compare)
    assert (code, outputs["exit-code"], outputs["error"], outputs["same"]) == (0, "2", "false", "false")
    assert Path(outputs["report"]).read_text().startswith("<!-- syncer-compare -->")
    summary = (tmp_path / "summary.md").read_text()  # the step summary of actions_env
    assert "### syncer compare: staging → production" in summary


def test_action_script_plans_without_the_secrets_with_env_optional(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    # what plan.yml does on a pull request: no secret set, the plan still runs and shows the
    # change it can see (the host), never one made of the unset password alone
    losant_emulator.emulator.seed(APP, [MQTT])
    secret = {**MQTT["mqttConfig"], "password": "${env:BROKER_PASSWORD}"}
    moved = str(tree(tmp_path / "moved", {**MQTT, "mqttConfig": {**secret, "host": "b2.example.com"}}))
    same = str(tree(tmp_path / "same", {**MQTT, "mqttConfig": secret}))
    code, outputs, _ = _run_action(losant_emulator, tmp_path, "plan", moved, args="--env-optional")
    assert (code, outputs["error"], outputs["has_changes"], outputs["updates"]) == (0, "false", "true", "1")
    assert "BROKER_PASSWORD" in Path(outputs["report"]).read_text()  # named as unknown, no value
    code, outputs, _ = _run_action(losant_emulator, tmp_path, "plan", same, args="--env-optional")
    assert (code, outputs["error"], outputs["has_changes"]) == (0, "false", "false")
    # without the option, the missing secret is an error
    code, outputs, _ = _run_action(losant_emulator, tmp_path, "plan", same)
    assert (code, outputs["error"], outputs["has_changes"]) == (1, "true", "unknown")


def test_action_script_always_says_whether_the_command_failed(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    # syncer writes `error` itself once a command runs; the script fills in for the rest
    files, bad = good_and_bad(tmp_path)
    seen = {}
    for name, command, paths, args in [
        ("validate", "validate", files, ""),
        ("validate, bad file", "validate", bad, ""),
        ("plan, mistyped option", "plan", files, "--prnue"),
        ("plan, refused token", "plan", files, "--token-file /nonexistent"),
        ("not a command", "destroy", files, ""),
    ]:
        code, outputs, _ = _run_action(losant_emulator, tmp_path, command, paths, args=args)
        seen[name] = (code, outputs["exit-code"], outputs["error"])
        written = (tmp_path / "output.txt").read_text().splitlines()
        assert [line for line in written if line.startswith("error=")] == [f"error={outputs['error']}"]
    assert seen == {
        "validate": (0, "0", "false"),
        "validate, bad file": (1, "1", "true"),
        "plan, mistyped option": (1, "1", "true"),
        "plan, refused token": (1, "1", "true"),
        "not a command": (1, "1", "true"),
    }


def test_action_metadata_wires_the_script_and_the_outputs() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert all("shell" in step for step in steps if "run" in step)
    assert any('action/run.sh"' in step.get("run", "") for step in steps)
    for output in ("has_changes", "creates", "updates", "deletes", "has_drift", "exit-code", "report"):
        assert output in action["outputs"]
    for step in steps:  # inputs reach scripts through env, never pasted into the script text
        assert "${{" not in step.get("run", "")


# --- the scripts the workflows call: against a fake GitHub API -------------------------------


SHA = "3f786850e387550fdab836ed7e6dc881de23001b"  # the commit a merge put on main
RUN = "https://github.example/o/r/actions/runs/4242"  # this workflow run, from the runner's variables


BOT = {"login": "github-actions[bot]", "type": "Bot"}  # who writes with the workflow's token


class FakeGitHub(JsonApi):
    """The few GitHub REST endpoints action/github_report.py calls, for the repository o/r:
    pull request #7 (merged as SHA) and its comments, issues labelled syncer-drift."""

    comments: ClassVar[dict[int, dict[str, Any]]] = {}  # id -> {id, body, on: issue or PR number}
    issues: ClassVar[dict[int, dict[str, Any]]] = {}
    pulls: ClassVar[list[dict[str, Any]]] = []  # what GET /commits/SHA/pulls answers
    calls: ClassVar[list[str]] = []
    bodies: ClassVar[list[Any]] = []  # the JSON body of each POST and PATCH, in order

    def answer(self) -> None:
        self.calls.append(f"{self.command} {self.path}")
        assert self.headers["Authorization"] == "Bearer gh-token"
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
        if self.command != "GET":
            self.bodies.append(body)
        answer = {"GET": self._get, "POST": self._post, "PATCH": self._patch}[self.command]
        self.send_json(*answer(body))

    def _get(self, body: Any) -> tuple[int, Any]:
        path = self.path.split("?", 1)[0]
        if match := re.fullmatch(r"/repos/o/r/issues/(\d+)/comments", path):
            return 200, [c for c in self.comments.values() if c["on"] == int(match[1])]
        if self.path.startswith("/repos/o/r/issues?state=open&labels=syncer-drift"):
            return 200, [i for i in self.issues.values() if i["state"] == "open"]
        if path == f"/repos/o/r/commits/{SHA}/pulls":
            return 200, self.pulls
        return 404, {}

    def _post(self, body: Any) -> tuple[int, Any]:
        if match := re.fullmatch(r"/repos/o/r/issues/(\d+)/comments", self.path):
            new = {"id": 100 + len(self.comments), "body": body["body"], "on": int(match[1]), "user": BOT}
            self.comments[new["id"]] = new
            return 201, new
        if self.path == "/repos/o/r/issues":
            new = {"number": 1 + len(self.issues), "state": "open", "user": BOT, **body}
            self.issues[new["number"]] = new
            return 201, new
        return 404, {}

    def _patch(self, body: Any) -> tuple[int, Any]:
        number = int(self.path.rsplit("/", 1)[1])
        target = self.comments if "/comments/" in self.path else self.issues
        target[number].update(body)
        return 200, target[number]


@dataclass
class GitHub:
    """A test's fake GitHub, and action/github_report.py pointed at it."""

    handler: type[FakeGitHub]  # what the fake holds
    env: dict[str, str]  # the script's environment
    tmp_path: Path

    def script(
        self, mode: str, report: str, *args: str, env: dict[str, str] | None = None
    ) -> CompletedProcess[str]:
        """`github_report.py MODE REPORT-FILE ARGS`, `env` over its environment."""
        path = self.tmp_path / "report.md"
        path.write_text(report)
        script = [sys.executable, str(ROOT / "action" / "github_report.py"), mode, str(path), *args]
        environ = {**self.env, **(env or {})}
        return subprocess.run(script, env=environ, capture_output=True, text=True, check=False)

    def publish(self, mode: str, report: str, *args: str, env: dict[str, str] | None = None) -> str:
        """`script`, which must succeed: what it said."""
        done = self.script(mode, report, *args, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHub]:
    handler = type(
        "GitHub", (FakeGitHub,), {"comments": {}, "issues": {}, "pulls": [], "calls": [], "bodies": []}
    )
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    with serving(handler) as url:
        yield GitHub(
            handler,
            {
                **os.environ,
                "GITHUB_API_URL": url,
                "GITHUB_SERVER_URL": "https://github.example",
                "GITHUB_REPOSITORY": "o/r",
                "GITHUB_RUN_ID": "4242",
                "GITHUB_TOKEN": "gh-token",
                "GITHUB_EVENT_PATH": str(event),
            },
            tmp_path,
        )


def test_sticky_comment_is_created_once_then_updated(github: GitHub) -> None:
    assert (
        github.publish("comment", "<!-- syncer-plan -->\nfirst") == "created comment 100 on pull request #7"
    )
    assert (
        github.publish("comment", "<!-- syncer-plan -->\nsecond") == "updated comment 100 on pull request #7"
    )
    assert [c["body"] for c in github.handler.comments.values()] == [
        f"<!-- syncer-plan -->\nsecond\n\n---\n_From [workflow run]({RUN})._\n"
    ]
    # a matrix job with its own key gets its own comment
    assert github.publish("comment", "<!-- syncer-plan -->\nfleet", "--key", "fleet").startswith(
        "created comment 101"
    )
    assert github.handler.comments[101]["body"].startswith("<!-- syncer-plan:fleet -->\nfleet\n")


DRIFT = "<!-- syncer-drift -->\n### syncer drift\n\n**Drift: 1 integration differs from the files.**\n"
IN_SYNC = "<!-- syncer-drift -->\n### syncer drift\n\n**No drift. Live state matches the files.**\n"


def test_drift_issue_opened_updated_and_closed_each_linking_its_run(github: GitHub) -> None:
    assert github.publish("issue", IN_SYNC, "--drift", "false") == "in sync, no drift issue open"
    assert github.publish("issue", DRIFT, "--drift", "true") == "opened issue #1"
    assert github.publish("issue", DRIFT, "--drift", "true") == "updated issue #1"
    assert len(github.handler.issues) == 1
    assert github.handler.issues[1]["labels"] == ["syncer-drift"]
    assert github.handler.issues[1]["title"] == "Losant integrations drifted from git"
    assert github.handler.issues[1]["body"] == f"{DRIFT}\n\n---\n_Found by this [workflow run]({RUN})._\n"
    assert github.publish("issue", IN_SYNC, "--drift", "false") == "closed issue #1"
    assert github.handler.issues[1]["state"] == "closed"
    [closing] = github.handler.comments.values()
    assert closing == {
        "id": 100,
        "on": 1,
        "body": f"Live state matches the files again.\n\n---\n_Checked by this [workflow run]({RUN})._\n",
        "user": BOT,
    }


def test_drift_issue_is_not_closed_by_a_report_that_only_says_in_sync(
    losant_emulator: RunningEmulator, github: GitHub, tmp_path: Path
) -> None:
    # a live integration created outside git, named like the in-sync line: the report carries
    # the name, has_drift (syncer's own output) says drift, and the issue stays open
    github.publish("issue", DRIFT, "--drift", "true")
    losant_emulator.emulator.seed(APP, [{**MQTT, "name": "**No drift. Live state matches the files.**"}])
    actions = actions_env(tmp_path)
    report = tmp_path / "drift.md"
    files = str(tree(tmp_path / "f", {**MQTT, "name": "Declared"}))
    assert run(losant_emulator, "drift", "--report", str(report), files, env=actions).exit_code == 2
    text = report.read_text()
    assert "**No drift. Live state matches the files.**" in text
    has_drift = _outputs(actions["GITHUB_OUTPUT"])["has_drift"]
    assert github.publish("issue", text, "--drift", has_drift) == "updated issue #1"
    assert github.handler.issues[1]["state"] == "open"
    assert github.handler.issues[1]["body"].startswith(text)
    assert github.handler.comments == {}


def test_a_failed_drift_check_neither_opens_nor_closes_but_reports_in_the_open_issue(github: GitHub) -> None:
    failed = "<!-- syncer-drift -->\n### syncer drift\n\n**Failed.**\n\n```\n401 Unauthorized\n```\n"
    assert (
        github.publish("issue", failed, "--drift", "unknown")
        == "drift unknown (syncer failed): no drift issue open, none opened"
    )
    assert github.handler.issues == {}
    assert [c.split("?")[0] for c in github.handler.calls] == ["GET /repos/o/r/issues"]
    github.publish("issue", DRIFT, "--drift", "true")
    assert (
        github.publish("issue", failed, "--drift", "unknown")
        == "drift unknown (syncer failed): issue #1 left open, its report is the failure"
    )
    assert github.handler.issues[1]["state"] == "open"
    assert github.handler.issues[1]["body"] == (
        f"{failed}\n\n---\n_The drift check failed in this [workflow run]({RUN})._\n"
    )
    assert github.handler.comments == {}
    # and the next check that finds live in sync still closes it
    assert github.publish("issue", IN_SYNC, "--drift", "false") == "closed issue #1"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GITHUB_SERVER_URL", "https://github.example/x)[click](https://evil.example"),
        ("GITHUB_SERVER_URL", "javascript:alert(1)"),
        ("GITHUB_RUN_ID", "42 [x](y)"),
    ],
)
def test_a_run_link_is_left_out_unless_every_part_of_it_is_plain(
    github: GitHub, variable: str, value: str
) -> None:
    # the runner sets these; the link lands in Markdown all the same, so it is made only of parts
    # that cannot break out of it
    github.publish("comment", "<!-- syncer-plan -->\nplan", env={variable: value})
    assert github.handler.comments[100]["body"] == "<!-- syncer-plan -->\nplan"


@pytest.mark.parametrize(
    "key",
    ["fleet\n::error::x", "x -->", "x--><img src=x>", "plant floor", "a" * 101, "é"],
    ids=["newline", "ends the comment", "markup", "space", "101 characters", "not ASCII"],
)
def test_a_bad_report_key_is_refused_before_anything_is_sent(github: GitHub, key: str) -> None:
    for mode, args in (("comment", ()), ("issue", ("--drift", "true"))):
        done = github.script(mode, DRIFT, "--key", key, *args)
        assert done.returncode == 1
        assert done.stderr == "::error::report-key may hold letters, digits and . _ / - only (at most 100)\n"
        assert done.stdout == ""
    assert github.handler.calls == []


def test_the_issue_mode_needs_syncers_drift_output(github: GitHub) -> None:
    done = github.script("issue", DRIFT)
    assert (done.returncode, done.stderr) == (
        1,
        "::error::issue needs --drift true|false|unknown (syncer's has_drift output)\n",
    )
    assert github.handler.calls == []


# --- apply reports back on the merged pull request -------------------------------------------------


def test_apply_report_is_one_comment_on_the_merged_pull_request(
    losant_emulator: RunningEmulator, github: GitHub, tmp_path: Path
) -> None:
    github.handler.pulls = [
        {"number": 5, "merged_at": "2025-01-01T00:00:00Z", "merge_commit_sha": "0" * 40},
        {"number": 7, "merged_at": "2025-01-02T00:00:00Z", "merge_commit_sha": SHA},
    ]
    # the plan comment of the same pull request stays as it is: its own marker
    github.handler.comments[99] = {"id": 99, "on": 7, "body": "<!-- syncer-plan -->\nthe plan", "user": BOT}
    report = tmp_path / "apply.md"
    files = str(tree(tmp_path / "f", PARTICLE))
    assert run(losant_emulator, "apply", "--auto-approve", "--report", str(report), files).exit_code == 0
    first = github.publish("comment", report.read_text(), "--merged-commit", SHA)
    assert first == "created comment 101 on pull request #7"
    second = github.publish("comment", report.read_text(), "--merged-commit", SHA)  # a re-run
    assert second == "updated comment 101 on pull request #7"
    assert [c.split("?")[0] for c in github.handler.calls] == [
        f"GET /repos/o/r/commits/{SHA}/pulls",
        "GET /repos/o/r/issues/7/comments",
        "POST /repos/o/r/issues/7/comments",
        f"GET /repos/o/r/commits/{SHA}/pulls",
        "GET /repos/o/r/issues/7/comments",
        "PATCH /repos/o/r/issues/comments/101",
    ]
    assert sorted(github.handler.comments) == [99, 101]
    assert github.handler.comments[99]["body"] == "<!-- syncer-plan -->\nthe plan"
    body = github.handler.comments[101]["body"]
    assert body.startswith("<!-- syncer-apply -->\n### syncer apply\n")
    assert body.endswith(f"\n\n---\n_From [workflow run]({RUN})._\n")
    assert github.handler.bodies == [{"body": body}, {"body": body}]


@pytest.mark.parametrize(
    "pulls",
    [
        [],
        [{"number": 8, "merged_at": None, "merge_commit_sha": None}],
        [
            {"number": 5, "merged_at": "2025-01-01T00:00:00Z", "merge_commit_sha": "0" * 40},
            {"number": 6, "merged_at": "2025-01-01T00:00:00Z", "merge_commit_sha": "1" * 40},
        ],
    ],
    ids=["pushed without a pull request", "only an open pull request", "two merged, neither as SHA"],
)
def test_apply_report_without_a_merged_pull_request_stays_in_the_summary(
    github: GitHub, pulls: list[dict[str, Any]]
) -> None:
    github.handler.pulls = pulls
    said = github.publish("comment", "<!-- syncer-apply -->\nx", "--merged-commit", SHA)
    assert said == f"no pull request was merged as {SHA}: the report is in the step summary only"
    assert github.handler.calls == [f"GET /repos/o/r/commits/{SHA}/pulls"]


def test_the_only_merged_pull_request_holding_the_commit_gets_the_comment(github: GitHub) -> None:
    # e.g. a rebase merge of several commits, pushed with one of them at the head
    github.handler.pulls = [{"number": 7, "merged_at": "2025-01-02T00:00:00Z", "merge_commit_sha": "2" * 40}]
    said = github.publish("comment", "<!-- syncer-apply -->\nx", "--merged-commit", SHA)
    assert said == "created comment 100 on pull request #7"


@pytest.mark.parametrize("sha", ["main", "../../issues", SHA[:7], SHA + "\n"])
def test_a_merged_commit_that_is_not_a_sha_is_refused(github: GitHub, sha: str) -> None:
    done = github.script("comment", "<!-- syncer-apply -->\nx", "--merged-commit", sha)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "::error::--merged-commit must be a full commit SHA (40 or 64 hex digits)\n"
    assert github.handler.calls == []


def test_a_github_error_is_one_line_and_the_step_fails(github: GitHub) -> None:
    done = github.script("issue", DRIFT, "--drift", "true", env={"GITHUB_REPOSITORY": "o/elsewhere"})
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "::error::GitHub API 404 Not Found while publishing the report\n"


# --- workflow files and the pre-commit hook -----------------------------------------------------

WORKFLOWS = sorted((ROOT / "examples" / "github-workflows").glob("*.yml"))
WORKFLOWS = [w for w in WORKFLOWS if w.name != "zizmor.yml"]


def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if not found:
        pytest.skip(f"{name} is not installed")
    return found


def _syncer_step(workflow: dict[str, Any], job: str, command: str | None = None) -> dict[str, Any]:
    """The job's step that runs syncer (the one running `command`, when it has several)."""
    [step] = [
        s
        for s in workflow["jobs"][job]["steps"]
        if s.get("uses", "").startswith("OWNER/syncer@")
        and command in (None, s["with"]["command"])
        and (command is not None or s["with"]["command"] != "status")
    ]
    return dict(step)


def test_example_workflows_cover_the_four_flows() -> None:
    docs = {w.name: yaml.safe_load(w.read_text()) for w in WORKFLOWS}
    assert set(docs) >= {"plan.yml", "apply.yml", "drift.yml", "matrix.yml"}
    assert "pull_request" in docs["plan.yml"][True]  # YAML 1.1 reads the `on:` key as True
    apply = docs["apply.yml"]
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert apply["jobs"]["apply"]["environment"] == "production"
    # the apply report goes back to the merged pull request, with no more rights than that needs
    assert apply["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert _syncer_step(apply, "apply")["with"]["comment-on-merged-pr"] == "true"
    assert "schedule" in docs["drift.yml"][True]
    # a pull request's plan runs without the integrations' secrets, on a read-only token
    for name, job in (("plan.yml", "plan"), ("matrix.yml", "plan")):
        step = _syncer_step(docs[name], job)
        assert "--env-optional" in step["with"]["args"].split(), name
        assert set(step["env"]) == {"LOSANT_API_URL", "LOSANT_API_TOKEN"}, name
        assert step["env"]["LOSANT_API_TOKEN"] == "${{ secrets.LOSANT_READ_TOKEN }}", name
    # drift only reads too; apply alone holds the token that writes
    for command in ("drift", "status"):  # the drift job also shows each integration's health
        step = _syncer_step(docs["drift.yml"], "drift", command)
        assert step["env"]["LOSANT_API_TOKEN"] == "${{ secrets.LOSANT_READ_TOKEN }}"
    assert _syncer_step(apply, "apply")["env"]["LOSANT_API_TOKEN"] == "${{ secrets.LOSANT_API_TOKEN }}"
    assert "matrix" in docs["matrix.yml"]["jobs"]["plan"]["strategy"]
    # environments: every one planned on a pull request, staging applied on merge, production on
    # a release behind its protected environment, with the promotion view first
    environments = docs["environments.yml"]
    assert set(environments[True]) == {"pull_request", "push", "release"}
    plan = environments["jobs"]["plan"]
    assert plan["strategy"]["matrix"]["environment"] == ["staging", "production"]
    assert _syncer_step(environments, "plan")["with"]["environment"] == "${{ matrix.environment }}"
    assert _syncer_step(environments, "plan")["env"]["LOSANT_API_TOKEN"] == "${{ secrets.LOSANT_READ_TOKEN }}"
    assert environments["jobs"]["apply-staging"]["environment"] == "staging"
    promote = environments["jobs"]["promote"]
    assert (promote["environment"], promote["if"]) == ("production", "github.event_name == 'release'")
    compare, apply_production = [s for s in promote["steps"] if s["uses"].startswith("OWNER/syncer@")]
    assert compare["with"]["command"] == "compare"
    assert compare["with"]["args"] == "--from staging --to production"
    assert apply_production["with"] | {"paths": "losant"} == {
        "command": "apply",
        "paths": "losant",
        "environment": "production",
    }


def test_workflows_and_action_pass_the_schema_linter() -> None:
    checker = _tool("check-jsonschema")
    files = [str(w) for w in [*WORKFLOWS, ROOT / ".github" / "workflows" / "ci.yml"]]
    subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", *files], check=True, capture_output=True
    )
    subprocess.run(
        [checker, "--builtin-schema", "vendor.github-actions", str(ROOT / "action.yml")],
        check=True,
        capture_output=True,
    )


def test_workflows_and_action_pass_the_security_linter() -> None:
    zizmor = _tool("zizmor")
    config = str(ROOT / "examples" / "github-workflows" / "zizmor.yml")
    for files in (
        [str(w) for w in WORKFLOWS],
        [str(ROOT / "action.yml"), str(ROOT / ".github/workflows/ci.yml")],
    ):
        done = subprocess.run(
            [zizmor, "--offline", "--config", config, *files], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_pre_commit_manifest_is_valid_and_its_hook_runs(tmp_path: Path) -> None:
    pre_commit = _tool("pre-commit")
    subprocess.run(
        [pre_commit, "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
        check=True,
        capture_output=True,
    )
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["require_serial"] is True
    files = [str(p) for p in EXAMPLES.rglob("*.yaml")]
    entry = hook["entry"].split()
    done = subprocess.run(
        [str(BIN / entry[0]), *entry[1:], *files],
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in EXAMPLE_ENV},
    )
    assert done.returncode == 0, done.stderr


def test_nobody_elses_comment_is_taken_over(github: GitHub) -> None:
    # a comment by someone else that starts with the marker, and a report of ours that carries
    # another job's marker inside it (text from Losant): neither is the sticky comment
    mallory = {"login": "mallory", "type": "User"}
    github.handler.comments[90] = {
        "id": 90,
        "on": 7,
        "body": "<!-- syncer-plan -->\nlooks official",
        "user": mallory,
    }
    github.handler.comments[91] = {
        "id": 91,
        "on": 7,
        "body": "<!-- syncer-drift -->\n```\n<!-- syncer-plan -->\n```",
        "user": BOT,
    }
    assert (
        github.publish("comment", "<!-- syncer-plan -->\nthe plan")
        == "created comment 102 on pull request #7"
    )
    assert github.handler.comments[90]["body"] == "<!-- syncer-plan -->\nlooks official"
    assert github.handler.comments[91]["body"].startswith("<!-- syncer-drift -->")
    # a personal token's own comments are found again when the action is told whose they are
    github.handler.comments[102]["user"] = {"login": "release-bot-user", "type": "User"}
    again = github.publish("comment", "<!-- syncer-plan -->\nv2", env={"REPORT_AUTHOR": "release-bot-user"})
    assert again == "updated comment 102 on pull request #7"


class _Redirecting(JsonApi):
    """An API that answers every request with a redirect to another host."""

    seen: ClassVar[list[str]] = []

    def answer(self) -> None:
        self.seen.append(self.headers.get("Authorization", ""))
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.2:9/steal")
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_a_redirect_never_carries_the_github_token_away(github: GitHub) -> None:
    with serving(_Redirecting) as url:
        done = github.script("comment", "<!-- syncer-plan -->\nplan", env={"GITHUB_API_URL": url})
    assert done.returncode == 1
    assert _Redirecting.seen == ["Bearer gh-token"]  # the one request to the API itself, nothing after
    assert "gh-token" not in done.stdout + done.stderr


def test_a_path_can_never_become_an_option(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    # matrix.yml takes directory names from the pull request: a name with a space and a flag in
    # it must stay a (missing) path, never turn TLS verification off
    code, outputs, log = _run_action(
        losant_emulator, tmp_path, "plan", "losant/fleet --insecure-skip-tls-verify"
    )
    assert (code, outputs["error"]) == (1, "true")
    assert "TLS certificate verification is off" not in log
    assert "does not exist" in log
