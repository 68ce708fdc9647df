"""Every benchmark scenario in one run, written to BENCHMARKS.md (issues 7 and 18).

    python -m benchmarks.run [--quick] [--latency-ms 25] [--runs 5] [--out BENCHMARKS.md]

Like for like only: syncer's read-only `plan` against read-only loops, `apply` against sync loops
that write only what changed, `validate` against a program that only validates. Every figure is a
whole process (`python -m ...`, start-up included), the tools taking turns run by run (A/B
alternated), each measured --runs times: medians, with min-max. The emulator runs in its own
process on loopback with injected latency; request counts come from its log; peak RSS from the
kernel (wait4). The corpus and the baselines are described in benchmarks/corpus.py and
benchmarks/baselines.py.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import corpus
from benchmarks.common import machine, user_env
from syncer import __version__

ROOT = Path(__file__).parent.parent
TOKEN = "emulator-token"
KEEP_MARKER = "<!-- written by hand below this line: benchmarks.run keeps it -->"
APPS = 5


class EmulatorProcess:
    """`syncer emulator` in its own process, driven through its admin API."""

    def __init__(self, latency_ms: float) -> None:
        command = [sys.executable, "-m", "syncer", "emulator", "--port", "0", "--admin"]
        self.process = subprocess.Popen(
            [*command, "--latency", str(latency_ms)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().split()[-1]

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_emulator{path}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=300) as response:
            text = response.read()
        return json.loads(text) if text else None

    def seed(self, app: str, bodies: list[dict[str, Any]]) -> None:
        """The integrations, and the service credential they name (after a reset: once)."""
        self.admin("POST", f"/applications/{app}/credentials", corpus.CREDENTIALS)
        for start in range(0, len(bodies), 2000):
            self.admin("POST", f"/applications/{app}/integrations", bodies[start : start + 2000])

    def load(self, total: int, apps: int) -> None:
        """Losant holding the corpus of `total` integrations (5 % drifted), and nothing else."""
        self.admin("POST", "/reset")
        for app, bodies in corpus.live(total, apps).items():
            self.seed(app, bodies)

    def requests(self) -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = self.admin("GET", "/requests")
        return log

    def clear_log(self) -> None:
        self.admin("DELETE", "/requests")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass
class Measured:
    """One tool's runs of one scenario."""

    times: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    stage: list[float] = field(default_factory=list)
    requests: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def shown(self) -> str:
        return _span(self.times)


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _span(values: Sequence[float]) -> str:
    return f"{_fmt(statistics.median(values))} ({_fmt(min(values))}-{_fmt(max(values))})"


# Linux reports, as a child's peak RSS, at least its parent's RSS at the fork (exec keeps it):
# each process is started by GNU time, a small C program, so the figure is the process's own
TIME = shutil.which("time", path="/usr/bin:/bin")


