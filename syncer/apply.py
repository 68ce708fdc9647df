"""Apply stage: send a plan's requests, in parallel, and account for every change.

- Creates, updates and replaces first, deletes last; at most `parallelism` requests in flight.
- One request per change (a replace is a DELETE then a POST), plus the client's retries.
- A POST is never retried blindly: when its fate is unknown (timeout, dropped connection, 5xx)
  the application is listed by name to learn whether it was created, and only then retried.
- A DELETE answered 404 is already done; a PATCH answered 404 failed (deleted meanwhile): both
  are reported and neither stops the others.
- Independent changes go on after a failure unless `fail_fast`; a rejected token (401/403)
  stops everything, since every later request would fail the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Literal

from syncer.client import ApiError, LosantClient, UncertainWrite
from syncer.errors import SyncerError
from syncer.plan import Change, Plan
from syncer.render.values import show

Status = Literal["done", "failed", "not attempted"]
GUARD_DEFAULT_MAX_DELETES = 5


@dataclass
class Outcome:
    change: Change
    status: Status = "not attempted"
    detail: str = ""
    error_status: int | None = None
    error_type: str = ""
    error_message: str = ""
    integration_id: str | None = None  # the new id of a created or replaced integration

    def fail(self, error: ApiError | str) -> None:
        self.status = "failed"
        if isinstance(error, ApiError):
            self.error_status, self.error_type = error.status, error.kind
            self.error_message = error.api_message or error.message
            self.detail = error.message
        else:
            self.error_message = self.detail = error


@dataclass(frozen=True)
class Guards:
    max_deletes: int = GUARD_DEFAULT_MAX_DELETES
    allow_empty: bool = False


def check_guards(plan: Plan, desired_counts: dict[str, int], guards: Guards) -> None:
    """Refuse, before any write, the runs that look like accidents."""
    deleting = [c for c in plan.changes if c.action in ("delete", "replace")]
    if len(deleting) > guards.max_deletes:
        raise SyncerError(
            f"refusing to delete {len(deleting)} integrations (more than --max-deletes "
            f"{guards.max_deletes}); "
            "nothing was changed: check the plan, then raise --max-deletes (or maxDeletes in syncer.yaml)"
        )
    if guards.allow_empty:
        return
    for app in plan.applications:
        pruned = [
            c for c in deleting if c.application_id == app and c.action == "delete" and c.source is None
        ]
        if pruned and desired_counts.get(app, 0) == 0:
            raise SyncerError(
                f"refusing to prune application {app} down to nothing: its files declare no integration, "
                f"and {len(pruned)} would be deleted; nothing was changed: pass --allow-empty if you mean it"
            )


class _Run:
    def __init__(self, client: LosantClient, fail_fast: bool) -> None:
        self.client = client
        self.fail_fast = fail_fast
        self.stop = threading.Event()
        self.stop_reason = ""

    def _halt(self, reason: str) -> None:
        if not self.stop.is_set():
            self.stop_reason = reason
            self.stop.set()

    def execute(self, outcome: Outcome) -> None:
        if self.stop.is_set():
            return
        change = outcome.change
        try:
            if change.action == "create":
                outcome.integration_id = self.create(change, outcome)
            elif change.action == "update":
                self.update(change, outcome)
            elif change.action == "delete":
                self.delete(change, outcome)
            else:
                self.delete(change, outcome)
                outcome.integration_id = self.create(change, outcome)
            outcome.status = "done"
        except ApiError as exc:
            outcome.fail(exc)
            if exc.status in (401, 403):
                self._halt(f"the API refused the token ({exc.status}): stopped")
            elif self.fail_fast and not (exc.status == 404 and change.action == "update"):
                self._halt("stopped at the first failure (--fail-fast)")
        except SyncerError as exc:
            outcome.fail(exc.message)
            if self.fail_fast:
                self._halt("stopped at the first failure (--fail-fast)")

    def create(self, change: Change, outcome: Outcome) -> str:
        body = dict(change.body or {})
        attempts = self.client.policy.attempts
        for _ in range(attempts):
            try:
                created: dict[str, Any] = self.client.create(change.application_id, body)
                outcome.detail = f"created {created.get('id')}"
                return str(created.get("id"))
            except UncertainWrite as exc:
                # did it land? look before trying again, so a retry can never duplicate
                found = self.client.find_by_name(change.application_id, change.name)
                same = [i for i in found if i.get("integrationType") == change.integration_type]
                if len(same) == 1:
                    outcome.detail = f"created {same[0]['id']} (confirmed by listing after: {exc.reason})"
                    return str(same[0]["id"])
                if len(same) > 1:
                    raise SyncerError(
                        f"after an unanswered POST ({exc.reason}), {len(same)} integrations named "
                        f"{change.name!r} exist; remove the extra one in Losant"
                    ) from None
        raise SyncerError(
            f"POST {change.name!r}: no answer after {attempts} attempts, and it was not created"
        )

    def update(self, change: Change, outcome: Outcome) -> None:
        try:
            self.client.update(change.application_id, str(change.integration_id), dict(change.body or {}))
        except ApiError as exc:
            if exc.status == 404:
                raise ApiError(
                    f"{exc.message} (deleted since it was read; run apply again to create it)",
                    status=404, kind=exc.kind, api_message=exc.api_message,
                ) from None  # fmt: skip
            raise
        outcome.detail = "updated"

    def delete(self, change: Change, outcome: Outcome) -> None:
        try:
            self.client.delete(change.application_id, str(change.integration_id))
            outcome.detail = "deleted"
        except ApiError as exc:
            if exc.status != 404:
                raise
            outcome.detail = "already gone (404)"


def execute(
    client: LosantClient,
    changes: Sequence[Change],
    *,
    parallelism: int = 8,
    fail_fast: bool = False,
    report: Callable[[Outcome], None] = lambda outcome: None,
) -> tuple[list[Outcome], str]:
    """Run the changes; returns one outcome per change (in plan order) and why it stopped, if it did.

    `report` is called in the calling thread as each change finishes (workers never print).
    """
    outcomes = [Outcome(change) for change in changes]
    run = _Run(client, fail_fast)
    first = [o for o in outcomes if o.change.action != "delete"]
    last = [o for o in outcomes if o.change.action == "delete"]
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="apply") as pool:
        for phase in (first, last):
            futures = {pool.submit(run.execute, outcome): outcome for outcome in phase}
            for future in as_completed(futures):
                future.result()
                report(futures[future])
    return outcomes, run.stop_reason


def convergence_problems(outcomes: Sequence[Outcome], replan: Plan) -> list[str]:
    """What a fresh plan still wants for the integrations this run changed successfully."""
    done = {(o.change.application_id, o.change.name) for o in outcomes if o.status == "done"}
    problems = []
    for change in replan.changes:
        if (change.application_id, change.name) not in done:
            continue
        if change.action != "update":
            problems.append(f"{change.name!r}: still needs a {change.action} after the write")
            continue
        for field in change.fields:
            seen = "" if field.sensitive else f" (sent {show(field.after)}, reads {show(field.before)})"
            problems.append(f"{change.name!r}: the API changed {field.dotted} after the write{seen}")
    return problems
