"""Per-session nudge bookkeeping in SQLite (GODSEYE_HOME/nudges.sqlite).

Why our own table rather than ADK session state: session state only changes through events appended
by a Runner, while the nudge state is written after the turn and by the UI's toggle (another code
path, no Runner invocation). A small table keyed by session id is also what the rate limits, the
off switch and the click/conversion attribution need to survive a restart of the UI or the CLI.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from godseye.config import get_settings
from godseye.sqlite import ThreadLocalDatabase

FILE_NAME = "nudges.sqlite"
CONTEXT_KEEP = 20  # recent products remembered per session (what the shopper looked at)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nudge_sessions (
    session_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    turns INTEGER NOT NULL DEFAULT 0,
    last_turn_at REAL,
    last_add_turn INTEGER NOT NULL DEFAULT 0,
    last_nudge_turn INTEGER,
    last_idle_turn INTEGER NOT NULL DEFAULT 0,
    nudges INTEGER NOT NULL DEFAULT 0,
    opted_out INTEGER NOT NULL DEFAULT 0,
    seen TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS nudges_shown (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    products TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS nudges_shown_by_session ON nudges_shown(session_id, turn);
CREATE TABLE IF NOT EXISTS nudge_outcomes (
    nudge_id INTEGER NOT NULL,
    product_id TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('clicked', 'converted')),
    turn INTEGER NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (nudge_id, outcome)
);
"""


@dataclass
class SessionState:
    """One session's counters as they stand after `begin_turn` counted the current turn."""

    session_id: str
    user_id: str
    turn: int = 0
    previous_turn_at: float | None = None  # end of the previous turn (None on the first)
    last_add_turn: int = 0
    last_nudge_turn: int | None = None
    last_idle_turn: int = 0
    nudges: int = 0
    opted_out: bool = False
    seen: list[dict] = field(default_factory=list)  # recent products: id, subcategory, occasions, seasons


@dataclass(frozen=True)
class ShownNudge:
    id: int
    turn: int
    kind: str
    products: dict[str, str]  # id -> name, as shown


