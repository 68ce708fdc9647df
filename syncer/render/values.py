"""How values look in a plan: compact JSON, long strings shortened, secrets never shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from syncer.compare import HIDDEN, MISSING
from syncer.fields import FieldChange
from syncer.secrets import MASK, Label

LONG = 100


def show(value: Any, redact: Callable[[str], str] = str) -> str:
    """A value in a plan: compact JSON, long strings cut (callers mask secrets first). Redacted
    before it is cut: a secret across the cut would show its first characters."""
    if value is MISSING:
        return "(absent)"
    if isinstance(value, str):
        shown = redact(value)
        if len(shown) > LONG:
            return json.dumps(shown[:40], ensure_ascii=False)[:-1] + f'…" ({len(value):,} characters)'
        return json.dumps(shown, ensure_ascii=False)
    text = redact(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))
    if len(text) > 3 * LONG:
        return text[: 3 * LONG] + f"… ({len(text):,} characters)"
    return text


def describe(change: FieldChange, redact: Callable[[str], str] = str) -> tuple[str, str]:
    """(sign, text) for one field: `+` added, `-` removed, `~` changed; secrets masked, values
    from the environment named by their variable, known secrets redacted before any cut."""
    before, after = change.before, change.after
    if before is HIDDEN:
        return "~", "(sensitive value sent again: Losant does not show it, --push-secrets)"
    sign = "+" if before is MISSING else "-" if after is MISSING else "~"
    if change.sensitive:
        shown_before, shown_after = change.shown_before(), change.shown_after()
        if sign == "~":
            if shown_after == MASK:
                return sign, "(sensitive value changed)"
            return sign, f"{masked_text(shown_before, redact)} -> {masked_text(shown_after, redact)}"
        return sign, masked_text(shown_after if sign == "+" else shown_before, redact)
    if sign == "+":
        return sign, show(after, redact)
    if sign == "-":
        return sign, show(before, redact)
    return sign, f"{show(before, redact)} -> {show(after, redact)}"


def masked_text(value: Any, redact: Callable[[str], str] = str) -> str:
    """A masked value: a bare mask or label reads as such; a value (whatever it spells) quoted."""
    return value if isinstance(value, Label) else show(value, redact)
