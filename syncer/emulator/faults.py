"""Faults on demand, deterministic with a seed.

A rule names what goes wrong (`fault`), for which actions, and how often. Spec syntax for the
command line: `FAULT[@ACTION+ACTION][:option=value,...]`, e.g.

    429@list+get:times=3,retry-after=1   three 429 answers with Retry-After: 1
    503@patch:probability=0.2            one PATCH in five answered 503
    reset@post:times=1                   the next POST: connection cut before it is handled
    drop@post:times=1                    the next POST is committed, then the connection is cut
    slow@get:delay=5                     every GET answered after 5 s
    late@post:delay=3,times=1            the next POST is committed only after 3 s, then answered
    body@patch:body=html                 PATCHes are done, answered 200 with an HTML page
    trickle@list:delay=0.1               list answers sent one byte every 0.1 s
    lie@list:extra=5                     list responses claim 5 more items than exist
    401:after=3                          the token expires after three requests

Faults: 429, 500, 502, 503, 504 (an error answer, nothing done), 401 (the token expires: each
matching request is refused as the real API would, "Access token has expired"), reset
(connection cut, nothing done), drop ("commit then drop": done, then the connection is cut),
slow (done, answered after `delay` seconds), late (held `delay` seconds, then done and answered:
a client that timed out meanwhile cannot know it landed), body (done, answered 2xx with a body
that is not the JSON it should be: `body=` empty, html, text, truncated (a JSON prefix), deep
(nested 100,000 levels), or cut (the connection closes before the announced length)), trickle
(done, the answer sent one byte every `delay` seconds), lie (totalCount larger than what is
served).
Actions: list, get, post, patch, delete, credentials, flows, auditLogs (those three: their lists),
application (GET of the application); default: all.
Options: times (affect this many matching requests), after (let this many through first),
probability, retry-after, delay, extra, body.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

# the API's actions (syncer.losant.SCOPES's keys): integrations, then the other lists and reads
ACTIONS = ("list", "get", "post", "patch", "delete", "credentials", "flows", "application", "auditLogs")
STATUS_FAULTS = ("401", "429", "500", "502", "503", "504")
FAULTS = (*STATUS_FAULTS, "reset", "drop", "slow", "late", "body", "trickle", "lie")
BAD_BODIES = ("empty", "html", "text", "truncated", "deep", "cut")


@dataclass
class FaultRule:
    """One fault: what goes wrong (`fault`), for which actions, how often (see the module doc)."""

    fault: str
    on: tuple[str, ...] = ()  # empty: every action
    times: int | None = None
    after: int = 0
    probability: float = 1.0
    retry_after: str | None = None
    delay: float = 0.0
    extra: int = 0
    body: str = "html"  # for the "body" fault: which bad answer
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; use one of {', '.join(FAULTS)}")
        unknown = [a for a in self.on if a not in ACTIONS]
        if unknown:
            raise ValueError(f"unknown action {unknown[0]!r}; use {', '.join(ACTIONS)}")
        if not 0 <= self.probability <= 1:
            raise ValueError("probability must be between 0 and 1")
        if self.body not in BAD_BODIES:
            raise ValueError(f"unknown body {self.body!r}; use one of {', '.join(BAD_BODIES)}")

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["on"] = list(self.on)
        return out


_OPTION_NAMES = {
    "times": "times",
    "after": "after",
    "probability": "probability",
    "p": "probability",
    "retry-after": "retry_after",
    "retry_after": "retry_after",
    "retryAfter": "retry_after",
    "delay": "delay",
    "extra": "extra",
    "body": "body",
}


def parse_rule(spec: str) -> FaultRule:
    """`429@list+get:times=3,retry-after=1` -> FaultRule."""
    head, _, options = spec.partition(":")
    fault, _, actions = head.partition("@")
    values: dict[str, Any] = {}
    for option in filter(None, options.split(",")):
        name, sep, value = option.partition("=")
        if not sep or name not in _OPTION_NAMES:
            raise ValueError(f"cannot read fault option {option!r} in {spec!r}")
        values[_OPTION_NAMES[name]] = value
    return rule_from_json({"fault": fault, "on": [a for a in actions.split("+") if a], **values})


def rule_from_json(data: dict[str, Any]) -> FaultRule:
    """A rule from the admin API's JSON (or a parsed spec). Raises ValueError when malformed."""
    names = {**_OPTION_NAMES, "fault": "fault", "on": "on"}
    unknown = [k for k in data if k not in names]
    if unknown:
        raise ValueError(f"unknown fault field {unknown[0]!r}")
    values = {names[k]: v for k, v in data.items()}
    try:
        return FaultRule(
            fault=str(values["fault"]),
            on=tuple(values.get("on") or ()),
            times=None if values.get("times") in (None, "") else int(values["times"]),
            after=int(values.get("after", 0)),
            probability=float(values.get("probability", 1.0)),
            retry_after=None if values.get("retry_after") is None else str(values["retry_after"]),
            delay=float(values.get("delay", 0.0)),
            extra=int(values.get("extra", 0)),
            body=str(values.get("body", "html")),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed fault {data!r}: {exc}") from exc


@dataclass
class Faults:
    """The active rules plus latency, drawing from one seeded random generator."""

    rules: list[FaultRule] = field(default_factory=list)
    latency: float = 0.0  # seconds added to every API request
    jitter: float = 0.0  # plus uniform 0..jitter seconds
    seed: int = 0
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311 - reproducible faults, not crypto

    def pick(self, action: str) -> FaultRule | None:
        """The rule that fires for this request, if any; counts it."""
        with self._lock:
            for rule in self.rules:
                if rule.on and action not in rule.on:
                    continue
                rule.seen += 1
                if rule.seen <= rule.after:
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.probability < 1 and self._random.random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule
            return None

    def delay(self) -> float:
        if not self.latency and not self.jitter:
            return 0.0
        with self._lock:
            return self.latency + (self._random.uniform(0, self.jitter) if self.jitter else 0.0)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