class NudgeLedger:
    """Reads and writes nudge state. Safe to share between threads; one per process is enough."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else get_settings().home / FILE_NAME
        self._db = ThreadLocalDatabase(self.path, _SCHEMA)
        self._conn = self._db.connection
        self._tx = self._db.transaction

    @staticmethod
    def _state(row: tuple, previous_turn_at: float | None = None) -> SessionState:
        (session_id, user_id, turns, _last_at, last_add, last_nudge, last_idle, nudges, opted_out, seen) = row
        return SessionState(session_id=session_id, user_id=user_id, turn=turns, previous_turn_at=previous_turn_at,
                            last_add_turn=last_add, last_nudge_turn=last_nudge, last_idle_turn=last_idle,
                            nudges=nudges, opted_out=bool(opted_out), seen=json.loads(seen or "[]"))

    _COLUMNS = ("session_id, user_id, turns, last_turn_at, last_add_turn, last_nudge_turn, last_idle_turn, nudges, "
                "opted_out, seen")

    def begin_turn(self, session_id: str, user_id: str, now: float | None = None) -> SessionState:
        """Count a turn for the session (creating it) and return its state, with the previous turn's time."""
        now = time.time() if now is None else now
        with self._tx() as conn:
            conn.execute("INSERT OR IGNORE INTO nudge_sessions(session_id, user_id) VALUES (?, ?)",
                         (session_id, user_id))
            previous = conn.execute("SELECT last_turn_at FROM nudge_sessions WHERE session_id=?",
                                    (session_id,)).fetchone()[0]
            conn.execute("UPDATE nudge_sessions SET turns = turns + 1, last_turn_at = ?, user_id = ? "
                         "WHERE session_id = ?", (now, user_id, session_id))
            row = conn.execute(f"SELECT {self._COLUMNS} FROM nudge_sessions WHERE session_id=?",
                               (session_id,)).fetchone()
        return self._state(row, previous)

    def get(self, session_id: str) -> SessionState | None:
        row = self._conn().execute(f"SELECT {self._COLUMNS} FROM nudge_sessions WHERE session_id=?",
                                   (session_id,)).fetchone()
        return self._state(row) if row else None

    def update(self, state: SessionState) -> None:
        """Write back the counters the engine changed during a turn (not `turns`: begin_turn owns it)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE nudge_sessions SET last_add_turn=?, last_nudge_turn=?, last_idle_turn=?, nudges=?, "
                "seen=? WHERE session_id=?",
                (state.last_add_turn, state.last_nudge_turn, state.last_idle_turn, state.nudges,
                 json.dumps(state.seen[-CONTEXT_KEEP:]), state.session_id),
            )

    # --- the shopper's switch ----------------------------------------------------------------------

    def set_enabled(self, session_id: str, enabled: bool, user_id: str = "") -> None:
        """Switch nudges on or off for a session (the UI toggle and chat commands both land here)."""
        with self._tx() as conn:
            conn.execute("INSERT OR IGNORE INTO nudge_sessions(session_id, user_id) VALUES (?, ?)",
                         (session_id, user_id))
            conn.execute("UPDATE nudge_sessions SET opted_out=? WHERE session_id=?", (0 if enabled else 1, session_id))

    def enabled(self, session_id: str) -> bool:
        row = self._conn().execute("SELECT opted_out FROM nudge_sessions WHERE session_id=?",
                                   (session_id,)).fetchone()
        return row is None or not row[0]

    # --- shown nudges and their outcomes ------------------------------------------------------------

    def record_shown(self, session_id: str, turn: int, kind: str, products: dict[str, str], text: str,
                     now: float | None = None) -> int:
        """Remember a nudge shown (products: id -> name) so later turns can attribute clicks to it."""
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO nudges_shown(session_id, turn, at, kind, products, text) VALUES (?,?,?,?,?,?)",
                (session_id, turn, time.time() if now is None else now, kind, json.dumps(products), text),
            )
            return int(cur.lastrowid or 0)

    def shown(self, session_id: str, since_turn: int = 0) -> list[ShownNudge]:
        rows = self._conn().execute(
            "SELECT id, turn, kind, products FROM nudges_shown WHERE session_id=? AND turn >= ? ORDER BY id",
            (session_id, since_turn),
        ).fetchall()
        return [ShownNudge(i, t, k, json.loads(p)) for i, t, k, p in rows]

    def record_outcome(self, nudge_id: int, product_id: str, outcome: str, turn: int,
                       now: float | None = None) -> bool:
        """True when this outcome is new: a nudge counts as clicked (or converted) once, whichever of
        its products the shopper went for first; rates are then per nudge shown."""
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO nudge_outcomes(nudge_id, product_id, outcome, turn, at) VALUES (?,?,?,?,?)",
                (nudge_id, product_id, outcome, turn, time.time() if now is None else now),
            )
            return cur.rowcount == 1

    def outcome_counts(self) -> dict[str, dict[str, int]]:
        """{kind: {"shown": n, "clicked": n, "converted": n}} over every session (for reports)."""
        conn = self._conn()
        out: dict[str, dict[str, int]] = {}
        for kind, n in conn.execute("SELECT kind, COUNT(*) FROM nudges_shown GROUP BY kind"):
            out.setdefault(kind, {"shown": 0, "clicked": 0, "converted": 0})["shown"] = n
        for kind, outcome, n in conn.execute(
            "SELECT s.kind, o.outcome, COUNT(*) FROM nudge_outcomes o "
            "JOIN nudges_shown s ON s.id = o.nudge_id GROUP BY s.kind, o.outcome"
        ):
            out.setdefault(kind, {"shown": 0, "clicked": 0, "converted": 0})[outcome] = n
        return out

    def close(self) -> None:
        self._db.close()
