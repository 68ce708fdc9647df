from __future__ import annotations

from typing import Any

import pytest

from syncer import schema_check

pytest_plugins = ["syncer.emulator.testing"]


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
