"""Plan stage: a pure function of desired and live state. No I/O.

Matching, per application: a pinned `id`, else the name, else a previous name (a rename is one
PATCH). Only fields present in the files count; read-only fields never do. Each change carries
the exact requests it will send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any, ClassVar, Literal

from syncer.compare import CONFIG_KEYS, MISSING, Rules, changed_fields
from syncer.desired import DesiredIntegration, DesiredState, Project
from syncer.errors import Location, Problem, SyncerError, counted, document_path, tally
from syncer.fields import FieldChange, env_labels, field_changes
from syncer.live import Impact, LiveState
from syncer.secrets import Label, Path, is_secret_path

Action = Literal["create", "update", "delete", "replace"]


@dataclass(frozen=True)
class Request:
    """One HTTP request a change sends (the body unmasked: renderers mask it)."""

    method: str
    path: str
    body: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Change:
    """One change a plan makes to one integration, with the exact requests it sends, the fields
    that change (for people), the live integration it starts from, and where the files ask for it."""

    action: Action
    application_id: str
    name: str
    integration_type: str | None
    reason: str
    integration_id: str | None = None  # the live integration (update, delete, replace)
    body: Mapping[str, Any] | None = None  # POST body (create, replace) or PATCH body (update)
    fields: tuple[FieldChange, ...] = ()
    live: Mapping[str, Any] | None = None
    source: Location | None = None
    renamed_from: str | None = None
    live_type: str | None = None  # for a replace: the type it had
    notes: tuple[str, ...] = ()  # what a reviewer should know that the fields do not say
    # body paths whose value came from the environment: never shown, only named
    env_labels: Mapping[Path, Label] = field(default_factory=dict)
    impact: Impact | None = None  # a delete or replace: the workflows it breaks (read before apply)

    @property
    def removes_id(self) -> bool:
        """Whether the live integration's id stops existing (what workflows point at)."""
        return self.action in ("delete", "replace") and self.integration_id is not None

    def requests(self) -> list[Request]:
        """What apply sends, in order: a replace is a DELETE then a POST."""
        collection = f"/applications/{self.application_id}/integrations"
        item = f"{collection}/{self.integration_id}"
        if self.action == "create":
            return [Request("POST", collection, self.body)]
        if self.action == "update":
            return [Request("PATCH", item, self.body)]
        if self.action == "delete":
            return [Request("DELETE", item)]
        return [Request("DELETE", item), Request("POST", collection, self.body)]


@dataclass(frozen=True)
class Unmanaged:
    """A live integration syncer leaves alone, and why."""

    application_id: str
    integration_id: str
    name: str
    integration_type: str | None
    reason: str


@dataclass(frozen=True)
class Target:
    """A partial run (--target, --application): only these names (globs) in these applications.

    An integration is in the target when its name, or a previous name of its entry, matches; a
    live integration outside it is neither changed nor pruned nor listed."""

    names: tuple[str, ...] = ()  # none: every name
    applications: tuple[str, ...] = ()  # none: every application

    def has_application(self, application_id: str) -> bool:
        return not self.applications or application_id in self.applications

    def has_name(self, *names: str) -> bool:
        return not self.names or any(fnmatchcase(name, glob) for name in names for glob in self.names)

    def describe(self) -> str:
        parts = [f"names {', '.join(repr(n) for n in self.names)}"] if self.names else []
        parts += [f"applications {', '.join(self.applications)}"] if self.applications else []
        return " and ".join(parts)


EVERYTHING = Target()


class Targeted:
    """What a plan and a drift report share: the target they were made for, what apply would
    refuse, and a summary line that says when they are partial."""

    target: Target
    refusal: str | None
    environment: str | None  # the environment of syncer.yaml it was made in, if any
    scope_word: ClassVar[str]

    @property
    def partial(self) -> bool:
        return self.target != EVERYTHING

    def headline(self) -> str:
        """The counts, in syncer's own words."""
        raise NotImplementedError

    def scope(self) -> str:
        """The environment, and what a partial one covers, or nothing: user text (globs), to
        escape where it lands."""
        where = f" (environment {self.environment})" if self.environment else ""
        return where + (
            f" (a partial {self.scope_word}: only {self.target.describe()})" if self.partial else ""
        )

    def summary(self) -> str:
        return self.headline() + self.scope()


