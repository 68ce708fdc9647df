"""Apply stage: send a plan's requests, in parallel, then read Losant again to account for them.

The writes:
- creates, updates and replaces first, deletes last; at most `parallelism` requests in flight;
- one request per change (a replace is a DELETE then a POST), plus the client's retries;
- a POST is never sent twice: when its fate is unknown (no answer, a cut connection, a 5xx, an
  answer that cannot be read) the change is *uncertain* until a read finds it;
- a DELETE answered 404 "Integration was not found" is already done; a PATCH answered 404 failed
  (deleted meanwhile); independent changes go on after a failure unless `fail_fast`; a rejected
  token (401/403) or an interrupt stops everything not yet started.

Then one complete read of every application written to, shared by three checks (docs/decisions.md):
1. uncertain changes are settled by what Losant now holds (after `settle` seconds when a POST is
   in doubt). A POST that is not there stays uncertain: it may still land, and the next plan
   sees it; it is never sent again;
2. twins: Losant has no lock, so two runs may create the same name at once. Every run keeps the
   copy with the earliest (creationDate, id) and deletes its own other copies, so all runs agree;
3. convergence: a fresh plan of the touched integrations must be empty.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from syncer.client import ApiError, LosantClient, UncertainWrite
from syncer.defaults import DEFAULT_SETTLE, GUARD_DEFAULT_MAX_DELETES
from syncer.desired import DesiredState
from syncer.errors import Cancelled, SyncerError, counted, tally
from syncer.health import Health
from syncer.live import LiveState, read_live
from syncer.plan import EVERYTHING, Change, Plan, Request, Target, make_plan
from syncer.render.values import show

Status = Literal["done", "failed", "uncertain", "not attempted"]
STATUSES: tuple[Status, ...] = ("done", "failed", "uncertain", "not attempted")
FAIL_FAST_STOP = "stopped at the first failed or uncertain change (--fail-fast)"


@dataclass
class Outcome:
    """What became of one change: `status`, and a `detail` a person can act on."""

    change: Change
    status: Status = "not attempted"
    detail: str = ""
    error_status: int | None = None
    error_type: str = ""
    error_message: str = ""
    integration_id: str | None = None  # the new id of a created or replaced integration
    started: bool = False
    in_doubt: str = ""  # the request whose effect is unknown: "POST", "PATCH" or "DELETE"
    health: Health | None = None  # with apply --wait: whether it connected after the write

    @property
    def live_id(self) -> str | None:
        """The id of the integration this change leaves in Losant (none for a delete)."""
        if self.change.action == "delete":
            return None
        return self.integration_id or self.change.integration_id

    def fail(self, error: ApiError | str) -> None:
        """The change failed: `error` is the API's refusal, or why."""
        self.status = "failed"
        if isinstance(error, ApiError):
            self.error_status, self.error_type = error.status, error.error_type
            self.error_message = error.api_message or error.message
            self.detail = error.message
        else:
            self.error_message = self.detail = error

    def confirm(self, what: str) -> None:
        """An uncertain change that the read after the writes found applied."""
        self.status, self.detail = "done", f"{what} (found by reading again; {self.detail})"

    def doubt(self, method: str, reason: str) -> None:
        """The change's `method` request may or may not have been applied: only a read can tell."""
        self.status, self.in_doubt = "uncertain", method
        self.detail = f"{method} sent, outcome unknown ({reason})"


@dataclass(frozen=True)
class Verification:
    """The read after the writes: whether it happened, and what it found still different."""

    checked: bool
    problems: tuple[str, ...] = ()
    why_not: str = ""  # when not checked


