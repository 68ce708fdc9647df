"""An integration's read-only `status`, as the published Integration schema describes it.

`status` holds `connectInfo.ts`, `disconnectInfo.{ts, error}`, `lastKeepAlive` and `nextAttempt`,
times in epoch milliseconds (numbers, as in the published example; the `ts` may be null). The
schema is malformed (those four sit directly under `status`, with no `properties`), so the
shape comes from the example: `{connectInfo: {ts}, disconnectInfo: {ts, error}, lastKeepAlive}`.

The emulator keeps, per integration, its last connection event (a write through the API, a
seeding, or a change of the failing switch): when it happened (`at`), when its outcome shows
(`settles`), and the status just before it. The status at any moment follows from that and the
switch, so nothing runs in the background and a status never changes unless time passes a
`settles` or something happens. The choices the sources leave open are in docs/emulator.md.
"""

from __future__ import annotations

import copy
from typing import Any

NEVER: dict[str, Any] = {"connectInfo": {"ts": None}, "disconnectInfo": {"ts": None}}


def event(at: int, settles: int, before: dict[str, Any], *, restart: bool) -> dict[str, Any]:
    """A connection event: a write restarts a running connection, a switch does not."""
    return {"at": at, "settles": settles, "before": copy.deepcopy(before), "restart": restart}


def seeded(at: int) -> dict[str, Any]:
    """An integration that never went through the API: its connection settled when it was made
    (not stored: made again each time, so it shares NEVER, which status_at only reads)."""
    return {"at": at, "settles": at, "before": NEVER, "restart": False}


def connected(status: dict[str, Any]) -> bool:
    """Connected: it has connected, and not disconnected since (the published example reads so)."""
    up = (status.get("connectInfo") or {}).get("ts")
    down = (status.get("disconnectInfo") or {}).get("ts")
    return up is not None and (down is None or up > down)


def status_at(conn: dict[str, Any], error: str | None, now: int) -> dict[str, Any]:
    """The status `now` (ms), for the last event `conn` and the failing switch's `error`."""
    before = conn["before"]
    at, settles, restart = conn["at"], conn["settles"], conn.get("restart")
    was_up = connected(before)
    down = {"ts": at} if restart and was_up else dict(before.get("disconnectInfo") or {"ts": None})
    if now >= settles and error is None and (restart or not was_up):  # it connected: the usual case
        # the emulator sends no keep-alives: the last one is the connection
        return {"connectInfo": {"ts": settles}, "disconnectInfo": down, "lastKeepAlive": settles}
    out: dict[str, Any] = {
        "connectInfo": dict(before.get("connectInfo") or {"ts": None}),
        "disconnectInfo": down,
    }
    if "lastKeepAlive" in before:
        out["lastKeepAlive"] = before["lastKeepAlive"]
    if now < settles:
        out["nextAttempt"] = settles  # nothing later than the event shows yet
    elif error is not None:
        out["disconnectInfo"] = {"ts": settles, "error": error}
    # else: a switch that heals what was not broken changes nothing
    return out
