"""Live stage: read every integration of the applications in play, completely or not at all.

A read is complete only when, for each application, the items of all pages add up to the
`totalCount` the API reported, every page reported the same total, and no id appears twice.
Anything else stops the run here, before a plan exists, so a partial view can never turn into
deletions or duplicates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from syncer.client import ApiError, LosantClient
from syncer.errors import SyncerError
from syncer.losant import MAX_PER_PAGE


@dataclass(frozen=True)
class LiveState:
    integrations: Mapping[str, tuple[dict[str, Any], ...]]  # application id -> integrations


class IncompleteRead(SyncerError):
    pass


def _check(application_id: str, pages: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    totals = {page.get("totalCount") for page in pages}
    total = pages[0].get("totalCount")
    items = [item for page in pages for item in page["items"]]
    where = f"application {application_id}"
    if len(totals) != 1 or not isinstance(total, int):
        raise IncompleteRead(
            f"live state of {where} changed while it was read (totalCount went "
            f"{' -> '.join(str(p.get('totalCount')) for p in pages)}); nothing was changed: run again"
        )
    ids = [item.get("id") if isinstance(item, dict) else None for item in items]
    if any(not isinstance(i, str) for i in ids):
        raise IncompleteRead(f"live state of {where}: an item has no id; nothing was changed")
    if len(set(ids)) != len(ids):
        raise IncompleteRead(
            f"live state of {where} is inconsistent: the same integration came back twice while "
            "paging; nothing was changed: run again"
        )
    if len(items) != total:
        raise IncompleteRead(
            f"live state of {where} is incomplete: the API reported {total} integrations but "
            f"served {len(items)}; syncer stops before planning so a partial view cannot cause "
            "deletions or duplicates: run again, and report it if it persists"
        )
    return tuple(items)


def read_live(client: LosantClient, application_ids: Sequence[str], *, parallelism: int = 8) -> LiveState:
    """All integrations of each application: ceil(N/1000) list requests per application.

    First pages of all applications run concurrently, then every later page at once.
    """
    apps = list(dict.fromkeys(application_ids))
    if not apps:
        return LiveState({})
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="read") as pool:
        firsts = list(pool.map(lambda app: client.list_page(app, 0), apps))
        later: list[tuple[str, int]] = []
        for app, first in zip(apps, firsts, strict=True):
            total = first.get("totalCount")
            pages = math.ceil(total / MAX_PER_PAGE) if isinstance(total, int) else 1
            later += [(app, page) for page in range(1, pages)]
        rest = list(pool.map(lambda job: client.list_page(job[0], job[1]), later))
    pages_of: dict[str, list[dict[str, Any]]] = {
        app: [first] for app, first in zip(apps, firsts, strict=True)
    }
    for (app, _), page in zip(later, rest, strict=True):
        pages_of[app].append(page)
    return LiveState({app: _check(app, pages_of[app]) for app in apps})


def read_touched(
    client: LosantClient, targets: Sequence[tuple[str, str | None, str]], *, parallelism: int = 8
) -> tuple[LiveState, set[str]]:
    """Only the integrations a saved plan touches: (application, id, name) each; for a create (no
    id), whatever now has its name. Returns them, and the ids that no longer exist."""

    def read(target: tuple[str, str | None, str]) -> tuple[str, list[dict[str, Any]], str | None]:
        app, integration_id, name = target
        if integration_id is None:
            return app, client.find_by_name(app, name), None
        try:
            return app, [client.get(app, integration_id)], None
        except ApiError as exc:
            if exc.status == 404 and exc.api_message == "Integration was not found":
                return app, [], integration_id
            raise

    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="read") as pool:
        found = list(pool.map(read, targets))
    by_app: dict[str, dict[str, dict[str, Any]]] = {app: {} for app, _, _ in targets}
    for app, items, _ in found:
        by_app[app].update({item["id"]: item for item in items})
    gone = {missing for _, _, missing in found if missing}
    return LiveState({app: tuple(items.values()) for app, items in by_app.items()}), gone
