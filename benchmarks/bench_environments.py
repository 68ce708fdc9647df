"""Environments (issue 17): validating every environment of a project costs at most E times one.

The corpus: 1,000 integrations in 10 files that name their application by alias and take each
MQTT host from `${var:BROKER_HOST}`; a project with 3 environments (each its own application id
and host, one override). Compared like with like, in one process: `load_desired` for one
environment against `load_desired` for every environment (what `syncer validate` does), and the
whole `syncer validate` process both ways.

Run: python -m benchmarks.bench_environments
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from benchmarks.common import bench_options, file_bodies, median_time, run_cli
from syncer.desired import load_desired

ENVIRONMENTS = {
    name: {
        "applications": {"plant-floor": app},
        "vars": {"BROKER_HOST": f"broker.{name}.example.com"},
        "overrides": {"plant-floor": {"mqtt-0000": {"enabled": False}}},
    }
    for name, app in (
        ("development", "64f0a1b2c3d4e5f6a7b8c9d0"),
        ("staging", "64f0a1b2c3d4e5f6a7b8c9d1"),
        ("production", "64f0a1b2c3d4e5f6a7b8c9d2"),
    )
}
ENV = {"BENCH_MQTT_PASSWORD": "bench-password"}


def write_project(root: Path, files: int = 10, per_file: int = 100) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "syncer.yaml").write_text(yaml.safe_dump({"environments": ENVIRONMENTS}, sort_keys=False))
    for f in range(files):
        entries = file_bodies(f, per_file, "${env:BENCH_MQTT_PASSWORD}")
        for body in entries:
            if body["integrationType"] == "mqtt":
                body["mqttConfig"]["host"] = "${var:BROKER_HOST}"
        if f == 0:
            entries[0]["name"] = "mqtt-0000"  # the entry the override names
        doc = {"application": "plant-floor", "integrations": entries}
        (root / f"file-{f:04d}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, width=120))
    return root


def main() -> None:
    args = bench_options(repeat=7)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(Path(tmp) / "project")
        env = {**os.environ, **ENV}
        count = len(load_desired([str(root)], env, environment="staging").integrations)

        def one() -> None:
            load_desired([str(root)], env, environment="staging")

        def every() -> None:
            load_desired([str(root)], env, every_environment=True)

        one()
        every()
        # alternated, so that a slow moment of the machine falls on both
        t_one, t_every = [], []
        for _ in range(args.repeat):
            t_one += median_time(one, 1)[1]
            t_every += median_time(every, 1)[1]
        m_one, m_every = sorted(t_one)[len(t_one) // 2], sorted(t_every)[len(t_every) // 2]
        ratio = m_every / m_one
        print(
            f"validate {count:,} integrations, load stage: one environment {m_one:.3f} s "
            f"(min {min(t_one):.3f}, max {max(t_one):.3f}); all 3 environments {m_every:.3f} s "
            f"(min {min(t_every):.3f}, max {max(t_every):.3f}); {ratio:.2f}x one "
            f"(target <= 3x: E times one validation) {'OK' if ratio <= 3 else 'MISS'}"
        )

        def cli(*more: str) -> None:
            result = run_cli("validate", str(root), *more, env=ENV)
            assert result.returncode == 0, result.stderr

        cli()  # the bytecode cache, as after an install
        w_one, _ = median_time(lambda: cli("--environment", "staging"), args.repeat)
        w_every, _ = median_time(cli, args.repeat)
        print(
            f"syncer validate, whole process: --environment staging {w_one:.3f} s; every "
            f"environment {w_every:.3f} s ({w_every / w_one:.2f}x, start-up included)"
        )


if __name__ == "__main__":
    main()
