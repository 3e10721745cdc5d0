"""Session and user escalation: repeated attacks block the attacker, and only the attacker.

One injection attempt is refused (the detector's verdict); a *pattern* of attempts ends the
conversation. Every scored user message with a warn or block verdict is stored as an event; its
weight (block 1.0, warn 0.5) decays with a half-life (`HALF_LIFE_S`, 15 min), so two attacks in
quick succession block the session while two attacks a day apart do not. A warning raised by the
learned layer alone (no structural rule behind it) weighs only 0.15, so a shopper whose queries the
classifier finds odd (an unusual language, say) never accumulates into a block.

- Session: decayed risk >= `SESSION_THRESHOLD` (2.0 = two block-level messages, or a block and
  two warnings) blocks the session through `BlockList` for `SESSION_BLOCK_TTL_S` (1 h).
- User: across sessions, `USER_BLOCKED_MESSAGES` block-level messages within `USER_WINDOW_S`
  (24 h), or `USER_BLOCKED_SESSIONS` sessions blocked by escalation in that window, block the user
  for `USER_BLOCK_TTL_S` (24 h) — an attacker who opens a new chat after each refusal is caught too.

Nothing else in the shop is touched: other sessions and users keep shopping. State is SQLite in
the guard database beside the block list (WAL, short transactions), so it survives restarts and is
shared by every process; blocks expire and can be lifted (`godseye guard unblock`). Instructions
found in *tool results* are not the shopper's doing and are not recorded here.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from guardrails.blocklist import BlockEntry, BlockList


def _env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


HALF_LIFE_S = _env("GODSEYE_ESCALATION_HALF_LIFE_S", 900)
SESSION_THRESHOLD = _env("GODSEYE_ESCALATION_SESSION_THRESHOLD", 2.0)
USER_BLOCKED_MESSAGES = int(_env("GODSEYE_ESCALATION_USER_MESSAGES", 4))
USER_BLOCKED_SESSIONS = int(_env("GODSEYE_ESCALATION_USER_SESSIONS", 2))
USER_WINDOW_S = _env("GODSEYE_ESCALATION_USER_WINDOW_S", 24 * 3600)
SESSION_BLOCK_TTL_S = _env("GODSEYE_ESCALATION_SESSION_TTL_S", _env("GODSEYE_ESCALATION_BLOCK_TTL_S", 3600))
USER_BLOCK_TTL_S = _env("GODSEYE_ESCALATION_USER_TTL_S", _env("GODSEYE_ESCALATION_BLOCK_TTL_S", 24 * 3600))
WEIGHTS = {"allow": 0.0, "warn": 0.5, "block": 1.0}
# A warning that only the learned layer raised (no structural rule behind it) is the weakest
# evidence there is: a German or Italian shopping query can get one. It counts for less, so a
# shopper who types ten such queries in a row is not blocked, while four rule-backed warnings are.
UNSUPPORTED_WARN_WEIGHT = 0.15
REASON = "repeated prompt-injection attempts"
SOURCE = "escalation"


class Scored(Protocol):
    score: float
    verdict: str


def _reached(value: float, threshold: float) -> bool:
    """Two attacks a moment apart decay to 1.9998, not 2: compare with a small tolerance."""
    return value >= threshold - 1e-3


@dataclass(frozen=True)
class EscalationDecision:
    blocked: bool
    risk: float  # the session's decayed risk after this message
    entry: BlockEntry | None = None
    user_risk: float = 0.0  # block-level messages of this user in the window
    newly_blocked: bool = False  # this message caused the block

    @property
    def message(self) -> str:
        return self.entry.message if self.entry else ""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS escalation_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    user_id TEXT,
    ts REAL NOT NULL,
    weight REAL NOT NULL,
    score REAL NOT NULL,
    verdict TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS escalation_events_session ON escalation_events(session_id, ts);
CREATE INDEX IF NOT EXISTS escalation_events_user ON escalation_events(user_id, ts);
CREATE TABLE IF NOT EXISTS escalation_blocked_sessions (
    session_id TEXT PRIMARY KEY,
    user_id TEXT,
    ts REAL NOT NULL
);
"""


def event_weight(result: Scored) -> float:
    weight = WEIGHTS.get(result.verdict, 0.0)
    rule_score = getattr(result, "rule_score", None)
    if result.verdict == "warn" and rule_score is not None and rule_score < 0.45:
        return UNSUPPORTED_WARN_WEIGHT
    return weight


