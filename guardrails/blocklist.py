"""The block list shared by every guardrail: sessions and users refused before any model call.

SQLite so it survives restarts and is shared between the UI, the CLI, the MCP servers and the
self-healing webhook (WAL mode, short transactions). Entries expire; lifting a block keeps its row
as history (who, why, when) rather than deleting evidence.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from godseye.config import get_settings

Kind = Literal["session", "user"]
DEFAULT_TTL_S = 24 * 3600


@dataclass(frozen=True)
class BlockEntry:
    kind: Kind
    key: str
    reason: str
    source: str
    created_at: float
    expires_at: float | None

    @property
    def message(self) -> str:
        return (
            "This conversation has been paused by our safety checks "
            f"({self.reason}). Your cart is kept; please contact support if this is a mistake."
        )


_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('session', 'user')),
    key TEXT NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    lifted_at REAL,
    lifted_by TEXT
);
CREATE INDEX IF NOT EXISTS blocks_active ON blocks(kind, key, lifted_at);
"""


class BlockList:
    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else get_settings().guard_db
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as conn:
            conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=10000")
            self._local.conn = conn
        return conn

    def block(
        self, kind: Kind, key: str, reason: str, *, source: str = "guardrails", ttl_s: float | None = DEFAULT_TTL_S
    ) -> BlockEntry:
        """Block a session or user. Idempotent: an active block is returned, not duplicated."""
        existing = self.active(kind, key)
        if existing is not None:
            return existing
        now = time.time()
        expires = now + ttl_s if ttl_s else None
        self._conn().execute(
            "INSERT INTO blocks(kind, key, reason, source, created_at, expires_at) VALUES (?,?,?,?,?,?)",
            (kind, key, reason, source, now, expires),
        )
        return BlockEntry(kind, key, reason, source, now, expires)

    def active(self, kind: Kind, key: str) -> BlockEntry | None:
        row = self._conn().execute(
            "SELECT kind, key, reason, source, created_at, expires_at FROM blocks "
            "WHERE kind=? AND key=? AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > ?) "
            "ORDER BY created_at DESC LIMIT 1",
            (kind, key, time.time()),
        ).fetchone()
        return BlockEntry(*row) if row else None

    def check(self, session_id: str | None = None, user_id: str | None = None) -> BlockEntry | None:
        """The block that applies to this session or user, if any (user blocks span sessions)."""
        if user_id:
            entry = self.active("user", user_id)
            if entry:
                return entry
        if session_id:
            return self.active("session", session_id)
        return None

    def lift(self, kind: Kind, key: str, *, by: str = "operator") -> int:
        """Lift active blocks; returns how many were lifted."""
        cur = self._conn().execute(
            "UPDATE blocks SET lifted_at=?, lifted_by=? WHERE kind=? AND key=? AND lifted_at IS NULL",
            (time.time(), by, kind, key),
        )
        return cur.rowcount

    def list_active(self) -> list[BlockEntry]:
        rows = self._conn().execute(
            "SELECT kind, key, reason, source, created_at, expires_at FROM blocks "
            "WHERE lifted_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at",
            (time.time(),),
        ).fetchall()
        return [BlockEntry(*r) for r in rows]
