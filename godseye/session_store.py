"""ADK's SQLite session service, made safe for many concurrent conversations in one process.

Why: `google.adk.sessions.SqliteSessionService` opens a fresh connection per operation with
SQLite's defaults (rollback journal, 5 s busy timeout). Each `append_event` reads the session row,
then writes state, the event and the timestamp in one transaction, and every statement is a hop
through the event loop (aiosqlite runs each connection in its own thread). With tens of sessions
talking at once on a busy loop, a writer holds the lock long enough that the others give up after
5 s: `sqlite3.OperationalError: database is locked` (seen at 20 concurrent sessions on 2 cores).

The fix, without touching ADK's schema or SQL:
- writes from this process are serialised by an asyncio lock, so they never contend with each
  other for SQLite's lock at all (SQLite allows one writer anyway; queueing in the process is fair
  and free, failing after 5 s is neither);
- the database runs in WAL mode (persistent in the file), so reads — `get_session` at the start of
  every turn — never wait for a writer, and `synchronous=NORMAL` (safe with WAL);
- every connection gets a 30 s busy timeout, for the writers of *other* processes (UI, CLI and
  workers may share one sessions database).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from google.adk.events.event import Event
from google.adk.sessions.session import Session
from google.adk.sessions.sqlite_session_service import SqliteSessionService

BUSY_TIMEOUT_MS = 30_000


class ConcurrentSqliteSessionService(SqliteSessionService):
    def __init__(self, db_path: str):
        super().__init__(db_path)
        self._write_lock: asyncio.Lock | None = None
        if self._db_path not in ("", ":memory:"):
            with sqlite3.connect(self._db_connect_path, uri=self._db_connect_uri, timeout=30) as conn:
                conn.execute("PRAGMA journal_mode=WAL")

    @property
    def write_lock(self) -> asyncio.Lock:
        if self._write_lock is None:  # created lazily: bound to the loop that runs the turns
            self._write_lock = asyncio.Lock()
        return self._write_lock

    @asynccontextmanager
    async def _get_db_connection(self) -> AsyncIterator[aiosqlite.Connection]:
        async with super()._get_db_connection() as db:
            if self._db_path not in ("", ":memory:"):
                await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                await db.execute("PRAGMA synchronous = NORMAL")
            yield db

    async def create_session(self, **kwargs: Any) -> Session:
        async with self.write_lock:
            return await super().create_session(**kwargs)

    async def append_event(self, session: Session, event: Event) -> Event:
        if event.partial:
            return await super().append_event(session, event)
        async with self.write_lock:
            return await super().append_event(session, event)

    async def delete_session(self, **kwargs: Any) -> None:
        async with self.write_lock:
            await super().delete_session(**kwargs)
