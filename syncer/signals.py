"""Ctrl-C and SIGTERM: the first stops the run cleanly, the second at once.

GitHub Actions cancels a job with SIGINT, then SIGTERM a few seconds later, then SIGKILL: both
signals are handled alike, so the report is written whichever one arrives.

The handler itself only writes the signal number to a pipe (the self-pipe trick); a watcher
thread reads it and runs the callbacks. So a callback may print, take locks and set events
without ever re-entering code the main thread was interrupted in.
"""

from __future__ import annotations

import contextlib
import os
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
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)

    def handle(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(OSError):  # a full pipe: signals are already waiting
            os.write(write_end, bytes([signum]))

    def watch() -> None:
        received = 0
        while data := os.read(read_end, 16):
            for signum in data:
                received += 1
                (on_first if received == 1 else on_again)(signal.Signals(signum).name)

    watcher = threading.Thread(target=watch, name="signals", daemon=True)
    watcher.start()
    previous = {sig: signal.signal(sig, handle) for sig in HANDLED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(write_end)  # the watcher reads the end of the pipe and stops
        watcher.join(timeout=5)
        if not watcher.is_alive():
            os.close(read_end)
