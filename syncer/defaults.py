"""Defaults of apply that its options name too: a light module, so that importing the options
(every command does) does not import the HTTP stack with syncer.apply."""

from __future__ import annotations

GUARD_DEFAULT_MAX_DELETES = 5
DEFAULT_SETTLE = 3.0  # seconds before looking for a POST whose answer was lost
