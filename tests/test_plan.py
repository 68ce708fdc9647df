"""The planner as a pure function: what changes, what is sent, what is left alone."""

from __future__ import annotations

from typing import Any

import pytest

from syncer.compare import HIDDEN, MISSING, json_equal
from syncer.desired import AppPolicy, Project
from syncer.errors import SyncerError
from syncer.plan import make_plan
from tests.builders import APP, MQTT, PARTICLE, desired, live, only

MQTT_CONFIG = MQTT["mqttConfig"]


def test_identical_states_need_no_change() -> None:
    plan = make_plan(desired(MQTT, PARTICLE), live(MQTT, PARTICLE))
    assert plan.changes == ()
    assert plan.summary() == "No changes. Live state matches the files."


def test_create_posts_the_desired_body() -> None:
    change = only(make_plan(desired(MQTT), live()).changes)
    assert change.action == "create"
    [request] = change.requests()
    assert (request.method, request.path, request.body) == ("POST", f"/applications/{APP}/integrations", MQTT)


def test_update_patches_only_changed_top_level_fields() -> None:
    changed = {**MQTT, "enabled": False, "topics": ["a"], "mqttConfig": {**MQTT_CONFIG, "port": 1883}}
    change = only(make_plan(desired(changed), live({**MQTT, "topics": ["a"], "id": "a" * 24})).changes)
    assert change.action == "update"
    [request] = change.requests()
    assert request.method == "PATCH"
    assert request.path == f"/applications/{APP}/integrations/{'a' * 24}"
    # the config object is sent whole; unchanged topics and name are not sent
    assert request.body == {"enabled": False, "mqttConfig": {**MQTT_CONFIG, "port": 1883}}
    assert [(f.dotted, f.before, f.after) for f in change.fields] == [
        ("mqttConfig.port", 8883, 1883),  # in the order of the file
        ("enabled", True, False),
    ]


def test_fields_absent_from_the_files_are_left_alone() -> None:
    wanted = {"name": MQTT["name"], "integrationType": "mqtt", "mqttConfig": MQTT_CONFIG}
    plan = make_plan(
        desired(wanted), live({**MQTT, "enabled": False, "topics": ["x"], "credentialName": "c"})
    )
    assert plan.changes == ()


def test_read_only_fields_never_count() -> None:
    item = {**MQTT, "lastUpdated": "2030-01-01T00:00:00.000Z", "status": {"x": 1}, "_links": {}}
    assert make_plan(desired(MQTT), live(item)).changes == ()


@pytest.mark.parametrize(
    ("wanted", "have", "differs"),
    [
        (True, 1, True),  # a boolean is not a number
        (False, 0, True),
        (8883, 8883.0, False),  # JSON has one number type
        ("8883", 8883, True),
        ([], {}, True),
        (None, MISSING, False),
    ],
)
def test_comparison_is_type_strict(wanted: Any, have: Any, differs: bool) -> None:
    from syncer.compare import value_differs

    assert value_differs("x", wanted, have) is differs


