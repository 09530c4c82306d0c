"""Start-up checks of the server's SQLite files: disposable ones heal, the job store refuses.

The tile-cache index and the tokens database hold nothing that cannot be rebuilt
(tiles are recomputed, users log in again): when SQLite cannot read one it is moved
aside (renamed ``<name>.corrupt-<UTC time>``, logged) and recreated. The job store
holds users' work: a damaged or emptied one stops the start with a message naming
the file and how to recover it, never a traceback and never a silent empty start.
Checks run under an exclusive lock on a sibling ``.lock`` file, so server processes
starting together heal a file once.
"""

from __future__ import annotations

import fcntl
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import StateInvalid

log = logging.getLogger("ondemand.healing")

_SIDE_FILES = ("-wal", "-shm", "-journal")


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """An exclusive inter-process lock on ``<path>.lock`` for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sqlite_problem(path: Path, table: str | None = None) -> str | None:
    """Why SQLite cannot use the file at ``path`` (None when it can, or when it is absent).

    With ``table``, a readable database without that table is a problem too.
    """
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30.0)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        row = db.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            return f"integrity check failed: {row[0] if row else 'no answer'}"
        if table is not None:
            found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (table,)).fetchone()
            if found is None:
                return f"it has no {table!r} table (emptied or not a store of this server)"
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        db.close()
    return None


def set_aside(path: Path, reason: str) -> Path:
    """Rename ``path`` (a file or folder, with SQLite side files) out of the way; logged."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    path.rename(target)
    for suffix in _SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    log.warning("%s was unreadable (%s); moved aside to %s and recreated", path, reason,
                target.name)
    return target


def heal_disposable(path: Path, folder: Path | None = None) -> Path | None:
    """Move a corrupt disposable database aside (``folder``: move that whole folder).

    Returns where it went, or None if the file was readable or absent.
    """
    problem = sqlite_problem(path)
    if problem is None:
        return None
    return set_aside(folder or path, problem)


def check_job_store(path: Path) -> None:
    """StateInvalid naming ``path`` and the recovery when the job store cannot be used."""
    if not path.exists():
        return
    problem = ("the file is empty (0 bytes)" if path.stat().st_size == 0
               else sqlite_problem(path, "jobs"))
    if problem is None:
        return
    raise StateInvalid(
        f"the job store {path} cannot be used: {problem}. The server does not start on a "
        f"damaged job store, so no job is lost silently. To recover what SQLite can read: "
        f"stop the server, then run  sqlite3 {path} '.recover' | sqlite3 {path}.recovered  "
        f"and move {path.name}.recovered to {path.name} (keep the damaged file). To start "
        f"with no jobs instead, move {path.name} away."
    )
