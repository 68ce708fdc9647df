"""Which integration fields hold secrets, and how every stage masks them.

The list is Losant's (losant-api.md section 3), kept in syncer/losant.py INTEGRATION_TYPES. A
value in one of these fields is sensitive from the moment it is loaded: plans, errors, debug
traces, plan files and exports never show it.
"""

from __future__ import annotations

import copy
import html
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from syncer.github import escape_data  # how annotations escape text: one definition
from syncer.losant import HEADER_SECRET, SECRET_FIELDS
from syncer.render.escape import printable, quoted  # how lines show text: one definition


class Label(str):
    """Text shown in place of a value (the mask, the variable a value comes from): rendered
    bare, where a value, even one spelt like a label (a live host "(sensitive)"), is quoted."""

    __slots__ = ()


MASK = Label("(sensitive)")

Path = tuple[str | int, ...]


def is_secret_path(path: Path) -> bool:
    """True for a path inside an integration body that holds a secret value."""
    if len(path) == 2:
        return (str(path[0]), str(path[1])) in SECRET_FIELDS
    return (
        len(path) == 4
        and path[0] == HEADER_SECRET[0]
        and path[1] == HEADER_SECRET[1]
        and isinstance(path[2], int)
        and path[3] == HEADER_SECRET[2]
    )


def secret_paths(body: dict[str, Any]) -> Iterator[Path]:
    """Paths of the secret values present in an integration body."""
    for config, name in SECRET_FIELDS:
        section = body.get(config)
        if isinstance(section, dict) and name in section:
            yield (config, name)
    section = body.get(HEADER_SECRET[0])
    if isinstance(section, dict) and isinstance(section.get(HEADER_SECRET[1]), list):
        for index, header in enumerate(section[HEADER_SECRET[1]]):
            if isinstance(header, dict) and HEADER_SECRET[2] in header:
                yield (HEADER_SECRET[0], HEADER_SECRET[1], index, HEADER_SECRET[2])


def get_path(body: Any, path: Path) -> Any:
    """The value at a body path."""
    for part in path:
        body = body[part]
    return body


def secret_values(body: dict[str, Any]) -> Iterator[str]:
    """The secret strings an integration body holds."""
    for path in secret_paths(body):
        value = get_path(body, path)
        if isinstance(value, str):
            yield value


def mask_value(path: Path, value: Any, labels: Mapping[Path, Label] | None = None) -> Any:
    """`value` at body path `path` with every secret inside it replaced by the mask, and every
    path in `labels` by its label."""
    if labels and path in labels:
        return labels[path]
    if is_secret_path(path):
        return MASK
    if isinstance(value, dict):
        return {k: mask_value((*path, k), v, labels) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value((*path, i), v, labels) for i, v in enumerate(value)]
    return value


def masked(body: dict[str, Any], mask: str = MASK) -> dict[str, Any]:
    """A copy of an integration body with every secret value replaced by `mask`."""
    paths = list(secret_paths(body))
    if not paths:
        return body
    out = copy.deepcopy(body)
    for path in paths:
        parent = get_path(out, path[:-1])
        parent[path[-1]] = mask
    return out


# Shorter values are masked structurally (by field) but not searched for in free text, where
# they would blank out ordinary words.
MIN_REDACTED_LENGTH = 4
# Lines of a multi-line secret (a PEM key, a JSON key file) are searched for on their own, in case
# only some lines are shown; shorter lines (`}`, `-----`) are everyday text.
MIN_LINE_LENGTH = 8
# How many times an API error may have JSON-escaped a value it echoes, plus syncer's own layer.
ESCAPE_LEVELS = 3

_LINE_BREAK = re.compile(r"\r\n|\r|\n|\\r\\n|\\n")  # real, or JSON-escaped inside the secret


def encodings(secret: str) -> set[str]:
    """The forms `secret` can take in something syncer prints: as is, JSON-escaped one to
    ESCAPE_LEVELS times, in a Python repr, escaped for a GitHub workflow command (`%0A` for a
    newline), and as web servers and gateways echo it (`_web_forms`); and the same for each of
    its lines, in case only some are shown.

    Two escapes any encoder may add, at any level, are matched by the pattern instead of being
    listed here (they would multiply the forms): `\\/` for `/`, and \\uXXXX for a non-ASCII
    character (see `_char_pattern`).
    """
    if secret.isascii() and secret.isalnum():  # no encoder changes an ASCII letter or digit
        return {secret}
    pieces = {secret} | {
        line.strip() for line in _LINE_BREAK.split(secret) if len(line.strip()) >= MIN_LINE_LENGTH
    }
    out: set[str] = set()
    for piece in pieces:
        # as is, in a repr, and as a terminal line shows it (syncer.render.escape)
        escaped = {piece, repr(piece)[1:-1], printable(piece), quoted(piece)[1:-1]}
        level = piece
        for _ in range(ESCAPE_LEVELS):
            again = json.dumps(level, ensure_ascii=False)[1:-1]
            if again == level:  # nothing to escape: every further level is the same
                break
            escaped.add(level := again)
        out |= escaped
        out.update(escape_data(form) for form in escaped if "%" in form or "\n" in form or "\r" in form)
        out |= _web_forms(piece)
    return out