class Escalation:
    def __init__(self, blocklist: BlockList | None = None, path: Path | str | None = None,
                 clock: Callable[[], float] = time.time):
        self.blocklist = blocklist or BlockList()
        self.path = Path(path) if path else self.blocklist.path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self._local = threading.local()
        self._conn().executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=10000")
            self._local.conn = conn
        return conn

    def record(self, session_id: str, user_id: str | None, result: Scored) -> EscalationDecision:
        """Add one scored user message; block the session (or the user) when a threshold is passed."""
        existing = self.blocklist.check(session_id=session_id, user_id=user_id)
        weight = event_weight(result)
        now = self.clock()
        if weight > 0:
            self._conn().execute(
                "INSERT INTO escalation_events(session_id, user_id, ts, weight, score, verdict) VALUES (?,?,?,?,?,?)",
                (session_id, user_id, now, weight, float(result.score), result.verdict),
            )
        risk = self.risk(session_id)
        user_risk = self.user_risk(user_id) if user_id else 0.0
        if existing is not None:
            return EscalationDecision(True, risk, existing, user_risk)
        if weight == 0:
            return EscalationDecision(False, risk, None, user_risk)
        if user_id and (_reached(user_risk, USER_BLOCKED_MESSAGES) or
                        (_reached(risk, SESSION_THRESHOLD) and self._blocked_sessions(user_id) + 1 >= USER_BLOCKED_SESSIONS)):
            if _reached(risk, SESSION_THRESHOLD):
                self._block_session(session_id, user_id)
            entry = self.blocklist.block("user", user_id, reason=REASON, source=SOURCE, ttl_s=USER_BLOCK_TTL_S)
            return EscalationDecision(True, risk, entry, user_risk, True)
        if _reached(risk, SESSION_THRESHOLD):
            entry = self._block_session(session_id, user_id)
            return EscalationDecision(True, risk, entry, user_risk, True)
        return EscalationDecision(False, risk, None, user_risk)

    def _block_session(self, session_id: str, user_id: str | None) -> BlockEntry:
        self._conn().execute(
            "INSERT INTO escalation_blocked_sessions(session_id, user_id, ts) VALUES (?,?,?) "
            "ON CONFLICT(session_id) DO UPDATE SET ts=excluded.ts", (session_id, user_id, self.clock()))
        return self.blocklist.block("session", session_id, reason=REASON, source=SOURCE, ttl_s=SESSION_BLOCK_TTL_S)

    def _blocked_sessions(self, user_id: str) -> int:
        row = self._conn().execute(
            "SELECT COUNT(*) FROM escalation_blocked_sessions WHERE user_id=? AND ts>=?",
            (user_id, self.clock() - USER_WINDOW_S)).fetchone()
        return int(row[0])

    def risk(self, session_id: str) -> float:
        """The session's decayed risk now (events older than 20 half-lives count for nothing)."""
        now = self.clock()
        rows = self._conn().execute(
            "SELECT ts, weight FROM escalation_events WHERE session_id=? AND ts>=?",
            (session_id, now - 20 * HALF_LIFE_S)).fetchall()
        return sum(w * math.pow(0.5, max(0.0, now - ts) / HALF_LIFE_S) for ts, w in rows)

    def user_risk(self, user_id: str) -> float:
        """Block-level messages of this user, in any session, within the user window."""
        row = self._conn().execute(
            "SELECT COUNT(*) FROM escalation_events WHERE user_id=? AND verdict='block' AND ts>=?",
            (user_id, self.clock() - USER_WINDOW_S)).fetchone()
        return float(row[0])

    def check(self, session_id: str | None = None, user_id: str | None = None) -> BlockEntry | None:
        return self.blocklist.check(session_id=session_id, user_id=user_id)

    def forget(self, kind: str, key: str) -> int:
        """Clear the recorded history of a session or user (after an operator lifted its block)."""
        column = "session_id" if kind == "session" else "user_id"
        cur = self._conn().execute(f"DELETE FROM escalation_events WHERE {column}=?", (key,))
        self._conn().execute(f"DELETE FROM escalation_blocked_sessions WHERE {column}=?", (key,))
        return cur.rowcount