@dataclass
class ApplyResult:
    """The account of one apply: an outcome per change, why it stopped early (if it did), what the
    read after the writes found, and whether a signal interrupted it."""

    outcomes: list[Outcome]
    stopped: str = ""
    verification: Verification = field(default_factory=lambda: Verification(False, why_not="not run"))
    interrupted: bool = False
    target: Target = EVERYTHING  # a partial apply: converged means within the target

    def scope(self) -> str:
        """What a partial apply covered, or nothing (user text: escape it where it lands)."""
        return f" (a partial apply: only {self.target.describe()})" if self.target != EVERYTHING else ""

    def counts(self) -> dict[Status, int]:
        """How many changes ended in each status (every status present)."""
        return tally((o.status for o in self.outcomes), STATUSES)

    @property
    def converged(self) -> bool | None:
        """True only when checked and true; False when known not to hold; None when unknown."""
        known_missing = any(o.status in ("failed", "not attempted") for o in self.outcomes)
        if known_missing or (self.verification.checked and self.verification.problems):
            return False
        if self.verification.checked and all(o.status == "done" for o in self.outcomes):
            return True
        return None

    @property
    def unhealthy(self) -> int:
        """How many changes left an integration whose connection failed, or could not be read
        (apply --wait): neither is known to work."""
        return sum(
            1 for o in self.outcomes if o.health is not None and o.health.state in ("failed", "unknown")
        )

    @property
    def ok(self) -> bool:
        """Everything done, checked and converged, and nothing failed to connect (exit code 0)."""
        return self.converged is True and not self.interrupted and not self.unhealthy


@dataclass(frozen=True)
class Guards:
    """The refusals apply makes before any write: more deletions than `max_deletes`, pruning an
    application down to nothing unless `allow_empty`, and deleting or replacing an integration
    workflows use (or may use: unknown impact) outside `allow_breaking_workflows`."""

    max_deletes: int = GUARD_DEFAULT_MAX_DELETES
    allow_empty: bool = False
    # applications where deleting or replacing an integration workflows use is allowed
    allow_breaking_workflows: frozenset[str] = frozenset()


