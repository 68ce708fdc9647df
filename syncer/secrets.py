"""Which integration fields hold secrets, and how every stage masks them.

The list is Losant's (losant-api.md section 3). A value in one of these fields is sensitive from
the moment it is loaded: plans, errors, debug traces, plan files and exports never show it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

# (config object, field); "headers" entries are handled by HEADER_SECRET below
SECRET_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("mqttConfig", "password"),
        ("mqttConfig", "privateKey"),
        ("websocketConfig", "password"),
        ("websocketConfig", "privateKey"),
        ("azureEventHubConfig", "connectionString"),
        ("googlePubSubConfig", "keyJson"),
        ("particleConfig", "accessToken"),
        ("sqsConfig", "secretAccessKey"),
    }
)
HEADER_SECRET = ("websocketConfig", "headers", "headerValue")

MASK = "(sensitive)"

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
    for part in path:
        body = body[part]
    return body


def secret_values(body: dict[str, Any]) -> Iterator[str]:
    for path in secret_paths(body):
        value = get_path(body, path)
        if isinstance(value, str):
            yield value


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


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex matching any of `words`, longest first, built as a trie.

    A plain alternation of thousands of secrets takes Python's regex compiler about a second;
    the trie form compiles in a few milliseconds and matches as fast.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


class Redactor:
    """Replaces known secret strings (token, secret field values) in any free text.

    Structural masking covers plans and JSON; this covers the rest: API error messages that
    echo a value, debug traces, exception texts. The pattern is compiled on first use.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if isinstance(secret, str) and len(secret) >= MIN_REDACTED_LENGTH and secret not in self._secrets:
                self._secrets.add(secret)
                # the same value as it appears inside JSON text (a PEM key's newlines, quotes)
                self._secrets.add(json.dumps(secret)[1:-1])
                self._pattern = None

    def __call__(self, text: str) -> str:
        if not self._secrets or not text:
            return text
        if self._pattern is None:
            self._pattern = re.compile(_trie_pattern(self._secrets))
        return self._pattern.sub("***", text)
