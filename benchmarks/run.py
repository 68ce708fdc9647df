"""Every benchmark scenario in one run, written to BENCHMARKS.md (issue 7).

    python -m benchmarks.run [--latency-ms 25] [--quick]

The emulator runs in its own process on loopback with injected latency. syncer runs as a user
runs it (a fresh `syncer` process per measurement); the baseline is the loop a Losant user
writes with the official losant-rest client (list with its default page size, GET each
integration, PATCH the full desired body of every entry, one request at a time), measured in
the same run against the same emulator. Medians over several runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.bench_apply import one_run as apply_stage
from benchmarks.bench_validate import ENV as VALIDATE_ENV
from benchmarks.bench_validate import floor as library_floor
from benchmarks.common import APP_IDS, file_bodies, machine, median_time, user_env, write_corpus
from syncer import __version__
from syncer.desired import load_desired
from syncer.emulator.samples import SAMPLE_CREDENTIALS, sample_integration
from syncer.live import LiveState
from syncer.plan import make_plan

ROOT = Path(__file__).parent.parent
PASSWORD = VALIDATE_ENV["BENCH_MQTT_PASSWORD"]


class EmulatorProcess:
    """`syncer emulator` in its own process, driven through its admin API."""

    def __init__(self, latency_ms: float) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "syncer",
                "emulator",
                "--port",
                "0",
                "--admin",
                "--latency",
                str(latency_ms),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().split()[-1]

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_emulator{path}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=120) as response:
            text = response.read()
        return json.loads(text) if text else None

    def seed(self, app: str, bodies: list[dict[str, Any]]) -> None:
        """The integrations, and the service credential they name (after a reset: once)."""
        self.admin("POST", f"/applications/{app}/credentials", SAMPLE_CREDENTIALS)
        for start in range(0, len(bodies), 2000):
            self.admin("POST", f"/applications/{app}/integrations", bodies[start : start + 2000])

    def requests(self) -> int:
        return len(self.admin("GET", "/requests"))

    def clear_log(self) -> None:
        self.admin("DELETE", "/requests")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def live_bodies(files: int, per_file: int, apps: int = 1) -> dict[str, list[dict[str, Any]]]:
    """What Losant holds for a corpus: the same integrations, one in ten of them edited."""
    out: dict[str, list[dict[str, Any]]] = {}
    for f in range(files):
        for i, body in enumerate(file_bodies(f, per_file, PASSWORD)):
            if (f * per_file + i) % 10 == 3:
                body["enabled"] = not body["enabled"]
            out.setdefault(APP_IDS[f % apps], []).append(body)
    return out


@dataclass
class Row:
    scenario: str
    syncer_time: float | None = None
    syncer_requests: int | None = None
    baseline_time: float | None = None
    baseline_requests: int | None = None
    target: str = ""
    ok: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def syncer_process(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "syncer", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 2):
        raise RuntimeError(f"syncer {' '.join(args)} failed: {done.stderr[-500:]}")


def baseline_loop(url: str, app: str, desired: list[dict[str, Any]]) -> None:
    """The hand-written sync a Losant user writes with the official client."""
    from losant_rest import Client

    client = Client(auth_token="emulator-token", url=url)
    items: list[dict[str, Any]] = []
    page = 0
    while True:
        listing = client.integrations.get(applicationId=app, page=page)  # default page size
        items += listing["items"]
        page += 1
        if not listing["items"] or len(items) >= listing["totalCount"]:
            break
    by_name = {item["name"]: item for item in items}
    for body in desired:
        live = by_name.get(body["name"])
        if live is None:
            client.integrations.post(applicationId=app, integration=body)
            continue
        client.integration.get(applicationId=app, integrationId=live["id"])
        patch = {k: v for k, v in body.items() if k != "integrationType"}  # not patchable
        client.integration.patch(applicationId=app, integrationId=live["id"], integration=patch)


def plan_scenario(
    emu: EmulatorProcess, tmp: Path, files: int, per_file: int, apps: int, runs: int, baseline_runs: int
) -> Row:
    total = files * per_file
    label = f"plan, {total:,} integrations" + (
        f" in {apps} applications" if apps > 1 else " in one application"
    )
    emu.admin("POST", "/reset")
    for app, bodies in live_bodies(files, per_file, apps).items():
        emu.seed(app, bodies)
    corpus = write_corpus(tmp / f"plan-{total}-{apps}", files, per_file, apps=apps)
    env = user_env({**VALIDATE_ENV, "LOSANT_API_URL": emu.url, "LOSANT_API_TOKEN": "emulator-token"})
    emu.clear_log()
    syncer_process(["plan", str(corpus)], env)
    row = Row(label, syncer_requests=emu.requests())
    row.syncer_time, _ = median_time(lambda: syncer_process(["plan", str(corpus)], env), runs)
    # per application: ceil(N/1000) pages of integrations, and one page of service credentials
    # (the corpus names one: every credentialName is checked against Losant before any write)
    expected = sum(math.ceil(per_file * files / apps / 1000) + 1 for _ in range(apps))
    if apps == 1 and total == 1000:
        row.target = "2 requests; >= 10x faster and >= 50x fewer requests than the baseline"
    else:
        row.target = f"{expected} requests (ceil(N/1000) + 1 per application)"
    if baseline_runs and apps == 1:
        desired = [b for bodies in live_bodies(files, per_file).values() for b in bodies]
        for body in desired:  # the files' version of the edited ones
            body["enabled"] = sample_integration(int(body["name"].rsplit(" ", 1)[1]))["enabled"]
        emu.clear_log()
        baseline_loop(emu.url, APP_IDS[0], desired)
        row.baseline_requests = emu.requests()
        row.baseline_time, _ = median_time(lambda: baseline_loop(emu.url, APP_IDS[0], desired), baseline_runs)
    elif apps == 1:
        row.note = "baseline not run: its cost grows as 2N requests"
    ok = row.syncer_requests == expected
    if row.baseline_time and row.syncer_time and row.baseline_requests and total == 1000:
        speed, fewer = (
            row.baseline_time / row.syncer_time,
            row.baseline_requests / max(1, row.syncer_requests or 1),
        )
        row.extra = {"faster": speed, "fewer": fewer}
        ok = ok and speed >= 10 and fewer >= 50
    row.ok = ok
    return row


def apply_scenario(updates: int, latency: float, runs: int) -> Row:
    times = [apply_stage(updates, latency, 8) for _ in range(runs)]
    wall = statistics.median(t for t, _ in times)
    floor = (math.ceil(updates / 8) + 1) * latency  # the writes, then one read that checks them
    return Row(
        f"apply, {updates:,} updates (parallelism 8, apply stage)",
        syncer_time=wall,
        syncer_requests=times[0][1],
        target=f"<= 2x the floor (ceil(N/8) + 1) x latency = {floor * 1000:.0f} ms",
        ok=wall <= 2 * floor,
        extra={"floor": floor, "ratio": wall / floor},
    )


def offline_scenario(tmp: Path, runs: int) -> Row:
    corpus = write_corpus(tmp / "offline", 100, 100)
    files = sorted(corpus.glob("*.yaml"))
    live = LiveState(
        {
            APP_IDS[0]: tuple(
                {**body, "id": f"{n:024x}", "lastUpdated": "2026-01-01T00:00:00.000Z"}
                for n, body in enumerate(live_bodies(100, 100)[APP_IDS[0]])
            )
        }
    )
    env = {**os.environ, **VALIDATE_ENV}

    def ours() -> None:
        make_plan(load_desired([str(corpus)], env), live)

    floor, _ = median_time(lambda: library_floor(files), runs)
    wall, _ = median_time(ours, runs)
    return Row(
        "validate + plan, 10,000 integrations offline (live state given)",
        syncer_time=wall,
        target=f"<= 1.5x the library floor ({floor:.2f} s: C YAML loader + one jsonschema pass)",
        ok=wall <= 1.5 * floor,
        extra={"floor": floor, "ratio": wall / floor},
    )


def startup_scenario(runs: int) -> Row:
    syncer_process(["--help"], user_env())  # warm the bytecode cache, as an install does
    wall, _ = median_time(lambda: syncer_process(["--help"], user_env()), runs)
    return Row("start-up: syncer --help", syncer_time=wall, target="< 0.3 s", ok=wall < 0.3)


def memory_scenario(emu: EmulatorProcess, tmp: Path) -> Row:
    emu.admin("POST", "/reset")
    emu.seed(APP_IDS[0], live_bodies(100, 100)[APP_IDS[0]])
    corpus = tmp / "plan-10000-1"
    if not corpus.exists():
        write_corpus(corpus, 100, 100)
    out = tmp / "maxrss"
    code = (
        "import resource, sys\nfrom syncer.cli import main\n"
        f"sys.argv = ['syncer', 'plan', {str(corpus)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"open({str(out)!r}, 'w').write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
    )
    env = user_env({**VALIDATE_ENV, "LOSANT_API_URL": emu.url, "LOSANT_API_TOKEN": "emulator-token"})
    subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
    peak_mib = int(out.read_text()) / 1024
    return Row(
        "peak memory, syncer plan of 10,000 integrations",
        note=f"{peak_mib:.0f} MiB peak RSS",
        extra={"mib": peak_mib},
    )


def _fmt_time(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def write_report(rows: list[Row], path: Path, latency_ms: float, runs: dict[str, int], elapsed: float) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python -m benchmarks.run` on {datetime.now(UTC):%Y-%m-%d}, syncer {__version__}.",
        "",
        f"- Machine: {machine()}",
        f"- Emulator: its own process on loopback, {latency_ms:g} ms injected latency per request",
        "- Python's bytecode cache on, as after `pip install` (this machine sets PYTHONDONTWRITEBYTECODE)",
        f"- Medians over {runs['syncer']} runs for syncer (3 for the largest cases), "
        f"{runs['baseline']} for the baseline; every syncer measurement is a whole `syncer` process, "
        "start-up included, except the apply and offline rows (the stage itself)",
        "- Baseline: the loop a Losant user writes with the official `losant-rest` client: list with its "
        "default page size (100), GET each integration, PATCH the full desired body of every entry, one "
        "request at a time",
        f"- The whole run took {elapsed / 60:.1f} minutes",
        "",
        "| Scenario | syncer | requests | baseline | requests | ratio | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = ""
        if "faster" in row.extra:
            ratio = f"{row.extra['faster']:.0f}x faster, {row.extra['fewer']:.0f}x fewer requests"
        elif "ratio" in row.extra:
            ratio = f"{row.extra['ratio']:.2f}x the floor"
        elif row.baseline_time and row.syncer_time:
            ratio = f"{row.baseline_time / row.syncer_time:.0f}x faster"
        syncer_cell = row.note if row.syncer_time is None else _fmt_time(row.syncer_time)
        met = "" if row.ok is None else ("yes" if row.ok else "**no**")
        note = f" ({row.note})" if row.note and row.syncer_time is not None else ""
        ours = "-" if row.syncer_requests is None else row.syncer_requests
        theirs = "-" if row.baseline_requests is None else row.baseline_requests
        lines.append(
            f"| {row.scenario}{note} | {syncer_cell} | {ours} | {_fmt_time(row.baseline_time)} | {theirs} "
            f"| {ratio} | {row.target} | {met} |"
        )
    lines += [
        "",
        "How syncer gets there: one list request per 1,000 integrations (no GET per integration), "
        "a type-strict comparison that PATCHes only what differs (deepdiff only renders the few that "
        "differ), the C YAML loader with the garbage collector paused while loading, validators built "
        "once, heavy modules imported lazily, and requests in parallel behind one shared rate limiter.",
        "",
    ]
    text = "\n".join(lines)
    path.write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, default=25)
    parser.add_argument(
        "--quick", action="store_true", help="fewer runs, no baseline at 1,000 (a smoke test)"
    )
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    runs = {"syncer": 3 if args.quick else 5, "baseline": 1 if args.quick else 3}
    latency = args.latency_ms / 1000
    started = time.perf_counter()
    rows: list[Row] = []
    emu = EmulatorProcess(args.latency_ms)
    steps: list[Callable[[], Row]] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        steps = [
            lambda: plan_scenario(emu, tmp, 1, 100, 1, runs["syncer"], runs["baseline"]),
            lambda: plan_scenario(
                emu, tmp, 10, 100, 1, runs["syncer"], 0 if args.quick else runs["baseline"]
            ),
            lambda: plan_scenario(emu, tmp, 100, 100, 1, 3, 0),
            lambda: plan_scenario(emu, tmp, 100, 100, 10, 3, 0),
            lambda: apply_scenario(10, latency, runs["syncer"]),
            lambda: apply_scenario(100, latency, runs["syncer"]),
            lambda: apply_scenario(1000, latency, 3),
            lambda: offline_scenario(tmp, 3),
            lambda: startup_scenario(10),
            lambda: memory_scenario(emu, tmp),
        ]
        try:
            for step in steps:
                row = step()
                rows.append(row)
                print(
                    f"{row.scenario}: syncer {_fmt_time(row.syncer_time)} ({row.syncer_requests} requests), "
                    f"baseline {_fmt_time(row.baseline_time)} ({row.baseline_requests} requests) {row.note} "
                    f"{'' if row.ok is None else 'OK' if row.ok else 'MISS'}",
                    flush=True,
                )
        finally:
            emu.close()
    _extrapolate_baseline(rows)
    print(write_report(rows, Path(args.out), args.latency_ms, runs, time.perf_counter() - started))


def _extrapolate_baseline(rows: list[Row]) -> None:
    """Where the baseline was too slow to run, say what it would cost, from its N=1,000 run."""
    measured = next((r for r in rows if r.scenario.startswith("plan, 1,000 ") and r.baseline_time), None)
    if measured is None or measured.baseline_time is None or measured.baseline_requests is None:
        return
    for row in rows:
        if row.note.startswith("baseline not run") and row.scenario.startswith("plan, 10,000"):
            minutes = measured.baseline_time * 10 / 60
            row.note = (
                f"baseline not run: about {measured.baseline_requests * 10:,} requests and "
                f"{minutes:.0f} minutes, extrapolated from N=1,000"
            )


if __name__ == "__main__":
    main()