# characters HTML-safe JSON encoders (Go, Java) write as \\uXXXX, though they are ASCII
_HTML_SAFE_JSON = frozenset("&<>'=")
_HTML_SPECIAL = frozenset("&<>\"'")  # what HTML encoders write as entities


def _web_forms(piece: str) -> set[str]:
    """`piece` as web servers and gateways echo it: URL-encoded (hex digits in either case), as
    HTML (named or numeric entities). (HTML-safe JSON is matched by the pattern: see
    `_char_pattern`.)"""
    forms = {quote(piece), quote_plus(piece), quote(piece, safe="")}
    forms |= {re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), form) for form in forms}
    named = html.escape(piece)
    forms |= {named, html.escape(piece, quote=False), named.replace("&#x27;", "&#39;")}
    forms.add("".join(f"&#{ord(c)};" if c in _HTML_SPECIAL else c for c in piece))
    return forms


def _char_pattern(char: str) -> str:
    """How one character of a secret may appear: `/` also as `\\/` (escaped again any number of
    times) or `%2F`, `& < > ' =` also as \\u00XX (HTML-safe JSON), a non-ASCII character also as
    \\uXXXX (a surrogate pair beyond U+FFFF, either case)."""
    # `\\` escaped four times over is 15 of them; the bound keeps matching linear on a run of `\\`
    if char == "/":
        return r"(?:\\{0,15}/|%2[Ff])"
    if char in _HTML_SAFE_JSON:
        return rf"(?:{re.escape(char)}|\\{{1,15}}u00{ord(char):02x})"
    if char.isascii():
        return re.escape(char)
    code = json.dumps(char)[1:-1].replace("\\", r"\\{1,15}")
    return f"(?:{re.escape(char)}|(?i:{code}))"


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex matching any of `words`, longest first, built as a trie.

    A plain alternation of thousands of secrets takes Python's regex compiler about a second;
    the trie form compiles in a few milliseconds and matches as fast. Built without recursion,
    and with runs of single characters written as one literal, so a 30 KB key is no deeper
    than a short one.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    memo: dict[str, str] = {}

    def char_pattern(char: str) -> str:
        if char not in memo:
            memo[char] = _char_pattern(char)
        return memo[char]

    parts: list[str] = []
    todo: list[tuple[str, dict[str, Any]]] = [("", trie)]  # (text to write first, node after it)
    while todo:
        text, node = todo.pop()
        parts.append(text)
        if not node:  # a closing bracket, not a node
            continue
        run = []
        while len(node) == 1 and "" not in node:
            ((char, node),) = node.items()
            run.append(char)
        parts.append("".join(char_pattern(char) for char in run))
        children = sorted((char, child) for char, child in node.items() if char)
        if not children:
            continue
        parts.append("(?:")
        todo.append((")?" if "" in node else ")", {}))
        for index in range(len(children) - 1, -1, -1):
            char, child = children[index]
            todo.append((("|" if index else "") + char_pattern(char), child))
    return "".join(parts)


class Redactor:
    """Replaces known secret strings (token, secret field values) in any free text, in every
    encoding an output can give them (see `encodings`).

    Structural masking covers plans and JSON; this covers the rest: API error messages that
    echo a value, debug traces, exception texts. The pattern is compiled on first use.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._words: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Remember more values to redact (shorter than MIN_REDACTED_LENGTH are ignored)."""
        for secret in secrets:
            if isinstance(secret, str) and len(secret) >= MIN_REDACTED_LENGTH and secret not in self._secrets:
                self._secrets.add(secret)
                self._words |= encodings(secret)
                self._pattern = None

    def __call__(self, text: str) -> str:
        if not self._words or not text:
            return text
        if self._pattern is None and self._surely_clean(text):
            return text
        if self._pattern is None:
            # `+`: a key masked line by line reads as one `***` where its lines follow each other
            self._pattern = re.compile(f"(?:{_trie_pattern(self._words)})+")
        return self._pattern.sub("***", text)

    def _surely_clean(self, text: str) -> bool:
        """Whether no secret is in a short `text`, told without compiling the pattern (which takes
        ~0.2 s for 10,000 secrets, to redact a one-line summary). Without `\\` and `%`, the
        escapes the pattern also matches, only a form listed in `_words` could be there."""
        return (
            len(text) <= 4096
            and "\\" not in text
            and "%" not in text
            and not any(word in text for word in self._words)
        )


def refuse_known_secrets(text: str, redact: Callable[[str], str], what: str) -> None:
    """Stop before `what` (a saved plan, an export) is written, if it holds a secret syncer knows
    (the token, a value the files read): secret fields are masked by structure, so only a live
    name or value can have put it there. The lines that hold one are named, redacted."""
    if redact(text) == text:
        return
    from syncer.errors import SyncerError

    redacted = ((line, redact(line)) for line in text.splitlines())
    shown = [printable(after.strip()) for before, after in redacted if after != before]
    raise SyncerError(
        f"{what} would hold a secret in clear, which a live name or value holds ("
        + "; ".join(shown[:3])
        + (f"; {len(shown) - 3} more" if len(shown) > 3 else "")
        + "): change it in Losant; nothing was written"
    )
