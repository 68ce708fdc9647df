"""Live stage: read every integration of the applications in play, completely or not at all.

A read is complete only when, for each application, the items of all pages add up to the
`totalCount` the API reported, every page reported the same total, and no id appears twice.
Anything else stops the run here, before a plan exists, so a partial view can never turn into
deletions or duplicates.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from syncer.errors import SyncerError
from syncer.losant import (
    HEADER_SECRET,
    MAX_DEPTH,
    MAX_PER_PAGE,
    OBJECT_ID_PATTERN,
    SCOPES,
    UNUSED_LIVE_FIELDS,
)
from syncer.render.escape import quoted

if TYPE_CHECKING:  # the HTTP stack: imported when a command connects, not by plan and drift
    from syncer.client import LosantClient


@dataclass(frozen=True)
class LiveState:
    """Every integration of each application read, as the API returned it."""

    integrations: Mapping[str, tuple[dict[str, Any], ...]]  # application id -> integrations


OBJECT_ID = re.compile(OBJECT_ID_PATTERN)


@dataclass(frozen=True)
class WorkflowUse:
    """A workflow whose default version uses an integration by its id, and how."""

    workflow_id: str
    name: str
    flow_class: str
    via: str = "trigger"


@dataclass(frozen=True)
class Impact:
    """Which workflows use an integration a change deletes or replaces (a replace gives a new
    id): they would silently stop. `unknown` says why it could not be read; then it counts as
    used, so the guard fails closed."""

    workflows: tuple[WorkflowUse, ...] = ()
    unknown: str = ""

    @property
    def breaks(self) -> bool:
        return bool(self.workflows or self.unknown)


class IncompleteRead(SyncerError):
    """The API's pages did not add up: nothing may be planned from what was read."""

    pass


Fetch = Callable[[str, int], dict[str, Any]]  # (application id, page number) -> a checked page
# Losant limits integrations per organization far below these: a claim above them is a lie
MAX_ITEMS = 1_000_000
MAX_PAGES = 10_000


def _checked_total(where: str, page: dict[str, Any]) -> int:
    total = page.get("totalCount")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise IncompleteRead(
            f"live state of {where}: the list answer has no usable totalCount "
            f"({type(total).__name__}); nothing was changed"
        )
    return total


def _page_size(page: dict[str, Any], asked: int) -> int:
    """The page size the server used: the `perPage` it echoes (a server may cap it), else ours."""
    echoed = page.get("perPage")
    if isinstance(echoed, int) and not isinstance(echoed, bool) and 1 <= echoed <= asked:
        return echoed
    return asked


_NOT_PLANNED = (*UNUSED_LIVE_FIELDS, "status")  # a plan never reads the connection status


def _deeper_than(values: list[Any], limit: int) -> bool:
    """Whether any of `values` nests containers deeper than `limit` (a value is level 1),
    walked level by level (JSON gives exact dicts and lists)."""
    level, depth = values, 1
    while level:
        if depth > limit:
            return True
        inner = []
        for value in level:
            for item in value.values() if type(value) is dict else value if type(value) is list else ():
                if type(item) is dict or type(item) is list:
                    inner.append(item)
        level, depth = inner, depth + 1
    return False


def _kept(where: str, items: list[Any], unused: Collection[str]) -> list[Any]:
    """Live items without the `unused` fields (rebuilt, not popped: a dict keeps the table it
    was built with), refused if one is nested deeper than any Losant resource is."""
    kept = [{k: v for k, v in i.items() if k not in unused} if isinstance(i, dict) else i for i in items]
    if _deeper_than(kept, MAX_DEPTH):
        raise IncompleteRead(
            f"live state of {where}: an item is nested deeper than {MAX_DEPTH} levels, which no "
            "Losant resource is; nothing was changed"
        )
    return kept


# a check of one page's items as they came (application id, items): raises IncompleteRead
ItemCheck = Callable[[str, list[Any]], None]


