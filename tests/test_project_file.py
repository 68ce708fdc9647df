"""One policy whatever path a run is given: the project file is found upward from each path, as
ruff and git find theirs, so a matrix job planning `losant/fleet` prunes like the merge does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from syncer.emulator.testing import running_emulator
from tests.builders import APP, FLEET
from tests.e2e import run, write_tree
from tests.helpers import failed, syncer

PARTICLE: dict[str, Any] = {"integrationType": "particle", "particleConfig": {"accessToken": "tok-12345678"}}


def _matrix(root: Path, project: dict[str, Any]) -> Path:
    """The layout examples/github-workflows/matrix.yml plans: one directory per application."""
    (root / ".git").mkdir(parents=True)  # the repository root: the search stops here
    return write_tree(
        root,
        {
            "losant/syncer.yaml": project,
            "losant/fleet/integrations.yaml": {
                "application": FLEET,
                "integrations": [{**PARTICLE, "name": "kept"}],
            },
            "losant/plant/integrations.yaml": {
                "application": APP,
                "integrations": [{**PARTICLE, "name": "p"}],
            },
        },
    )


def test_a_matrix_job_follows_the_policy_of_the_tree_it_is_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _matrix(tmp_path, {"prune": True, "maxDeletes": 1})
    monkeypatch.chdir(root)
    with running_emulator(applications=(APP, FLEET)) as running:
        running.emulator.seed(FLEET, [{**PARTICLE, "name": "kept"}, {**PARTICLE, "name": "stray"}])
        result = run(running, "plan", "losant/fleet", "--detailed-exitcode")
        assert result.exit_code == 2, result.output
        assert '- delete "stray" (particle)' in result.stdout  # pruning from losant/syncer.yaml
        one_file = run(running, "plan", "losant/fleet/integrations.yaml", "--detailed-exitcode")
        assert one_file.stdout == result.stdout


def test_two_project_files_for_one_run_are_an_error_unless_one_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _matrix(tmp_path, {"prune": False})
    write_tree(root, {"syncer.yaml": {"prune": True}})
    monkeypatch.chdir(root)
    refused = syncer("validate", ".")
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        "these paths are governed by several project files: losant/syncer.yaml, syncer.yaml; keep one "
        "syncer.yaml at the root of the tree, or name the one to use with --project FILE"
    )
    named = syncer("--project", "syncer.yaml", "validate", ".")
    assert named.exit_code == 0, named.output


def test_the_search_stops_at_the_repository_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"syncer.yaml": {"prune": "not a boolean"}})  # outside the repository
    root = _matrix(tmp_path / "repo", {"prune": True})
    monkeypatch.chdir(root / "losant")
    assert syncer("validate", "fleet").exit_code == 0


def test_a_commit_that_touches_only_the_project_file_is_validated_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _matrix(tmp_path, {"prune": True})
    monkeypatch.chdir(root)
    ok = syncer("validate", "--env-optional", "losant/syncer.yaml")
    assert (ok.exit_code, ok.stdout) == (0, "losant/syncer.yaml: valid\n")
    write_tree(root, {"losant/syncer.yaml": {"prune": "yes please"}})
    bad = syncer("validate", "--env-optional", "losant/syncer.yaml")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("losant/syncer.yaml:1:8: prune: expected a boolean")


@pytest.mark.parametrize("text", ["", "# the root of our integrations\n"], ids=["empty", "only a comment"])
def test_an_empty_project_file_is_the_default_policy(tmp_path: Path, text: str) -> None:
    # a syncer.yaml can just mark the root of the tree; an empty integrations file is still an error
    (tmp_path / "syncer.yaml").write_text(text)
    (tmp_path / "a.yaml").write_text(f"application: {APP}\nintegrations: []\n")
    assert syncer("validate", str(tmp_path)).stdout == "0 integrations in 1 file for 1 application: valid\n"
    (tmp_path / "b.yaml").write_text(text)
    assert failed(syncer("validate", str(tmp_path))).splitlines()[0] == (
        f"{tmp_path}/b.yaml:1:1: file is empty; expected a mapping with `application` and `integrations`"
    )
