"""How values look in a plan: compact JSON, long strings shortened, secrets never shown."""

from __future__ import annotations

import json
from typing import Any

from syncer.compare import HIDDEN, MISSING
from syncer.fields import FieldChange
from syncer.secrets import MASK, Label

LONG = 100


def show(value: Any) -> str:
    """A value in a plan: compact JSON, long strings cut (callers mask secrets first)."""
    if value is MISSING:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if isinstance(value, str) and len(value) > LONG:
        return json.dumps(value[:40], ensure_ascii=False)[:-1] + f'…" ({len(value):,} characters)'
    if len(text) > 3 * LONG:
        return text[: 3 * LONG] + f"… ({len(text):,} characters)"
    return text


def describe(change: FieldChange) -> tuple[str, str]:
    """(sign, text) for one field: `+` added, `-` removed, `~` changed; secrets masked, values
    from the environment named by their variable."""
    before, after = change.before, change.after
    if before is HIDDEN:
        return "~", "(sensitive value sent again: Losant does not show it, --push-secrets)"
    sign = "+" if before is MISSING else "-" if after is MISSING else "~"
    if change.sensitive:
        shown_before, shown_after = change.shown_before(), change.shown_after()
        if sign == "~":
            if shown_after == MASK:
                return sign, "(sensitive value changed)"
            return sign, f"{masked_text(shown_before)} -> {masked_text(shown_after)}"
        return sign, masked_text(shown_after if sign == "+" else shown_before)
    if sign == "+":
        return sign, show(after)
    if sign == "-":
        return sign, show(before)
    return sign, f"{show(before)} -> {show(after)}"


def masked_text(value: Any) -> str:
    """A masked value: a bare mask or label reads as such; a value (whatever it spells) quoted."""
    return value if isinstance(value, Label) else show(value)