class _Pages:
    """The pages of one collection as they arrive, checked one by one.

    Each page must hold exactly the items its position promises (a full page, or the rest of
    `totalCount` on the last one) and repeat the same total: the first page that does not stops
    the read, so a server claiming a billion items while serving one costs one request.
    """

    def __init__(
        self, key: str, what: str, first: dict[str, Any], unused: Collection[str], check: ItemCheck | None
    ) -> None:
        self.key, self.where = key, (where := f"application {key}")
        self.what, self.unused, self.check = what, frozenset(unused), check
        self.total = _checked_total(where, first)
        self.per_page = _page_size(first, MAX_PER_PAGE)
        if self.total > MAX_ITEMS or self.page_count > MAX_PAGES:
            raise IncompleteRead(
                f"live state of {where}: the API claims {self.total:,} {what} in pages of "
                f"{self.per_page}, more than any application holds (syncer reads at most "
                f"{MAX_ITEMS:,} in {MAX_PAGES:,} pages); nothing was changed"
            )
        self.pages: dict[int, list[dict[str, Any]]] = {}
        self.accept(0, first)

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    def accept(self, number: int, page: dict[str, Any]) -> None:
        total = page.get("totalCount")
        if not isinstance(total, int) or isinstance(total, bool) or total != self.total:
            raise IncompleteRead(
                f"live state of {self.where} changed while it was read (totalCount went {self.total} -> "
                f"{page.get('totalCount')}); nothing was changed: run again"
            )
        expected = min(self.per_page, self.total - number * self.per_page)
        served = len(page["items"])
        if served != expected:
            raise IncompleteRead(
                f"live state of {self.where} is incomplete: the API reported {self.total} {self.what}, "
                f"but page {number} served {served} where {expected} were due; syncer stops before "
                "planning so a partial view cannot cause deletions or duplicates: run again, and "
                "report it if it persists"
            )
        if self.check is not None:
            self.check(self.key, page["items"])
        self.pages[number] = _kept(self.where, page["items"], self.unused)

    def items(self) -> tuple[dict[str, Any], ...]:
        items = [item for number in sorted(self.pages) for item in self.pages[number]]
        ids = [item.get("id") for item in items]
        if any(not isinstance(i, str) or not OBJECT_ID.fullmatch(i) for i in ids):
            # an id goes into request paths: `../` or `?` in one would steer a DELETE elsewhere
            raise IncompleteRead(
                f"live state of {self.where}: an item's id is not a Losant id (24 hexadecimal "
                "characters); nothing was changed"
            )
        if len(set(ids)) != len(ids):
            raise IncompleteRead(
                f"live state of {self.where} is inconsistent: the same item came back twice while "
                "paging; nothing was changed: run again"
            )
        return tuple(items)


def read_all(
    fetch: Fetch,
    application_ids: Sequence[str],
    what: str,
    parallelism: int = 8,
    unused: Collection[str] = (),
    check: ItemCheck | None = None,
) -> dict[str, tuple[dict[str, Any], ...]]:
    """Every item of one collection of each application, completely or not at all, without
    the `unused` fields; `check` sees each page's items as they came (before those fields go).

    First pages of all applications run concurrently, then the later pages, at most
    `parallelism` in flight; the first bad page stops everything (IncompleteRead).
    """
    apps = list(dict.fromkeys(application_ids))
    if not apps:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="read") as pool:
        firsts = list(pool.map(lambda app: fetch(app, 0), apps))
        reading = {
            app: _Pages(app, what, first, unused, check) for app, first in zip(apps, firsts, strict=True)
        }
        # generated as they are sent: a server's claim never decides how much memory is used
        queue = ((app, n) for app in apps for n in range(1, reading[app].page_count))
        running: dict[Future[dict[str, Any]], tuple[str, int]] = {}
        try:
            while True:
                for app, number in itertools.islice(queue, max(1, parallelism) - len(running)):
                    running[pool.submit(fetch, app, number)] = (app, number)
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    app, number = running.pop(future)
                    reading[app].accept(number, future.result())
        finally:
            for future in running:
                future.cancel()
    return {app: reading[app].items() for app in apps}


def read_live(
    client: LosantClient, application_ids: Sequence[str], *, parallelism: int = 8, with_status: bool = False
) -> LiveState:
    """All integrations of each application: ceil(N/perPage) list requests per application.
    Their connection `status` only `with_status`: nothing but health reads it."""
    unused = UNUSED_LIVE_FIELDS if with_status else _NOT_PLANNED
    return LiveState(
        read_all(client.list_page, application_ids, "integrations", parallelism, unused, _check_integrations)
    )


def _check_integrations(app: str, items: Iterable[Any]) -> None:
    """Refused, as any doubt about the live state is: an item that says it belongs to another
    application (planning from it could delete it through this one), and websocket headers of
    an unknown shape (syncer knows a secret by where it sits: headers that are not a list of
    {headerKey, headerValue} could hold one where it would be shown, exported or compared in
    clear)."""
    where = f"application {app}"
    for item in items:
        said = item.get("applicationId") if isinstance(item, dict) else None
        if said is not None and str(said).lower() != app.lower():
            raise IncompleteRead(
                f"live state of {where}: its list holds {quoted(str(item.get('name')))} of another "
                "application; nothing was changed"
            )
        config = item.get(HEADER_SECRET[0]) if isinstance(item, dict) else None
        headers = config.get(HEADER_SECRET[1], []) if isinstance(config, dict) else []
        if not isinstance(headers, list) or not all(
            isinstance(h, dict) and set(h) <= {"headerKey", HEADER_SECRET[2]} for h in headers
        ):
            raise IncompleteRead(
                f"live state of {where}: the websocket headers of integration "
                f"{quoted(str(item.get('name')))} are not a list of headerKey and headerValue, "
                "so syncer cannot tell their secrets apart; nothing was changed"
            )


