"""Health: whether an integration Losant holds is connected, read from its read-only `status`.

"Applied" is not "working": a PATCH with a wrong password succeeds, then the broker refuses the
connection. After a write, an integration is healthy once its status shows a connection later
than the write, and failed once it shows a disconnection with an error later than the write;
until then there is no status yet. Times are the server's (the write's `lastUpdated` against
the status timestamps), so no clock of ours is compared with Losant's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

State = Literal["connected", "failed", "no status yet", "disabled", "unknown"]
STATES: tuple[State, ...] = ("connected", "failed", "no status yet", "disabled", "unknown")
# the latest instant a datetime can show (9999-12-31): a later or negative stamp is garbage
_LAST_MS = 253_402_300_799_999


@dataclass(frozen=True)
class Health:
    """An integration's health: its state, and Losant's error when it failed."""

    state: State
    error: str = ""
    since_ms: float | None = None  # when it connected, or when it failed (server time)


def epoch_ms(value: Any) -> float | None:
    """A status timestamp (epoch milliseconds) or an ISO date (`lastUpdated`) as epoch ms; None
    for anything else, or a time no calendar shows (live data is untrusted)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        ms = float(value)
    elif isinstance(value, str):
        try:
            ms = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000
        except (ValueError, OverflowError):
            return None
    else:
        return None
    return ms if 0 <= ms <= _LAST_MS else None  # NaN fails both


def _stamp(status: Mapping[str, Any], key: str) -> tuple[float | None, str]:
    info = status.get(key)
    if not isinstance(info, Mapping):
        return None, ""
    error = info.get("error")
    return epoch_ms(info.get("ts")), error if isinstance(error, str) else ""


def current_health(integration: Mapping[str, Any], after_ms: float | None = None) -> Health:
    """The integration's health now, counting only what its status says happened after
    `after_ms` (a write); with no `after_ms`, its latest connection or disconnection."""
    if integration.get("enabled") is False:
        return Health("disabled")
    status = integration.get("status")
    status = status if isinstance(status, Mapping) else {}
    connected, _ = _stamp(status, "connectInfo")
    dropped, error = _stamp(status, "disconnectInfo")
    floor = after_ms if after_ms is not None else float("-inf")
    if dropped is not None and dropped > floor and error and (connected is None or dropped >= connected):
        return Health("failed", error, dropped)
    if connected is not None and connected > floor:
        return Health("connected", since_ms=connected)
    return Health("no status yet")


def wait_for_health(
    read: Callable[[Sequence[str]], Mapping[str, Sequence[Mapping[str, Any]]]],
    watched: Mapping[str, str],
    *,
    seconds: float,
    interval: float,
    pause: Callable[[float], bool],
    clock: Callable[[], float],
) -> dict[str, Health]:
    """Poll until every watched integration (id -> its application) connected or failed after
    its last write (its `lastUpdated`, as first read), or `seconds` passed: one `read` of the
    applications still pending per poll. `pause` sleeps and returns True when the run is
    interrupted (then what is known so far is returned)."""
    health = {integration_id: Health("no status yet") for integration_id in watched}
    written: dict[str, float | None] = {}
    deadline = clock() + seconds
    while True:
        pending = [i for i, h in health.items() if h.state == "no status yet"]
        apps = sorted({watched[i] for i in pending})
        if not apps:
            return health
        live = read(apps)
        by_id = {str(item.get("id")): item for items in live.values() for item in items}
        for integration_id in pending:
            item = by_id.get(integration_id)
            if item is not None:
                after = written.setdefault(integration_id, epoch_ms(item.get("lastUpdated")))
                if after is None:  # without the write's time, no connection is known to be later
                    health[integration_id] = Health("unknown", "Losant gave no readable lastUpdated")
                else:
                    health[integration_id] = current_health(item, after)
        if all(h.state != "no status yet" for h in health.values()) or clock() >= deadline:
            return health
        if pause(min(interval, max(0.0, deadline - clock()))):
            return health
