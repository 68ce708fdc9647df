"""The mixed, realistic corpus every benchmark of benchmarks.run shares.

- several applications (5 by default), the integrations of each spread over all six types;
- every secret written as `${env:…}` (one variable per type and application, as a team keeps
  them in its CI secrets);
- the Google Pub/Sub entries name a service credential (`credentialName`), seeded beside them;
- two layouts of the same entries: one file per application ("one file"), or files of 100
  entries ("many files");
- Losant's side: the same integrations, one in twenty of them edited by hand (5 % drift), in
  three ways: `enabled` flipped, a config field changed, a topic changed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from syncer.emulator.samples import SAMPLE_CREDENTIALS, sample_integration
from syncer.losant import CONFIG_FIELDS, HEADER_SECRET, INTEGRATION_TYPES

APP_IDS = [f"{i:024x}" for i in range(0xA0, 0xA0 + 100)]
DRIFT_EVERY = 20  # 5 %


def variable(kind: str, app: int) -> str:
    return f"BENCH_{kind.upper()}_SECRET_{app}"


def environment(apps: int) -> dict[str, str]:
    """The value of every variable the corpus reads."""
    return {variable(kind, a): f"{kind}-secret-{a}-Kq83hZ" for kind in INTEGRATION_TYPES for a in range(apps)}


def _with_secret(body: dict[str, Any], value: str) -> dict[str, Any]:
    kind = body["integrationType"]
    config = body.get(CONFIG_FIELDS[kind])
    if not isinstance(config, dict):
        return body
    for name in INTEGRATION_TYPES[kind].secrets:
        if name in config:
            config[name] = value
    if kind == "websocket":
        for header in config.get(HEADER_SECRET[1], []):
            header[HEADER_SECRET[2]] = value
    return body


def _by_application(
    total: int, apps: int, make: Callable[[int, int], dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """make(n, app) for each integration n of the corpus, listed by application: n goes to
    application n % apps, so each holds every type."""
    out: dict[str, list[dict[str, Any]]] = {APP_IDS[a]: [] for a in range(apps)}
    for n in range(total):
        out[APP_IDS[n % apps]].append(make(n, n % apps))
    return out


def _sample(n: int, app: int, secret: Callable[[str], str]) -> dict[str, Any]:
    """Sample integration n in application `app`, each secret `secret(name of its variable)`."""
    body = sample_integration(n)
    return _with_secret(body, secret(variable(body["integrationType"], app)))


def entries(total: int, apps: int) -> dict[str, list[dict[str, Any]]]:
    """The files' entries (secrets as references), by application."""
    return _by_application(total, apps, lambda n, app: _sample(n, app, lambda name: f"${{env:{name}}}"))


def _drifted(body: dict[str, Any], n: int) -> dict[str, Any]:
    way = (n // DRIFT_EVERY) % 3
    if way == 0:
        body["enabled"] = not body.get("enabled", True)
    elif way == 1:
        config = body[CONFIG_FIELDS[body["integrationType"]]]
        secrets = INTEGRATION_TYPES[body["integrationType"]].secrets
        key = next((k for k, v in config.items() if isinstance(v, str) and k not in secrets), None)
        if key is not None:
            config[key] = config[key] + "-edited"
        else:
            body["enabled"] = not body.get("enabled", True)
    else:
        body["topics"] = [*body.get("topics", []), "site/edited"]
    return body


def live(total: int, apps: int) -> dict[str, list[dict[str, Any]]]:
    """What Losant holds: the entries with their secrets resolved, one in twenty edited."""
    env = environment(apps)

    def held(n: int, app: int) -> dict[str, Any]:
        body = _sample(n, app, env.__getitem__)
        return _drifted(copy.deepcopy(body), n) if n % DRIFT_EVERY == DRIFT_EVERY - 1 else body

    return _by_application(total, apps, held)


def drifted(total: int) -> int:
    """How many integrations of the corpus differ live (a plan updates exactly these)."""
    return total // DRIFT_EVERY


CREDENTIALS = SAMPLE_CREDENTIALS  # the service credential the Pub/Sub entries name


def write(root: Path, total: int, apps: int, layout: str) -> Path:
    """The corpus as YAML files under `root`: layout "one-file" (one file per application) or
    "many-files" (files of 100 entries)."""
    root.mkdir(parents=True, exist_ok=True)
    for a, (app, items) in enumerate(entries(total, apps).items()):
        size = len(items) if layout == "one-file" else 100
        for start in range(0, len(items), size):
            doc = {"application": app, "integrations": items[start : start + size]}
            name = f"app-{a}.yaml" if layout == "one-file" else f"app-{a}-{start // size:04d}.yaml"
            (root / name).write_text(yaml.safe_dump(doc, sort_keys=False, width=120))
    return root
