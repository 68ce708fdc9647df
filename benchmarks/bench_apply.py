"""Apply speed (issue 5): N updates at parallelism 8 against the emulator with injected latency.

Wall time of the apply stage (the writes, then the one read per application that checks them),
against the floor ceil(N/8) x latency + one list.
Run: python -m benchmarks.bench_apply [--updates 100] [--latency-ms 25]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from benchmarks.common import machine
from syncer._http import HttpSession
from syncer.apply import ApplyRun
from syncer.client import LosantClient
from syncer.emulator.api import DEFAULT_TOKEN, Emulator, EmulatorConfig
from syncer.emulator.samples import sample_integration
from syncer.emulator.server import RunningEmulator
from syncer.live import read_live
from syncer.plan import make_plan
from tests.builders import APP, desired


def one_run(updates: int, latency: float, parallelism: int) -> tuple[float, int]:
    emulator = Emulator(EmulatorConfig(applications=(APP,), latency=latency))
    bodies = [sample_integration(i) for i in range(updates)]
    emulator.seed(APP, bodies)
    wanted = desired(*[{**b, "enabled": not b["enabled"]} for b in bodies])
    with RunningEmulator(emulator) as running, HttpSession(running.url, DEFAULT_TOKEN) as session:
        client = LosantClient(session)
        plan = make_plan(wanted, read_live(client, [APP]))
        assert len(plan.changes) == updates
        emulator.log.clear()
        start = time.perf_counter()
        run = ApplyRun(client, plan.changes, parallelism=parallelism)
        run.write()
        result = run.result(run.verify(wanted, prune=False))
        elapsed = time.perf_counter() - start
        assert result.converged is True
        return elapsed, len(emulator.log)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=25)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    floor = (math.ceil(args.updates / args.parallelism) + 1) * latency
    runs = [one_run(args.updates, latency, args.parallelism) for _ in range(args.repeat)]
    wall = statistics.median(t for t, _ in runs)
    requests = runs[0][1]
    print(f"machine: {machine()}")
    print(
        f"{args.updates} updates, parallelism {args.parallelism}, latency {args.latency_ms:g} ms: "
        f"median {wall * 1000:.0f} ms over {args.repeat} runs, {requests} requests; "
        f"floor {floor * 1000:.0f} ms, ratio {wall / floor:.2f}x (target <= 2x) "
        f"{'OK' if wall <= 2 * floor else 'MISS'}"
    )


if __name__ == "__main__":
    main()