def read_credentials(
    client: LosantClient, application_ids: Sequence[str], *, parallelism: int = 8
) -> dict[str, tuple[dict[str, Any], ...]]:
    """All service credentials of each application (names and types: secrets are write-only)."""
    return read_all(client.credentials_page, application_ids, "credentials", parallelism=parallelism)


def read_touched(
    client: LosantClient, targets: Sequence[tuple[str, str | None, str]], *, parallelism: int = 8
) -> tuple[LiveState, set[str]]:
    """Only the integrations a saved plan touches: (application, id, name) each.

    An integration with an id is read by id. A create (no id) must see whatever now has its
    name, exactly and on every page, so its application is read completely, once.
    Returns them, and the ids that no longer exist.
    """
    by_id = [(app, integration_id) for app, integration_id, _ in targets if integration_id is not None]
    creating: dict[str, set[str]] = {}
    for app, integration_id, name in targets:
        if integration_id is None:
            creating.setdefault(app, set()).add(name)

    from syncer.client import ApiError

    def read(target: tuple[str, str]) -> tuple[str, dict[str, Any] | None, str]:
        app, integration_id = target
        try:
            answer = [client.get(app, integration_id)]
            _check_integrations(app, answer)
            [item] = _kept(f"application {app}", answer, _NOT_PLANNED)
            return app, item, integration_id
        except ApiError as exc:
            if exc.status == 404 and exc.api_message == "Integration was not found":
                return app, None, integration_id
            raise

    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="read") as pool:
        found = list(pool.map(read, by_id))
    whole = read_live(client, list(creating), parallelism=parallelism)
    by_app: dict[str, dict[str, dict[str, Any]]] = {app: {} for app, _, _ in targets}
    for app, item, _ in found:
        if item is not None:
            by_app[app][item["id"]] = item
    for app, names in creating.items():
        by_app[app].update({i["id"]: i for i in whole.integrations[app] if i.get("name") in names})
    gone = {integration_id for _, item, integration_id in found if item is None}
    return LiveState({app: tuple(items.values()) for app, items in by_app.items()}), gone


IMPACT_KEYS_PER_QUERY = 100  # Losant's advanced workflow query takes at most 100 `$or` items


def read_impact(
    client: LosantClient, removed: Mapping[str, Sequence[str]], *, parallelism: int = 8
) -> dict[str, Impact]:
    """Which workflows use each integration id in `removed` (application id -> ids), by their
    triggers: one query per 100 ids per application, every flow class at once. A token that may
    not list workflows makes their impact unknown (the guard then treats them as used); any other
    failure stops the run, like every incomplete read."""
    queries: dict[str, tuple[str, list[str]]] = {}
    for app, ids in removed.items():
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), IMPACT_KEYS_PER_QUERY):
            chunk = unique[start : start + IMPACT_KEYS_PER_QUERY]
            # a key per query (it names the query in an error): the application, and the chunk
            queries[f"{app}, workflows using its removed integrations {start + 1}-{start + len(chunk)}"] = (
                app,
                chunk,
            )

    def fetch(key: str, page: int) -> dict[str, Any]:
        app, chunk = queries[key]
        query = {"$or": [{"triggers": {"type": "integration", "key": i}} for i in chunk]}
        return client.flows_page(app, page, query=query)

    from syncer.client import ApiError

    impacts: dict[str, Impact] = {}
    try:
        pages = read_all(fetch, list(queries), "workflows", parallelism=parallelism)
    except ApiError as exc:
        if exc.status != 403:
            raise
        why = "the token may not list workflows (it needs one of " + ", ".join(SCOPES["flows"]) + ")"
        return {i: Impact(unknown=why) for ids in removed.values() for i in ids}
    for key, flows in pages.items():
        _, chunk = queries[key]
        for integration_id in chunk:
            uses = tuple(_uses(flow, integration_id) for flow in flows if _triggered_by(flow, integration_id))
            if uses:
                impacts[integration_id] = Impact(
                    tuple(sorted(set(uses), key=lambda w: (w.name, w.workflow_id)))
                )
    return impacts


def _triggered_by(flow: Mapping[str, Any], integration_id: str) -> bool:
    triggers = flow.get("triggers")
    return isinstance(triggers, list) and any(
        isinstance(t, dict) and t.get("type") == "integration" and t.get("key") == integration_id
        for t in triggers
    )


def _uses(flow: Mapping[str, Any], integration_id: str) -> WorkflowUse:
    return WorkflowUse(
        str(flow.get("id") or flow.get("flowId") or ""),
        str(flow.get("name", "")),
        str(flow.get("flowClass", "cloud")),
        "trigger",
    )
