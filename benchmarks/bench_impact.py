"""What issue 16 adds to a run, in requests and time, against the emulator with injected latency.

1. Workflow impact: `syncer plan --prune` of one application of N integrations, K of which no
   file declares (so K deletions), with workflows seeded; the requests are counted from the
   emulator's log. Claim: K = 0 costs what a plan cost before (one list read per 1,000
   integrations); each 100 deletions add one request.
2. `apply --wait`: U updates in each of A applications, integrations connecting D seconds after
   the write; the list reads made while waiting are counted. Claim: one list read per
   application per poll (2 s), whatever U.
Whole processes (`python -m syncer`), medians of --runs runs; like against like: the same plan
with and without deletions, the same apply with and without --wait.
Run: python -m benchmarks.bench_impact [--integrations 1000] [--latency-ms 25] [--runs 3]
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import APP_IDS, bench_options, median_time
from syncer.emulator.api import DEFAULT_TOKEN, Emulator, EmulatorConfig
from syncer.emulator.samples import SAMPLE_CREDENTIALS, sample_integration
from syncer.emulator.server import RunningEmulator


def _syncer(args: list[str], url: str) -> None:
    env = {**os.environ, "LOSANT_API_URL": url, "LOSANT_API_TOKEN": DEFAULT_TOKEN, "BENCH": "1"}
    env.pop("GITHUB_ACTIONS", None)
    done = subprocess.run([sys.executable, "-m", "syncer", *args], env=env, capture_output=True, text=True)
    if done.returncode not in (0, 2):
        raise RuntimeError(f"syncer {' '.join(args)} failed: {done.stderr[-500:]}")


def _files(root: Path, bodies: dict[str, list[dict[str, Any]]]) -> str:
    root.mkdir(parents=True, exist_ok=True)
    for n, (app, items) in enumerate(bodies.items()):
        (root / f"app-{n}.yaml").write_text(yaml.safe_dump({"application": app, "integrations": items}))
    return str(root)


def impact(total: int, removed: int, latency: float, runs: int, tmp: Path) -> tuple[int, int, float]:
    """(requests, of which workflow queries, median seconds) of a plan deleting `removed`."""
    app = APP_IDS[0]
    bodies = [sample_integration(i, "particle") for i in range(total)]
    emulator = Emulator(EmulatorConfig(applications=(app,), latency=latency))
    records = emulator.seed(app, bodies)
    emulator.seed_credentials(app, SAMPLE_CREDENTIALS)
    emulator.seed_flows(
        app,
        [
            {"name": f"uses {r['name']}", "triggers": [{"type": "integration", "key": r["id"]}]}
            for r in records[:50]
        ],
    )
    files = _files(tmp / f"impact-{removed}", {app: bodies[removed:]})
    args = ["plan", files, "--prune", "--max-deletes", str(total), "--allow-breaking-workflows"]
    with RunningEmulator(emulator) as running:
        emulator.log.clear()
        _syncer(args, running.url)
        requests = len(emulator.log)
        queries = sum(1 for r in emulator.log if str(r["path"]).endswith("/flows"))
        seconds, _ = median_time(lambda: _syncer(args, running.url), runs)
    return requests, queries, seconds


def waiting(updates: int, apps: int, delay: float, latency: float, tmp: Path) -> tuple[int, int, float]:
    """(list reads while waiting, polls expected at most, seconds) of an apply --wait."""
    chosen = APP_IDS[:apps]
    emulator = Emulator(EmulatorConfig(applications=tuple(chosen), latency=latency, connect_delay=delay))
    live = {app: [sample_integration(i, "particle") for i in range(updates)] for app in chosen}
    for app, items in live.items():
        emulator.seed(app, items)
    wanted = {app: [{**b, "enabled": not b["enabled"]} for b in items] for app, items in live.items()}
    files = _files(tmp / f"wait-{updates}-{apps}", wanted)
    with RunningEmulator(emulator) as running:
        emulator.log.clear()
        seconds, _ = median_time(
            lambda: _syncer(["apply", files, "--auto-approve", "--wait", "60"], running.url), 1
        )
        lists = sum(
            1 for r in emulator.log if r["method"] == "GET" and str(r["path"]).endswith("/integrations")
        )
    polls = lists - 2 * apps  # one read of each application to plan, one to verify the writes
    return polls, apps * (math.ceil(delay / 2.0) + 1), seconds


def main() -> None:
    args = bench_options(integrations=1000, latency_ms=25, runs=3)
    latency = args.latency_ms / 1000
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        base = None
        for removed in (0, 1, 100, 250):
            requests, queries, seconds = impact(args.integrations, removed, latency, args.runs, tmp)
            base = requests if base is None else base
            expected = math.ceil(removed / 100)
            print(
                f"plan, {args.integrations:,} integrations, {removed} deletions: {requests} requests "
                f"({queries} workflow queries, expected {expected}; {requests - base} more than with none), "
                f"{seconds:.2f} s  {'OK' if queries == expected and requests - base == expected else 'MISS'}"
            )
        for updates, apps in ((10, 1), (100, 2)):
            polls, most, seconds = waiting(updates, apps, 3.0, latency, tmp)
            print(
                f"apply --wait, {updates} updates in each of {apps} application(s), connecting 3 s after the "
                f"write: {polls} list reads while waiting (at most {most}: one per application per poll), "
                f"{seconds:.2f} s  {'OK' if 0 < polls <= most else 'MISS'}"
            )


if __name__ == "__main__":
    main()
