"""SQLite as every Godseye store uses it: shared by processes, safe under concurrent writers.

WAL lets readers and one writer work at once across the UI, the CLI, the MCP servers and workers;
a busy timeout turns lock contention into waiting instead of errors; `BEGIN IMMEDIATE` takes the
write lock up front, so two read-then-write transactions cannot deadlock on the upgrade.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

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


class ThreadLocalDatabase:
    """One connection per thread to one database file; the schema is created by the first user.

    sqlite3 connections must not be shared across threads mid-transaction, and stores here are used
    from the event loop, worker threads and `asyncio.to_thread` alike.
    """

    def __init__(self, path: Path | str, schema: str, *, setup: Callable[[sqlite3.Connection], None] | None = None,
                 **connect_kwargs: Any):
        self.path = Path(path)
        self._schema = schema
        self._setup = setup
        self._connect_kwargs = connect_kwargs
        self._local = threading.local()
        self._ready = False
        self._init_lock = threading.Lock()

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = connect(self.path, **self._connect_kwargs)
            if self._setup is not None:
                self._setup(conn)
            self._local.conn = conn
        if not self._ready:
            with self._init_lock:
                if not self._ready:
                    conn.executescript(self._schema)
                    self._ready = True
        return conn

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return write_transaction(self.connection())

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
