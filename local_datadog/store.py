"""The stand-in's embedded, persistent metric store (SQLite in WAL mode).

Why SQLite: it ships with Python, survives restarts, and WAL lets the receiver write while the query
API, the CLI, the monitor evaluator and the MCP server read the same file from other threads and
processes. Layout: one row per point, with the metric and its tag set ("context") interned as
integers, indexed on (metric, ts, context) so a time-range query over ~1M points stays fast and a
tag filter is resolved against the small context table instead of every row.

Public API (other components code against exactly these names):
    MetricStore(path=None)              # default: get_settings().home / "standin.sqlite"
    .points(metric, start, end, filters=None) -> list[Point]     # start <= ts < end, sorted by ts
    .metric_names() -> list[str]
    .tag_values(metric, key, start, end) -> list[str]
    .events(start, end, filters=None) -> list[Event]
    .service_checks(start, end) -> list[ServiceCheck]
    .add_points(points, metric=None), .add_events(events), .add_service_checks(checks)
    .contexts(metric) -> list[dict]     # every tag set seen on a metric, no point scan
    .stats() -> dict, .prune(before), .close()
Receiver fast path: .resolve(metric, tags, kind, rate) -> (metric_id, ctx_id) and
.write_rows(rows, events, service_checks, counters) with rows (metric_id, ts, ctx_id, value).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from local_datadog.wire import METRIC_TYPES, TYPE_NAMES, format_tags

DEFAULT_FILENAME = "standin.sqlite"

# Small integers on disk; names in the API.
_KIND_CODES = {"count": 1, "gauge": 2, "histogram": 3, "distribution": 4, "set": 5, "timing": 6}
_KIND_NAMES = {code: name for name, code in _KIND_CODES.items()}

COUNTERS = (
    "datagrams",  # datagrams read from the sockets
    "bytes",
    "messages",  # metric lines, events and service checks parsed
    "points",  # metric points stored (received or injected)
    "events",
    "service_checks",
    "parse_errors",  # malformed lines skipped
    "dropped",  # datagrams dropped because the receiver's queue was full
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
-- A context is what one point shares with many others: metric, type, sample rate and tag set.
CREATE TABLE IF NOT EXISTS contexts (
    id INTEGER PRIMARY KEY,
    metric_id INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    rate REAL NOT NULL,
    tags_key TEXT NOT NULL,
    tags TEXT NOT NULL,
    UNIQUE (metric_id, kind, rate, tags_key)
);
-- Four columns only: binding cost per row dominates ingest. `value` has no declared type so a set
-- point keeps its member string there exactly as sent; every other point stores a float.
CREATE TABLE IF NOT EXISTS points (
    metric_id INTEGER NOT NULL,
    ts REAL NOT NULL,
    ctx_id INTEGER NOT NULL,
    value NOT NULL
);
CREATE INDEX IF NOT EXISTS points_metric_ts ON points (metric_id, ts, ctx_id);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    tags TEXT NOT NULL,
    host TEXT,
    aggregation_key TEXT,
    priority TEXT NOT NULL,
    source_type TEXT,
    alert_type TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE TABLE IF NOT EXISTS service_checks (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    name TEXT NOT NULL,
    status INTEGER NOT NULL,
    tags TEXT NOT NULL,
    host TEXT,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS service_checks_ts ON service_checks (ts);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(slots=True)
class Point:
    """One metric point. `tags` include the unified service tags (env, service, version).

    `type` is one of count, gauge, histogram, distribution, set, timing. `rate` is the client
    sample rate (counts are already scaled by 1/rate; for histograms and distributions each point
    stands for 1/rate samples). `member` is the element of a set metric (value is then 1).
    """

    ts: float
    value: float
    type: str
    tags: dict[str, str]
    metric: str = ""
    rate: float = 1.0
    member: str | None = None


@dataclass(slots=True)
class Event:
    ts: float
    title: str
    text: str
    tags: dict[str, str] = field(default_factory=dict)
    host: str | None = None
    aggregation_key: str | None = None
    priority: str = "normal"
    source_type: str | None = None
    alert_type: str = "info"


@dataclass(slots=True)
class ServiceCheck:
    """status: 0 ok, 1 warning, 2 critical, 3 unknown (Datadog's codes)."""

    ts: float
    name: str
    status: int
    tags: dict[str, str] = field(default_factory=dict)
    host: str | None = None
    message: str = ""


def default_path() -> Path:
    from godseye.config import get_settings

    return get_settings().home / DEFAULT_FILENAME


def normalise_type(kind: str) -> str:
    """Accept wire codes (c, g, h, d, s, ms) and names; return the name."""
    if kind in TYPE_NAMES:
        return kind
    name = METRIC_TYPES.get(kind)
    if name is None:
        raise ValueError(f"unknown metric type {kind!r}; use one of {sorted(TYPE_NAMES)}")
    return name


def _matches(tags: dict[str, str], filters: dict[str, str] | None) -> bool:
    return not filters or all(tags.get(k) == v for k, v in filters.items())


@dataclass(slots=True, frozen=True)
class _Context:
    metric_id: int
    kind: str
    rate: float
    tags: dict[str, str]


Row = tuple[int, float, int, float | str]
"""A stored point: (metric_id, ts, ctx_id, value); value is the member string for sets."""


class MetricStore:
    """Thread-safe handle on one store file; any number of processes may open the same file."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        # Interned ids, shared by all threads (plain dict operations are atomic under the GIL).
        self._metric_ids: dict[str, int] = {}
        self._ctx_ids: dict[tuple[int, int, float, str], int] = {}
        self._contexts: dict[int, _Context] = {}
        self._metric_ctxs: dict[int, list[int]] = {}  # metric id -> its context ids
        self._max_ctx_loaded = 0
        self._closed = False
        with self._write_lock:
            conn = self._conn()
            conn.executescript(_SCHEMA)
            conn.executemany("INSERT OR IGNORE INTO counters (name, value) VALUES (?, 0)",
                             [(c,) for c in COUNTERS])
            conn.commit()

    # -- connections -----------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError(f"metric store {self.path} is closed")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def close(self) -> None:
        with self._conns_lock:
            for conn in self._conns:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._conns.clear()
        self._closed = True

    def __enter__(self) -> MetricStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- interning -------------------------------------------------------------------------------

    def _refresh_ids(self) -> None:
        """Load metrics and contexts created since we last looked (possibly by another process)."""
        conn = self._conn()
        for mid, name in conn.execute("SELECT id, name FROM metrics"):
            self._metric_ids[name] = mid
        rows = conn.execute(
            "SELECT id, metric_id, kind, rate, tags_key, tags FROM contexts WHERE id > ? ORDER BY id",
            (self._max_ctx_loaded,),
        ).fetchall()
        for cid, mid, kind, rate, key, tags in rows:
            self._remember(cid, (mid, kind, rate, key), _Context(mid, _KIND_NAMES[kind], rate, json.loads(tags)))
            self._max_ctx_loaded = max(self._max_ctx_loaded, cid)

    def _remember(self, cid: int, key: tuple[int, int, float, str], ctx: _Context) -> None:
        if cid not in self._contexts:
            self._metric_ctxs.setdefault(ctx.metric_id, []).append(cid)
        self._ctx_ids[key] = cid
        self._contexts[cid] = ctx

    def resolve(self, metric: str, tags: dict[str, str], kind: str = "gauge", rate: float = 1.0) -> tuple[int, int]:
        """(metric id, context id) for a metric, type, sample rate and tag set; created if new."""
        code = _KIND_CODES[kind]
        key = format_tags(tags)
        mid = self._metric_ids.get(metric)
        if mid is not None:
            cid = self._ctx_ids.get((mid, code, rate, key))
            if cid is not None:
                return mid, cid
        with self._write_lock:
            conn = self._conn()
            with conn:
                if mid is None:
                    conn.execute("INSERT OR IGNORE INTO metrics (name) VALUES (?)", (metric,))
                    mid = conn.execute("SELECT id FROM metrics WHERE name = ?", (metric,)).fetchone()[0]
                    self._metric_ids[metric] = mid
                conn.execute(
                    "INSERT OR IGNORE INTO contexts (metric_id, kind, rate, tags_key, tags) VALUES (?, ?, ?, ?, ?)",
                    (mid, code, rate, key, json.dumps(tags, sort_keys=True)),
                )
                cid = conn.execute(
                    "SELECT id FROM contexts WHERE metric_id = ? AND kind = ? AND rate = ? AND tags_key = ?",
                    (mid, code, rate, key),
                ).fetchone()[0]
            self._remember(cid, (mid, code, rate, key), _Context(mid, kind, rate, dict(tags)))
            return mid, cid

    # -- writes ----------------------------------------------------------------------------------

    def write_rows(
        self,
        rows: Sequence[Row],
        events: Sequence[Event] = (),
        service_checks: Sequence[ServiceCheck] = (),
        counters: dict[str, int] | None = None,
    ) -> None:
        """Receiver fast path: rows of (metric_id, ts, ctx_id, value) with ids from resolve(),
        written in one transaction together with events, service checks and counters."""
        counters = dict(counters or {})
        counters["points"] = counters.get("points", 0) + len(rows)
        counters["events"] = counters.get("events", 0) + len(events)
        counters["service_checks"] = counters.get("service_checks", 0) + len(service_checks)
        with self._write_lock:
            conn = self._conn()
            with conn:
                if rows:
                    conn.executemany("INSERT INTO points (metric_id, ts, ctx_id, value) VALUES (?, ?, ?, ?)", rows)
                if events:
                    conn.executemany(
                        "INSERT INTO events (ts, title, text, tags, host, aggregation_key, priority, "
                        "source_type, alert_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            (float(e.ts), e.title, e.text, json.dumps(e.tags, sort_keys=True), e.host,
                             e.aggregation_key, e.priority, e.source_type, e.alert_type)
                            for e in events
                        ],
                    )
                if service_checks:
                    conn.executemany(
                        "INSERT INTO service_checks (ts, name, status, tags, host, message) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            (float(c.ts), c.name, int(c.status), json.dumps(c.tags, sort_keys=True), c.host,
                             c.message)
                            for c in service_checks
                        ],
                    )
                conn.executemany(
                    "UPDATE counters SET value = value + ? WHERE name = ?",
                    [(n, name) for name, n in counters.items() if n],
                )

    def add_points(self, points: Iterable[Point], metric: str | None = None) -> int:
        """Store points with the timestamps they carry (tests, simulators).

        Each point names its metric in `point.metric`; `metric=` supplies it for points that do
        not. `type` accepts names (gauge) or wire codes (g). Returns the number stored.
        """
        prepared = []
        for p in points:
            name = p.metric or metric
            if not name:
                raise ValueError("a point needs a metric name: set Point.metric or pass metric=")
            kind = normalise_type(p.type)
            if kind == "set":
                if p.member is None:
                    raise ValueError(f"set point of {name} needs a member")
                value: float | str = str(p.member)
            else:
                value = float(p.value)
            rate = float(p.rate)
            if not 0.0 < rate <= 1.0:
                raise ValueError(f"sample rate {rate} must be in (0, 1]")
            tags = {str(k): str(v) for k, v in (p.tags or {}).items()}
            prepared.append((name, float(p.ts), tags, value, kind, rate))
        rows = []
        for name, ts, tags, value, kind, rate in prepared:
            mid, cid = self.resolve(name, tags, kind, rate)
            rows.append((mid, ts, cid, value))
        self.write_rows(rows)
        return len(rows)

    def add_events(self, events: Iterable[Event]) -> int:
        events = list(events)
        self.write_rows([], events=events)
        return len(events)

    def add_service_checks(self, checks: Iterable[ServiceCheck]) -> int:
        checks = list(checks)
        self.write_rows([], service_checks=checks)
        return len(checks)

    def bump(self, **counters: int) -> None:
        """Add to the persistent counters (datagrams, parse_errors, dropped, ...)."""
        self.write_rows([], counters=counters)

    def prune(self, before: float) -> int:
        """Delete points, events and service checks older than `before` (retention)."""
        with self._write_lock:
            conn = self._conn()
            with conn:
                n = conn.execute("DELETE FROM points WHERE ts < ?", (before,)).rowcount
                conn.execute("DELETE FROM events WHERE ts < ?", (before,))
                conn.execute("DELETE FROM service_checks WHERE ts < ?", (before,))
        return n

    # -- queries ---------------------------------------------------------------------------------

    def _lookup_metric(self, metric: str) -> int | None:
        mid = self._metric_ids.get(metric)
        if mid is None:
            self._refresh_ids()
            mid = self._metric_ids.get(metric)
        return mid

    def _context(self, cid: int) -> _Context:
        ctx = self._contexts.get(cid)
        if ctx is None:
            self._refresh_ids()
            ctx = self._contexts[cid]
        return ctx

    def _contexts_for(self, mid: int, filters: dict[str, str] | None) -> list[int]:
        self._refresh_ids()
        contexts = self._contexts
        return [cid for cid in list(self._metric_ctxs.get(mid, ())) if _matches(contexts[cid].tags, filters)]

    def points(
        self, metric: str, start: float, end: float, filters: dict[str, str] | None = None
    ) -> list[Point]:
        """Points of one metric with start <= ts < end whose tags match every filter exactly,
        sorted by time. Each point gets its own tags dict (safe to modify)."""
        mid = self._lookup_metric(metric)
        if mid is None:
            return []
        sql = "SELECT ts, ctx_id, value FROM points WHERE metric_id = ? AND ts >= ? AND ts < ?"
        params: list[object] = [mid, float(start), float(end)]
        allowed: set[int] | None = None
        if filters:
            cids = self._contexts_for(mid, filters)
            if not cids:
                return []
            if len(cids) <= 500:  # let the (metric, ts, ctx) index do the filtering
                sql += f" AND ctx_id IN ({','.join('?' * len(cids))})"
                params.extend(cids)
            else:
                allowed = set(cids)
        rows = self._conn().execute(sql + " ORDER BY ts", params).fetchall()
        out = []
        context = self._context
        for ts, cid, value in rows:
            if allowed is not None and cid not in allowed:
                continue
            ctx = context(cid)
            if ctx.kind == "set":
                out.append(Point(ts, 1.0, "set", dict(ctx.tags), metric, ctx.rate, str(value)))
            else:
                out.append(Point(ts, value, ctx.kind, dict(ctx.tags), metric, ctx.rate))
        return out

    def metric_names(self) -> list[str]:
        return [name for (name,) in self._conn().execute("SELECT name FROM metrics ORDER BY name")]

    def tag_values(self, metric: str, key: str, start: float, end: float) -> list[str]:
        """Distinct values of tag `key` on points of `metric` in [start, end)."""
        mid = self._lookup_metric(metric)
        if mid is None:
            return []
        cids = self._conn().execute(
            "SELECT DISTINCT ctx_id FROM points WHERE metric_id = ? AND ts >= ? AND ts < ?",
            (mid, float(start), float(end)),
        ).fetchall()
        values = {self._context(cid).tags.get(key) for (cid,) in cids}
        return sorted(v for v in values if v is not None)

    def contexts(self, metric: str) -> list[dict[str, str]]:
        """Every distinct tag set ever seen on a metric (cheap: no point scan)."""
        mid = self._lookup_metric(metric)
        if mid is None:
            return []
        seen: dict[str, dict[str, str]] = {}
        for cid in self._contexts_for(mid, None):
            tags = self._contexts[cid].tags
            seen.setdefault(format_tags(tags), dict(tags))
        return list(seen.values())

    def events(self, start: float, end: float, filters: dict[str, str] | None = None) -> list[Event]:
        """Events with start <= ts < end whose tags match every filter exactly."""
        rows = self._conn().execute(
            "SELECT ts, title, text, tags, host, aggregation_key, priority, source_type, alert_type "
            "FROM events WHERE ts >= ? AND ts < ? ORDER BY ts, id",
            (float(start), float(end)),
        ).fetchall()
        out = []
        for ts, title, text, tags, host, key, priority, source, alert in rows:
            tag_dict = json.loads(tags)
            if _matches(tag_dict, filters):
                out.append(Event(ts, title, text, tag_dict, host, key, priority, source, alert))
        return out

    def service_checks(self, start: float, end: float) -> list[ServiceCheck]:
        rows = self._conn().execute(
            "SELECT ts, name, status, tags, host, message FROM service_checks "
            "WHERE ts >= ? AND ts < ? ORDER BY ts, id",
            (float(start), float(end)),
        ).fetchall()
        return [ServiceCheck(ts, name, status, json.loads(tags), host, message)
                for ts, name, status, tags, host, message in rows]

    def stats(self) -> dict[str, int]:
        """Persistent counters since the store file was created: datagrams, bytes, messages,
        points, events, service_checks, parse_errors, dropped; plus metric and context counts."""
        conn = self._conn()
        out = {name: 0 for name in COUNTERS}
        out.update(dict(conn.execute("SELECT name, value FROM counters").fetchall()))
        out["metrics"] = conn.execute("SELECT COUNT(*) FROM metrics").fetchone()[0]
        out["contexts"] = conn.execute("SELECT COUNT(*) FROM contexts").fetchone()[0]
        return out