def check_guards(plan: Plan, desired_counts: dict[str, int], guards: Guards) -> None:
    """Refuse, before any write, the runs that look like accidents."""
    deleting = [c for c in plan.changes if c.action in ("delete", "replace")]
    if len(deleting) > guards.max_deletes:
        raise SyncerError(
            f"refusing to delete {counted(len(deleting), 'integration')} (more than --max-deletes "
            f"{guards.max_deletes}); "
            "nothing was changed: check the plan, then raise --max-deletes (or maxDeletes in syncer.yaml)"
        )
    breaking = [
        c
        for c in deleting
        if c.impact is not None
        and c.impact.breaks
        and c.application_id not in guards.allow_breaking_workflows
    ]
    if breaking:
        shown = "; ".join(f"{c.action} {c.name!r}: {_impact_words(c)}" for c in breaking[:5])
        more = f" and {len(breaking) - 5} more" if len(breaking) > 5 else ""
        raise SyncerError(
            f"refusing to {'delete or replace' if len(breaking) > 1 else breaking[0].action} "
            f"{counted(len(breaking), 'integration')} that workflows use or may use ({shown}{more}); "
            "nothing was changed: point the workflows at another integration first, or pass "
            "--allow-breaking-workflows (or allowBreakingWorkflows in syncer.yaml)"
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


def _impact_words(change: Change) -> str:
    impact = change.impact
    if impact is None or impact.unknown:
        return "which workflows use it is unknown"
    return f"{counted(len(impact.workflows), 'workflow')}, e.g. {impact.workflows[0].name!r}"


class ApplyRun:
    """One apply: the writes, then the read that accounts for them.

    `interrupt` may be called from a signal handler: nothing new is sent after it, requests in
    flight finish (bounded by the client's timeout), and no read follows.
    """

    def __init__(
        self,
        client: LosantClient,
        changes: Sequence[Change],
        *,
        parallelism: int = 8,
        fail_fast: bool = False,
        target: Target = EVERYTHING,
    ) -> None:
        self.client = client
        self.target = target  # a partial plan is checked as partial
        self.outcomes = [Outcome(change) for change in changes]
        self.parallelism = max(1, parallelism)
        self.fail_fast = fail_fast
        self._stop = threading.Event()
        self.stopped = ""
        self.interrupted = False

    # -- stopping -------------------------------------------------------------------------------

    def _halt(self, reason: str) -> None:
        if not self._stop.is_set():
            self.stopped = reason
            self._stop.set()

    def interrupt(self, reason: str) -> None:
        """Stop sending (from any thread): `reason` is what the report says."""
        self.interrupted = True
        self._halt(reason)
        self.client.cancel.set()

    def result_so_far(self) -> ApplyResult:
        """The account as it stands, requests still in flight counted as uncertain."""
        outcomes = [replace(o) for o in self.outcomes]
        for outcome in outcomes:
            if outcome.started and outcome.status == "not attempted":
                outcome.doubt(_first_method(outcome.change), "still in flight when the run was stopped")
        return ApplyResult(
            outcomes, self.stopped, Verification(False, why_not="interrupted"), self.interrupted
        )

    # -- the writes -----------------------------------------------------------------------------

    def write(self, report: Callable[[Outcome], None] = lambda outcome: None) -> None:
        """Send every change; `report` is called in this thread as each one finishes."""
        first = [o for o in self.outcomes if o.change.action != "delete"]
        last = [o for o in self.outcomes if o.change.action == "delete"]
        with ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="apply") as pool:
            for phase in (first, last):
                futures = {pool.submit(self._execute, outcome): outcome for outcome in phase}
                for future in as_completed(futures):
                    future.result()
                    if futures[future].started:
                        report(futures[future])

    def _execute(self, outcome: Outcome) -> None:
        """Send the change's requests (exactly what the plan shows), one after the other."""
        if self._stop.is_set():
            return
        outcome.started = True
        change = outcome.change
        sent: list[str] = []
        method = _first_method(change)
        try:
            for request in change.requests():
                method = request.method
                outcome.detail = self._send(request, outcome)
                sent.append(method)
            outcome.status = "done"
        except UncertainWrite as exc:
            outcome.doubt(method, exc.reason)
            if self.fail_fast:
                self._halt(FAIL_FAST_STOP)
        except Cancelled:
            if sent:  # a replace whose DELETE went out
                outcome.fail(
                    "interrupted after the DELETE: the new integration was not created; run apply again"
                )
            else:
                outcome.started = False  # nothing was sent: not attempted
        except ApiError as exc:
            outcome.fail(exc)
            if sent:
                outcome.detail += " (after the DELETE: run apply again to create it)"
            if exc.status in (401, 403):
                self._halt(f"the API refused the token ({exc.status}): stopped")
            elif self.fail_fast and not (exc.status == 404 and change.action == "update"):
                self._halt(FAIL_FAST_STOP)
        except SyncerError as exc:
            outcome.fail(exc.message)
            if self.fail_fast:
                self._halt(FAIL_FAST_STOP)
        except Exception as exc:  # a bug must not cost the report of every other change
            outcome.doubt(method, f"internal error: {type(exc).__name__}: {exc}")

    def _send(self, request: Request, outcome: Outcome) -> str:
        """One request of a change; returns what it did, for the report."""
        try:
            answer = self.client.write(request.method, request.path, request.body)
        except ApiError as exc:
            gone = exc.status == 404 and exc.api_message == "Integration was not found"
            if gone and request.method == "DELETE":
                return "already gone (404)"  # a missing application is a failure, not this
            if gone and request.method == "PATCH":
                raise ApiError(
                    f"{exc.message} (deleted since it was read; run apply again to create it)",
                    status=404, error_type=exc.error_type, api_message=exc.api_message,
                ) from None  # fmt: skip
            raise
        if request.method == "POST":
            outcome.integration_id = str(answer["id"])
            return f"created {outcome.integration_id}"
        return "updated" if request.method == "PATCH" else "deleted"

    # -- the read after the writes --------------------------------------------------------------

    def _pause(self, seconds: float) -> None:
        """Wait, unless interrupted meanwhile (then the read that follows is cancelled)."""
        if self.client.cancel.wait(seconds):
            raise Cancelled("interrupted while waiting")

    def verify(self, desired: DesiredState, *, prune: bool, settle: float = DEFAULT_SETTLE) -> Verification:
        """Settle uncertain changes, remove this run's twins, and check convergence."""
        if self.interrupted:
            return Verification(False, why_not="interrupted")
        written = [o for o in self.outcomes if o.status in ("done", "uncertain")]
        apps = sorted({o.change.application_id for o in written})
        if not apps:
            return Verification(False, why_not="nothing was written")
        try:
            if any(o.in_doubt == "POST" for o in written):
                self._pause(settle)  # give a POST that timed out the time to land before looking
            live = self._read(apps)
            self._settle_uncertain(live)
            live, twinned = self._remove_own_twins(live)
            deadline = time.monotonic() + settle
            while twinned and time.monotonic() < deadline:  # the other runs remove their copies
                self._pause(min(0.5, max(0.0, deadline - time.monotonic())))
                fresh = self._read(sorted({app for app, _ in twinned}))
                live, twinned = self._remove_own_twins(LiveState({**live.integrations, **fresh.integrations}))
        except Cancelled:
            return Verification(False, why_not="interrupted")
        except SyncerError as exc:
            return Verification(False, why_not=f"could not read Losant again to check: {exc.message}")
        return Verification(True, tuple(self._converge(desired, live, apps, prune)))

    def _read(self, apps: Sequence[str]) -> LiveState:
        return read_live(self.client, apps, parallelism=self.parallelism)

    def _settle_uncertain(self, live: LiveState) -> None:
        for outcome in self.outcomes:
            change = outcome.change
            items = live.integrations.get(change.application_id, ())
            if outcome.in_doubt == "DELETE" and outcome.status == "uncertain":
                gone = all(i["id"] != change.integration_id for i in items)
                if change.action == "delete" and gone:
                    outcome.confirm("deleted")
                elif not gone:
                    outcome.fail(f"not deleted: {outcome.detail}")
                else:  # a replace whose DELETE is confirmed but whose POST never went out
                    outcome.fail("deleted, but the new integration was not created: run apply again")
            elif outcome.in_doubt == "POST" and outcome.status == "uncertain":
                named = [i for i in items if i.get("name") == change.name]
                if len(named) == 1 and named[0].get("integrationType") == change.integration_type:
                    outcome.integration_id = str(named[0]["id"])
                    outcome.confirm(f"created {outcome.integration_id}")
                elif named:
                    found = ", ".join(f"{i['id']} ({i.get('integrationType')})" for i in named)
                    outcome.detail += (
                        f"; Losant now holds {counted(len(named), 'integration')} named {change.name!r}: "
                        f"{found}, and whether this run created one cannot be told; it was not sent "
                        "again: keep the right one"
                    )
                else:
                    outcome.detail += (
                        "; not in Losant yet: it was not sent again, since it may still land; "
                        "run `syncer plan` to see whether it did"
                    )

    def _remove_own_twins(self, live: LiveState) -> tuple[LiveState, set[tuple[str, str]]]:
        """Delete this run's copies that lose the tie-break; return the names (of integrations this
        run created) that still have twins: other runs' copies, which those runs remove."""
        items = {app: list(found) for app, found in live.integrations.items()}
        created: set[tuple[str, str]] = set()
        for outcome in self.outcomes:
            mine, change = outcome.integration_id, outcome.change
            if outcome.status != "done" or mine is None or change.application_id not in items:
                continue
            app = change.application_id
            created.add((app, change.name))
            twins = [i for i in items[app] if i.get("name") == change.name]
            if len(twins) < 2 or all(i["id"] != mine for i in twins):
                continue
            keep = min(twins, key=_age)
            if keep["id"] == mine:
                continue
            try:
                self.client.write("DELETE", f"/applications/{app}/integrations/{mine}")
            except (ApiError, UncertainWrite) as exc:
                reason = exc.message if isinstance(exc, ApiError) else exc.reason
                outcome.detail += (
                    f"; another run created {keep['id']} at the same time, and deleting this copy failed: "
                    + reason
                )
                continue
            items[app] = [i for i in items[app] if i["id"] != mine]
            outcome.integration_id = str(keep["id"])
            outcome.detail += (
                f"; another run created the same integration at the same time ({keep['id']}, kept): "
                f"this run's copy {mine} was deleted"
            )
        twinned = {
            (app, name) for app, name in created if sum(1 for i in items[app] if i.get("name") == name) > 1
        }
        return LiveState({app: tuple(found) for app, found in items.items()}), twinned

    def _converge(
        self, desired: DesiredState, live: LiveState, apps: Sequence[str], prune: bool
    ) -> list[str]:
        """What a fresh plan of the touched applications still wants for the changes made."""
        touched = replace(desired, applications={a: f for a, f in desired.applications.items() if a in apps})
        try:
            replan = make_plan(touched, live, prune=prune, target=self.target)
        except SyncerError as exc:
            return [str(p) for p in exc.problems] or [exc.message]
        pending = {(c.application_id, c.name): c for c in replan.changes}
        problems: list[str] = []
        by_id = {i["id"]: i for items in live.integrations.values() for i in items}
        ours = {(o.change.application_id, o.change.name) for o in self.outcomes}
        for change in replan.changes:  # what nobody asked this run to do: changed meanwhile
            if (change.application_id, change.name) not in ours:
                problems.append(
                    f"{change.name!r}: {change.action} needed: Losant changed during the run (by hand, or "
                    "another run); run plan to see it"
                )
        for outcome in self.outcomes:
            change = outcome.change
            left = pending.get((change.application_id, change.name))
            new_id = outcome.integration_id
            if outcome.status == "done" and new_id and by_id.get(new_id, {}).get("name") != change.name:
                problems.append(
                    f"{change.name!r}: the API answered the POST with id {new_id}, and Losant holds no "
                    "integration of that name with that id"
                )
            if outcome.status == "uncertain" and outcome.in_doubt == "PATCH":
                if left is None:
                    outcome.confirm("updated")
                else:
                    outcome.fail(f"not applied: {outcome.detail}")
                continue
            if outcome.status != "done" or left is None:
                continue
            if left.action != "update":
                problems.append(f"{change.name!r}: still needs a {left.action} after the write")
                continue
            for f in left.fields:
                sent, read = show(f.after, self.client.redact), show(f.before, self.client.redact)
                seen = "" if f.sensitive else f" (sent {sent}, reads {read})"
                silence = ".".join(str(p) for p in f.path[:2] if isinstance(p, str))
                problems.append(
                    f"{change.name!r}: the API changed {f.dotted} after the write{seen}; if Losant sets it "
                    f"itself, add `ignoreFields: {{{change.integration_type}: [{silence}]}}` to syncer.yaml"
                )
        return problems

    def result(self, verification: Verification) -> ApplyResult:
        """The account of the run, with what `verify` found."""
        return ApplyResult(self.outcomes, self.stopped, verification, self.interrupted, self.target)


def _first_method(change: Change) -> str:
    return {"create": "POST", "update": "PATCH", "delete": "DELETE", "replace": "DELETE"}[change.action]


def _age(item: Mapping[str, Any]) -> tuple[str, str]:
    """Tie-break order: the earliest creation wins, then the lowest id (every run computes the same)."""
    created = item.get("creationDate")
    return (created if isinstance(created, str) else "\U0010ffff", str(item["id"]).lower())