def whole_process(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and peak RSS (MiB; 0 without GNU time) of one process, from start to exit."""
    with tempfile.TemporaryDirectory() as name:
        rss_file, errors = Path(name) / "rss", Path(name) / "errors"
        wrapped = [TIME, "-f", "%M", "-o", str(rss_file), *command] if TIME else command
        with open(errors, "wb") as err:
            start = time.perf_counter()
            done = subprocess.run(
                wrapped, env=env, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, check=False
            )
            elapsed = time.perf_counter() - start
        if done.returncode not in (0, 2):
            raise RuntimeError(f"{' '.join(command[1:])} failed: {errors.read_text()[-800:]}")
        peak_kib = int(rss_file.read_text().split()[-1]) if TIME else 0
    return elapsed, peak_kib / 1024


def _requests(log: list[dict[str, Any]]) -> str:
    writes = sum(1 for entry in log if entry["method"] != "GET")
    return f"{len(log)}" + (f" ({writes} PATCH)" if writes else "")


def compare(
    commands: dict[str, list[str]],
    env: dict[str, str],
    runs: int | dict[str, int],
    emu: EmulatorProcess | None = None,
    before_each: Callable[[], None] | None = None,
    stage_file: Path | None = None,
) -> dict[str, Measured]:
    """Each command `runs` times, taking turns (the order rotates every round), after one
    unmeasured warm-up each (bytecode and page cache, as for a user's second run)."""
    out = {name: Measured() for name in commands}
    counts = runs if isinstance(runs, dict) else dict.fromkeys(commands, runs)
    names = list(commands)
    for name in names:  # warm-up, and the request count from the emulator's log
        if before_each:
            before_each()
        if emu:
            emu.clear_log()
        whole_process(commands[name], env)
        if emu:
            out[name].requests = _requests(emu.requests())
    for round_number in range(max(counts.values())):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            if len(out[name].times) >= counts[name]:
                continue
            if before_each:
                before_each()
            elapsed, rss = whole_process(commands[name], env)
            out[name].times.append(elapsed)
            out[name].rss_mib.append(rss)
            if stage_file is not None and name == "syncer" and stage_file.exists():
                out[name].stage.append(float(stage_file.read_text()))
                stage_file.unlink()
    return out


def _ratio(ours: Measured, theirs: Measured | None) -> str:
    return "-" if theirs is None or not theirs.times else f"{ours.median / theirs.median:.2f}x"


def _rss(measured: Measured) -> str:
    return f"{statistics.median(measured.rss_mib):.0f}"


def _baseline(tool: str, task: str, root: Path) -> list[str]:
    return [sys.executable, "-m", "benchmarks.baselines", tool, task, str(root)]


def _contenders(
    task: str, root: Path, ours: list[str], runs: int, naive_runs: int
) -> tuple[dict[str, list[str]], dict[str, int]]:
    """syncer and the baselines for one task, and how many runs each (the naive loop: fewer)."""
    commands = {"syncer": ours, **{tool: _baseline(tool, task, root) for tool in ("floor", "sensible")}}
    counts = dict.fromkeys(commands, runs)
    if naive_runs:
        commands["naive"] = _baseline("naive", task, root)
        counts["naive"] = naive_runs
    return commands, counts


def _served(emu: EmulatorProcess, **extra: str) -> dict[str, str]:
    """The environment of a run against the emulator: the corpus's variables, URL and token."""
    return user_env(
        {**corpus.environment(APPS), "LOSANT_API_URL": emu.url, "LOSANT_API_TOKEN": TOKEN, **extra}
    )


@dataclass
class Report:
    latency_ms: float
    runs: int  # of each tool in each scenario (start-up aside), as the report says
    sections: list[str] = field(default_factory=list)
    targets: list[tuple[str, str, bool | None]] = field(default_factory=list)

    def target(self, what: str, measured: str, met: bool | None) -> None:
        self.targets.append((what, measured, met))
        print(f"target: {what}: {measured} {'' if met is None else 'MET' if met else 'NOT MET'}", flush=True)

    def section(self, title: str, about: str, columns: str, rows: list[str]) -> None:
        """A section: its heading, what it measures, then its table (`columns` the header's cells,
        "a | b | c") and its rows, and whatever follows them."""
        header = [f"## {title}", "", about, "", f"| {columns} |", "|---" * (columns.count("|") + 1) + "|"]
        self.sections.append("\n".join(header + rows))


# the cells that end a row of plan and of apply: syncer against each baseline, then requests
AGAINST_BASELINES = (
    "syncer / floor | syncer / sensible | syncer / naive | requests syncer, floor, sensible, naive"
)


def _against_baselines(got: dict[str, Measured]) -> str:
    ours = got["syncer"]
    requests = ", ".join(
        got[k].requests if k in got else "-" for k in ("syncer", "floor", "sensible", "naive")
    )
    ratios = [_ratio(ours, got.get(k)) for k in ("floor", "sensible", "naive")]
    return " | ".join([*ratios, requests])


# --- scenarios ---------------------------------------------------------------------------------


def validate_rows(tmp: Path, sizes: list[int], report: Report) -> None:
    env = user_env(corpus.environment(APPS))
    rows: list[str] = []
    layouts = [("one file of 10,000 (1 application)", 10_000, 1, "one-file")]
    layouts += [("100 files of 100 (1 application)", 10_000, 1, "many-files")]
    for total in sizes:
        layouts += [(f"one file per application ({APPS})", total, APPS, "one-file")]
        layouts += [("files of 100", total, APPS, "many-files")]
    medians: dict[tuple[int, int, str], float] = {}
    for label, total, apps, layout in layouts:
        root = corpus.write(tmp / f"validate-{total}-{apps}-{layout}", total, apps, layout)
        got = compare(
            {
                "syncer": [sys.executable, "-m", "syncer", "validate", str(root)],
                "floor": _baseline("floor", "validate", root),
            },
            user_env(corpus.environment(apps)) if apps != APPS else env,
            report.runs,
        )
        ours, floor = got["syncer"], got["floor"]
        medians[(total, apps, layout)] = ours.median
        rows.append(
            f"| {total:,} | {label} | {ours.shown()} | {floor.shown()} | {_ratio(ours, floor)} "
            f"| {_rss(ours)} / {_rss(floor)} MiB |"
        )
        print(rows[-1], flush=True)
        if total == 10_000 and apps == APPS and layout == "many-files":
            report.target("validate 10,000, whole process <= 1.0 s", ours.shown(), ours.median <= 1.0)
            ratio = ours.median / floor.median
            report.target("validate 10,000 within 2x of the floor", f"{ratio:.2f}x", ratio <= 2.0)
    one, many = medians[(10_000, 1, "one-file")], medians[(10_000, 1, "many-files")]
    report.target(
        "10,000 entries in ONE file validate within 1.2x of the same over 100 files",
        f"{one / many:.2f}x ({_fmt(one)} vs {_fmt(many)})",
        one / many <= 1.2,
    )
    rows += ["", *stage_linearity(tmp, report)]
    report.section(
        "validate (offline), whole process",
        "syncer validate against the floor: the C loader, the garbage collector paused while loading, "
        "`${env:}` substituted, one prebuilt jsonschema-rs `is_valid` per document.",
        "integrations | layout | syncer | floor | syncer / floor | peak RSS syncer / floor",
        rows,
    )


def stage_linearity(tmp: Path, report: Report) -> list[str]:
    """Load and check of one file of 10,000 and of 50,000 entries, in-process (the CLI refuses a
    file over 5 MiB, about 18,000 entries, so 50,000 in one file is measured at the stage)."""
    from syncer.desired import check_file
    from syncer.gc_pause import gc_paused
    from syncer.load import load_yaml

    env = corpus.environment(1)
    per: dict[int, float] = {}
    for total in (10_000, 50_000):
        root = corpus.write(tmp / f"stage-{total}", total, 1, "one-file")
        raw = (root / "app-0.yaml").read_bytes()
        times = []
        for _ in range(report.runs):
            gc.collect()
            start = time.perf_counter()
            with gc_paused():
                result = check_file(load_yaml("app-0.yaml", raw), env)
            times.append(time.perf_counter() - start)
            assert len(result.integrations) == total
            del result
        per[total] = statistics.median(times) / total
    growth = per[50_000] / per[10_000]
    report.target(
        "50,000 entries in one file: cost per integration within 10 % of 10,000 (load + check stage)",
        f"{per[10_000] * 1e6:.1f} vs {per[50_000] * 1e6:.1f} us per integration ({growth:.2f}x)",
        growth <= 1.10,
    )
    return [
        "Linear in entries per file (load + check of one file, in-process, GC paused as syncer does; "
        "the CLI refuses a file over 5 MiB, about 18,000 entries):",
        "",
        f"- 10,000 entries: {per[10_000] * 1e6:.1f} us per integration",
        f"- 50,000 entries: {per[50_000] * 1e6:.1f} us per integration ({growth:.2f}x)",
    ]


def plan_rows(emu: EmulatorProcess, tmp: Path, sizes: list[int], naive_runs: int, report: Report) -> None:
    rows: list[str] = []
    per_integration: dict[int, float] = {}
    cases = [(total, "many-files") for total in sizes]
    cases.insert(2 if len(sizes) > 2 else len(cases), (10_000, "one-file"))
    for total, layout in cases:
        root = corpus.write(tmp / f"plan-{total}-{layout}", total, APPS, layout)
        emu.load(total, APPS)
        ours_command = [sys.executable, "-m", "syncer", "plan", str(root)]
        commands, counts = _contenders(
            "plan", root, ours_command, report.runs, naive_runs if total <= 1_000 else 0
        )
        got = compare(commands, _served(emu), counts, emu)
        ours = got["syncer"]
        shown = {k: (v.shown() if v.times else "not run") for k, v in got.items()}
        naive_cell = shown.get("naive", f"not run (~{2 * total:,} requests)")
        rows.append(
            f"| {total:,} | {'one file per application' if layout == 'one-file' else 'files of 100'} "
            f"| {shown['syncer']} | {shown['floor']} | {shown['sensible']} | {naive_cell} "
            f"| {_against_baselines(got)} | {_rss(ours)} / {_rss(got['floor'])} MiB |"
        )
        print(rows[-1], flush=True)
        if total == 10_000 and layout == "many-files":
            ratio = ours.median / got["floor"].median
            report.target("plan 10,000, whole process <= 1.15x the floor", f"{ratio:.2f}x", ratio <= 1.15)
            report.target("plan 10,000, whole process <= 1.6 s", ours.shown(), ours.median <= 1.6)
        if layout == "many-files":
            per_integration[total] = ours.median / total
        if total == 50_000 and layout == "many-files":
            peak = max(ours.rss_mib)
            report.target("plan 50,000: peak RSS <= 250 MiB", f"{peak:.0f} MiB", peak <= 250)
            growth = per_integration[50_000] / per_integration[10_000]
            report.target(
                "plan 50,000 in linear time (whole process, per integration, against 10,000)",
                f"{per_integration[10_000] * 1e6:.0f} vs {per_integration[50_000] * 1e6:.0f} us "
                f"({growth:.2f}x)",
                growth <= 1.10,
            )
    report.section(
        "plan (read-only), whole process",
        "syncer plan against loops that only read and compare: the floor (httpx, pages of 1,000, 8 "
        "at a time), the sensible losant-rest loop (perPage 1000), the naive losant-rest loop "
        "(default pages of 100, GET each integration). Ratios: syncer's time over theirs (below 1: "
        "syncer is faster).",
        "integrations | layout | syncer | floor | sensible loop | naive loop | "
        f"{AGAINST_BASELINES} | peak RSS syncer / floor",
        rows,
    )


def apply_rows(emu: EmulatorProcess, tmp: Path, sizes: list[int], naive_runs: int, report: Report) -> None:
    rows: list[str] = []
    stage_file = tmp / "stage.txt"
    for total in sizes:
        root = corpus.write(tmp / f"apply-{total}", total, APPS, "many-files")
        ours_command = [sys.executable, "-m", "benchmarks.timed", "apply", "--auto-approve", str(root)]
        commands, counts = _contenders(
            "apply", root, ours_command, report.runs, naive_runs if total <= 2_000 else 0
        )
        reseed = functools.partial(emu.load, total, APPS)
        env = _served(emu, BENCH_STAGE_FILE=str(stage_file))
        got = compare(commands, env, counts, emu, before_each=reseed, stage_file=stage_file)
        ours, naive = got["syncer"], got.get("naive")
        naive_cell = naive.shown() if naive else f"not run (~{total + corpus.drifted(total):,} requests)"
        rows.append(
            f"| {total:,} | {corpus.drifted(total):,} | {ours.shown()} | {_span(ours.stage)} "
            f"| {got['floor'].shown()} | {got['sensible'].shown()} | {naive_cell} "
            f"| {_against_baselines(got)} |"
        )
        print(rows[-1], flush=True)
        if corpus.drifted(total) == 100:
            ratio = ours.median / got["floor"].median
            report.target(
                "apply 100 updates at 25 ms, whole process <= 1.15x the floor", f"{ratio:.2f}x", ratio <= 1.15
            )
    report.section(
        "apply (sync), whole process and stage",
        "Every tool starts from the same Losant (reseeded before each run: 5 % of the integrations "
        "drifted) and PATCHes only what differs. syncer and the floor write 8 at a time and read "
        "the touched applications again to check; the losant-rest loops write one at a time and "
        "do not check. Stage: syncer's apply stage alone (the writes and the read that checks "
        "them), measured inside the same process.",
        "integrations | updates | syncer | syncer's apply stage | floor | sensible loop | naive loop | "
        + AGAINST_BASELINES,
        rows,
    )


def startup_rows(runs: int, report: Report) -> None:
    env = user_env()
    got = compare(
        {
            "syncer --help": [str(Path(sys.executable).with_name("syncer")), "--help"],  # pip's script
            "python -c pass": [sys.executable, "-c", "pass"],
        },
        env,
        runs,
    )
    ours = got["syncer --help"]
    report.target("syncer --help < 60 ms", ours.shown(), ours.median < 0.060)
    report.sections.append(
        "\n".join(
            [
                "## start-up",
                "",
                f"- `syncer --help`: {ours.shown()}",
                f"- `python -c pass` on the same machine: {got['python -c pass'].shown()}",
            ]
        )
    )


def write_report(report: Report, path: Path, elapsed: float, quick: bool) -> str:
    kept = ""
    if path.exists() and KEEP_MARKER in path.read_text():
        kept = path.read_text().split(KEEP_MARKER, 1)[1]
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python -m benchmarks.run{' --quick' if quick else ''}` on "
        f"{datetime.now(UTC):%Y-%m-%d}, syncer {__version__}, in {elapsed / 60:.1f} minutes.",
        "",
        f"- Machine: {machine()}",
        f"- Emulator: its own process on loopback, {report.latency_ms:g} ms injected latency per request",
        f"- Every figure is a whole process (start-up included), median (min-max) of {report.runs} runs "
        "(the naive loop: fewer, it is slow), the tools taking turns run by run; Python's bytecode "
        "cache on, as after `pip install`",
        "- Corpus (benchmarks/corpus.py): 5 applications, all six integration types, every secret a "
        "`${env:...}` reference, the Pub/Sub entries naming a service credential (seeded), 5 % "
        "drifted live (enabled flipped, a config field or a topic changed)",
        "- Baselines (benchmarks/baselines.py): the floor is the least a program can do for the same "
        "task (C loader, GC paused while loading as syncer does, the same jsonschema-rs check, raw "
        "httpx pages, plain dict compare); the losant-rest loops load the same files (C loader, "
        "`${env:}` substituted) but check nothing: the naive one lists with the default page size "
        "and GETs each integration, the sensible one lists 1,000 per page; both are sequential",
        "",
        "## Targets (issue 18)",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for what, measured, met in report.targets:
        lines.append(f"| {what} | {measured} | {'' if met is None else 'yes' if met else '**no**'} |")
    lines.append("")
    for section in report.sections:
        lines += [section, ""]
    text = "\n".join(lines) + KEEP_MARKER + (kept or "\n")
    path.write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, default=25)
    parser.add_argument(
        "--quick", action="store_true", help="N = 1,000 and 10,000 only, 3 runs, no naive loop"
    )
    parser.add_argument("--runs", type=int, default=0, help="runs per tool (default 5, or 3 with --quick)")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 5)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 50_000]
    naive_runs = 0 if args.quick else 3
    report = Report(args.latency_ms, runs)
    started = time.perf_counter()
    emu = EmulatorProcess(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            startup_rows(10, report)
            validate_rows(tmp, sizes, report)
            plan_rows(emu, tmp, sizes, naive_runs, report)
            apply_rows(emu, tmp, [2_000] if args.quick else [2_000, 10_000], naive_runs, report)
    finally:
        emu.close()
    print(write_report(report, Path(args.out), time.perf_counter() - started, args.quick))


if __name__ == "__main__":
    main()
