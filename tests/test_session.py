"""syncer as a library: what a team scripts without the CLI, through syncer.session only."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from syncer.connection import ConnectionOptions
from syncer.emulator.api import DEFAULT_TOKEN
from syncer.emulator.testing import running_emulator
from syncer.errors import SyncerError
from syncer.session import ApplyOptions, PlanOptions, Session
from tests.builders import APP, particle
from tests.e2e import tree

TRACKERS = particle("Trackers", "tok-44556677")
OLD = particle("Old bridge", "tok-11223344")


def _session(url: str, **environ: str) -> tuple[Session, list[str]]:
    said: list[str] = []
    session = Session({"LOSANT_API_URL": url, "LOSANT_API_TOKEN": DEFAULT_TOKEN, **environ}, warn=said.append)
    return session, said


def test_a_script_plans_guards_applies_and_checks_drift(tmp_path: Path) -> None:
    frozen = gc.get_freeze_count()
    with running_emulator() as running:
        running.emulator.seed(APP, [OLD])
        files = [str(tree(tmp_path, TRACKERS))]
        session, said = _session(running.url)
        with session.plan_from_files(files, ConnectionOptions(), PlanOptions(prune=True)) as planned:
            assert planned.plan.summary() == "Plan: 1 to create, 0 to update, 1 to delete."
            session.guard(planned, ApplyOptions())
            result = session.apply_plan(planned, ApplyOptions(settle=0))
        assert result.converged is True
        assert [o.status for o in result.outcomes] == ["done", "done"]
        assert sorted(i["name"] for i in running.emulator.integrations(APP)) == ["Trackers"]
        assert session.drift(files, ConnectionOptions()).in_sync
        assert said == []  # the session printed nothing: it speaks only through warn and trace
        # a script runs on: the GC was paused while the session built, never frozen (the CLI
        # freezes, since its process ends with the run), so nothing it dropped stays for good
        assert gc.isenabled()
        assert gc.get_freeze_count() == frozen
        # everything it learnt that must never be shown is known to its redactor
        assert session.redact(f"a {DEFAULT_TOKEN} and tok-44556677") == "a *** and ***"


def test_the_guards_refuse_before_any_write_and_errors_are_syncer_errors(tmp_path: Path) -> None:
    with running_emulator() as running:
        running.emulator.seed(APP, [OLD, {**OLD, "name": "Older bridge"}])
        session, _ = _session(running.url)
        files = [str(tree(tmp_path, TRACKERS))]
        with (
            session.plan_from_files(files, ConnectionOptions(), PlanOptions(prune=True)) as planned,
            pytest.raises(SyncerError, match="refusing to delete 2 integrations"),
        ):
            session.apply_plan(planned, ApplyOptions(max_deletes=1))
        assert [r for r in running.emulator.log if r["method"] != "GET"] == []
        with pytest.raises(SyncerError, match="is not a Losant id"):
            session.export("not-an-id", ConnectionOptions())


def test_export_then_plan_from_the_exported_file(tmp_path: Path) -> None:
    with running_emulator() as running:
        running.emulator.seed(APP, [TRACKERS])
        session, _ = _session(running.url, TRACKERS_PARTICLE_ACCESS_TOKEN="tok-44556677")
        exported = session.export(APP, ConnectionOptions())
        assert exported.variables == (
            ("TRACKERS_PARTICLE_ACCESS_TOKEN", "Trackers: particleConfig.accessToken"),
        )
        path = tmp_path / "exported.yaml"
        path.write_text(exported.text)
        with session.plan_from_files([str(path)], ConnectionOptions()) as planned:
            assert not planned.plan.has_changes


def test_a_saved_plan_round_trips_through_the_session(tmp_path: Path) -> None:
    with running_emulator() as running:
        session, _ = _session(running.url)
        files = [str(tree(tmp_path / "files", TRACKERS))]
        saved = str(tmp_path / "plan.json")
        with session.plan_from_files(files, ConnectionOptions()) as planned:
            session.save(planned, saved)
        later, _ = _session(running.url)  # another process, as a CI job after review would be
        with later.plan_from_saved(saved, ConnectionOptions()) as replanned:
            assert [c.action for c in replanned.plan.changes] == ["create"]
            assert later.apply_plan(replanned, ApplyOptions(settle=0)).converged is True
