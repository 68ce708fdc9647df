"""Validate speed (issue 2): whole-process time for 1,000 integrations, and 10,000 against the
library floor (PyYAML's C loader + one pass of a prebuilt jsonschema validator, same files).

Run: python -m benchmarks.bench_validate
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from benchmarks.common import bench_options, median_time, run_cli, write_corpus
from syncer.desired import load_desired
from syncer.schema import file_schema

ENV = {"BENCH_MQTT_PASSWORD": "bench-password"}


def floor(paths: list[Path]) -> None:
    validator = Draft202012Validator(file_schema())
    for path in paths:
        with open(path, "rb") as handle:
            doc = yaml.load(handle.read().decode(), Loader=yaml.CSafeLoader)
        list(validator.iter_errors(doc))


def main() -> None:
    args = bench_options(repeat=5)
    with tempfile.TemporaryDirectory() as tmp:
        small = write_corpus(Path(tmp) / "small", 10, 100)
        large = write_corpus(Path(tmp) / "large", 100, 100)
        broken = write_corpus(Path(tmp) / "broken", 100, 100, broken=True)
        env = {**os.environ, **ENV}

        def cli_small() -> None:
            result = run_cli("validate", str(small), env=ENV)
            assert result.returncode == 0, result.stderr

        cli_small()  # warm the bytecode cache once, as the first run after an install does
        t_small, all_small = median_time(cli_small, args.repeat)
        print(
            f"syncer validate, 1,000 integrations (10 files), whole process: {t_small:.3f} s "
            f"(fastest {min(all_small):.3f} s) "
            f"(target < 0.5 s) {'OK' if t_small < 0.5 else 'MISS'}"
        )

        files = sorted(large.glob("*.yaml"))
        t_floor, _ = median_time(lambda: floor(files), args.repeat)
        t_ours, _ = median_time(lambda: load_desired([str(large)], env), args.repeat)
        ratio = t_ours / t_floor
        print(
            f"10,000 integrations (100 files): floor {t_floor:.3f} s, syncer {t_ours:.3f} s, "
            f"ratio {ratio:.2f}x (target <= 1.3x) {'OK' if ratio <= 1.3 else 'MISS'}"
        )

        def broken_run() -> None:
            with contextlib.suppress(Exception):
                load_desired([str(broken)], env)

        bomb = Path(__file__).parent.parent / "tests/corpus/validate/40-billion-laughs.yaml"
        t_bomb, _ = median_time(lambda: run_cli("validate", str(bomb)), args.repeat)
        print(
            f"billion laughs file, whole process until its error: {t_bomb:.3f} s "
            f"(target < 1 s) {'OK' if t_bomb < 1 else 'MISS'}"
        )

        t_broken, _ = median_time(broken_run, args.repeat)
        print(
            f"10,000 integrations, 1 in 10 broken (error path): {t_broken:.3f} s "
            f"({t_broken / t_ours:.2f}x the happy path)"
        )


if __name__ == "__main__":
    main()
