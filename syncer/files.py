"""Writing the files syncer produces (exports, merges, saved plans, reports): whole or not at all.

The text goes to a temporary file beside the target, then replaces it in one rename: an
interrupted run never leaves half a file, and a symlink at the target is replaced, not followed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

from syncer.errors import SyncerError


def write_file(
    path: str, text: str, what: str, check: Callable[[str], None] | None = None, *, hint: str = ""
) -> None:
    """`text` into `path` atomically; `check` may refuse the written candidate (by raising) before
    it replaces anything. A file system error is one line naming the path, `what` it is, and
    the `hint` (how to get around it)."""
    directory = os.path.dirname(os.path.abspath(path))
    candidate = None
    try:
        mode = os.stat(path).st_mode & 0o777 if os.path.isfile(path) else _new_file_mode()
        handle, candidate = tempfile.mkstemp(
            prefix=".syncer-", suffix=os.path.splitext(path)[1], dir=directory
        )
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(candidate, mode)
        if check is not None:
            check(candidate)
        os.replace(candidate, path)
        candidate = None
    except OSError as exc:
        raise SyncerError(f"{path}: cannot write {what} ({exc.strerror}){hint}") from exc
    finally:
        if candidate is not None and os.path.exists(candidate):
            os.unlink(candidate)


def _new_file_mode() -> int:
    """What open() would give a new file: 0o666 less the umask (mkstemp's own is 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
