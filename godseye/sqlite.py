"""SQLite as every Godseye store uses it: shared by processes, safe under concurrent writers.

WAL lets readers and one writer work at once across the UI, the CLI, the MCP servers and workers;
a busy timeout turns lock contention into waiting instead of errors; `BEGIN IMMEDIATE` takes the
write lock up front, so two read-then-write transactions cannot deadlock on the upgrade.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_MS = 10_000


def connect(path: Path | str, *, synchronous: str = "NORMAL", busy_timeout_ms: int = BUSY_TIMEOUT_MS
            ) -> sqlite3.Connection:
    """An autocommit connection in WAL mode; `synchronous="FULL"` where a commit must survive a crash,
    a short `busy_timeout_ms` where losing a write beats waiting for it."""
    conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    return conn


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Commit on success, roll back on any error (including cancellation)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
