"""The pull-request flow tells the truth: a plan fails where apply would refuse, plans need no
production secret (--env-optional), a failed run replaces the last report, and a targeted run
says it is partial and never touches anything outside its target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncer.emulator.server import RunningEmulator
from syncer.render.escape import markdown_text
from tests.builders import APP, FLEET, broker, integration, particle
from tests.e2e import actions_env, run, step_outputs, tree, writes

REFUSAL = (
    "refusing to delete 6 integrations (more than --max-deletes 5); nothing was changed: check the "
    "plan, then raise --max-deletes (or maxDeletes in syncer.yaml)"
)


# -- a plan fails where apply would refuse --------------------------------------------------------


def test_a_plan_that_apply_would_refuse_exits_1_with_the_plan_the_refusal_and_the_way_out(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [particle(f"stray {i}") for i in range(6)])
    files = str(tree(tmp_path / "files", particle("kept"), project={"prune": True}))
    report, saved = tmp_path / "plan.md", tmp_path / "plan.json"
    result = run(losant_emulator, "plan", files, "--report", str(report), "--out", str(saved))
    assert result.exit_code == 1
    assert "Plan: 1 to create, 0 to update, 6 to delete.\n" in result.stdout
    assert result.stdout.endswith(f"Apply would refuse: {REFUSAL}\n")
    assert result.stderr == REFUSAL + "\n"  # once: the report was published already
    # in Markdown, as text: the refusal may carry live names (a workflow's), escaped where they land
    assert f"> **Apply would refuse:** {markdown_text(REFUSAL)}\n" in report.read_text()
    assert not saved.exists()  # a plan apply would refuse is not saved for it
    assert writes(losant_emulator) == []

    raised = run(losant_emulator, "plan", files, "--max-deletes", "6", "--format", "json")
    assert raised.exit_code == 0, raised.output
    assert json.loads(raised.stdout)["refusal"] is None


def test_json_carries_the_refusal_for_tools(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.seed(APP, [particle(f"stray {i}") for i in range(6)])
    result = run(
        losant_emulator, "plan", str(tree(tmp_path, particle("kept"))), "--prune", "--format", "json"
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["refusal"] == REFUSAL


def test_pruning_an_application_to_nothing_fails_the_plan_unless_allowed(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [particle("only one")])
    empty = tmp_path / "files"
    empty.mkdir()
    (empty / "integrations.yaml").write_text(f"application: {APP}\nintegrations: []\n")
    result = run(losant_emulator, "plan", str(empty), "--prune")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"refusing to prune application {APP} down to nothing")
    assert run(losant_emulator, "plan", str(empty), "--prune", "--allow-empty").exit_code == 0


def test_drift_says_when_apply_with_the_project_policy_would_refuse(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [particle(f"stray {i}") for i in range(6)])
    files = str(tree(tmp_path, particle("kept"), project={"prune": True}))
    result = run(losant_emulator, "drift", files, "--format", "json")
    assert result.exit_code == 2  # drift found: the scheduled job reports it, it did not fail
    assert json.loads(result.stdout)["refusal"] == REFUSAL
    text = run(losant_emulator, "drift", files)
    assert text.stdout.endswith(f"Apply would refuse: {REFUSAL}\n")


# -- plans without production secrets ---------------------------------------------------------------


def test_env_optional_plans_everything_but_what_unset_variables_feed(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [broker("broker", "old.example.com", "pw-live-123")])
    entries = (broker("broker", "${env:BROKER_HOST}", "${env:BROKER_PASSWORD}"), particle("new"))
    files = str(tree(tmp_path, *entries))
    env = {"BROKER_HOST": "new.example.com", "BROKER_PASSWORD": None}

    strict = run(losant_emulator, "plan", files, env=env)
    assert strict.exit_code == 1
    assert "BROKER_PASSWORD" in strict.stderr

    result = run(losant_emulator, "plan", files, "--env-optional", env=env)
    assert result.exit_code == 0, result.output
    assert "~ mqttConfig.host: (sensitive) -> (from ${env:BROKER_HOST})" in result.stdout
    assert "! mqttConfig.password not checked: ${env:BROKER_PASSWORD} unset" in result.stdout
    assert "+ mqttConfig.password" not in result.stdout  # unknown is not "added"
    assert "Plan: 1 to create, 1 to update, 0 to delete." in result.stdout
    assert "new.example.com" not in result.output
    assert "pw-live-123" not in result.output


def test_an_unset_variable_alone_is_never_a_change(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.seed(APP, [broker("broker", "host.example.com", "pw-live-123")])
    files = str(tree(tmp_path, broker("broker", "host.example.com", "${env:BROKER_PASSWORD}")))
    for command in ("plan", "drift"):
        result = run(losant_emulator, command, files, "--env-optional", env={"BROKER_PASSWORD": None})
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[-1].endswith("Live state matches the files.")


def test_a_create_shows_each_unset_field_as_not_checked(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    files = str(tree(tmp_path, particle("new", "${env:PARTICLE_TOKEN}")))
    result = run(losant_emulator, "plan", files, "--env-optional")
    assert "+ particleConfig.accessToken: (not checked: ${env:PARTICLE_TOKEN} unset)" in result.stdout


def test_a_plan_with_unset_variables_is_never_saved_and_apply_has_no_such_flag(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    files = str(tree(tmp_path / "f", particle("new", "${env:PARTICLE_TOKEN}")))
    saved = tmp_path / "plan.json"
    result = run(losant_emulator, "plan", files, "--env-optional", "--out", str(saved))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"{saved}: a plan made with unset variables (--env-optional) cannot be saved for apply; "
        "make it with every variable set"
    )
    assert not saved.exists()
    assert run(losant_emulator, "apply", files, "--env-optional", "--auto-approve").exit_code == 1
    assert writes(losant_emulator) == []


# -- a failed run still reports ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "outputs"),
    [
        (("plan",), {"has_changes": "unknown", "error": "true"}),
        (("drift",), {"has_drift": "unknown", "error": "true"}),
        (("apply", "--auto-approve"), {"converged": "unknown", "error": "true"}),
    ],
)
def test_a_failed_run_replaces_the_last_report_summary_and_outputs(
    losant_emulator: RunningEmulator, tmp_path: Path, command: tuple[str, ...], outputs: dict[str, str]
) -> None:
    env = actions_env(tmp_path)
    report = tmp_path / "report.md"
    report.write_text("<!-- syncer-plan -->\n**Plan: 1 to create** (yesterday's)\n")
    files = str(tree(tmp_path / "f", particle("new")))
    result = run(losant_emulator, *command, files, "--report", str(report), env=env, token="revoked-token-1")
    assert result.exit_code == 1
    name = command[0]
    expected = (
        f"<!-- syncer-{name} -->\n### syncer {name}\n\n**Failed.**\n\n```\nGET /applications/{APP}/"
        "integrations: 401 Unauthorized: Invalid access token; the API token is invalid or expired: "
        "create a new token and set LOSANT_API_TOKEN (or --token-file)\n```\n"
    )
    assert report.read_text() == expected
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == expected
    assert step_outputs(env) == outputs
    assert "revoked-token-1" not in report.read_text() + result.output


def test_a_failure_report_redacts_what_the_files_hold(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    files = tree(tmp_path / "f", particle("new", "tok-secret-998877"), particle("new", "tok-secret-998877"))
    report = tmp_path / "report.md"
    result = run(losant_emulator, "plan", str(files), "--report", str(report))
    assert result.exit_code == 1  # a duplicate name: a file error, before any request
    assert "**Failed.**" in report.read_text()
    assert "tok-secret-998877" not in report.read_text() + result.output


# -- targeting --------------------------------------------------------------------------------------


def test_a_targeted_plan_is_partial_and_prunes_nothing_outside_its_target(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [particle("gps 1"), particle("gps 2"), particle("weather")])
    files = str(tree(tmp_path, particle("gps 1", "tok-changed-1"), particle("line"), project={"prune": True}))
    result = run(losant_emulator, "plan", files, "--target", "gps*", "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["partial"] is True
    assert plan["target"] == {"names": ["gps*"], "applications": []}
    assert [(c["action"], c["name"]) for c in plan["changes"]] == [("update", "gps 1"), ("delete", "gps 2")]
    assert plan["summary"]["text"] == (
        "Plan: 0 to create, 1 to update, 1 to delete. (a partial plan: only names 'gps*')"
    )

    applied = run(losant_emulator, "apply", files, "--target", "gps*", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply: 2 done, 0 failed, 0 not attempted. (a partial apply: only names 'gps*')" in applied.stdout
    assert applied.stdout.endswith("Converged: a fresh read of Losant matches the files within the target.\n")
    again = run(losant_emulator, "apply", files, "--target", "gps*", "--auto-approve", "--format", "json")
    assert json.loads(again.stdout)["partial"] is True
    names = sorted(i["name"] for i in losant_emulator.emulator.integrations(APP))
    assert names == ["gps 1", "weather"]  # "line" not created, "weather" not pruned: outside the target


@pytest.mark.emulator(applications=(APP, FLEET))
def test_an_application_target_reads_and_plans_only_that_application(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    root = tmp_path / "files"
    tree(root / "plant", particle("p"))
    tree(root / "fleet", particle("f"), app=FLEET)
    result = run(losant_emulator, "plan", str(root), "--application", FLEET.upper())
    assert result.exit_code == 0, result.output
    assert f"Application {FLEET}" in result.stdout
    assert APP not in result.stdout
    assert result.stdout.endswith(f"(a partial plan: only applications {FLEET})\n")
    assert {r["path"].split("/")[2] for r in losant_emulator.emulator.log} == {FLEET}


def test_a_drift_check_can_be_targeted(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.seed(APP, [particle("gps 1"), particle("weather")])
    files = str(tree(tmp_path, particle("line")))
    result = run(losant_emulator, "drift", files, "--target", "gps*", "--format", "json")
    report = json.loads(result.stdout)
    assert [d["name"] for d in report["drift"]] == ["gps 1"]
    assert report["partial"] is True


def test_a_saved_plan_cannot_be_retargeted(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    files = str(tree(tmp_path / "f", particle("new")))
    assert run(losant_emulator, "plan", files, "--out", str(saved)).exit_code == 0
    result = run(losant_emulator, "apply", str(saved), "--target", "x*", "--auto-approve")
    assert result.exit_code == 1
    assert result.stderr == (
        "--prune, --push-secrets, --target and --application cannot change a saved plan; "
        "make a new plan with them\n"
    )
    assert writes(losant_emulator) == []


def test_a_saved_targeted_plan_applies_as_partial(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.seed(APP, [particle("weather")])
    saved = tmp_path / "plan.json"
    files = str(tree(tmp_path / "f", particle("gps"), particle("line"), project={"prune": True}))
    assert run(losant_emulator, "plan", files, "--target", "gps", "--out", str(saved)).exit_code == 0
    result = run(losant_emulator, "apply", str(saved), "--auto-approve", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["converged"] is True
    assert sorted(i["name"] for i in losant_emulator.emulator.integrations(APP)) == ["gps", "weather"]


def test_a_refusal_counts_in_words_that_agree(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.seed(APP, [particle("stray")])
    result = run(
        losant_emulator, "plan", str(tree(tmp_path, particle("kept"))), "--prune", "--max-deletes", "0"
    )
    assert result.stderr.startswith("refusing to delete 1 integration (more than --max-deletes 0);")


def test_an_unset_variable_hides_only_its_own_leaf(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    headers = [
        {"headerKey": "Authorization", "headerValue": "Bearer abc"},
        {"headerKey": "X-A", "headerValue": "1"},
    ]
    live = {
        **integration("feed", "websocket", url="wss://feed.example.com", headers=headers),
        "topics": ["a", "b"],
    }
    losant_emulator.emulator.seed(APP, [live])
    wanted_headers = [{"headerKey": "Authorization", "headerValue": "Bearer ${env:TOK}"}, {**headers[1]}]
    wanted = {
        **integration("feed", "websocket", url="wss://feed.example.com", headers=wanted_headers),
        "topics": ["a", "${env:TOPIC_B}"],
    }
    in_sync = run(losant_emulator, "plan", str(tree(tmp_path / "same", wanted)), "--env-optional")
    assert in_sync.stdout.splitlines()[-1] == "No changes. Live state matches the files."

    wanted_headers[1]["headerValue"] = "2"  # a change beside the unknown value still shows
    wanted["topics"] = ["a", "${env:TOPIC_B}", "c"]  # and so does a topic added after it
    result = run(losant_emulator, "plan", str(tree(tmp_path / "changed", wanted)), "--env-optional")
    assert "Plan: 0 to create, 1 to update, 0 to delete." in result.stdout, result.output
    assert "websocketConfig.headers[1].headerValue" in result.stdout
    assert "topics" in result.stdout
    drifted = run(losant_emulator, "drift", str(tree(tmp_path / "changed", wanted)), "--env-optional")
    assert drifted.exit_code == 2


def test_a_failure_report_fits_a_comment(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    bad = [{"name": f"x{i}", "integrationType": "nope"} for i in range(3000)]
    report = tmp_path / "report.md"
    result = run(losant_emulator, "plan", str(tree(tmp_path / "f", *bad)), "--report", str(report))
    assert result.exit_code == 1
    text = report.read_text()
    assert len(text) < 60_000
    assert "more lines: see the job log" in text


def test_every_markdown_report_fits_a_comment(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    """GitHub refuses a comment over 65,536 characters: plan, apply and status in Markdown stay
    under 60,000 whatever they list, and say what they cut."""
    files = str(tree(tmp_path, *(particle(f"tracker {i:04d} at the north gate") for i in range(1500))))
    for args in (("plan",), ("apply", "--auto-approve"), ("status",)):
        result = run(losant_emulator, *args, files, "--format", "markdown")
        assert result.exit_code in (0, 2), result.output
        assert len(result.stdout) < 60_000, args[0]
        assert "_Cut to fit: " in result.stdout, args[0]
    assert len(losant_emulator.emulator.integrations(APP)) == 1500  # the apply did run whole
