"""What syncer is measured against, each run as a whole process, like syncer:

    python -m benchmarks.baselines TOOL TASK CORPUS_DIR [--url URL]

TOOL
  floor     the least a program can do for the task: the C YAML loader with the garbage
            collector paused while loading (exactly as syncer pauses it), `${env:}` substitution,
            one prebuilt jsonschema-rs `is_valid` per document (syncer's own schema), raw httpx
            list pages of 1,000 (the first page of each application, then the rest 8 at a time,
            as syncer reads), the service credentials of each application (as syncer checks
            credentialName), a plain dict compare; apply PATCHes what differs 8 at a time and
            reads the touched applications again to check, as syncer does.
  sensible  a Losant user's loop with the official losant-rest client, written with care: list
            with perPage 1000, no GET per integration, one request at a time; the files loaded with
            the C loader and `${env:}` substituted, not schema-checked.
  naive     the same loop as most examples write it: list with the default page size (100), GET
            each integration before comparing it.
TASK
  validate  (floor only) load, substitute, check every document; exit 1 if one is invalid
  plan      read and compare, write nothing (the read-only loop)
  apply     read, compare, PATCH only the fields that differ (the sync loop)

Every tool prints one line: what it would change / changed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from syncer.gc_pause import gc_paused
from syncer.losant import API_VERSION

TOKEN = os.environ.get("LOSANT_API_TOKEN", "emulator-token")
_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
Desired = dict[str, dict[str, dict[str, Any]]]  # application -> name -> body


def _substitute(value: Any) -> Any:
    if isinstance(value, str):
        return _REFERENCE.sub(lambda m: os.environ[m.group(1)], value) if "${" in value else value
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _substitute(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = _substitute(item)
    return value


def _documents(corpus: Path) -> Iterator[Any]:
    for path in sorted(corpus.glob("*.yaml")):
        with open(path, "rb") as handle:
            yield _substitute(yaml.load(handle.read().decode(), Loader=yaml.CSafeLoader))


def _grouped(documents: Iterator[Any]) -> Desired:
    desired: Desired = {}
    for doc in documents:
        by_name = desired.setdefault(doc["application"], {})
        for body in doc["integrations"]:
            by_name[body["name"]] = body
    return desired


def load_checked(corpus: Path) -> Desired:
    """The floor's load: GC paused while loading, one prebuilt jsonschema-rs check per document."""
    import jsonschema_rs

    from syncer.schema import file_schema

    validator = jsonschema_rs.Draft202012Validator(file_schema(), validate_formats=True)
    with gc_paused():
        documents = list(_documents(corpus))
        if not all(validator.is_valid(doc) for doc in documents):
            sys.exit("invalid")
        return _grouped(iter(documents))


def _changed(body: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """The fields to PATCH: plain dict compare (integrationType cannot be patched)."""
    return {k: v for k, v in body.items() if k != "integrationType" and live.get(k) != v}


def _compare(
    desired: Desired, live: dict[str, list[dict[str, Any]]]
) -> list[tuple[str, str, dict[str, Any]]]:
    patches = []
    for app, wanted in desired.items():
        by_name = {item["name"]: item for item in live[app]}
        for name, body in wanted.items():
            have = by_name.get(name)
            if have is not None and (patch := _changed(body, have)):
                patches.append((app, have["id"], patch))
    return patches


# --- the floor: httpx --------------------------------------------------------------------------


def _floor_read(client: Any, apps: list[str], with_credentials: bool) -> dict[str, list[dict[str, Any]]]:
    import httpx

    def page(app: str, number: int, resource: str = "integrations") -> dict[str, Any]:
        sort = "id" if resource == "integrations" else "name"
        params = {"perPage": "1000", "sortField": sort, "sortDirection": "asc", "page": str(number)}
        reply = client.get(f"/applications/{app}/{resource}", params=params)
        reply.raise_for_status()
        result: dict[str, Any] = reply.json()
        reply.stream = httpx.ByteStream(b"")  # as syncer does: freed now, the GC being paused
        return result

    with ThreadPoolExecutor(8) as pool:
        firsts = list(pool.map(lambda app: page(app, 0), apps))
        if with_credentials:
            list(pool.map(lambda app: page(app, 0, "credentials"), apps))
        rest = [
            (app, n)
            for app, first in zip(apps, firsts, strict=True)
            for n in range(1, -(-first["totalCount"] // 1000))
        ]
        pages = list(pool.map(lambda job: (job[0], page(*job)), rest))
    live = {app: list(first["items"]) for app, first in zip(apps, firsts, strict=True)}
    for app, body in pages:
        live[app] += body["items"]
    return live


def floor(task: str, corpus: Path, url: str) -> str:
    import httpx

    desired = load_checked(corpus)
    if task == "validate":
        return f"{sum(len(v) for v in desired.values())} valid"
    credentials = any("credentialName" in b for by_name in desired.values() for b in by_name.values())
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept-Version": API_VERSION}
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    with httpx.Client(base_url=url, headers=headers, limits=limits, timeout=60) as client:
        with gc_paused():  # as syncer reads and plans
            patches = _compare(desired, _floor_read(client, list(desired), credentials))
        if task == "plan":
            return f"{len(patches)} to update"

        def send(patch: tuple[str, str, dict[str, Any]]) -> None:
            app, integration_id, body = patch
            client.patch(f"/applications/{app}/integrations/{integration_id}", json=body).raise_for_status()

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(send, patches))
        touched = sorted({app for app, _, _ in patches})
        left = _compare({app: desired[app] for app in touched}, _floor_read(client, touched, False))
        return f"{len(patches)} updated, {len(left)} still differ"


# --- the losant-rest loops -----------------------------------------------------------------------


def loop(task: str, corpus: Path, url: str, *, careful: bool) -> str:
    from losant_rest import Client

    desired = _grouped(_documents(corpus))
    client = Client(auth_token=TOKEN, url=url)
    patched = 0
    for app, wanted in desired.items():
        items: list[dict[str, Any]] = []
        page = 0
        while True:
            if careful:
                listing = client.integrations.get(applicationId=app, page=page, perPage=1000)
            else:
                listing = client.integrations.get(applicationId=app, page=page)  # default page size
            items += listing["items"]
            page += 1
            if not listing["items"] or len(items) >= listing["totalCount"]:
                break
        by_name = {item["name"]: item for item in items}
        for name, body in wanted.items():
            have = by_name.get(name)
            if have is None:
                continue
            if not careful:
                have = client.integration.get(applicationId=app, integrationId=have["id"])
            patch = _changed(body, have)
            if patch and task == "apply":
                client.integration.patch(applicationId=app, integrationId=have["id"], integration=patch)
            patched += bool(patch)
    return f"{patched} {'updated' if task == 'apply' else 'to update'}"


TOOLS: dict[str, Callable[[str, Path, str], str]] = {
    "floor": floor,
    "sensible": lambda task, corpus, url: loop(task, corpus, url, careful=True),
    "naive": lambda task, corpus, url: loop(task, corpus, url, careful=False),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tool", choices=sorted(TOOLS))
    parser.add_argument("task", choices=["validate", "plan", "apply"])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--url", default=os.environ.get("LOSANT_API_URL", ""))
    args = parser.parse_args()
    print(TOOLS[args.tool](args.task, args.corpus, args.url))


if __name__ == "__main__":
    main()
