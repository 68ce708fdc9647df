"""`syncer compare`: the promotion view in text, JSON (formatVersion 1) and Markdown.

Names and values come from live state: every line goes through `printable`/`quoted`, Markdown
details through `with_details` (fenced), and secrets are masked by FieldChange.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from syncer.compare import MISSING
from syncer.promotion import Compared, Promotion, State
from syncer.render.escape import markdown_text, printable, quoted
from syncer.render.formats import versioned
from syncer.render.markdown import table, with_details
from syncer.render.text import Style, plain
from syncer.render.values import describe

MARKER = "<!-- syncer-compare -->"
_SIGNS: dict[State, tuple[str, str]] = {
    "same": ("=", "green"),
    "different": ("~", "yellow"),
    "only in source": ("-", "red"),
    "only in target": ("+", "green"),
}
_JSON_STATES: dict[State, str] = {
    "same": "same",
    "different": "different",
    "only in source": "onlyInSource",
    "only in target": "onlyInTarget",
}


def _line(promotion: Promotion, item: Compared) -> str:
    kind = f" ({item.integration_type})" if item.integration_type else ""
    line = f"{_SIGNS[item.state][0]} {quoted(item.name)}{kind}: {promotion.words(item.state)}"
    if item.by_variables:
        line += "; by variables: " + ", ".join(item.by_variables)
    if item.not_compared:
        line += "; not compared (secret): " + ", ".join(item.not_compared)
    return line


def _field_lines(item: Compared, redact: Callable[[str], str]) -> list[str]:
    lines = []
    for change in item.fields:
        sign, text = describe(change, redact)
        why = item.by_override.get(change.dotted)
        lines.append(f"{sign} {change.dotted}: {text}" + (f" (an override of {why})" if why else ""))
    return lines


def _lines(promotion: Promotion, alias: str, style: Style, redact: Callable[[str], str]) -> list[str]:
    out = []
    for item in promotion.integrations:
        if item.alias == alias:
            # live keys and values are untrusted: each line stays one printable line
            out.append(style(printable(_line(promotion, item)), _SIGNS[item.state][1]))
            out += [f"    {printable(line)}" for line in _field_lines(item, redact)]
    return out


def promotion_text(promotion: Promotion, style: Style, redact: Callable[[str], str] = str) -> str:
    out = [f"Compare {promotion.source} -> {promotion.target} (live, after variables)", ""]
    for pairing in promotion.applications:
        out.append(f"{pairing.alias} ({pairing.source_id} -> {pairing.target_id})")
        out += [f"  {line}" for line in _lines(promotion, pairing.alias, style, redact)]
        out.append("")
    out.append(style(promotion.summary(), "bold"))
    return "\n".join(out) + "\n"


def _value(value: Any) -> Any:
    return None if value is MISSING else value


def promotion_json(promotion: Promotion) -> dict[str, Any]:
    return {
        **versioned(1),
        "source": promotion.source,
        "target": promotion.target,
        "same": promotion.same,
        "summary": {
            **{_JSON_STATES[state]: n for state, n in promotion.counts().items()},
            "text": promotion.summary(),
        },
        "applications": [
            {"alias": p.alias, "sourceId": p.source_id, "targetId": p.target_id}
            for p in promotion.applications
        ],
        "integrations": [
            {
                "alias": item.alias,
                "name": item.name,
                "integrationType": item.integration_type,
                "state": _JSON_STATES[item.state],
                "fields": [
                    {
                        "path": change.dotted,
                        "sensitive": change.sensitive,
                        "source": _value(change.shown_before()),
                        "target": _value(change.shown_after()),
                        "inSource": change.before is not MISSING,
                        "inTarget": change.after is not MISSING,
                        "overrideOf": item.by_override.get(change.dotted),
                    }
                    for change in item.fields
                ],
                "byVariables": list(item.by_variables),
                "notCompared": list(item.not_compared),
            }
            for item in promotion.integrations
        ],
    }


def promotion_markdown(promotion: Promotion, redact: Callable[[str], str]) -> str:
    def shown(text: str) -> str:  # redacted before escaping: escaping can split a secret
        return markdown_text(redact(text))

    head = (
        f"{MARKER}\n### syncer compare: {shown(promotion.source)} → "
        f"{shown(promotion.target)}\n\n**{shown(promotion.summary())}**\n\n"
    )
    rows = [[shown(p.alias)] + [promotion.counts(p.alias)[s] for s in _SIGNS] for p in promotion.applications]
    head += table(
        [
            "Application",
            "Same",
            "Different",
            f"Only in {shown(promotion.source)}",
            f"Only in {shown(promotion.target)}",
        ],
        rows,
    )
    sections = []
    for pairing in promotion.applications:
        lines = _lines(promotion, pairing.alias, plain, redact)
        sections.append((f"{shown(pairing.alias)}: details", lines))
    return with_details(
        head, sections, f"syncer compare --from {promotion.source} --to {promotion.target}", redact=redact
    )
