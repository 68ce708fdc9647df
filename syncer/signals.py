"""Ctrl-C and SIGTERM while apply writes: the first stops the run cleanly, the second at once.

GitHub Actions cancels a job with SIGINT, then SIGTERM a few seconds later, then SIGKILL: both
signals are handled alike, so the report is written whichever one arrives.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def interruptible(on_first: Callable[[str], None], on_again: Callable[[str], None]) -> Iterator[None]:
    """Call `on_first(signal name)` on the first SIGINT/SIGTERM, `on_again` on any later one.

    Signals can only be caught in the main thread; elsewhere (an embedding program) this does
    nothing and the default behaviour stays.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = 0

    def handle(signum: int, frame: FrameType | None) -> None:
        nonlocal received
        received += 1
        name = signal.Signals(signum).name
        (on_first if received == 1 else on_again)(name)

    previous = {sig: signal.signal(sig, handle) for sig in HANDLED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
