"""Start an emulator for tests: `running_emulator()` here, or the `losant_emulator` pytest fixture.

pytest_plugins = ["syncer.emulator.testing"]

@pytest.mark.emulator(secrets="omit")          # any EmulatorConfig field
def test_something(losant_emulator):
    losant_emulator.emulator.seed(APP_ID, [{"name": "x", "integrationType": "particle", ...}])
    ...  # point the code under test at losant_emulator.url with DEFAULT_TOKEN

Workflows, connections and the audit log (Emulator methods and attributes):

    emulator.seed_flows(APP_ID, [{"name": "On data", "triggers": [{"type": "integration", "key": ID}]}])
    emulator.fail("x", "Connection refused: bad username or password")  # by name, before or after
    emulator.fail("x", None)                       # it connects again
    emulator.connect_delay = 0.05                  # seconds from a write to its connection
    emulator.audit_logs()                          # the default organisation's entries
    # EmulatorConfig: connect_delay, failing={name: error}, owners={app: (type, id)},
    # actors={token: (name, type, id)}; DEFAULT_ORG_TOKEN reads the audit log

The only syncer module that imports pytest (tests/test_install.py checks it): a plain install
has no pytest, so nothing else may import this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from syncer.emulator.api import (
    DEFAULT_APPLICATION,
    DEFAULT_ORG_TOKEN,
    DEFAULT_ORGANIZATION,
    DEFAULT_TOKEN,
    Emulator,
    EmulatorConfig,
)
from syncer.emulator.server import RunningEmulator

__all__ = [
    "DEFAULT_APPLICATION",
    "DEFAULT_ORGANIZATION",
    "DEFAULT_ORG_TOKEN",
    "DEFAULT_TOKEN",
    "losant_emulator",
    "running_emulator",
]


@contextmanager
def running_emulator(**config: Any) -> Iterator[RunningEmulator]:
    """An emulator on a free loopback port; admin API on; DEFAULT_APPLICATION declared."""
    config.setdefault("applications", (DEFAULT_APPLICATION,))
    config.setdefault("admin", True)
    with RunningEmulator(Emulator(EmulatorConfig(**config))) as running:
        yield running


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator(**config): EmulatorConfig for losant_emulator")


@pytest.fixture
def losant_emulator(request: pytest.FixtureRequest) -> Iterator[RunningEmulator]:
    marker = request.node.get_closest_marker("emulator")
    with running_emulator(**(marker.kwargs if marker else {})) as running:
        yield running
