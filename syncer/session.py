"""syncer as a library: the stages wired into whole runs, for the command line and for scripts.

    import os
    from syncer.connection import ConnectionOptions
    from syncer.session import ApplyOptions, PlanOptions, Session

    session = Session(os.environ)
    with session.plan_from_files(["losant"], ConnectionOptions(), PlanOptions(prune=True)) as planned:
        print(planned.plan.summary())
        session.guard(planned, ApplyOptions())  # the refusals apply would make, before any write
        if planned.plan.has_changes:
            result = session.apply_plan(planned, ApplyOptions())
            print(result.converged)

Every method raises SyncerError (one line per problem, located where possible) and prints
nothing: a run speaks through `warn` and `trace`, and everything it learns that must never be
shown (the token, secrets, values read from the environment) is added to `session.redact`, for
whatever the caller prints. `interrupt` may be called from another thread (a signal handler):
nothing new is sent after it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from syncer.connection import Connection, ConnectionOptions, connect
from syncer.defaults import DEFAULT_SETTLE, GUARD_DEFAULT_MAX_DELETES
from syncer.desired import DesiredState, load_desired
from syncer.drift import DriftReport, drift_of
from syncer.errors import Cancelled, Location, Problem, SyncerError, counted
from syncer.export import Export, export_application
from syncer.gc_pause import gc_paused
from syncer.live import LiveState, read_credentials, read_impact, read_live, read_touched
from syncer.losant import SCOPES, checked_application_id
from syncer.plan import EVERYTHING, Plan, Target, make_plan, with_impact, with_project_pruning

if TYPE_CHECKING:  # syncer.apply brings the HTTP stack: imported when a run applies
    from syncer.apply import ApplyResult, ApplyRun, Outcome
    from syncer.environments import Environment
    from syncer.merge import Merged
    from syncer.ping import Check
    from syncer.promotion import Promotion
    from syncer.status import StatusReport
from syncer.secrets import Redactor, refuse_known_secrets, secret_values


@dataclass(frozen=True)
class PlanOptions:
    """How to plan."""

    prune: bool = False  # also delete live integrations no file declares
    push_secrets: bool = False  # send secrets the API hides, to rotate them
    target: Target = EVERYTHING  # a partial plan: only these names and applications
    env_optional: bool = False  # unset variables are unknown values, not errors (no secrets at hand)


@dataclass(frozen=True)
class ApplyOptions:
    """How to apply."""

    fail_fast: bool = False  # stop at the first failed or uncertain change
    settle: float = DEFAULT_SETTLE  # seconds before looking for a POST whose answer was lost
    max_deletes: int | None = None  # None: maxDeletes in syncer.yaml, else 5
    allow_empty: bool = False  # allow pruning an application whose files declare nothing
    allow_breaking_workflows: bool = False  # else as syncer.yaml says, per application
    wait: float | None = None  # seconds to wait for each written integration to connect
    wait_interval: float = 2.0  # seconds between two reads while waiting


@dataclass
class Planned:
    """A plan, what it was made from, and the open connection apply will use."""

    desired: DesiredState
    plan: Plan
    connection: Connection
    options: PlanOptions
    paths: tuple[str, ...] = ()
    saved_from: str | None = None  # the plan file, for a saved plan


@dataclass
class Session:
    """One run: its environment, what it must never show, and how it is stopped."""

    environ: Mapping[str, str]
    trace: Callable[[str], None] | None = None  # --debug lines (raw: the caller redacts)
    warn: Callable[[str], None] = lambda line: None
    redact: Redactor = field(default_factory=Redactor)
    cancel: threading.Event = field(default_factory=threading.Event)
    project_file: str | None = None  # --project: else found upward from the paths
    environment: str | None = None  # --environment: else SYNCER_ENVIRONMENT ("": none)
    # the run is the whole process (the CLI): what it builds stays until the process exits, so
    # it is frozen out of the garbage collector's scans once planned (see gc_paused)
    whole_process: bool = False
    _applying: ApplyRun | None = field(default=None, init=False, repr=False)

    # -- the stages ------------------------------------------------------------------------------

    def _building(self) -> AbstractContextManager[None]:
        """Loading, reading and planning: the garbage collector paused (gc_paused)."""
        return gc_paused(freeze=self.whole_process)

    @property
    def chosen_environment(self) -> str | None:
        if self.environment is not None:
            return self.environment or None
        return self.environ.get("SYNCER_ENVIRONMENT") or None

    def load(
        self,
        paths: Sequence[str] = (),
        *,
        require_env: bool = True,
        every_environment: bool = False,
        project_file: str | None = None,
    ) -> DesiredState:
        """Files -> desired state; its secrets and environment values join the redactor.
        `every_environment`: with none chosen, check the files in each one (validate).
        `project_file`: the project file they follow (default: --project, or found upward)."""
        # a value the files take from the environment is sensitive wherever it lands, even
        # outside a secret field (a topic, a host), and even in an error about the files
        with self._building():
            desired = load_desired(
                tuple(paths) or (".",),
                self.environ,
                require_env=require_env,
                sensitive=self.redact.add,
                project_file=project_file or self.project_file,
                environment=self.chosen_environment,
                every_environment=every_environment,
            )
        self.redact.add(desired.secret_values())
        return desired

    @contextmanager
    def connect(
        self, options: ConnectionOptions, desired: DesiredState | None = None
    ) -> Iterator[Connection]:
        """A connection to Losant (closed on leaving the block); the token joins the redactor."""
        project = desired.project if desired is not None else None
        with connect(
            options,
            self.environ,
            project=project,
            redact=self.redact,
            secret=lambda token: self.redact.add([token]),
            trace=self.trace,
            warn=self.warn,
            cancel=self.cancel,
        ) as connection:
            yield connection

    def read(self, connection: Connection, desired: DesiredState, target: Target = EVERYTHING) -> LiveState:
        """Every live integration of the files' applications in the target (completely, or
        SyncerError), and the service credentials they name, checked."""
        self._refuse_own_credentials(connection, desired)
        live = self._read_live(
            connection, [app for app in desired.applications if target.has_application(app)]
        )
        self._check_credentials(connection, desired)
        return live

    def _read_live(
        self, connection: Connection, apps: Sequence[str], *, with_status: bool = False
    ) -> LiveState:
        """The live integrations of `apps` (completely, or SyncerError); every secret they hold
        joins the redactor before anything of them can be shown. `with_status`: keep their
        connection status (for health)."""
        live = read_live(
            connection.client, list(apps), parallelism=connection.parallelism, with_status=with_status
        )
        self.redact.add(v for items in live.integrations.values() for i in items for v in secret_values(i))
        return live

    def _refuse_own_credentials(self, connection: Connection, desired: DesiredState) -> None:
        """No value of the files may hold syncer's own credentials (the token, SYNCER_PLAN_KEY):
        checked before any request."""
        own = {"the API token": connection.token, "SYNCER_PLAN_KEY": self.environ.get("SYNCER_PLAN_KEY", "")}
        problems = desired.holding(own)
        if problems:
            raise SyncerError(
                f"refusing to send syncer's own credential to Losant ({counted(len(problems), 'value')} "
                "of the files); nothing was changed",
                problems,
            )

    def _check_credentials(self, connection: Connection, desired: DesiredState) -> None:
        """Every credentialName must name a service credential of a fitting type (one list request
        per application that names one); a token that may not list them gets a warning."""
        from syncer.client import ApiError
        from syncer.credentials import credential_names, credential_problems

        users = credential_names(desired)
        if not users:
            return
        try:
            credentials = read_credentials(connection.client, list(users), parallelism=connection.parallelism)
        except ApiError as exc:
            if exc.status != 403:
                raise
            self.warn(
                "warning: credentialName not checked: the token may not list service credentials "
                f"(it needs one of {', '.join(SCOPES['credentials'])})"
            )
            return
        problems = sorted(credential_problems(users, credentials), key=lambda p: p.sort_key())
        if problems:
            raise SyncerError(
                f"{counted(len(problems), 'credentialName')} Losant cannot honour; nothing was changed",
                problems,
            )

    # -- whole runs ------------------------------------------------------------------------------

    @contextmanager
    def plan_from_files(
        self, paths: Sequence[str], options: ConnectionOptions, plan: PlanOptions | None = None
    ) -> Iterator[Planned]:
        """validate -> read -> plan; the connection stays open inside the block (for apply)."""
        plan = plan or PlanOptions()
        with self._read_and_planned(
            paths, options, plan, prune=plan.prune, push_secrets=plan.push_secrets
        ) as (desired, plan, connection, _, made):
            yield Planned(desired, self._with_impact(connection, made), connection, plan, tuple(paths))

    @contextmanager
    def _read_and_planned(
        self,
        paths: Sequence[str],
        options: ConnectionOptions,
        plan: PlanOptions,
        *,
        prune: bool,
        push_secrets: bool,
    ) -> Iterator[tuple[DesiredState, PlanOptions, Connection, LiveState, Plan]]:
        """load -> read -> plan, the GC paused; `plan` comes back targeted, and the connection
        stays open inside the block."""
        with ExitStack() as open_connection:
            with self._building():
                desired = self.load(paths, require_env=not plan.env_optional)
                plan = self._targeted(plan, desired)
                connection = open_connection.enter_context(self.connect(options, desired))
                live = self.read(connection, desired, plan.target)
                made = make_plan(desired, live, prune=prune, push_secrets=push_secrets, target=plan.target)
            yield desired, plan, connection, live, made

    @staticmethod
    def _targeted(plan: PlanOptions, desired: DesiredState) -> PlanOptions:
        """`--application` resolved: an alias to its id here, and only an application of the
        files (a typo would otherwise plan nothing and say all is well)."""
        if not plan.target.applications:
            return plan
        by_alias = {alias: app for app, alias in desired.aliases.items()}
        chosen = []
        for given in plan.target.applications:
            app = by_alias.get(given, given)
            if app not in desired.applications:
                where = f" in environment {desired.environment}" if desired.environment else ""
                named = ", ".join(desired.aliases.get(a, a) for a in desired.applications) or "none"
                raise SyncerError(f"--application {given}: no file names it{where} (the files name: {named})")
            chosen.append(app)
        return dataclasses.replace(plan, target=dataclasses.replace(plan.target, applications=tuple(chosen)))

    @contextmanager
    def plan_from_saved(
        self, path: str, options: ConnectionOptions, plan: PlanOptions | None = None
    ) -> Iterator[Planned]:
        """A saved plan, checked against the files and the integrations it touches, read again
        (only those): SyncerError naming whatever moved since. `plan` may not ask for anything
        the saved plan did not (it is applied as it was made)."""
        from syncer.planfile import plan_key, read_plan_file, replan_saved

        if plan is not None and plan != PlanOptions():
            raise SyncerError(
                "--prune, --push-secrets, --target and --application cannot change a saved plan; "
                "make a new plan with them"
            )

        with self.connect(options) as connection:
            key = plan_key(self.environ, connection.token)
            saved = read_plan_file(path, key)
            if connection.url != saved.api_url.rstrip("/"):
                raise SyncerError(
                    f"{path}: the plan was made against {saved.api_url}, and this apply would "
                    f"talk to {connection.url}; nothing was changed"
                )
            self.project_file = saved.project_file
            chosen = self.chosen_environment
            if chosen is not None and chosen != saved.environment:
                made_in = f"environment {saved.environment}" if saved.environment else "no environment"
                raise SyncerError(
                    f"{path}: the plan was made in {made_in}, and this apply names environment "
                    f"{chosen}; nothing was changed"
                )
            self.environment = saved.environment or ""  # as it was made, whatever SYNCER_ENVIRONMENT says
            desired = self.load(saved.paths)
            self._refuse_own_credentials(connection, desired)
            self._check_credentials(connection, desired)
            targets = [(r["applicationId"], r["integrationId"], r["name"]) for r in saved.changes]
            live, gone = read_touched(connection.client, targets, parallelism=connection.parallelism)
            made = self._with_impact(connection, replan_saved(key, saved, desired, live, gone))
            options_saved = PlanOptions(saved.prune, saved.push_secrets, saved.target)
            yield Planned(desired, made, connection, options_saved, tuple(saved.paths), saved_from=path)

    @staticmethod
    def _with_impact(connection: Connection, plan: Plan) -> Plan:
        """The plan, each delete and replace told which workflows use its integration: one
        query per 100 of them per application, none when nothing is deleted or replaced."""
        removed: dict[str, list[str]] = {}
        for change in plan.changes:
            if change.removes_id:
                removed.setdefault(change.application_id, []).append(str(change.integration_id))
        if not removed:
            return plan
        impacts = read_impact(connection.client, removed, parallelism=connection.parallelism)
        return with_impact(plan, impacts)

    def save(self, planned: Planned, path: str) -> None:
        """Write the plan to `path` for `syncer apply PATH` (no secret in clear)."""
        from syncer.planfile import plan_key, write_plan_file

        if planned.options.env_optional:
            raise SyncerError(
                f"{path}: a plan made with unset variables (--env-optional) cannot be saved for apply; "
                "make it with every variable set"
            )
        write_plan_file(
            path,
            planned.plan,
            planned.desired,
            key=plan_key(self.environ, planned.connection.token),
            paths=list(planned.paths or (".",)),
            api_url=planned.connection.url,
            prune=planned.options.prune,
            push_secrets=planned.options.push_secrets,
            project_file=planned.desired.project.path,
            redact=self.redact,
        )

    def guard(self, planned: Planned, options: ApplyOptions) -> None:
        """Refuse, before any write, the runs that look like accidents (SyncerError)."""
        self._check_guards(planned.desired, planned.plan, options)

    def refusal(self, planned: Planned, options: ApplyOptions) -> str | None:
        """Why apply would refuse this plan, if it would: a plan fails where apply would."""
        try:
            self.guard(planned, options)
        except SyncerError as exc:
            return exc.message
        return None

    @staticmethod
    def _check_guards(desired: DesiredState, plan: Plan, options: ApplyOptions) -> None:
        from syncer.apply import Guards, check_guards

        limit = options.max_deletes if options.max_deletes is not None else desired.project.max_deletes
        declared = dict.fromkeys(desired.applications, 0)
        for item in desired.integrations:  # one pass: apply checks the guards twice (before asking)
            if not item.absent:
                declared[item.application_id] += 1
        breakable = frozenset(
            app
            for app in plan.applications
            if options.allow_breaking_workflows or desired.project.breaking_workflows_allowed_for(app)
        )
        max_deletes = limit if limit is not None else GUARD_DEFAULT_MAX_DELETES
        check_guards(plan, declared, Guards(max_deletes, options.allow_empty, breakable))

    def apply_plan(
        self,
        planned: Planned,
        options: ApplyOptions | None = None,
        progress: Callable[[Outcome], None] = lambda outcome: None,
    ) -> ApplyResult:
        """Send the plan's requests, then read Losant again to account for them (apply.py)."""
        from syncer.apply import ApplyRun

        options = options or ApplyOptions()
        if planned.options.env_optional:
            raise SyncerError(
                "a plan made with unset variables (--env-optional) cannot be applied: its unset "
                "fields were not checked; plan again with every variable set; nothing was changed"
            )
        self.guard(planned, options)
        connection = planned.connection
        run = ApplyRun(
            connection.client,
            planned.plan.changes,
            parallelism=connection.parallelism,
            fail_fast=options.fail_fast,
            target=planned.plan.target,
        )
        self._applying = run
        if self.cancel.is_set():
            run.interrupt("interrupted before the first write: nothing was sent")
        run.write(report=progress)
        verification = run.verify(planned.desired, prune=planned.options.prune, settle=options.settle)
        result = run.result(verification)
        if options.wait is not None and not result.interrupted:
            self._wait_for_health(connection, result, options.wait, options.wait_interval)
            if self.cancel.is_set():  # interrupted while waiting: the writes stand, the wait did not end
                result.interrupted = True
                result.stopped = result.stopped or "interrupted while waiting for the integrations to connect"
        return result

    def _wait_for_health(
        self, connection: Connection, result: ApplyResult, seconds: float, interval: float
    ) -> None:
        """Each created, updated or replaced integration's health, read until it connected or
        failed (or `seconds` passed): one list read per application per `interval`."""
        import time

        from syncer.health import Health, wait_for_health

        done = [o for o in result.outcomes if o.status == "done" and o.live_id is not None]
        if not done:
            return
        watched = {str(o.live_id): o.change.application_id for o in done}

        def read(apps: Sequence[str]) -> Mapping[str, Sequence[Mapping[str, Any]]]:
            return self._read_live(connection, apps, with_status=True).integrations

        try:
            health = wait_for_health(
                read,
                watched,
                seconds=seconds,
                interval=interval,
                pause=self.cancel.wait,
                clock=time.monotonic,
            )
        except SyncerError as exc:  # the writes stand and keep their account: health is unknown
            unread = Health("unknown", f"status could not be read: {exc.message}")
            health = dict.fromkeys(watched, unread)
        for outcome in done:
            outcome.health = health.get(str(outcome.live_id))

    def interrupt(self, reason: str) -> None:
        """Stop: nothing new is sent; requests in flight finish; no read follows the writes."""
        self.cancel.set()
        if self._applying is not None:
            self._applying.interrupt(reason)

    def result_so_far(self) -> ApplyResult | None:
        """The apply's account as it stands (requests still in flight counted as uncertain)."""
        return self._applying.result_so_far() if self._applying is not None else None

    def drift(
        self,
        paths: Sequence[str],
        options: ConnectionOptions,
        plan: PlanOptions | None = None,
        *,
        attribution_days: float = 30,
    ) -> DriftReport:
        """How Losant differs from the files, whatever the pruning policy (`plan` gives the
        target and whether unset variables are allowed), and who changed or deleted each
        drifted integration (the organisation's audit log of the last `attribution_days`)."""
        plan = plan or PlanOptions()
        with self._read_and_planned(paths, options, plan, prune=True, push_secrets=False) as (
            desired,
            plan,
            connection,
            live,
            pruned,
        ):
            report = drift_of(pruned)
            if attribution_days > 0:
                report = self._attributed(connection, report, attribution_days)
        # what an apply with the project's own policy would do, and whether it would refuse
        policy = with_project_pruning(pruned, desired.project, live)
        try:
            self._check_guards(desired, policy, ApplyOptions())
        except SyncerError as exc:
            return dataclasses.replace(report, refusal=exc.message)
        return report

    def ping(
        self, paths: Sequence[str], options: ConnectionOptions, applications: Sequence[str] = ()
    ) -> list[Check]:
        """Whether the URL answers, the token is accepted, and each application (of the files at
        `paths`, and `applications`) can be read as a run reads it. No secret is needed."""
        from syncer.ping import ping

        for app in applications:
            checked_application_id(app)
        desired = self.load(paths, require_env=False) if paths or not applications else None
        wanted = [*(desired.applications if desired else ()), *(a.lower() for a in applications)]
        with self.connect(options, desired) as connection:
            return ping(connection.client, connection.url, list(dict.fromkeys(wanted)))

    def merge_export(self, application_id: str, path: str, options: ConnectionOptions) -> Merged:
        """The live integrations of one application merged into the syncer file at `path`, in
        place (syncer.merge says what the file keeps); no secret is needed or written."""
        from syncer.merge import merge_into_file

        if self.chosen_environment is not None or self._shared(path):
            raise SyncerError(
                f"{path}: --merge writes one application's live values into the file, and this file "
                "serves several environments (an alias, ${var:...} or environments:): its values "
                "would become one environment's. Export to a new file with --environment NAME "
                "--out DIR and carry the changes over by hand"
            )
        app = checked_application_id(application_id)
        alone = self.load([path], require_env=False)  # the file itself first: its errors, located
        # the whole tree it belongs to: entries of the application in other files are not added
        root = (
            (os.path.dirname(alone.project.path) or ".")
            if alone.project.path
            else os.path.dirname(path) or "."
        )
        tree = self.load([root], require_env=False)
        with self.connect(options, tree) as connection:
            live = self._read_live(connection, [app])

        def check(candidate: str) -> None:
            # the lines the merge adds: a secret the file holds already is the user's to move
            with open(path, encoding="utf-8-sig") as before, open(candidate, encoding="utf-8-sig") as after:
                kept = set(before.read().splitlines())
                added = "\n".join(line for line in after.read().splitlines() if line not in kept)
            refuse_known_secrets(added, self.redact, f"{path}: the merge")
            try:
                self.load([candidate], require_env=False, project_file=tree.project.path)
            except SyncerError as exc:  # say where the user will look: the file, not the candidate
                shown = os.path.relpath(candidate)
                exc.message = exc.message.replace(shown, path).replace(candidate, path)
                exc.problems = [
                    Problem(
                        Location(path, p.location.line, p.location.column) if p.location else None,
                        p.message,
                        p.where,
                    )
                    for p in exc.problems
                ]
                raise

        return merge_into_file(path, tree, app, live.integrations[app], check)

    def status(
        self, paths: Sequence[str], options: ConnectionOptions, plan: PlanOptions | None = None
    ) -> StatusReport:
        """Each managed integration's connection and whether it matches the files (read-only)."""
        from syncer.status import find_status

        plan = plan or PlanOptions()
        desired = self.load(paths, require_env=not plan.env_optional)
        plan = self._targeted(plan, desired)
        with self.connect(options, desired) as connection:
            apps = [app for app in desired.applications if plan.target.has_application(app)]
            live = self._read_live(connection, apps, with_status=True)
        return find_status(desired, live, plan.target)

    def compare(
        self, paths: Sequence[str], options: ConnectionOptions, source: str, target: str
    ) -> Promotion:
        """How the live integrations of two environments differ, after their variables: the
        files of each (no secret needed: fields from ${env:} are not compared), one list
        request per application of each."""
        from syncer.promotion import compare_environments

        if self.environment is not None:
            raise SyncerError("compare takes --from and --to, not --environment")
        if source == target:
            raise SyncerError(f"--from and --to both name {source!r}: name two environments")
        states = []
        try:
            for name in (source, target):
                self.environment = name
                states.append(self.load(paths, require_env=False))
        finally:
            self.environment = None  # a script's next call finds the session as it was
        with self.connect(options, states[0]) as connection:
            apps = [app for state in states for app in state.applications]
            live = self._read_live(connection, list(dict.fromkeys(apps)))
        return compare_environments(states[0], states[1], live, live)

    @staticmethod
    def _attributed(connection: Connection, report: DriftReport, days: float) -> DriftReport:
        """The report, each integration changed or deleted outside git named with who did it."""
        import time

        from syncer.attribution import Wanted, attribute

        verbs = {"changed-live": "changed live", "missing-live": "deleted"}
        wanted: dict[str, list[Wanted]] = {}
        for item in report.items:
            if item.direction in verbs:
                key = f"{item.application_id}\x00{item.name}"
                deleted = item.direction == "missing-live"
                wanted.setdefault(item.application_id, []).append(
                    Wanted(key, item.integration_id, item.name, deleted)
                )
        if not wanted:
            return report
        found = attribute(connection.client, wanted, days=days, now_ms=time.time() * 1000)
        items = tuple(
            dataclasses.replace(item, attribution=found[key].describe(verbs[item.direction]))
            if (key := f"{item.application_id}\x00{item.name}") in found
            else item
            for item in report.items
        )
        return dataclasses.replace(report, items=items)

    def export(
        self,
        application_id: str,
        options: ConnectionOptions,
        out_dir: str | None = None,
        *,
        force: bool = False,
    ) -> Export:
        """The live integrations of one application as a syncer file (secrets as placeholders,
        named unlike any variable the tree `out_dir` belongs to uses already)."""
        from syncer.desired import discover_tree
        from syncer.environments import is_alias
        from syncer.export import export_file_name, refuse_overwrite
        from syncer.merge import variables_in

        environment = self._export_environment(out_dir)
        if environment is not None and application_id in environment.applications:
            application_id = environment.applications[application_id]  # an alias
        elif is_alias(application_id):
            raise SyncerError(
                f"--application {application_id!r} is not a Losant id (24 hexadecimal characters)"
                + (
                    f", nor an alias of environment {environment.name} "
                    f"(it has: {', '.join(environment.applications) or 'none'})"
                    if environment is not None
                    else "; an alias needs the environment that defines it: --environment NAME"
                )
            )
        app = checked_application_id(application_id)
        alias = environment.alias_of(app) if environment else None
        if out_dir and not force:  # before any request: export never overwrites work
            refuse_overwrite(export_file_name(app, alias), out_dir)
        taken = variables_in(discover_tree(out_dir)) if out_dir else set()
        with self.connect(options) as connection:
            live = self._read_live(connection, [app])
        exported = export_application(
            app, live.integrations[app], schema_ref="syncer.schema.json", taken=taken, environment=environment
        )
        refuse_known_secrets(exported.text, self.redact, "the export")
        return exported

    @staticmethod
    def _shared(path: str) -> bool:
        """Whether a syncer file names an alias or takes anything from an environment."""
        from syncer.environments import is_alias
        from syncer.load import read_yaml_file

        data = read_yaml_file(path).data
        if not isinstance(data, dict):
            return False  # the load that follows says what is wrong with it
        application = data.get("application")
        entries = data.get("integrations")
        limited = isinstance(entries, list) and any(
            isinstance(e, dict) and "environments" in e for e in entries
        )
        aliased = isinstance(application, str) and is_alias(application)
        return aliased or limited or "${var:" in json.dumps(data, default=str)

    def _export_environment(self, out_dir: str | None) -> Environment | None:
        """The environment chosen for an export, from the project file above `out_dir` (or here)."""
        from syncer.desired import load_project, project_for

        name = self.chosen_environment
        if name is None:
            return None
        project_path = self.project_file or project_for(out_dir or ".")[0]
        project, problems = load_project(project_path, self.environ, self.redact.add)
        if problems:
            raise SyncerError(f"{counted(len(problems), 'error')} in the project file", problems)
        return project.environment(name)


__all__ = [
    "ApplyOptions",
    "ApplyResult",
    "Cancelled",
    "ConnectionOptions",
    "PlanOptions",
    "Planned",
    "Session",
]
