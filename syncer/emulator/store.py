"""The emulator's state: applications, their integrations, credentials and workflows, the
integrations' connections and the organisations' audit logs, in memory, optionally persisted.

With a state file, every write is saved atomically (temporary file, fsync, rename), so a killed
emulator never leaves a half-written file and a restart keeps the data.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import tempfile
import threading
import time
from datetime import UTC, datetime
from typing import Any

# 2 added credentials, 3 workflows, connections, audit logs and application details; older
# files are still read (what they lack starts empty)
STATE_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)


def iso_ms(epoch_ms: int) -> str:
    """ISO 8601 with milliseconds, as Losant writes dates: 2016-06-13T04:00:00.000Z."""
    stamp = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


@functools.lru_cache(maxsize=4096)  # a list page reads every record's creationDate
def epoch_ms(iso: str) -> int:
    """The inverse of iso_ms (0 for what is not a date: records a test planted by hand)."""
    try:
        return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)
    except (AttributeError, TypeError, ValueError):
        return 0


class Store:
    """Applications -> integrations, credentials and workflows, each keyed by id.

    An application exists when it is a key of `applications`; `credentials` and `flows` hold only
    the applications that have any. Records are stored whole, secrets included. `connections`
    holds, per integration id, the last event of its connection (api.py turns it into `status`);
    `audit_logs` every audited write, of every organisation; `application_info` what an
    application's own record needs beyond its id (creation date, name, owner).
    """

    def __init__(self, state_file: str | None = None, applications: tuple[str, ...] = ()) -> None:
        self.state_file = state_file
        self.lock = threading.RLock()
        self.declared = tuple(a.lower() for a in applications)
        self.applications: dict[str, dict[str, dict[str, Any]]] = {a: {} for a in self.declared}
        self.credentials: dict[str, dict[str, dict[str, Any]]] = {}
        self.flows: dict[str, dict[str, dict[str, Any]]] = {}
        self.connections: dict[str, dict[str, Any]] = {}
        self.audit_logs: list[dict[str, Any]] = []
        self.application_info: dict[str, dict[str, Any]] = {}
        self._counter = 0
        self._last_ms = 0
        if state_file and os.path.exists(state_file):
            self._load(state_file)

    # ids and clocks -----------------------------------------------------------------------

    def new_id(self) -> str:
        """A Mongo-ObjectId-like id: 4 bytes of seconds, then a counter (unique per store)."""
        with self.lock:
            self._counter += 1
            return f"{int(time.time()):08x}{self._counter:016x}"

    def now_ms(self) -> int:
        """Milliseconds, strictly increasing, so `lastUpdated` moves on every write."""
        with self.lock:
            now = int(time.time() * 1000)
            self._last_ms = max(now, self._last_ms + 1)
            return self._last_ms

    def clock_ms(self) -> int:
        """Now, in milliseconds, never before a time now_ms gave (which may run ahead of the
        wall clock by a few ms when writes come faster than one a millisecond)."""
        with self.lock:
            return max(int(time.time() * 1000), self._last_ms)

    # persistence --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole state, copied (for the admin API and the state file)."""
        with self.lock:
            return {
                "version": STATE_VERSION,
                "counter": self._counter,
                "lastMs": self._last_ms,
                "applications": copy.deepcopy(self.applications),
                "credentials": copy.deepcopy(self.credentials),
                "flows": copy.deepcopy(self.flows),
                "connections": copy.deepcopy(self.connections),
                "auditLogs": copy.deepcopy(self.audit_logs),
                "applicationInfo": copy.deepcopy(self.application_info),
            }

    def _load(self, path: str) -> None:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        version = data.get("version") if isinstance(data, dict) else None
        if version not in READABLE_VERSIONS:
            raise ValueError(
                f"{path}: not an emulator state file this emulator reads (version {version!r}; "
                f"it reads versions {', '.join(map(str, READABLE_VERSIONS))})"
            )
        self._counter = int(data.get("counter", 0))
        self._last_ms = int(data.get("lastMs", 0))
        for app, items in data["applications"].items():
            self.applications[app] = dict(items)
        for app, items in data.get("credentials", {}).items():
            self.credentials[app] = dict(items)
        for app, items in data.get("flows", {}).items():
            self.flows[app] = dict(items)
        self.connections = dict(data.get("connections", {}))
        self.audit_logs = list(data.get("auditLogs", []))
        self.application_info = dict(data.get("applicationInfo", {}))

    def save(self) -> None:
        """Write the state file atomically, when there is one."""
        if not self.state_file:
            return
        with self.lock:
            text = json.dumps(self.snapshot(), separators=(",", ":"))
            directory = os.path.dirname(os.path.abspath(self.state_file))
            fd, tmp = tempfile.mkstemp(prefix=".emulator-state-", dir=directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.state_file)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise

    def reset(self) -> None:
        """Empty every declared application, forget the others and every audit log."""
        with self.lock:
            self.applications = {a: {} for a in self.declared}
            self.credentials = {}
            self.flows = {}
            self.connections = {}
            self.audit_logs = []
            self.application_info = {}
            self.save()

    def application(self, app_id: str) -> dict[str, Any]:
        """An existing application's details, made on first use: created no later than anything
        in it (an application from an older state file has no details yet)."""
        with self.lock:
            info = self.application_info.get(app_id)
            if info is None:
                records = [
                    *self.applications.get(app_id, {}).values(),
                    *self.credentials.get(app_id, {}).values(),
                    *self.flows.get(app_id, {}).values(),
                ]
                dates = [epoch_ms(r.get("creationDate", "")) for r in records]
                created = min([d for d in dates if d > 0], default=self.now_ms())
                info = self.application_info[app_id] = {"creationDate": iso_ms(created)}
            return info
