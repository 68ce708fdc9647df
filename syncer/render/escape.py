"""Text from files, live state and API answers, made safe for where it lands.

Names, values, paths and messages are untrusted: anyone with access to the Losant application
can rename an integration to `x\n::warning::…`, anyone who can open a pull request can name a
file so. Every line syncer prints goes through `printable` (one line stays one line, nothing
moves the cursor or reorders text), and every Markdown block through `fenced`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

# Every character of Unicode's categories Cc (C0 and C1 controls, DEL), Cf (format: the
# bidirectional controls that show text in another order than it is, "Trojan Source"; zero-width
# and invisible characters that make two names look alike; tag characters), Cs (lone
# surrogates), Zl and Zp (line and paragraph separators), as of Unicode 14.0 (Python 3.11;
# tests/test_escape.py checks it against the running Python's unicodedata)
UNPRINTABLE_CLASS = (
    "\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
_UNPRINTABLE = re.compile(f"[{UNPRINTABLE_CLASS}]")
# GitHub's runner still reads the old `##[command]` form anywhere in a line


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return {9: "\\t", 10: "\\n", 13: "\\r"}.get(code) or (
        f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    )


def printable(text: str) -> str:
    """`text` on one line, every control character shown as an escape (`\\n`, `\\x1b`, `\\u202e`)."""
    return _UNPRINTABLE.sub(_escaped, text).replace("##[", "##\\[")


def quoted(text: str) -> str:
    """A name as it appears in a line: in double quotes, with quotes and controls escaped."""
    return '"' + printable(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def fenced(lines: Sequence[str], info: str = "") -> str:
    """A Markdown code block that no line inside can close: the fence is longer than any run of
    backticks in the text, so headings, mentions and HTML inside stay text."""
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n" + "\n".join(printable(line) for line in lines) + f"\n{fence}\n"


def markdown_text(text: str) -> str:
    """Untrusted text outside a code block: HTML and Markdown syntax shown as they are, and
    `@name` / `#123` kept from pinging people or linking issues."""
    text = html.escape(printable(text), quote=False)
    text = re.sub(r"([\\`*_{}\[\]()#+\-.!|~>])", r"\\\1", text)
    return text.replace("@", "@\u200b")
