"""Drift: how live differs from the files, said the way a scheduled check needs it.

A plan answers "what would apply do"; drift answers "what changed outside git", whatever the
pruning policy: every live integration no file declares is reported (unless a neverTouch
pattern covers it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from syncer.desired import DesiredState
from syncer.errors import Location, tally
from syncer.fields import FieldChange
from syncer.live import LiveState
from syncer.plan import EVERYTHING, Plan, Target, Targeted, make_plan

Direction = Literal["changed-live", "missing-live", "created-outside-git"]
DIRECTIONS: dict[Direction, str] = {
    "changed-live": "changed live (edited outside git)",
    "missing-live": "missing live (deleted outside git)",
    "created-outside-git": "created outside git (no file declares it)",
}


@dataclass(frozen=True)
class Drift:
    """One integration that differs, and which way (DIRECTIONS)."""

    direction: Direction
    application_id: str
    name: str
    integration_type: str | None
    integration_id: str | None
    detail: str
    fields: tuple[FieldChange, ...] = ()
    source: Location | None = None
    attribution: str = ""  # who changed or deleted it and when (the audit log), or why unknown


@dataclass(frozen=True)
class DriftReport(Targeted):
    """How Losant differs from the files, integration by integration, for every application read."""

    items: tuple[Drift, ...]
    applications: tuple[str, ...]
    target: Target = EVERYTHING
    refusal: str | None = None  # why an apply with the project's policy would refuse, if it would
    environment: str | None = None
    scope_word: ClassVar[str] = "check"

    @property
    def in_sync(self) -> bool:
        return not self.items

    def counts(self) -> dict[Direction, int]:
        return tally((i.direction for i in self.items), DIRECTIONS)

    def headline(self) -> str:
        """How many differ, which ways, or that live matches the files."""
        if self.in_sync:
            return "No drift. Live state matches the files."
        c = self.counts()
        parts = [f"{c[d]} {DIRECTIONS[d].split(' (')[0]}" for d in DIRECTIONS if c[d]]
        total = len(self.items)
        verb = "integration differs" if total == 1 else "integrations differ"
        return f"Drift: {total} {verb} from the files ({', '.join(parts)})."


def find_drift(desired: DesiredState, live: LiveState, target: Target = EVERYTHING) -> DriftReport:
    """Drift from a plan that prunes (so undeclared live integrations show), said per direction."""
    return drift_of(make_plan(desired, live, prune=True, target=target))


def drift_of(plan: Plan) -> DriftReport:
    """The drift a plan made with pruning on shows, said per direction."""
    items: list[Drift] = []
    for change in plan.changes:
        direction: Direction = "changed-live"
        fields: tuple[FieldChange, ...] = ()
        if change.action == "create":
            direction, detail = "missing-live", "declared in the files, not in Losant"
        elif change.action == "delete" and change.source is None:
            direction, detail = "created-outside-git", change.reason.removesuffix(" (pruning is on)")
        elif change.action == "delete":
            detail = "exists live, but the files delete it (absent: true)"
        else:
            fields = change.fields
            detail = change.reason if change.action == "replace" else "fields differ from the files"
            if change.renamed_from:
                detail = f"still named {change.renamed_from!r} live"
        items.append(
            Drift(
                direction,
                change.application_id,
                change.name,
                change.integration_type,
                change.integration_id,
                detail,
                fields,
                change.source,
            )
        )
    return DriftReport(tuple(items), plan.applications, plan.target, environment=plan.environment)


def by_application(report: DriftReport, app: str) -> Sequence[Drift]:
    """The drifted integrations of one application."""
    return [i for i in report.items if i.application_id == app]
