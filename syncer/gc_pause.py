"""The cyclic garbage collector paused while a run builds what it keeps (imported by the
benchmarks' floor too, which must pause it exactly as syncer does)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused(*, freeze: bool = False) -> Iterator[None]:
    """Loading, reading and planning build millions of acyclic objects that live until the run
    ends; the cyclic GC only scans them again and again (40 % of a load; 1.4 s of a 6.5 s plan
    of 50,000). Nested, only the outermost pause counts.

    `freeze`, for a run that is the whole process: what exists is frozen before the GC resumes,
    never scanned again (0.8 s of that plan) and still freed by reference counting once dropped.
    Not for a process that runs on (a script, the tests): cyclic garbage that exists then is
    never collected."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if freeze:
                gc.freeze()
            gc.enable()
