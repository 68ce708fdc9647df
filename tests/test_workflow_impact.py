"""Workflows point at integrations by id: a plan names the workflows each delete or replace would
break, apply (and plan) refuse to break them unless told to, and an impact that cannot be read
counts as used. The cost: one query per 100 removed integrations per application, none without."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncer.emulator.server import RunningEmulator
from syncer.emulator.testing import running_emulator
from tests.builders import APP, FLEET, particle
from tests.e2e import run, tree, writes

REFUSED = "refusing to delete 1 integration that workflows use"


def _flows_requests(running: RunningEmulator) -> list[dict[str, object]]:
    return [r for r in running.emulator.log if str(r["path"]).endswith("/flows")]


def _seed_used(running: RunningEmulator, app: str = APP) -> str:
    """A live integration no file declares, used by two workflows of two flow classes."""
    [old, _] = running.emulator.seed(app, [particle("Old GPS bridge"), particle("keep")])
    running.emulator.seed_flows(
        app,
        [
            {"name": "Ingest GPS", "triggers": [{"type": "integration", "key": old["id"]}]},
            {
                "name": "Geofence",
                "flowClass": "edge",
                "triggers": [{"type": "integration", "key": old["id"]}],
            },
            {"name": "Unrelated", "triggers": [{"type": "webhook", "key": "x"}]},
        ],
    )
    return str(old["id"])


def test_a_plan_names_the_workflows_a_delete_breaks_and_fails_like_apply(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    old = _seed_used(losant_emulator)
    files = str(tree(tmp_path, particle("keep")))
    result = run(losant_emulator, "plan", files, "--prune")
    assert result.exit_code == 1
    assert '      ! used by 2 workflows: "Geofence" (trigger), "Ingest GPS" (trigger)' in result.stdout
    assert result.stderr.startswith(REFUSED)
    assert "--allow-breaking-workflows" in result.stderr
    [query] = _flows_requests(losant_emulator)  # one query, every flow class at once
    assert json.loads(str(query["query"]["query"])) == {  # type: ignore[index]
        "$or": [{"triggers": {"type": "integration", "key": old}}]
    }

    allowed = run(losant_emulator, "plan", files, "--prune", "--allow-breaking-workflows", "--format", "json")
    assert allowed.exit_code == 0, allowed.output
    [change] = json.loads(allowed.stdout)["changes"]
    assert change["workflowImpact"]["known"] is True
    assert sorted((w["name"], w["flowClass"]) for w in change["workflowImpact"]["workflows"]) == [
        ("Geofence", "edge"),
        ("Ingest GPS", "cloud"),
    ]
    markdown = run(
        losant_emulator, "plan", files, "--prune", "--allow-breaking-workflows", "--format", "markdown"
    )
    assert "! used by 2 workflows" in markdown.stdout


def test_apply_refuses_to_break_workflows_before_any_write(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    _seed_used(losant_emulator)
    files = str(tree(tmp_path, particle("keep")))
    result = run(losant_emulator, "apply", files, "--prune", "--auto-approve")
    assert result.exit_code == 1
    assert REFUSED in result.stderr
    assert writes(losant_emulator) == []
    done = run(losant_emulator, "apply", files, "--prune", "--auto-approve", "--allow-breaking-workflows")
    assert done.exit_code == 0, done.output
    assert [i["name"] for i in losant_emulator.emulator.integrations(APP)] == ["keep"]


def test_the_project_file_allows_it_per_application(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    _seed_used(losant_emulator)
    elsewhere = {"applications": {FLEET: {"allowBreakingWorkflows": True}}}
    files = str(tree(tmp_path / "a", particle("keep"), project=elsewhere))
    assert run(losant_emulator, "plan", files, "--prune").exit_code == 1  # another application's
    here = {"prune": True, "applications": {APP: {"allowBreakingWorkflows": True}}}
    assert (
        run(losant_emulator, "plan", str(tree(tmp_path / "b", particle("keep"), project=here))).exit_code == 0
    )


def test_a_replace_breaks_them_too(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    _seed_used(losant_emulator)
    swapped = {
        "name": "Old GPS bridge",
        "integrationType": "sqs",
        "sqsConfig": {"queueUrl": "q", "region": "r"},
    }
    result = run(losant_emulator, "plan", str(tree(tmp_path, particle("keep"), swapped)))
    assert result.exit_code == 1
    assert "refusing to replace 1 integration that workflows use" in result.stderr


def test_an_impact_that_cannot_be_read_counts_as_used(tmp_path: Path) -> None:
    scopes = ("integrations.get", "integration.delete", "integrations.post")  # no flows.get
    with running_emulator(tokens={"narrow": scopes}) as running:
        running.emulator.seed(APP, [particle("unused"), particle("keep")])
        files = str(tree(tmp_path, particle("keep")))
        result = run(running, "plan", files, "--prune", token="narrow")
        assert result.exit_code == 1
        assert "! workflow impact unknown: the token may not list workflows" in result.stdout
        assert "which workflows use it is unknown" in result.stderr
        allowed = run(
            running, "apply", files, "--prune", "--auto-approve", "--allow-breaking-workflows", token="narrow"
        )
        assert allowed.exit_code == 0, allowed.output


@pytest.mark.parametrize(("removed", "queries"), [(0, 0), (1, 1), (100, 1), (150, 2), (250, 3)])
def test_the_cost_is_one_query_per_100_removed_integrations(
    removed: int, queries: int, losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    losant_emulator.emulator.seed(APP, [particle(f"old {i}") for i in range(removed)] + [particle("keep")])
    files = str(tree(tmp_path, particle("keep")))
    result = run(losant_emulator, "plan", files, "--prune", "--max-deletes", "1000")
    assert result.exit_code == 0, result.output
    assert len(_flows_requests(losant_emulator)) == queries
    assert len(losant_emulator.emulator.log) == 1 + queries  # the list, and nothing else


def test_a_workflow_is_found_whichever_query_its_integration_falls_in(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    seeded = losant_emulator.emulator.seed(
        APP, [particle(f"old {i:03d}") for i in range(250)] + [particle("keep")]
    )
    used = [seeded[i]["id"] for i in (5, 150, 240)]  # one in each query of 100
    losant_emulator.emulator.seed_flows(
        APP,
        [
            {"name": f"uses {n}", "triggers": [{"type": "integration", "key": key}]}
            for n, key in enumerate(used)
        ],
    )
    files = str(tree(tmp_path, particle("keep")))
    result = run(losant_emulator, "plan", files, "--prune", "--max-deletes", "1000", "--format", "json")
    assert result.exit_code == 1  # refused: three integrations workflows use
    impacted = {
        c["integrationId"] for c in json.loads(result.stdout)["changes"] if c["workflowImpact"]["workflows"]
    }
    assert impacted == set(used)


def test_a_saved_plan_looks_again_at_apply(losant_emulator: RunningEmulator, tmp_path: Path) -> None:
    [old, _] = losant_emulator.emulator.seed(APP, [particle("Old GPS bridge"), particle("keep")])
    saved = tmp_path / "plan.json"
    files = str(tree(tmp_path / "f", particle("keep")))
    assert run(losant_emulator, "plan", files, "--prune", "--out", str(saved)).exit_code == 0
    # a workflow starts using it after the review
    losant_emulator.emulator.seed_flows(
        APP, [{"name": "New", "triggers": [{"type": "integration", "key": old["id"]}]}]
    )
    result = run(losant_emulator, "apply", str(saved), "--auto-approve")
    assert result.exit_code == 1
    assert REFUSED in result.stderr
    assert writes(losant_emulator) == []


def test_a_workflow_name_in_a_refusal_is_text_wherever_it_lands(
    losant_emulator: RunningEmulator, tmp_path: Path
) -> None:
    # a live workflow name reaches the refusal: in Markdown it must not become markup, a link or
    # a mention; on a terminal it must not become a workflow command
    hostile = "<img src=https://evil.example/x.png> [click](https://evil.example) @acme/admins\n::warning::x"
    [old] = losant_emulator.emulator.seed(APP, [particle("Old GPS bridge")])
    losant_emulator.emulator.seed_flows(
        APP, [{"name": hostile, "triggers": [{"type": "integration", "key": old["id"]}]}]
    )
    files = str(tree(tmp_path, particle("keep")))
    markdown = run(losant_emulator, "plan", files, "--prune", "--format", "markdown")
    refusal = next(
        line for line in markdown.stdout.splitlines() if line.startswith("> **Apply would refuse:**")
    )
    assert "<img" not in refusal
    assert "](https" not in refusal
    assert "@acme" not in refusal  # @​acme: no mention
    text = run(losant_emulator, "plan", files, "--prune")
    assert not any(line.startswith("::") for line in text.output.splitlines())
