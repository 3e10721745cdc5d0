"""What shoppers search for: an append-only SQLite log written at each `search_products` call.

Why it exists: trends ("what is being searched lately") must come from the shop's own records, and
a search is the earliest signal of demand, days before an add or an order. The cart server's
trends (`mcp_servers.cart.trends`) read it; nothing else writes it.

Why it never gets in the way: a search must not fail or slow down because its log could not be
written. Each record is one short INSERT in WAL mode with `synchronous=NORMAL` (no fsync per
search) and a short busy timeout; any error is logged at debug level and the record is dropped.

Rows: `searches` (time, raw query, normalised term, filters as JSON, result count) and
`search_hits` (one row per returned product with its rank), so per-product counts are one indexed
range scan instead of JSON parsing.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from godseye.config import get_settings
from godseye.sqlite import ThreadLocalDatabase

log = logging.getLogger(__name__)

FILE_NAME = "searches.sqlite"
BUSY_TIMEOUT_MS = 250  # a writer holding the lock longer than this costs us one record, not a slow search
MAX_QUERY_CHARS = 500
MAX_TERM_CHARS = 60  # longer queries are logged but never reported as a top search term

_SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    query TEXT NOT NULL,
    term TEXT NOT NULL,
    filters TEXT NOT NULL DEFAULT '{}',
    result_count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS searches_by_time ON searches(at);
CREATE TABLE IF NOT EXISTS search_hits (
    search_id INTEGER NOT NULL,
    at REAL NOT NULL,
    rank INTEGER NOT NULL,
    product_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS search_hits_by_time_product ON search_hits(at, product_id, rank);
CREATE INDEX IF NOT EXISTS search_hits_by_search ON search_hits(search_id);
"""
_SPACES = re.compile(r"\s+")


def normalise_term(query: str) -> str:
    """The form a query is counted under: lower case, single spaces, no surrounding punctuation."""
    return _SPACES.sub(" ", (query or "").casefold()).strip(" .,!?;:'\"")[:MAX_QUERY_CHARS]


def ensure_exp(conn: sqlite3.Connection) -> None:
    """SQLite's exp() for recency weights: built in when SQLite has its math functions, else Python's."""
    try:
        conn.execute("SELECT exp(0)").fetchone()
    except sqlite3.OperationalError:
        conn.create_function("exp", 1, math.exp, deterministic=True)


def default_path() -> Path:
    return get_settings().home / FILE_NAME


@dataclass(frozen=True)
class SearchHit:
    product_id: str
    rank: int  # 0 = the first result
    at: float


@dataclass(frozen=True)
class SearchRecord:
    at: float
    query: str
    term: str
    filters: dict[str, Any]
    result_count: int


class SearchLog:
    """Append searches; read them back by time. One per process; safe to share between threads."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_path()
        self._db = ThreadLocalDatabase(self.path, _SCHEMA, setup=ensure_exp, busy_timeout_ms=BUSY_TIMEOUT_MS)
        self._conn = self._db.connection
        self._tx = self._db.transaction

    def record(self, query: str, filters: dict[str, Any] | None, result_ids: Sequence[str],
               at: float | None = None) -> bool:
        """Append one search. Never raises: returns False when the record was dropped."""
        try:
            when = time.time() if at is None else float(at)
            text = (query or "")[:MAX_QUERY_CHARS]
            with self._tx() as conn:
                cur = conn.execute(
                    "INSERT INTO searches(at, query, term, filters, result_count) VALUES (?,?,?,?,?)",
                    (when, text, normalise_term(text), json.dumps(filters or {}, default=str, sort_keys=True),
                     len(result_ids)),
                )
                conn.executemany(
                    "INSERT INTO search_hits(search_id, at, rank, product_id) VALUES (?,?,?,?)",
                    [(cur.lastrowid, when, rank, str(pid)) for rank, pid in enumerate(result_ids)],
                )
            return True
        except Exception:  # the search itself must succeed whatever happens to its log
            log.debug("search not logged", exc_info=True)
            return False

    def hits(self, since: float) -> list[SearchHit]:
        """Every product returned by a search since `since` (epoch seconds), oldest first."""
        rows = self._conn().execute(
            "SELECT product_id, rank, at FROM search_hits WHERE at >= ? ORDER BY at, search_id, rank", (since,)
        ).fetchall()
        return [SearchHit(pid, rank, at) for pid, rank, at in rows]

    def searches(self, since: float) -> list[SearchRecord]:
        """Searches since `since`, oldest first."""
        rows = self._conn().execute(
            "SELECT at, query, term, filters, result_count FROM searches WHERE at >= ? ORDER BY at, id", (since,)
        ).fetchall()
        return [SearchRecord(at, query, term, json.loads(filters or "{}"), n) for at, query, term, filters, n in rows]

    def hit_signals(self, since: float, until: float, decay: float) -> list[tuple[str, int, float]]:
        """(product_id, appearances, sum of exp(-decay * age) / (rank + 1)) of search results in [since, until].

        Summed in SQLite: one row per product however many searches there were.
        """
        return self._conn().execute(
            "SELECT product_id, COUNT(*), SUM(exp(-? * (? - at)) / (rank + 1)) "
            "FROM search_hits WHERE at >= ? AND at <= ? GROUP BY product_id",
            (decay, until, since, until),
        ).fetchall()

    def term_signals(self, since: float, until: float, decay: float, *, products: Collection[str] | None = None,
                     depth: int = 3) -> list[tuple[str, int, float]]:
        """(normalised term, searches, sum of exp(-decay * age)) of non-empty queries in [since, until].

        With `products`, only searches whose first `depth` results include one of them count (what
        "top searches for summer" means: searches that found summer products). Terms are shoppers'
        words shown to other shoppers and to models: only short queries that found something count,
        so a pasted paragraph (or a prompt injection typed into the search box) never trends.
        """
        sql = ("SELECT s.term, COUNT(*), SUM(exp(-? * (? - s.at))) FROM searches s "
               "WHERE s.at >= ? AND s.at <= ? AND s.term != '' AND s.result_count > 0 AND length(s.term) <= ?")
        params: list[Any] = [decay, until, since, until, MAX_TERM_CHARS]
        if products is not None:
            sql += (" AND EXISTS (SELECT 1 FROM search_hits h WHERE h.search_id = s.id AND h.rank < ? "
                    "AND h.product_id IN (SELECT value FROM json_each(?)))")
            params += [depth, json.dumps(sorted(products))]
        return self._conn().execute(sql + " GROUP BY s.term", params).fetchall()

    def prune(self, older_than: float) -> int:
        """Delete records older than `older_than` (epoch seconds); returns how many searches went."""
        with self._tx() as conn:
            conn.execute("DELETE FROM search_hits WHERE at < ?", (older_than,))
            return conn.execute("DELETE FROM searches WHERE at < ?", (older_than,)).rowcount

    def close(self) -> None:
        self._db.close()


_default: SearchLog | None = None
_default_lock = threading.Lock()


def get_search_log() -> SearchLog:
    """The process's log at GODSEYE_HOME/searches.sqlite (reopened if GODSEYE_HOME changed)."""
    global _default
    path = default_path()
    if _default is None or _default.path != path:
        with _default_lock:
            if _default is None or _default.path != path:
                _default = SearchLog(path)
    return _default


def record_search(query: str, filters: dict[str, Any] | None, result_ids: Sequence[str]) -> None:
    """What the catalog server calls after each search; never raises."""
    try:
        get_search_log().record(query, filters, result_ids)
    except Exception:
        log.debug("search not logged", exc_info=True)
