"""`syncer ARGS` exactly as `python -m syncer ARGS` runs it, also writing how long the apply stage
took (Session.apply_plan: the writes and the read that checks them) to $BENCH_STAGE_FILE, so one
process gives both what a user waits for and the stage.

Run: BENCH_STAGE_FILE=/tmp/stage python -m benchmarks.timed apply --auto-approve DIR
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from syncer import session
from syncer.cli import main

_apply_plan = session.Session.apply_plan


def _timed(self: session.Session, *args: Any, **kwargs: Any) -> Any:
    start = time.perf_counter()
    try:
        return _apply_plan(self, *args, **kwargs)
    finally:
        Path(os.environ["BENCH_STAGE_FILE"]).write_text(f"{time.perf_counter() - start:.6f}")


session.Session.apply_plan = _timed  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