@dataclass(frozen=True)
class Plan(Targeted):
    """What must change for Losant to match the files, what is left alone, per application."""

    changes: tuple[Change, ...]
    unmanaged: tuple[Unmanaged, ...] = ()
    applications: tuple[str, ...] = ()
    pruning: Mapping[str, bool] = field(default_factory=dict)
    target: Target = EVERYTHING
    refusal: str | None = None  # why apply would refuse this plan (a guard), if it would
    environment: str | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)  # application id -> alias in the files
    scope_word: ClassVar[str] = "plan"

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def counts(self) -> dict[str, int]:
        """Terraform's way: a replace is one create plus one delete."""
        return tally((c.action for c in self.changes), ("create", "update", "delete", "replace"))

    def headline(self) -> str:
        """One line, Terraform's way: `Plan: 1 to create, 2 to update, 0 to delete.`"""
        if not self.changes:
            return "No changes. Live state matches the files."
        c = self.counts()
        line = (
            f"Plan: {c['create'] + c['replace']} to create, {c['update']} to update, "
            f"{c['delete'] + c['replace']} to delete."
        )
        if c["replace"]:
            line += f" ({c['replace']} of them {'a replace' if c['replace'] == 1 else 'replaces'}.)"
        return line


def _post_body(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}  # null only means "clear" in a PATCH


def _new_fields(body: Mapping[str, Any], labels: Mapping[Path, Label]) -> tuple[FieldChange, ...]:
    """The fields a new integration gets; name and type are in the change's title already."""
    keys = [k for k in body if k not in ("name", "integrationType")]
    return field_changes(body, {}, keys, labels=labels)


def _labels(entry: DesiredIntegration) -> dict[Path, Label]:
    """Values the entry takes from the environment (secret fields are masked as secrets), and
    those it could not take (unset, with --env-optional): named, never shown."""
    labels = {p: label for p, label in env_labels(entry.env_refs).items() if not is_secret_path(p)}
    for path, names in entry.unset.items():
        variables = ", ".join(f"${{env:{name}}}" for name in names)
        labels[path] = Label(f"(not checked: {variables} unset)")
    return labels


def _type(item: Mapping[str, Any]) -> str | None:
    value = item.get("integrationType")
    return value if isinstance(value, str) else None


def _covered(name: str, patterns: Sequence[str]) -> str | None:
    if not patterns:
        return None
    return next((p for p in patterns if fnmatchcase(name, p)), None)


def _unchecked_notes(entry: DesiredIntegration, keys: Sequence[str]) -> tuple[str, ...]:
    """The fields of an update that unset variables keep from being compared (--env-optional)."""
    return tuple(
        f"{document_path(path)} not checked: " + ", ".join(f"${{env:{n}}}" for n in names) + " unset"
        for path, names in sorted(entry.unset.items(), key=lambda item: [str(p) for p in item[0]])
        if path[0] in keys
    )


def _removal_notes(fields: Sequence[FieldChange]) -> tuple[str, ...]:
    """A field removed from a config object is removed by sending the object whole: say what
    that relies on, since Losant's Patch schema cannot clear a single config field."""
    return tuple(
        f"{f.dotted} is removed by sending {f.path[0]} whole; if Losant keeps it (a PATCH that merges "
        f"config objects), keep it in the files or add it to ignoreFields"
        for f in fields
        if len(f.path) == 2 and f.path[0] in CONFIG_KEYS and f.after is MISSING
    )


