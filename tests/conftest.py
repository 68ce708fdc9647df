from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import settings

from syncer import schema_check

pytest_plugins = ["syncer.emulator.testing"]

# CI must try what the last run tried (docs/decisions.md); SYNCER_HYPOTHESIS=explore draws anew
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("SYNCER_HYPOTHESIS", "repeatable"))


@pytest.fixture(autouse=True)
def _fast_schema_path_never_accepts_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every document any test validates is checked by jsonschema too where the fast path
    (jsonschema-rs) accepts it: that document would skip jsonschema, so both must agree."""
    fast = schema_check._fast_accepts

    def checked(name: str, document: Any) -> bool:
        accepted = fast(name, document)
        if accepted:
            errors = [e.message for e in schema_check._slow(name).iter_errors(document)]
            assert not errors, f"jsonschema-rs accepted a {name} document jsonschema rejects: {errors}"
        return accepted

    monkeypatch.setattr(schema_check, "_fast_accepts", checked)