def test_json_equal() -> None:
    assert json_equal({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not json_equal({"a": [True]}, {"a": [1]})
    assert not json_equal({"a": 1}, {"a": 1, "b": 2})


def test_secret_not_returned_by_the_api_is_unknown_not_removed() -> None:
    without_secret = {**MQTT, "mqttConfig": {k: v for k, v in MQTT_CONFIG.items() if k != "password"}}
    assert make_plan(desired(MQTT), live(without_secret)).changes == ()
    # another field of the same config changes: the whole config goes, the desired secret with it
    moved = {**MQTT, "mqttConfig": {**MQTT_CONFIG, "port": 1883}}
    change = only(make_plan(desired(moved), live(without_secret)).changes)
    assert change.body == {"mqttConfig": {**MQTT_CONFIG, "port": 1883}}
    password = next(f for f in change.fields if f.dotted == "mqttConfig.password")
    assert (password.before, password.sensitive) == (MISSING, True)


@pytest.mark.parametrize("mask", ["****", "*", "••••••", "●●●"])
def test_a_secret_the_api_masks_is_unknown_not_different(mask: str) -> None:
    masked = {**MQTT, "mqttConfig": {**MQTT_CONFIG, "password": mask}}
    assert make_plan(desired(MQTT), live(masked)).changes == ()
    # removed from the files while the API masks it: still unknown, not a change
    without = {**MQTT, "mqttConfig": {k: v for k, v in MQTT_CONFIG.items() if k != "password"}}
    assert make_plan(desired(without), live(masked)).changes == ()


def test_a_secret_that_only_looks_like_a_mask_is_compared() -> None:
    starry = {**MQTT, "mqttConfig": {**MQTT_CONFIG, "password": "**x**"}}
    assert only(make_plan(desired(MQTT), live(starry)).changes).action == "update"


@pytest.mark.parametrize("hidden", ["****", None])
def test_push_secrets_sends_what_the_api_hides(hidden: str | None) -> None:
    config = {k: v for k, v in MQTT_CONFIG.items() if k != "password"}
    if hidden is not None:
        config["password"] = hidden
    shown = {**MQTT, "mqttConfig": config}
    assert make_plan(desired(MQTT), live(shown)).changes == ()
    change = only(make_plan(desired(MQTT), live(shown), push_secrets=True).changes)
    assert change.body == {"mqttConfig": MQTT_CONFIG}
    [password] = change.fields
    assert (password.dotted, password.before, password.sensitive) == ("mqttConfig.password", HIDDEN, True)
    from syncer.render.jsonplan import change_json
    from syncer.render.text import change_lines

    assert "(sensitive value sent again: Losant does not show it, --push-secrets)" in change_lines(change)[2]
    assert change_json(change)["fields"] == [
        {"path": "mqttConfig.password", "sensitive": True, "hiddenLive": True, "after": "(sensitive)"}
    ]


def test_push_secrets_leaves_known_secrets_alone() -> None:
    assert make_plan(desired(MQTT), live(MQTT), push_secrets=True).changes == ()


def test_a_field_removed_from_a_config_object_carries_a_note() -> None:
    with_user = {**MQTT, "mqttConfig": {**MQTT_CONFIG, "username": "losant"}}
    change = only(make_plan(desired(MQTT), live(with_user)).changes)
    assert change.notes == (
        "mqttConfig.username is removed by sending mqttConfig whole; if Losant keeps it (a PATCH that "
        "merges config objects), keep it in the files or add it to ignoreFields",
    )
    changed = {**MQTT, "mqttConfig": {**MQTT_CONFIG, "port": 1}}
    assert only(make_plan(desired(changed), live(MQTT)).changes).notes == ()


def test_websocket_header_values_not_returned_are_unknown() -> None:
    headers = [{"headerKey": "Authorization", "headerValue": "Bearer s3cret"}]
    ws = {
        "name": "ws",
        "integrationType": "websocket",
        "websocketConfig": {"url": "wss://x", "headers": headers},
    }
    returned = {**ws, "websocketConfig": {"url": "wss://x", "headers": [{"headerKey": "Authorization"}]}}
    assert make_plan(desired(ws), live(returned)).changes == ()


def test_server_defaults_the_files_leave_out_cause_no_perpetual_diff() -> None:
    ws = {"name": "ws", "integrationType": "websocket", "websocketConfig": {"url": "wss://x"}}
    filled = {**ws, "websocketConfig": {"url": "wss://x", "headers": [], "disableSSLVerification": False}}
    assert make_plan(desired(ws), live(filled)).changes == ()
    # ...but a value that is not the default is a real difference
    other = {**ws, "websocketConfig": {"url": "wss://x", "disableSSLVerification": True}}
    assert only(make_plan(desired(ws), live(other)).changes).body == {"websocketConfig": {"url": "wss://x"}}


def test_secret_changes_are_detected_when_the_api_returns_them() -> None:
    change = only(
        make_plan(desired(MQTT), live({**MQTT, "mqttConfig": {**MQTT_CONFIG, "password": "old"}})).changes
    )
    [field] = change.fields
    assert (field.dotted, field.sensitive) == ("mqttConfig.password", True)


def test_change_of_type_is_a_replace() -> None:
    as_sqs = {"name": MQTT["name"], "integrationType": "sqs", "sqsConfig": {"queueUrl": "https://q"}}
    change = only(make_plan(desired(as_sqs), live({**MQTT, "id": "b" * 24})).changes)
    assert change.action == "replace"
    assert [(r.method, r.path) for r in change.requests()] == [
        ("DELETE", f"/applications/{APP}/integrations/{'b' * 24}"),
        ("POST", f"/applications/{APP}/integrations"),
    ]
    assert make_plan(desired(as_sqs), live(MQTT)).summary() == (
        "Plan: 1 to create, 0 to update, 1 to delete. (1 of them a replace.)"
    )


def test_rename_by_previous_name_is_one_patch() -> None:
    renamed = {**PARTICLE, "name": "Trackers v2", "previousNames": ["Trackers"]}
    change = only(make_plan(desired(renamed), live({**PARTICLE, "id": "c" * 24})).changes)
    assert (change.action, change.integration_id, change.renamed_from) == ("update", "c" * 24, "Trackers")
    assert change.body == {"name": "Trackers v2"}


def test_rename_by_pinned_id() -> None:
    pinned = {**PARTICLE, "name": "Renamed", "id": "d" * 24}
    change = only(make_plan(desired(pinned), live({**PARTICLE, "id": "d" * 24})).changes)
    assert change.body == {"name": "Renamed"}


def test_pinned_id_missing_live_is_an_error() -> None:
    with pytest.raises(SyncerError) as error:
        make_plan(desired({**PARTICLE, "id": "e" * 24}), live(PARTICLE))
    assert error.value.lines()[0] == (
        f"test.yaml:3:5: pinned id {'e' * 24} is not a live integration of application {APP}; "
        "remove `id` to create it anew, or correct it"
    )


def test_two_live_integrations_with_one_name_is_an_error_naming_both() -> None:
    with pytest.raises(SyncerError) as error:
        make_plan(desired(PARTICLE), live({**PARTICLE, "id": "1" * 24}, {**PARTICLE, "id": "2" * 24}))
    assert f"(ids {'1' * 24}, {'2' * 24})" in error.value.lines()[0]
    assert error.value.lines()[-1] == "cannot plan: 1 problem with the live state; nothing was changed"


def test_undeclared_live_integrations_are_left_alone_unless_pruning() -> None:
    stray = {**PARTICLE, "name": "Stray"}
    plan = make_plan(desired(MQTT), live(MQTT, stray))
    assert plan.changes == ()
    assert [(u.name, u.reason) for u in plan.unmanaged] == [("Stray", "no file declares it (pruning is off)")]
    pruned = only(make_plan(desired(MQTT), live(MQTT, stray), prune=True).changes)
    assert (pruned.action, pruned.name, pruned.reason) == (
        "delete",
        "Stray",
        "no file declares it (pruning is on)",
    )
    project = Project(applications={APP: AppPolicy(prune=True)})
    assert only(make_plan(desired(MQTT, project=project), live(MQTT, stray)).changes).action == "delete"


def test_explicit_deletion_needs_no_pruning() -> None:
    change = only(
        make_plan(desired(MQTT, {"name": "Trackers", "absent": True}), live(MQTT, PARTICLE)).changes
    )
    assert (change.action, change.name, change.reason) == ("delete", "Trackers", "absent: true in the files")
    assert make_plan(desired({"name": "Trackers", "absent": True}), live()).changes == ()


def test_never_touch_patterns_protect_live_integrations_even_when_pruning() -> None:
    project = Project(never_touch=("Manual *",))
    manual = {**PARTICLE, "name": "Manual bridge"}
    plan = make_plan(desired(MQTT, project=project), live(MQTT, manual), prune=True)
    assert plan.changes == ()
    assert plan.unmanaged[0].reason == "matches neverTouch pattern 'Manual *'"
    with pytest.raises(SyncerError) as error:
        make_plan(desired(manual, project=project), live())
    assert "'Manual bridge' matches the neverTouch pattern 'Manual *'" in error.value.lines()[0]


def test_credential_name_null_clears_it_and_is_never_posted() -> None:
    cleared = {**PARTICLE, "credentialName": None}
    assert only(make_plan(desired(cleared), live({**PARTICLE, "credentialName": "c"})).changes).body == {
        "credentialName": None
    }
    assert make_plan(desired(cleared), live(PARTICLE)).changes == ()
    posted = only(make_plan(desired(cleared), live()).changes).body
    assert posted is not None
    assert "credentialName" not in posted


def test_ignored_fields_are_never_compared_at_any_level() -> None:
    enabled = {**MQTT, "enabled": True}
    drifted = {**MQTT, "enabled": False, "mqttConfig": {**MQTT_CONFIG, "port": 1, "clean": True}}
    project = Project(ignore_fields={"all": ("enabled",), "mqtt": ("mqttConfig.port", "mqttConfig.clean")})
    assert make_plan(desired(enabled, project=project), live(drifted)).changes == ()
    # whole config objects, and per application
    per_app = Project(
        applications={APP: AppPolicy(ignore_fields={"mqtt": ("mqttConfig",), "all": ("enabled",)})}
    )
    assert make_plan(desired(enabled, project=per_app), live(drifted)).changes == ()
    # another application's or another type's rules do not apply
    elsewhere = Project(applications={"a" * 24: AppPolicy(ignore_fields={"all": ("enabled",)})})
    assert only(
        make_plan(desired(enabled, project=elsewhere), live({**MQTT, "enabled": False})).changes
    ).body == {"enabled": True}
    other_type = Project(ignore_fields={"particle": ("enabled",)})
    assert (
        only(make_plan(desired(enabled, project=other_type), live({**MQTT, "enabled": False})).changes).action
        == "update"
    )


def test_an_ignored_field_still_goes_whole_with_its_config_object() -> None:
    project = Project(ignore_fields={"mqtt": ("mqttConfig.clean",)})
    drifted = {**MQTT, "mqttConfig": {**MQTT_CONFIG, "port": 1, "clean": True}}
    change = only(make_plan(desired(MQTT, project=project), live(drifted)).changes)
    assert change.body == {"mqttConfig": MQTT_CONFIG}
    assert [f.dotted for f in change.fields] == ["mqttConfig.port"]