class _ApplicationPlanner:
    """Planning one application; problems are collected, not raised."""

    def __init__(
        self,
        app: str,
        desired: list[DesiredIntegration],
        live: Sequence[dict[str, Any]],
        patterns: Sequence[str],
        prune: bool,
        rules: Callable[[DesiredIntegration], Rules],
        target: Target = EVERYTHING,
        limited: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.app, self.desired, self.live = app, desired, live
        self.limited = limited or {}  # entries of other environments: name -> those
        self.patterns, self.prune, self.rules, self.target = patterns, prune, rules, target
        self.by_id = {item["id"]: item for item in live}
        self.by_name: dict[str, list[dict[str, Any]]] = {}
        for item in live:
            self.by_name.setdefault(str(item.get("name")), []).append(item)
        self.problems: list[Problem] = []
        self.changes: list[Change] = []
        self.unmanaged: list[Unmanaged] = []
        self.claimed: dict[str, DesiredIntegration] = {}

    def problem(self, entry: DesiredIntegration, message: str) -> None:
        self.problems.append(Problem(entry.location, message))

    def _by_name(self, entry: DesiredIntegration, name: str) -> dict[str, Any] | None:
        found = self.by_name.get(name, [])
        if len(found) > 1:
            ids = ", ".join(i["id"] for i in found)
            self.problem(
                entry,
                f"application {self.app} has {len(found)} live integrations named {name!r} "
                f"(ids {ids}); pin one with `id:` or rename the others in Losant",
            )
            return None
        return found[0] if found else None

    def match(self, entry: DesiredIntegration) -> tuple[dict[str, Any] | None, str | None]:
        if entry.pinned_id:
            found = self.by_id.get(entry.pinned_id)
            if found is None:
                self.problem(
                    entry,
                    f"pinned id {entry.pinned_id} is not a live integration of application "
                    f"{self.app}; remove `id` to create it anew, or correct it",
                )
            return found, None
        found = self._by_name(entry, entry.name)
        if found is not None:
            return found, None
        for old in entry.previous_names:
            found = self._by_name(entry, old)
            if found is not None:
                return found, old
        return None, None

    def run(self) -> None:
        for entry in self.desired:
            pattern = _covered(entry.name, self.patterns)
            if pattern:
                self.problem(
                    entry,
                    f"{entry.name!r} matches the neverTouch pattern {pattern!r}, so syncer "
                    "will not manage it; rename the entry or change the pattern",
                )
                continue
            live, renamed_from = self.match(entry)
            if live is None:
                if not entry.absent and self.target.has_name(entry.name, *entry.previous_names):
                    self.create(entry)
                continue
            other = self.claimed.get(live["id"])
            if other is not None:
                self.problem(
                    entry,
                    f"live integration {live['id']} ({live.get('name')!r}) is also matched by the "
                    f"entry at {other.location}; each live integration can match one entry",
                )
                continue
            self.claimed[live["id"]] = entry  # claimed even outside the target: never pruned
            if not self.target.has_name(entry.name, *entry.previous_names):
                continue
            live_pattern = _covered(str(live.get("name")), self.patterns)
            if live_pattern:
                self.problem(
                    entry,
                    f"the live integration {live.get('name')!r} matches the neverTouch pattern "
                    f"{live_pattern!r}; syncer will not change it",
                )
                continue
            if entry.absent:
                self.delete(live, "absent: true in the files", entry.location)
            else:
                self.update(entry, live, renamed_from)
        for item in self.live:
            if item["id"] in self.claimed or not self.target.has_name(str(item.get("name"))):
                continue
            pattern = _covered(str(item.get("name")), self.patterns)
            if pattern:
                self.leave(item, f"matches neverTouch pattern {pattern!r}")
            elif self.prune:
                self.delete(item, f"{self._undeclared(item)} (pruning is on)", None)
            else:
                self.leave(item, f"{self._undeclared(item)} (pruning is off)")

    def _undeclared(self, item: Mapping[str, Any]) -> str:
        """Why no entry claims a live integration: none names it, or only another environment's."""
        others = self.limited.get(str(item.get("name")))
        return f"declared only for {', '.join(others)}" if others else "no file declares it"

    def create(self, entry: DesiredIntegration) -> None:
        body = _post_body(entry.body)
        labels = _labels(entry)
        self.changes.append(
            Change(
                "create",
                self.app,
                entry.name,
                entry.integration_type,
                "not in Losant",
                body=body,
                fields=_new_fields(body, labels),
                source=entry.location,
                env_labels=labels,
            )
        )

    def update(self, entry: DesiredIntegration, live: dict[str, Any], renamed_from: str | None) -> None:
        if _type(live) != entry.integration_type:
            labels = _labels(entry)
            body = _post_body(entry.body)
            self.changes.append(
                Change(
                    "replace",
                    self.app,
                    entry.name,
                    entry.integration_type,
                    f"integrationType changes from {_type(live)} to {entry.integration_type}",
                    integration_id=live["id"],
                    body=body,
                    fields=_new_fields(body, labels),
                    live=live,
                    source=entry.location,
                    live_type=_type(live),
                    env_labels=labels,
                )
            )
            return
        rules = self.rules(entry)
        keys = changed_fields(entry.body, live, rules)
        if not keys:
            return
        labels = _labels(entry)
        fields = field_changes(entry.body, live, keys, rules, labels)
        reason = (
            f"renamed from {renamed_from!r}"
            if renamed_from
            else (f"renamed from {live.get('name')!r}" if "name" in keys else "differs from the files")
        )
        self.changes.append(
            Change(
                "update",
                self.app,
                entry.name,
                entry.integration_type,
                reason,
                integration_id=live["id"],
                body={k: entry.body[k] for k in keys},
                fields=fields,
                live=live,
                source=entry.location,
                renamed_from=renamed_from or (str(live.get("name")) if "name" in keys else None),
                notes=_removal_notes(fields) + _unchecked_notes(entry, keys),
                env_labels=labels,
            )
        )

    def delete(self, live: dict[str, Any], reason: str, source: Location | None) -> None:
        self.changes.append(
            Change(
                "delete",
                self.app,
                str(live.get("name")),
                _type(live),
                reason,
                integration_id=live["id"],
                live=live,
                source=source,
            )
        )

    def leave(self, live: dict[str, Any], reason: str) -> None:
        self.unmanaged.append(Unmanaged(self.app, live["id"], str(live.get("name")), _type(live), reason))


def _rules_for(project: Project, app: str, push_secrets: bool) -> Callable[[DesiredIntegration], Rules]:
    """How to compare each entry of `app`: one Rules per integration type, unless the entry has
    unset values of its own."""
    by_type: dict[str | None, Rules] = {}

    def rules(entry: DesiredIntegration) -> Rules:
        kind = entry.integration_type
        if kind not in by_type:
            by_type[kind] = Rules(project.ignored_for(app, kind), push_secrets)
        shared = by_type[kind]
        return replace(shared, unknown=frozenset(entry.unset)) if entry.unset else shared

    return rules


def make_plan(
    desired: DesiredState,
    live: LiveState,
    *,
    prune: bool = False,
    push_secrets: bool = False,
    target: Target = EVERYTHING,
) -> Plan:
    """What must change for live to match the files. Raises SyncerError on ambiguities.

    `push_secrets`: a secret the API hides (omitted or masked) is sent anyway, as an update.
    `target`: a partial plan; nothing outside it is changed, pruned or listed.
    """
    apps = [app for app in desired.applications if target.has_application(app)]
    problems: list[Problem] = []
    changes: list[Change] = []
    unmanaged: list[Unmanaged] = []
    pruning: dict[str, bool] = {}
    for app in apps:
        pruning[app] = prune or desired.project.prune_for(app)
        planner = _ApplicationPlanner(
            app,
            desired.for_application(app),
            live.integrations.get(app, ()),
            desired.project.never_touch_for(app),
            pruning[app],
            _rules_for(desired.project, app, push_secrets),
            target,
            desired.limited.get(app),
        )
        planner.run()
        problems += planner.problems
        changes += planner.changes
        unmanaged += planner.unmanaged
    if problems:
        problems.sort(key=Problem.sort_key)
        raise SyncerError(
            f"cannot plan: {counted(len(problems), 'problem')} with the live state; nothing was changed",
            problems,
        )
    return Plan(
        tuple(changes),
        tuple(unmanaged),
        tuple(apps),
        pruning,
        target,
        environment=desired.environment,
        aliases=desired.aliases,
    )


def with_project_pruning(pruned: Plan, project: Project, live: LiveState) -> Plan:
    """The plan `make_plan` makes with the project's own pruning policy, from the one it made with
    pruning on from `live` (drift needs both: one planning pass). They differ only in what no file
    declares: where the policy does not prune, those deletions are left alone instead."""
    changes: list[Change] = []
    unmanaged = list(pruned.unmanaged)
    for change in pruned.changes:
        if (
            change.action == "delete"
            and change.source is None
            and not project.prune_for(change.application_id)
        ):
            unmanaged.append(
                Unmanaged(
                    change.application_id,
                    str(change.integration_id),
                    change.name,
                    change.integration_type,
                    "no file declares it (pruning is off)",
                )
            )
        else:
            changes.append(change)
    # in make_plan's order: by application, then as Losant listed them
    apps = {app: n for n, app in enumerate(pruned.applications)}
    listed = {item["id"]: n for items in live.integrations.values() for n, item in enumerate(items)}
    unmanaged.sort(key=lambda u: (apps[u.application_id], listed[u.integration_id]))
    pruning = {app: project.prune_for(app) for app in pruned.applications}
    return replace(pruned, changes=tuple(changes), unmanaged=tuple(unmanaged), pruning=pruning)


def with_impact(plan: Plan, impacts: Mapping[str, Impact]) -> Plan:
    """The plan with each delete and replace told which workflows use its integration
    (`impacts` by integration id; one missing there is used by none)."""
    changes = tuple(
        replace(change, impact=impacts.get(str(change.integration_id), Impact()))
        if change.removes_id
        else change
        for change in plan.changes
    )
    return replace(plan, changes=changes)
