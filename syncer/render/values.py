"""How values look in a plan: compact JSON, long strings shortened, secrets never shown."""

from __future__ import annotations

import json
from typing import Any

from syncer.compare import HIDDEN, MISSING, FieldChange, mask_value

LONG = 100


def show(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if isinstance(value, str) and len(value) > LONG:
        return json.dumps(value[:40], ensure_ascii=False)[:-1] + f'…" ({len(value):,} characters)'
    if len(text) > 3 * LONG:
        return text[: 3 * LONG] + f"… ({len(text):,} characters)"
    return text


def describe(change: FieldChange) -> tuple[str, str]:
    """(sign, text) for one field: `+` added, `-` removed, `~` changed; secrets masked."""
    before, after = change.before, change.after
    if before is HIDDEN:
        return "~", "(sensitive value sent again: Losant does not show it, --push-secrets)"
    sign = "+" if before is MISSING else "-" if after is MISSING else "~"
    if change.sensitive:
        if sign == "~":
            whole = mask_value(change.path, after)
            if whole == "(sensitive)":
                return sign, "(sensitive value changed)"
            return sign, f"{show(mask_value(change.path, before))} -> {show(whole)}"
        value = after if sign == "+" else before
        masked = mask_value(change.path, value)
        shown = "(sensitive)" if masked == "(sensitive)" else show(masked)
        return sign, shown
    if sign == "+":
        return sign, show(after)
    if sign == "-":
        return sign, show(before)
    return sign, f"{show(before)} -> {show(after)}"
