"""`syncer apply` end to end against the emulator: approval, saved plans, faults, guards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest

from syncer.emulator.faults import FaultRule
from syncer.emulator.server import RunningEmulator
from syncer.emulator.testing import running_emulator
from syncer.planfile import FORMAT_VERSION as PLAN_FORMAT
from tests.builders import APP, FLEET, MQTT, PARTICLE, PARTICLE_TOKEN
from tests.e2e import (
    EXAMPLE_ENV,
    EXAMPLES,
    api_requests,
    auto_apply,
    edit_by_hand,
    failed_without_writes,
    run,
    seed_example_credentials,
    tree,
    while_confirming,
    writes,
)
from tests.helpers import JsonApi, failed, failed_saying, serving, syncer


def _particles(count: int, prefix: str = "p") -> list[dict[str, Any]]:
    return [{**PARTICLE, "name": f"{prefix}{i:03d}"} for i in range(count)]


def _names(running: RunningEmulator, app: str = APP) -> list[str]:
    return sorted(i["name"] for i in running.emulator.integrations(app))


# --- the happy path ----------------------------------------------------------------------------


def test_apply_from_empty_applications_then_nothing_to_do() -> None:
    with running_emulator(applications=(APP, FLEET)) as running:
        seed_example_credentials(running)
        first = run(running, "apply", str(EXAMPLES), "--auto-approve", env=dict(EXAMPLE_ENV))
        assert first.exit_code == 0, first.output
        lines = first.stdout.splitlines()
        # each change once, as it finished (no terminal: no bar), then the account
        assert [line.split()[:2] for line in lines[-9:-2]] == [[f"[{n}/7]", "done"] for n in range(1, 8)]
        assert lines[-2:] == [
            "Apply: 7 done, 0 failed, 0 not attempted.",
            "Converged: a fresh read of Losant matches the files.",
        ]
        assert first.stderr == ""
        assert _names(running) == [
            "Historian (Pub/Sub)",
            "Line 1 broker",
            "Line 2 broker",
            "Quality events (Event Hub)",
        ]
        posts = [r for r in writes(running) if r["method"] == "POST"]
        assert len(posts) == len(writes(running)) == 7  # one request per change
        running.emulator.log.clear()
        again = run(running, "apply", str(EXAMPLES), "--auto-approve", env=dict(EXAMPLE_ENV))
        assert (again.exit_code, again.stdout) == (0, "No changes. Live state matches the files.\n")
        assert writes(running) == []
        for secret in EXAMPLE_ENV.values():
            assert secret not in first.output


def test_apply_sends_minimal_patches_and_reports_json(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    [live] = losant_emulator.emulator.seed(APP, [{**MQTT, "enabled": False}])
    wanted = {**MQTT, "enabled": True, "mqttConfig": {**MQTT["mqttConfig"], "port": 1883}}
    result = run(losant_emulator, "apply", str(tree(tmp_path, wanted)), "--auto-approve", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["summary"] == {"done": 1, "failed": 0, "uncertain": 0, "notAttempted": 0}
    assert report["converged"] is True
    assert report["changes"][0]["outcome"] == "done"
    [patch] = writes(losant_emulator)
    assert patch["method"] == "PATCH"
    assert patch["path"].endswith(live["id"])
    assert patch["body"] == {"enabled": True, "mqttConfig": wanted["mqttConfig"]}


def test_without_a_terminal_apply_needs_auto_approve(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    result = run(losant_emulator, "apply", str(tree(tmp_path, PARTICLE)))
    assert failed_without_writes(result, losant_emulator) == (
        "apply asks for confirmation and there is no terminal to ask: run it in a terminal, or pass "
        "--auto-approve (as CI does after review); nothing was changed"
    )


@pytest.mark.parametrize(("answer", "applied"), [("yes\n", True), ("y\n", False), ("\n", False)])
def test_on_a_terminal_only_yes_applies(
    losant_emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    applied: bool,
) -> None:
    monkeypatch.setattr("syncer.console._stdin_is_tty", lambda: True)
    result = run(losant_emulator, "apply", str(tree(tmp_path, PARTICLE)), input=answer)
    assert "Apply these changes? Only 'yes' is accepted" in result.stderr
    assert (result.exit_code == 0) is applied
    assert len(writes(losant_emulator)) == (1 if applied else 0)
    if not applied:
        assert "Apply cancelled; nothing was changed." in result.stderr


# --- saved plans -------------------------------------------------------------------------------


def _saved(running: RunningEmulator, files: Path, out: Path, *extra: str) -> None:
    result = run(running, "plan", str(files), "--out", str(out), *extra)
    assert result.exit_code == 0, result.output


def test_saved_plan_applies_and_holds_no_secret(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    [live] = losant_emulator.emulator.seed(
        APP, [{**PARTICLE, "particleConfig": {"accessToken": "old-token-1"}}]
    )
    files = tree(tmp_path / "files", PARTICLE, MQTT)
    out = tmp_path / "plan.json"
    _saved(losant_emulator, files, out)
    text = out.read_text()
    for secret in (PARTICLE_TOKEN, "old-token-1", "emulator-token"):
        assert secret not in text
    saved = json.loads(text)
    assert saved["changes"][0]["live"]["lastUpdated"] == live["lastUpdated"]
    result = run(losant_emulator, "apply", str(out), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "Apply: 2 done, 0 failed, 0 not attempted." in result.stdout
    stored = losant_emulator.emulator.store.applications[APP][live["id"]]
    assert stored["particleConfig"]["accessToken"] == PARTICLE_TOKEN  # the secret, read again from the files


def _plan_two_touch_one(running: RunningEmulator, tmp_path: Path) -> tuple[str, str, Path]:
    """Two live integrations, a saved plan that changes only the first: (its id, the other's, plan)."""
    [live, other] = running.emulator.seed(APP, [{**MQTT, "enabled": False}, {**PARTICLE, "name": "Other"}])
    files = tree(tmp_path / "files", {**MQTT, "enabled": True}, {**PARTICLE, "name": "Other"})
    out = tmp_path / "plan.json"
    _saved(running, files, out)
    return live["id"], other["id"], out


def test_stale_saved_plan_is_refused_naming_what_moved(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    touched, other, out = _plan_two_touch_one(losant_emulator, tmp_path)
    edit_by_hand(losant_emulator, other, '{"enabled": false}')  # not in the plan: does not matter
    edit_by_hand(losant_emulator, touched, '{"topics": ["x"]}')  # in the plan: does
    losant_emulator.emulator.log.clear()
    result = run(losant_emulator, "apply", str(out), "--auto-approve")
    lines = failed(result).splitlines()
    assert lines[0].startswith(
        f"{out}: 'Line 1 broker' ({touched}) was changed in Losant since the plan (lastUpdated "
    )
    assert lines[-1] == f"{out}: the saved plan is stale; nothing was changed: make a new plan"
    assert writes(losant_emulator) == []
    assert [r["method"] for r in api_requests(losant_emulator)] == ["GET"]  # re-read that one only


def test_saved_plan_of_an_untouched_change_still_applies(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    _, other, out = _plan_two_touch_one(losant_emulator, tmp_path)
    edit_by_hand(losant_emulator, other, '{"topics": ["y"]}')
    assert run(losant_emulator, "apply", str(out), "--auto-approve").exit_code == 0


def test_saved_plan_secret_fingerprints(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    secret_ref = {**PARTICLE, "particleConfig": {"accessToken": "${env:TRACKERS_TOKEN}"}}
    files = tree(tmp_path / "files", secret_ref)
    out = tmp_path / "plan.json"
    result = run(
        losant_emulator, "plan", str(files), "--out", str(out), env={"TRACKERS_TOKEN": "first-value"}
    )
    assert result.exit_code == 0, result.output
    assert "first-value" not in out.read_text()
    changed = run(
        losant_emulator, "apply", str(out), "--auto-approve", env={"TRACKERS_TOKEN": "second-value"}
    )
    assert failed(changed).splitlines()[0] == (
        f"{out}: the secret particleConfig.accessToken of 'Trackers' is not the one planned "
        "(environment variable TRACKERS_TOKEN changed)"
    )
    assert writes(losant_emulator) == []
    same = run(losant_emulator, "apply", str(out), "--auto-approve", env={"TRACKERS_TOKEN": "first-value"})
    assert same.exit_code == 0, same.output


def test_saved_plan_refuses_changed_files(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    files = tree(tmp_path / "files", PARTICLE)
    out = tmp_path / "plan.json"
    _saved(losant_emulator, files, out)
    tree(tmp_path / "files", {**PARTICLE, "enabled": False})
    result = run(losant_emulator, "apply", str(out), "--auto-approve")
    assert "the requests for 'Trackers' differ from the plan" in failed(result)
    assert writes(losant_emulator) == []


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text[: len(text) // 2], "the plan file is truncated or not JSON"),
        (lambda text: text.replace('"Trackers"', '"Trackerz"'), "the plan file's signature does not match"),
        (
            lambda text: text.replace(f'"syncerPlanFile": {PLAN_FORMAT}', '"syncerPlanFile": 99'),
            "a plan file of format version 99",
        ),
    ],
)
def test_damaged_plan_files_get_a_clear_error(
    losant_emulator: RunningEmulator, tmp_path: Path, damage: Any, message: str
) -> None:
    out = tmp_path / "plan.json"
    _saved(losant_emulator, tree(tmp_path / "files", PARTICLE), out)
    out.write_text(damage(out.read_text()))
    result = run(losant_emulator, "apply", str(out), "--auto-approve")
    assert message in failed(result)
    assert writes(losant_emulator) == []


def test_plan_file_made_with_another_token_is_refused(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.tokens["second-token"] = ("all.Application",)
    out = tmp_path / "plan.json"
    _saved(losant_emulator, tree(tmp_path / "files", PARTICLE), out)
    result = run(losant_emulator, "apply", str(out), "--auto-approve", token="second-token")
    assert "made with another API token or SYNCER_PLAN_KEY" in failed(result)
    shared = {"SYNCER_PLAN_KEY": "team-plan-key"}
    result = run(losant_emulator, "plan", str(tmp_path / "files"), "--out", str(out), env=shared)
    result = run(losant_emulator, "apply", str(out), "--auto-approve", token="second-token", env=shared)
    assert result.exit_code == 0, result.output


# --- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "options", "said"),
    [
        pytest.param(
            {"fault": "drop"},
            ("--settle", "0.1"),
            [
                "(found by reading again; POST sent, outcome unknown (the connection was cut))",
                "Converged: a fresh read of Losant matches the files.",
            ],
            id="committed, then the connection dropped",
        ),
        pytest.param(
            {"fault": "slow", "delay": 2.0},
            ("--timeout", "0.5", "--settle", "0"),
            ["created", "found by reading again"],
            id="answered after the timeout",
        ),
    ],
)
def test_a_post_whose_answer_is_lost_is_found_not_sent_again(
    fault: dict[str, Any],
    options: tuple[str, ...],
    said: list[str],
    losant_emulator: RunningEmulator,
    tmp_path: Path,
) -> None:
    losant_emulator.emulator.faults.rules.append(FaultRule(**fault, on=("post",), times=1))
    result = run(losant_emulator, "apply", str(tree(tmp_path, PARTICLE)), "--auto-approve", *options)
    assert result.exit_code == 0, result.output
    for line in said:
        assert line in result.stdout
    assert _names(losant_emulator) == ["Trackers"]  # exactly one
    assert [r["method"] for r in writes(losant_emulator)] == ["POST"]


def test_429_storms_and_5xx_bursts_converge(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.seed(APP, [{**p, "enabled": False} for p in _particles(12)])
    losant_emulator.emulator.faults.rules += [
        FaultRule("429", on=("patch", "post"), times=8, retry_after="0"),
        FaultRule("503", on=("patch", "list"), times=3),
        FaultRule("502", on=("patch",), probability=0.2),
    ]
    wanted = [{**p, "enabled": True} for p in _particles(12)] + _particles(3, prefix="new")
    result = run(losant_emulator, "apply", str(tree(tmp_path, *wanted)), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "Apply: 15 done, 0 failed, 0 not attempted." in result.stdout
    assert len(_names(losant_emulator)) == 15
    assert all(i["enabled"] for i in losant_emulator.emulator.integrations(APP))


def test_token_rejected_mid_run_gives_an_exact_report(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, _particles(6))
    losant_emulator.emulator.faults.rules.append(FaultRule("401", on=("patch",), after=2))
    wanted = [{**p, "enabled": False} for p in _particles(6)]
    result = run(
        losant_emulator, "apply", str(tree(tmp_path, *wanted)), "--auto-approve", "--parallelism", "1"
    )
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    start = lines.index("Apply: 2 done, 1 failed, 3 not attempted.")
    streamed = [line.split()[1] for line in lines[:start] if line.startswith("[")]
    assert streamed == ["done", "done", "failed"]  # each change as it finished
    assert (
        "401 Unauthorized: Access token has expired; the API token is invalid or expired" in lines[start - 1]
    )
    assert lines[start + 1] == "Not listed above, or settled since by the read after the writes:"
    assert [line.split()[:2] for line in lines[start + 2 : start + 5]] == [["not", "attempted"]] * 3
    assert "Stopped: the API refused the token (401): stopped." in lines
    disabled = [i["name"] for i in losant_emulator.emulator.integrations(APP) if not i["enabled"]]
    assert sorted(disabled) == ["p000", "p001"]  # exactly what the report says was done


def test_independent_changes_go_on_and_fail_fast_stops(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, _particles(4))
    wanted = [{**p, "enabled": False} for p in _particles(4)]
    files = str(tree(tmp_path, *wanted))
    losant_emulator.emulator.faults.rules.append(FaultRule("500", on=("patch",), times=3))
    result = auto_apply(losant_emulator, files, "--parallelism", "1", "--max-attempts", "3")
    failed_saying(
        result,
        "Apply: 3 done, 1 failed, 0 not attempted.",
        "500 Error: Internal server error (gave up after 3 attempts)",
    )
    # running again converges
    assert auto_apply(losant_emulator, files).exit_code == 0
    assert not any(i["enabled"] for i in losant_emulator.emulator.integrations(APP))

    losant_emulator.emulator.reset()
    losant_emulator.emulator.seed(APP, _particles(4))
    losant_emulator.emulator.faults.rules.append(FaultRule("500", on=("patch",), times=3))
    result = auto_apply(losant_emulator, files, "--parallelism", "1", "--max-attempts", "3", "--fail-fast")
    failed_saying(
        result,
        "Apply: 0 done, 1 failed, 3 not attempted.",
        "Stopped: stopped at the first failed or uncertain change (--fail-fast).",
    )


def test_patch_404_is_reported_and_does_not_stop_the_others(
    losant_emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = losant_emulator.emulator.seed(APP, _particles(3))
    gone = seeded[1]["id"]

    while_confirming(monkeypatch, lambda: losant_emulator.emulator.store.applications[APP].pop(gone))
    wanted = [{**p, "enabled": False} for p in _particles(3)]
    result = run(losant_emulator, "apply", str(tree(tmp_path, *wanted)), "--fail-fast", "--parallelism", "1")
    failed_saying(
        result,
        "Apply: 2 done, 1 failed, 0 not attempted.",
        "deleted since it was read; run apply again to create it",
    )


def test_a_field_a_merging_patch_keeps_is_named_with_the_ignore_entry_that_silences_it(
    tmp_path: Path,
) -> None:
    with running_emulator(patch_config="merge") as running:
        running.emulator.seed(APP, [{**MQTT, "mqttConfig": {**MQTT["mqttConfig"], "username": "losant"}}])
        wanted = MQTT  # the files leave the username out
        files = tree(tmp_path, wanted)
        planned = run(running, "plan", str(files))
        assert (
            "    ! mqttConfig.username is removed by sending mqttConfig whole; if Losant keeps it (a PATCH "
            "that merges config objects), keep it in the files or add it to ignoreFields"
        ) in planned.stdout
        result = run(running, "apply", str(files), "--auto-approve")
        assert result.exit_code == 1
        assert result.stdout.endswith(
            "Not converged: a fresh read of Losant shows:\n"
            "  'Line 1 broker': the API changed mqttConfig.username after the write "
            '(sent (absent), reads "losant"); if Losant sets it itself, add '
            "`ignoreFields: {mqtt: [mqttConfig.username]}` to syncer.yaml\n"
        )
        # doing what the message says ends the perpetual update
        tree(tmp_path, wanted, project={"ignoreFields": {"mqtt": ["mqttConfig.username"]}})
        again = run(running, "plan", str(files), "--detailed-exitcode")
        assert (again.exit_code, again.stdout) == (0, "No changes. Live state matches the files.\n")


# --- guards ------------------------------------------------------------------------------------


def test_pruning_deletes_only_when_asked_and_never_with_include_workflows(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [PARTICLE, {**PARTICLE, "name": "Stray"}])
    files = str(tree(tmp_path, PARTICLE))
    assert (
        run(losant_emulator, "apply", files, "--auto-approve").stdout
        == "No changes. Live state matches the files.\n"
    )
    result = run(losant_emulator, "apply", files, "--auto-approve", "--prune")
    assert result.exit_code == 0, result.output
    assert _names(losant_emulator) == ["Trackers"]
    [delete] = writes(losant_emulator)
    assert delete["method"] == "DELETE"
    assert "includeWorkflows" not in delete["query"]


def test_more_deletions_than_max_deletes_are_refused_before_any_write(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [PARTICLE, *_particles(6, prefix="stray")])
    files = str(tree(tmp_path, PARTICLE))
    result = auto_apply(losant_emulator, files, "--prune")
    assert failed_without_writes(result, losant_emulator) == (
        "refusing to delete 6 integrations (more than --max-deletes 5); nothing was changed: check the plan, "
        "then raise --max-deletes (or maxDeletes in syncer.yaml)"
    )
    tree(tmp_path, PARTICLE, project={"maxDeletes": 6})
    assert auto_apply(losant_emulator, files, "--prune").exit_code == 0
    assert _names(losant_emulator) == ["Trackers"]


def test_pruning_an_application_to_nothing_needs_allow_empty(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [PARTICLE])
    files = str(tree(tmp_path))
    result = auto_apply(losant_emulator, files, "--prune")
    assert failed_without_writes(result, losant_emulator) == (
        f"refusing to prune application {APP} down to nothing: its files declare no integration, and 1 would "
        "be deleted; nothing was changed: pass --allow-empty if you mean it"
    )
    assert auto_apply(losant_emulator, files, "--prune", "--allow-empty").exit_code == 0
    assert _names(losant_emulator) == []


def test_nothing_is_deleted_after_an_incomplete_read(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [PARTICLE, {**PARTICLE, "name": "Stray"}])
    losant_emulator.emulator.faults.rules.append(FaultRule("lie", on=("list",), extra=1))
    result = run(losant_emulator, "apply", str(tree(tmp_path, PARTICLE)), "--auto-approve", "--prune")
    assert "is incomplete" in failed(result)
    assert writes(losant_emulator) == []


def test_progress_bar_only_on_a_terminal_with_more_than_a_handful() -> None:
    from syncer.apply import Outcome
    from syncer.plan import Change
    from syncer.render.report import Progress

    lines: list[str] = []
    change = Change("create", APP, "x", "particle", "not in Losant")
    with Progress(6, terminal=True, echo=lines.append) as progress:
        for _ in range(6):
            progress.advance(Outcome(change, "done"))
    assert lines == []
    with Progress(3, terminal=True, echo=lines.append) as progress:
        progress.advance(Outcome(change, "done", "created 1"))
    assert lines == ['[1/3] done           + create "x" (particle): created 1']


class _SeeOther(JsonApi):
    """Creates what it is sent, then answers the POST 303 See Other: it was processed."""

    created: ClassVar[list[dict[str, Any]]] = []

    def answer(self) -> None:
        if self.command == "POST":
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            item = {**body, "id": f"{len(self.created) + 1:024x}", "applicationId": APP}
            self.created.append(item)
            self.send_response(303)
            self.send_header("Location", f"/applications/{APP}/integrations/{item['id']}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        items = self.created
        self.send_json(
            200, {"count": len(items), "totalCount": len(items), "perPage": 1000, "page": 0, "items": items}
        )


def test_a_post_answered_see_other_is_settled_by_the_read_not_failed(tmp_path: Path) -> None:
    with serving(_SeeOther) as url:
        env: dict[str, str | None] = {"LOSANT_API_URL": url, "LOSANT_API_TOKEN": "t0ken-xyz"}
        result = syncer("apply", "--auto-approve", "--settle", "0", str(tree(tmp_path, PARTICLE)), env=env)
    assert result.exit_code == 0, result.output  # the read after the writes found it: done
    assert len(_SeeOther.created) == 1  # sent once
    assert 'done           + create "Trackers" (particle)' in result.stdout
