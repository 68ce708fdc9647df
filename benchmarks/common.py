"""Shared helpers for the benchmark scripts: corpora, timing, machine description."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from syncer.emulator.samples import sample_integration

APP_IDS = [f"{i:024x}" for i in range(0xA0, 0xA0 + 100)]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def file_bodies(f: int, per_file: int, password: str) -> list[dict[str, Any]]:
    """The integrations of the corpus's file number `f`, every MQTT password set to `password`."""
    bodies = [sample_integration(f * per_file + i) for i in range(per_file)]
    for body in bodies:
        if body["integrationType"] == "mqtt":
            body["mqttConfig"]["password"] = password
    return bodies


def bench_options(**defaults: int) -> argparse.Namespace:
    """The script's options, one integer --OPTION per keyword (default as given); then the
    machine line every benchmark report starts with."""
    parser = argparse.ArgumentParser()
    for name, default in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    return args


def write_corpus(root: Path, files: int, per_file: int, *, apps: int = 1, broken: bool = False) -> Path:
    """`files` YAML files of `per_file` integrations each, spread over `apps` applications.

    With `broken`, every tenth entry carries a mistake (wrong type, unknown field).
    """
    root.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        entries = file_bodies(f, per_file, "${env:BENCH_MQTT_PASSWORD}")
        for body in entries[::10] if broken else []:
            body["enabled"] = "yes please"
            body["colour"] = "red"
        doc = {"application": APP_IDS[f % apps], "integrations": entries}
        text = yaml.safe_dump(doc, sort_keys=False, width=120)
        (root / f"file-{f:04d}.yaml").write_text(text)
    return root


def median_time(run: Callable[[], Any], repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def user_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a user's shell has: Python's bytecode cache on (as after `pip install`),
    even where this machine turns it off with PYTHONDONTWRITEBYTECODE."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **(extra or {})}


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncer", *args],
        capture_output=True,
        text=True,
        env=user_env(env),
        check=False,
    )
