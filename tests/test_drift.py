"""`syncer drift`: how Losant differs from the files, and which way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncer.desired import AppPolicy, Project
from syncer.drift import DriftReport, by_application, find_drift
from syncer.emulator.server import RunningEmulator
from tests.builders import APP, FLEET, MQTT, MQTT_PASSWORD, PARTICLE, PARTICLE_TOKEN, desired, live, only
from tests.e2e import run, tree, writes


def _drifted(running: RunningEmulator) -> None:
    running.emulator.seed(
        APP,
        [
            {**MQTT, "mqttConfig": {**MQTT["mqttConfig"], "port": 1883, "password": "edited-pw-1"}},
            {**PARTICLE, "name": "Hand made"},
        ],
    )


def test_drift_in_sync_exits_0(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    losant_emulator.emulator.seed(APP, [MQTT])
    result = run(losant_emulator, "drift", str(tree(tmp_path, MQTT)))
    assert (result.exit_code, result.stdout) == (0, "No drift. Live state matches the files.\n")


def test_drift_says_which_way_each_integration_drifted(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    _drifted(losant_emulator)
    files = str(tree(tmp_path, MQTT, PARTICLE))
    result = run(losant_emulator, "drift", files)
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert any(line.startswith('  ~ changed live: "Line 1 broker" (mqtt)') for line in lines)
    assert "      mqttConfig.password: sensitive value differs" in lines
    assert "      mqttConfig.port: live 1883, files 8883" in lines
    assert any(line.startswith('  - missing live: "Trackers" (particle)') for line in lines)
    assert any(line.startswith('  + created outside git: "Hand made" (particle)') for line in lines)
    assert lines[-1] == (
        "Drift: 3 integrations differ from the files (1 changed live, 1 missing live, 1 created outside git)."
    )
    for secret in (MQTT_PASSWORD, "edited-pw-1", PARTICLE_TOKEN):
        assert secret not in result.output
    assert writes(losant_emulator) == []
    report = json.loads(run(losant_emulator, "drift", files, "--format", "json").stdout)
    assert report["inSync"] is False
    assert sorted(d["direction"] for d in report["drift"]) == [
        "changedLive",
        "createdOutsideGit",
        "missingLive",
    ]
    password = next(f for d in report["drift"] for f in d["fields"] if f["path"] == "mqttConfig.password")
    assert password == {
        "path": "mqttConfig.password",
        "sensitive": True,
        "live": "(sensitive)",
        "files": "(sensitive)",
    }
    markdown = run(losant_emulator, "drift", files, "--format", "markdown").stdout
    assert markdown.startswith("<!-- syncer-drift -->\n### syncer drift\n\n**Drift: 3 integrations differ")


def test_drift_errors_exit_1(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    assert run(losant_emulator, "drift", str(tree(tmp_path, MQTT)), token="bad").exit_code == 1


# --- find_drift on plain values ------------------------------------------------------------------


def _seen(report: DriftReport) -> list[str]:
    """Each drift as a user reads it: which way, which integration, why."""
    return [f"{d.direction} {d.name!r} ({d.integration_type}): {d.detail}" for d in report.items]


def test_in_sync_is_no_drift() -> None:
    report = find_drift(desired(MQTT, PARTICLE), live(MQTT, PARTICLE))
    assert report.in_sync
    assert report.applications == (APP,)
    assert report.summary() == "No drift. Live state matches the files."


def test_a_field_edited_live_is_changed_live_with_both_values() -> None:
    edited = {**MQTT, "id": "a" * 24, "mqttConfig": {**MQTT["mqttConfig"], "port": 1883}}
    report = find_drift(desired(MQTT), live(edited))
    assert _seen(report) == ["changed-live 'Line 1 broker' (mqtt): fields differ from the files"]
    drift = only(report.items)
    assert [(f.dotted, f.before, f.after) for f in drift.fields] == [("mqttConfig.port", 1883, 8883)]
    assert (drift.integration_id, str(drift.source)) == ("a" * 24, "test.yaml:3:5")  # where the files say


def test_an_integration_deleted_live_is_missing_live() -> None:
    report = find_drift(desired(MQTT, PARTICLE), live(MQTT))
    assert _seen(report) == ["missing-live 'Trackers' (particle): declared in the files, not in Losant"]
    assert (only(report.items).integration_id, str(only(report.items).source)) == (None, "test.yaml:8:5")


@pytest.mark.parametrize(
    "project",
    [Project(), Project(prune=False), Project(applications={APP: AppPolicy(prune=False)})],
    ids=["default", "prune off", "prune off for the application"],
)
def test_an_undeclared_live_integration_is_created_outside_git_whatever_the_pruning(
    project: Project,
) -> None:
    stray = {**PARTICLE, "name": "Hand made", "id": "b" * 24}
    report = find_drift(desired(MQTT, project=project), live(MQTT, stray))
    assert _seen(report) == ["created-outside-git 'Hand made' (particle): no file declares it"]
    assert (only(report.items).integration_id, only(report.items).source) == ("b" * 24, None)


def test_an_integration_the_files_delete_but_still_live_has_changed_live() -> None:
    gone = {"name": "Trackers", "absent": True}
    report = find_drift(desired(MQTT, gone), live(MQTT, PARTICLE))
    assert _seen(report) == [
        "changed-live 'Trackers' (particle): exists live, but the files delete it (absent: true)"
    ]
    assert find_drift(desired(MQTT, gone), live(MQTT)).in_sync  # absent and gone live


def test_a_rename_still_live_under_the_old_name_says_so() -> None:
    renamed = {**PARTICLE, "name": "Trackers v2", "previousNames": ["Trackers"]}
    report = find_drift(desired(renamed), live(PARTICLE))
    assert _seen(report) == ["changed-live 'Trackers v2' (particle): still named 'Trackers' live"]
    fields = only(report.items).fields
    assert [(f.dotted, f.before, f.after) for f in fields] == [("name", "Trackers", "Trackers v2")]


def test_a_type_changed_live_is_changed_live_with_the_reason() -> None:
    as_sqs = {"name": MQTT["name"], "integrationType": "sqs", "sqsConfig": {"queueUrl": "https://q"}}
    report = find_drift(desired(as_sqs), live(MQTT))
    assert _seen(report) == ["changed-live 'Line 1 broker' (sqs): integrationType changes from mqtt to sqs"]


def test_never_touch_integrations_are_no_drift() -> None:
    project = Project(never_touch=("Manual *",))
    report = find_drift(desired(MQTT, project=project), live(MQTT, {**PARTICLE, "name": "Manual bridge"}))
    assert report.in_sync
    per_app = Project(applications={APP: AppPolicy(never_touch=("Manual *",))})
    assert find_drift(desired(MQTT, project=per_app), live(MQTT, {**PARTICLE, "name": "Manual x"})).in_sync


def test_every_direction_counted_in_one_summary() -> None:
    edited = {**MQTT, "topics": []}
    report = find_drift(desired(MQTT, PARTICLE), live(edited, {**PARTICLE, "name": "Hand made"}))
    assert report.counts() == {"changed-live": 1, "missing-live": 1, "created-outside-git": 1}
    assert report.summary() == (
        "Drift: 3 integrations differ from the files (1 changed live, 1 missing live, 1 created outside git)."
    )
    assert [d.name for d in by_application(report, APP)] == [d.name for d in report.items]
    assert by_application(report, FLEET) == []
