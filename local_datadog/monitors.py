"""The stand-in's monitor evaluator: `datadog/monitors/*.json` run against the local metric store.

Same JSON, same semantics as Datadog for the forms Godseye uses, so the attack -> metric -> monitor ->
incident -> webhook -> block loop can be exercised without an account:

* query `TIME_AGG(last_N):SPACE_AGG:metric{filters} by {tags}[.as_count()] CMP threshold`, with
  arithmetic between queries, `percentile(...)` over distributions, `.rollup()`, `anomalies()` and
  `forecast()` (approximated, see below);
* points are bucketed at `interval_s` (10 s: the Datadog Agent's flush interval). Inside a bucket a
  gauge keeps its last value per source (tag set), a count is summed (`.as_count()`) or divided by
  the bucket length (rate, the default for counts); sources are then space-aggregated per group and
  buckets time-aggregated over the window, ending `evaluation_delay` seconds before now;
* with `.as_count()` in an arithmetic query each query is time-aggregated first and the arithmetic is
  applied to the totals (Datadog's rule for as_count monitors); otherwise per bucket;
* multi-alert: one state per `by {...}` group (points missing a group tag are ignored rather than
  grouped as N/A, so no "N/A" session is ever blocked); states OK / Warn / Alert / No Data, warning
  and critical thresholds with recovery thresholds as hysteresis, `new_group_delay`;
* missing data: count queries evaluate to 0 (Datadog's default for count queries), other queries keep
  their last state; `notify_no_data` moves a group to No Data after `no_data_timeframe` minutes
  (default 2x the window); `timeout_h` auto-resolves a triggered group that stopped reporting;
* notifications on every state change and on `renotify_interval` (statuses `renotify_statuses`,
  default alert and no data, at most `renotify_occurrences`), with the message rendered for the
  transition: `@webhook-x` posts Datadog's webhook payload, `@incident-x` declares an incident,
  other handles are logged.

Approximations: `anomalies(q, algo, k, alert_window=W)` uses the mean and standard deviation of the
query's buckets before the alert window as the expected band (mean +- k*std, whatever the algorithm)
and returns the fraction of buckets in W outside the band in `direction`; `forecast(q, algo, k)`
fits a least-squares line to the query's history and takes the predicted values over the next_ window
(the point forecast, not its bounds; seasonal is treated as linear).
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
import sqlite3
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from godseye.datadog_assets import message as msg
from godseye.datadog_assets.loader import load_assets, resolve_placeholders
from godseye.datadog_assets.query import (
    BinOp,
    Func,
    MetricQuery,
    MonitorQuery,
    Name,
    Neg,
    Number,
    String,
    iter_metric_queries,
    parse_monitor_query,
    parse_window,
)
from godseye.datadog_assets.webhook_vars import (
    ALERT_TYPES,
    RENOTIFY_NAMES,
    TRANSITION_NAMES,
    fill_headers,
    fill_payload,
)

log = logging.getLogger(__name__)

OK, WARN, ALERT, NO_DATA = "OK", "Warn", "Alert", "No Data"
DEFAULT_INTERVAL_S = 10.0
_PERCENTILE = re.compile(r"^p(\d+(\.\d+)?)$")
GroupKey = tuple[str, ...]


# -- inputs ---------------------------------------------------------------------------------------

class PointLike(Protocol):
    ts: float
    value: float
    type: str
    tags: dict[str, str]


class PointSource(Protocol):
    """What the evaluator needs from a metric store (local_datadog.store.MetricStore fits)."""

    def points(self, metric: str, start: float, end: float,
               filters: dict[str, str] | None = None) -> Sequence[PointLike]: ...


class UnsupportedQuery(ValueError):
    """A query form the stand-in does not evaluate (it is still valid for Datadog)."""


@dataclass
class MonitorDef:
    key: str  # file stem, also the godseye-id tag
    id: int  # stable local id: Datadog's is unknown until apply
    name: str
    query: MonitorQuery
    message: str
    tags: list[str]
    options: dict
    priority: int | None = None

    @property
    def thresholds(self) -> dict:
        return self.options.get("thresholds") or {}

    @classmethod
    def from_json(cls, key: str, data: Mapping[str, Any]) -> MonitorDef:
        return cls(
            key=key,
            id=zlib.crc32(key.encode()) % 10_000_000,
            name=data.get("name", key),
            query=parse_monitor_query(data["query"]),
            message=data.get("message", ""),
            tags=list(data.get("tags") or []),
            options=dict(data.get("options") or {}),
            priority=data.get("priority"),
        )


@dataclass
class WebhookDef:
    name: str
    url: str
    payload: str | None
    custom_headers: str | None
    encode_as: str = "json"


@dataclass
class WebhookCall:
    webhook: str
    url: str
    headers: dict[str, str]
    body: Any
    monitor_key: str
    group: str
    transition: str


@dataclass
class WebhookResult:
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


WebhookSink = Callable[[WebhookCall], WebhookResult | None]


@dataclass
class Transition:
    monitor_key: str
    monitor_id: int
    monitor_name: str
    group: dict[str, str]
    group_key: str  # "session_id:abc" (Datadog's scope), "" for a simple monitor
    from_state: str
    to_state: str
    value: float | None
    ts: float
    renotify: bool = False
    notified: list[str] = field(default_factory=list)  # handles the rendered message mentioned
    message: str = ""
    title: str = ""
    cycle_key: str = ""

    @property
    def alert_transition(self) -> str:
        """Datadog's $ALERT_TRANSITION for this notification."""
        if self.renotify:
            return RENOTIFY_NAMES.get(self.to_state, "Renotify")
        return TRANSITION_NAMES[self.to_state]


def load_monitors(root: Path | str) -> list[MonitorDef]:
    """Every metric monitor under `root`/monitors that the stand-in can evaluate."""
    out = []
    for asset in load_assets(root).of("monitor"):
        try:
            out.append(MonitorDef.from_json(asset.stem, asset.data))
        except (KeyError, ValueError) as exc:
            log.warning("monitor %s not evaluated locally: %s", asset.rel, exc)
    return out


def load_webhooks(root: Path | str, environ: Mapping[str, str] | None = None) -> tuple[dict[str, WebhookDef], dict[str, str]]:
    """Webhook definitions by name and the custom variables' values, placeholders resolved."""
    assets = load_assets(root)
    variables: dict[str, str] = {}
    for a in assets.of("webhook_variable"):
        try:
            data = resolve_placeholders(a.data, environ)
        except LookupError as exc:
            log.warning("webhook variable %s unresolved: %s", a.rel, exc)
            continue
        variables[data["name"]] = data.get("value", "")
    hooks: dict[str, WebhookDef] = {}
    for a in assets.of("webhook"):
        data = resolve_placeholders(a.data, environ)
        hooks[data["name"]] = WebhookDef(data["name"], data["url"], data.get("payload"),
                                         data.get("custom_headers"), data.get("encode_as", "json"))
    return hooks, variables


# -- series math ----------------------------------------------------------------------------------

Series = dict[GroupKey, dict[int, float]]  # group -> bucket index -> value


def _space(agg: str, values: list[float]) -> float:
    if agg == "sum":
        return sum(values)
    if agg == "min":
        return min(values)
    if agg == "max":
        return max(values)
    if agg == "count":
        return float(len(values))
    return sum(values) / len(values)


def _time(agg: str, values: list[float]) -> float:
    if agg == "last":
        return values[-1]
    if agg == "median":
        ordered = sorted(values)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return _space("avg" if agg in {"avg", "percentile"} else agg, values)


def _weighted_percentile(samples: list[tuple[float, float]], q: float) -> float:
    """Nearest-rank percentile of (value, weight) samples, like Datadog's distribution pNN."""
    ordered = sorted(samples)
    total = sum(w for _, w in ordered)
    rank = q / 100.0 * total
    acc = 0.0
    for value, weight in ordered:
        acc += weight
        if acc >= rank - 1e-12:
            return value
    return ordered[-1][0]


class _QueryEvaluator:
    """Turns a parsed query into per-group values against a point source."""

    def __init__(self, store: PointSource, interval_s: float):
        self.store = store
        self.interval_s = interval_s

    def fetch(self, q: MetricQuery, start: float, end: float) -> list[PointLike]:
        points = self.store.points(q.metric, start, end, q.exact_filters or None)
        rest = [f for f in q.filters if (f.key, f.value) not in q.exact_filters.items() or f.negated]
        if rest:
            points = [p for p in points if all(f.matches(p.tags) for f in rest)]
        return points

    @staticmethod
    def group_of(q: MetricQuery, tags: Mapping[str, str]) -> GroupKey | None:
        key = []
        for t in q.group_by:
            v = tags.get(t)
            if v is None:
                return None
            key.append(v)
        return tuple(key)

    def leaf_series(self, q: MetricQuery, start: float, end: float, interval: float | None = None) -> Series:
        """Per group, per bucket: sources rolled up inside the bucket, then space-aggregated."""
        rollup = q.method("rollup")
        bucket = float(rollup.args[1]) if rollup and len(rollup.args) > 1 else (interval or self.interval_s)
        rollup_method = str(rollup.args[0]) if rollup else None
        points = self.fetch(q, start, end)
        if not points:
            return {}
        sample_type = points[0].type
        group_by = q.group_by
        if sample_type in {"distribution", "histogram", "timing"}:
            samples: dict[tuple[GroupKey, int], list[tuple[float, float]]] = defaultdict(list)
            for p in points:
                g = self.group_of(q, p.tags) if group_by else ()
                if g is not None:
                    samples[(g, int((p.ts - start) // bucket))].append(
                        (p.value, 1.0 / (getattr(p, "rate", 1.0) or 1.0)))
            series: Series = defaultdict(dict)
            for (g, b), values in samples.items():
                series[g][b] = self._distribution(q, values)
            return dict(series)
        # (group, bucket) -> source -> rolled-up value (points arrive sorted by time)
        cells: dict[tuple[GroupKey, int], dict[tuple, Any]] = defaultdict(dict)
        is_count = sample_type == "count"
        collect = rollup_method in {"min", "max", "avg", "count"} and not is_count
        for p in points:
            g = self.group_of(q, p.tags) if group_by else ()
            if g is None:
                continue
            cell = cells[(g, int((p.ts - start) // bucket))]
            source = tuple(p.tags.items())
            if is_count or rollup_method == "sum":
                cell[source] = cell.get(source, 0.0) + p.value
            elif collect:
                cell.setdefault(source, []).append(p.value)
            else:  # gauge: the last value of the flush interval
                cell[source] = p.value
        as_rate = is_count and not q.has_method("as_count") and rollup_method != "sum"
        series = defaultdict(dict)
        for (g, b), sources in cells.items():
            values = [_space(rollup_method, v) if collect else v for v in sources.values()]  # type: ignore[arg-type]
            if as_rate:
                values = [v / bucket for v in values]
            series[g][b] = _space(q.space_agg, values)
        return dict(series)

    @staticmethod
    def _distribution(q: MetricQuery, samples: list[tuple[float, float]]) -> float:
        pct = _PERCENTILE.match(q.space_agg)
        if pct:
            return _weighted_percentile(samples, float(pct.group(1)))
        if q.space_agg == "count":
            return sum(w for _, w in samples)
        if q.space_agg == "sum":
            return sum(v * w for v, w in samples)
        if q.space_agg in {"min", "max"}:
            return _space(q.space_agg, [v for v, _ in samples])
        return sum(v * w for v, w in samples) / sum(w for _, w in samples)

    def percentile_values(self, q: MetricQuery, start: float, end: float) -> dict[GroupKey, float]:
        """`percentile(window):pNN:metric`: the percentile of every sample in the window."""
        pct = _PERCENTILE.match(q.space_agg)
        if not pct:
            raise UnsupportedQuery("percentile() time aggregation needs a pNN: query")
        samples: dict[GroupKey, list[tuple[float, float]]] = defaultdict(list)
        for p in self.fetch(q, start, end):
            g = self.group_of(q, p.tags)
            if g is not None:
                samples[g].append((p.value, 1.0 / (getattr(p, "rate", 1.0) or 1.0)))
        return {g: _weighted_percentile(s, float(pct.group(1))) for g, s in samples.items()}


def _apply(op: str, a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return None
    return a / b


_UNARY = {
    "abs": abs,
    "log10": lambda v: math.log10(v) if v > 0 else None,
    "log2": lambda v: math.log2(v) if v > 0 else None,
}


# -- monitor evaluation -----------------------------------------------------------------------------

@dataclass
class Evaluation:
    values: dict[GroupKey, float | None]
    group_by: tuple[str, ...]
    count_like: bool  # missing data evaluates to 0 (Datadog's default for count queries)
    first_ts: dict[GroupKey, float] = field(default_factory=dict)


def evaluate_query(mon: MonitorDef, store: PointSource, now: float, interval_s: float = DEFAULT_INTERVAL_S,
                   recovering: set[GroupKey] | None = None) -> Evaluation:
    """Per-group values of a monitor's query at `now` (no state; no thresholds)."""
    mq = mon.query
    delay = float(mon.options.get("evaluation_delay") or 0)
    end = now - delay
    ev = _QueryEvaluator(store, interval_s)
    group_by = mq.group_by
    leaves = mq.metric_queries
    if len({q.group_by for q in leaves if q.group_by}) > 1:
        raise UnsupportedQuery("metric queries group by different tags")
    count_like = bool(leaves) and all(q.has_method("as_count") for q in leaves) and mq.time_agg == "sum"
    expr = mq.expr
    if isinstance(expr, Func) and expr.name == "anomalies":
        values = _anomalies(ev, mon, expr, end, recovering or set())
        return Evaluation(values, group_by, False)
    if isinstance(expr, Func) and expr.name == "forecast":
        return Evaluation(_forecast(ev, mon, expr, end), group_by, False)
    start = end - mq.window.seconds
    if mq.time_agg == "percentile":
        if not isinstance(expr, MetricQuery):
            raise UnsupportedQuery("percentile() monitors must be a single pNN query")
        return Evaluation(dict(ev.percentile_values(expr, start, end)), group_by, False)
    aggregate_first = any(q.has_method("as_count") for q in leaves)
    series_cache: dict[int, Series] = {}

    def leaf(q: MetricQuery) -> Series:
        if id(q) not in series_cache:
            series_cache[id(q)] = ev.leaf_series(q, start, end)
        return series_cache[id(q)]

    if aggregate_first:
        result = _eval_scalar(expr, leaf, mq.time_agg, group_by)
    else:
        per_bucket = _eval_buckets(expr, leaf, group_by)
        result = {g: _time(mq.time_agg, [v for _, v in sorted(b.items()) if v is not None])
                  for g, b in per_bucket.items() if any(v is not None for v in b.values())}
    first: dict[GroupKey, float] = {}
    for s in series_cache.values():
        for g, buckets in s.items():
            if buckets:
                first[g] = min(first.get(g, math.inf), start + min(buckets) * interval_s)
    return Evaluation(result, group_by, count_like, first)


def _groups_of(node: Any, leaf: Callable[[MetricQuery], Series]) -> set[GroupKey]:
    """The groups an expression has data for; the single group () when nothing is grouped."""
    out: set[GroupKey] = set()
    grouped = False
    for q in iter_metric_queries(node):
        if q.group_by:
            grouped = True
            out |= set(leaf(q))
    return out if grouped else {()}


def _eval_scalar(node: Any, leaf: Callable[[MetricQuery], Series], time_agg: str,
                 group_by: tuple[str, ...]) -> dict[GroupKey, float | None]:
    """Time-aggregate every query first, then combine (as_count arithmetic)."""
    groups = _groups_of(node, leaf)

    def value(n: Any, g: GroupKey) -> float | None:
        if isinstance(n, Number):
            return n.value
        if isinstance(n, MetricQuery):
            s = leaf(n)
            key = tuple(g[group_by.index(t)] for t in n.group_by) if n.group_by else ()
            buckets = s.get(key)
            if not buckets:
                # a count with no points in the window counted zero events
                return 0.0 if time_agg == "sum" and n.has_method("as_count") else None
            return _time(time_agg, [v for _, v in sorted(buckets.items())])
        if isinstance(n, BinOp):
            return _apply(n.op, value(n.left, g), value(n.right, g))
        if isinstance(n, Neg):
            v = value(n.operand, g)
            return None if v is None else -v
        if isinstance(n, Func) and n.name in _UNARY and n.args:
            v = value(n.args[0], g)
            return None if v is None else _UNARY[n.name](v)
        raise UnsupportedQuery(f"the stand-in does not evaluate {_describe(n)} in monitors")

    return {g: value(node, g) for g in groups}


def _eval_buckets(node: Any, leaf: Callable[[MetricQuery], Series],
                  group_by: tuple[str, ...]) -> dict[GroupKey, dict[int, float | None]]:
    """Combine per bucket (only buckets where every operand has data), then time-aggregate later."""
    groups = _groups_of(node, leaf)

    def buckets(n: Any, g: GroupKey) -> dict[int, float | None] | float | None:
        if isinstance(n, Number):
            return n.value
        if isinstance(n, MetricQuery):
            s = leaf(n)
            key = tuple(g[group_by.index(t)] for t in n.group_by) if n.group_by else ()
            return dict(s.get(key, {}))
        if isinstance(n, BinOp):
            a, b = buckets(n.left, g), buckets(n.right, g)
            if isinstance(a, dict) and isinstance(b, dict):
                return {k: _apply(n.op, a[k], b[k]) for k in a.keys() & b.keys()}
            if isinstance(a, dict):
                return {k: _apply(n.op, v, b) for k, v in a.items()}  # type: ignore[arg-type]
            if isinstance(b, dict):
                return {k: _apply(n.op, a, v) for k, v in b.items()}  # type: ignore[arg-type]
            return _apply(n.op, a, b)
        if isinstance(n, Neg):
            v = buckets(n.operand, g)
            if isinstance(v, dict):
                return {k: (None if x is None else -x) for k, x in v.items()}
            return None if v is None else -v
        if isinstance(n, Func) and n.name in _UNARY and n.args:
            v = buckets(n.args[0], g)
            fn = _UNARY[n.name]
            if isinstance(v, dict):
                return {k: (None if x is None else fn(x)) for k, x in v.items()}
            return None if v is None else fn(v)
        raise UnsupportedQuery(f"the stand-in does not evaluate {_describe(n)} in monitors")

    out: dict[GroupKey, dict[int, float | None]] = {}
    for g in groups:
        b = buckets(node, g)
        if isinstance(b, dict):
            out[g] = b
    return out


def _describe(n: Any) -> str:
    if isinstance(n, Func):
        return f"{n.name}()"
    if isinstance(n, String | Name):
        return "a bare string or name"
    return type(n).__name__


def _kw_window(func: Func, key: str, default: float) -> float:
    raw = func.kwargs.get(key)
    if raw is None:
        return default
    text = str(raw)
    if not text.startswith(("last_", "next_")):
        text = "last_" + text
    return float(parse_window(text).seconds)


def _anomalies(ev: _QueryEvaluator, mon: MonitorDef, func: Func, end: float,
               recovering: set[GroupKey]) -> dict[GroupKey, float | None]:
    inner = func.args[0] if func.args else None
    if not isinstance(inner, MetricQuery):
        raise UnsupportedQuery("anomalies() over an expression is not evaluated locally")
    k = func.args[2].value if len(func.args) > 2 and isinstance(func.args[2], Number) else 2.0
    direction = str(func.kwargs.get("direction", "both"))
    interval = float(func.kwargs.get("interval") or 60)
    windows = mon.options.get("threshold_windows") or {}
    trigger = _kw_window(func, "alert_window", float(parse_window(windows["trigger_window"]).seconds)
                         if windows.get("trigger_window") else 15 * 60)
    recovery = float(parse_window(windows["recovery_window"]).seconds) if windows.get("recovery_window") else trigger
    history_start = end - mon.query.window.seconds - max(trigger, recovery)
    series = ev.leaf_series(inner, history_start, end, interval)
    out: dict[GroupKey, float | None] = {}
    for g, buckets in series.items():
        alert_len = recovery if g in recovering else trigger
        cut = int((end - alert_len - history_start) // interval)
        history = [v for b, v in buckets.items() if b < cut]
        recent = [v for b, v in sorted(buckets.items()) if b >= cut]
        if len(history) < 3 or not recent:
            out[g] = None
            continue
        mean = sum(history) / len(history)
        std = math.sqrt(sum((v - mean) ** 2 for v in history) / len(history))
        band = k * max(std, 1e-3 * max(abs(mean), 1.0))
        out[g] = sum(1 for v in recent if _outside(v, mean - band, mean + band, direction)) / len(recent)
    return out


def _outside(v: float, low: float, high: float, direction: str) -> bool:
    if direction == "below":
        return v < low
    if direction == "above":
        return v > high
    return v < low or v > high


def _forecast(ev: _QueryEvaluator, mon: MonitorDef, func: Func, end: float) -> dict[GroupKey, float | None]:
    inner = func.args[0] if func.args else None
    if not isinstance(inner, MetricQuery):
        raise UnsupportedQuery("forecast() over an expression is not evaluated locally")
    rollup = inner.method("rollup")
    interval = float(rollup.args[1]) if rollup and len(rollup.args) > 1 else _kw_window(func, "interval", 3600)
    history = _kw_window(func, "history", 7 * 86400)
    start = end - history
    series = ev.leaf_series(inner, start, end, interval)
    horizon = mon.query.window.seconds
    out: dict[GroupKey, float | None] = {}
    for g, buckets in series.items():
        pts = sorted(buckets.items())
        if len(pts) < 2:
            out[g] = None
            continue
        xs = [start + (b + 0.5) * interval for b, _ in pts]
        ys = [v for _, v in pts]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        sxx = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
        steps = max(1, int(horizon // interval))
        preds = [my + slope * (end + (i + 0.5) * interval - mx) for i in range(steps)]
        out[g] = _time(mon.query.time_agg, preds)
    return out


# -- thresholds and state ---------------------------------------------------------------------------

def _breach(comparator: str, v: float, t: float) -> bool:
    return {">": v > t, ">=": v >= t, "<": v < t, "<=": v <= t}[comparator]


def _recovered(comparator: str, v: float, t: float) -> bool:
    """Out of hysteresis: at or past the recovery threshold on the healthy side."""
    return v <= t if comparator in {">", ">="} else v >= t


def level(mon: MonitorDef, value: float, previous: str) -> str:
    """The state a value puts a group in, given its previous state (recovery thresholds)."""
    th, cmp = mon.thresholds, mon.query.comparator
    critical = th.get("critical", mon.query.threshold)
    warning, crit_rec, warn_rec = th.get("warning"), th.get("critical_recovery"), th.get("warning_recovery")
    if _breach(cmp, value, critical):
        return ALERT
    if previous == ALERT and crit_rec is not None and not _recovered(cmp, value, crit_rec):
        return ALERT
    if warning is not None and _breach(cmp, value, warning):
        return WARN
    if previous in {ALERT, WARN} and warning is not None and warn_rec is not None \
            and not _recovered(cmp, value, warn_rec):
        return WARN
    return OK


@dataclass
class GroupState:
    state: str = OK
    since: float = 0.0
    value: float | None = None
    first_seen: float = 0.0
    last_data: float = 0.0
    last_notified: float | None = None
    renotify_count: int = 0
    cycle_key: str = ""
    tags: dict[str, str] = field(default_factory=dict)


_STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS group_states (
    monitor TEXT NOT NULL, grp TEXT NOT NULL, state TEXT NOT NULL, since REAL NOT NULL,
    value REAL, first_seen REAL NOT NULL, last_data REAL NOT NULL, last_notified REAL,
    renotify_count INTEGER NOT NULL DEFAULT 0, cycle_key TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL,
    PRIMARY KEY (monitor, grp)
);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, monitor TEXT NOT NULL, monitor_id INTEGER NOT NULL,
    grp TEXT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL, value REAL, renotify INTEGER NOT NULL,
    handles TEXT NOT NULL, title TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transitions_ts ON transitions (ts);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, monitor TEXT NOT NULL, grp TEXT NOT NULL,
    handle TEXT NOT NULL, transition TEXT NOT NULL, status INTEGER, error TEXT, body TEXT
);
"""


class MonitorStateStore:
    """Group states, transitions and notification deliveries in SQLite (survives restarts)."""

    def __init__(self, path: Path | str | None = None):
        if path is None:
            from godseye.config import get_settings

            settings = get_settings()
            settings.ensure_home()
            path = settings.home / "monitor_state.sqlite"
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as conn:
            conn.executescript(_STATE_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
        return conn

    def load(self, monitor: str) -> dict[str, GroupState]:
        rows = self._conn().execute(
            "SELECT grp, state, since, value, first_seen, last_data, last_notified, renotify_count, cycle_key, tags "
            "FROM group_states WHERE monitor = ?", (monitor,)).fetchall()
        return {r[0]: GroupState(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], json.loads(r[9])) for r in rows}

    def save(self, monitor: str, states: Mapping[str, GroupState], drop: Iterable[str] = ()) -> None:
        with self._conn() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO group_states VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(monitor, g, s.state, s.since, s.value, s.first_seen, s.last_data, s.last_notified,
                  s.renotify_count, s.cycle_key, json.dumps(s.tags)) for g, s in states.items()])
            conn.executemany("DELETE FROM group_states WHERE monitor = ? AND grp = ?", [(monitor, g) for g in drop])

    def record_transition(self, t: Transition) -> None:
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO transitions (ts, monitor, monitor_id, grp, from_state, to_state, value, renotify, handles, "
                "title) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (t.ts, t.monitor_key, t.monitor_id, t.group_key, t.from_state, t.to_state, t.value, int(t.renotify),
                 json.dumps(t.notified), t.title))

    def record_notification(self, ts: float, t: Transition, handle: str, status: int | None,
                            error: str | None, body: Any = None) -> None:
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO notifications (ts, monitor, grp, handle, transition, status, error, body) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (ts, t.monitor_key, t.group_key, handle, t.alert_transition, status, error,
                 json.dumps(body) if body is not None else None))

    def transitions(self, since: float = 0.0) -> list[dict]:
        rows = self._conn().execute(
            "SELECT ts, monitor, grp, from_state, to_state, value, renotify, handles, title FROM transitions "
            "WHERE ts >= ? ORDER BY id", (since,)).fetchall()
        keys = ("ts", "monitor", "group", "from", "to", "value", "renotify", "handles", "title")
        return [dict(zip(keys, r, strict=True)) | {"handles": json.loads(r[7])} for r in rows]

    def notifications(self) -> list[dict]:
        rows = self._conn().execute(
            "SELECT ts, monitor, grp, handle, transition, status, error FROM notifications ORDER BY id").fetchall()
        keys = ("ts", "monitor", "group", "handle", "transition", "status", "error")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def states(self) -> list[dict]:
        rows = self._conn().execute(
            "SELECT monitor, grp, state, since, value FROM group_states ORDER BY monitor, grp").fetchall()
        return [dict(zip(("monitor", "group", "state", "since", "value"), r, strict=True)) for r in rows]


def _fmt(v: float | None) -> str:
    if v is None:
        return ""
    return f"{v:.3f}".rstrip("0").rstrip(".") or "0"


class IncidentSink(Protocol):
    def observe(self, transition: Transition, monitor: MonitorDef, handles: list[str]) -> Any: ...


def http_webhook_sink(call: WebhookCall, timeout_s: float = 5.0, attempts: int = 3) -> WebhookResult:
    """POST the payload like Datadog: JSON, custom headers, retried on 5xx and connection errors."""
    import httpx

    last = WebhookResult(None, "not sent")
    for attempt in range(attempts):
        try:
            response = httpx.post(call.url, json=call.body, headers=call.headers, timeout=timeout_s)
        except httpx.HTTPError as exc:
            last = WebhookResult(None, f"{type(exc).__name__}: {exc}")
        else:
            last = WebhookResult(response.status_code, None if response.status_code < 400 else response.text[:200])
            if response.status_code < 500:
                return last
        time.sleep(0.2 * (attempt + 1))
    return last


class MonitorEvaluator:
    """Evaluates monitors on a schedule and turns state changes into notifications.

    `evaluate(now)` is one evaluation cycle (Datadog runs one a minute; the stand-in can run faster).
    """

    def __init__(
        self,
        monitors: Sequence[MonitorDef],
        store: PointSource,
        incident_engine: IncidentSink | None = None,
        webhook_sink: WebhookSink | None = None,
        clock: Callable[[], float] = time.time,
        *,
        state: MonitorStateStore | None = None,
        webhooks: Mapping[str, WebhookDef] | None = None,
        custom_variables: Mapping[str, str] | None = None,
        interval_s: float = DEFAULT_INTERVAL_S,
        org_name: str = "godseye-standin",
    ):
        self.monitors = list(monitors)
        self.store = store
        self.incidents = incident_engine
        self.webhook_sink = webhook_sink if webhook_sink is not None else http_webhook_sink
        self.clock = clock
        self.state = state or MonitorStateStore()
        self.webhooks = dict(webhooks or {})
        self.custom_variables = dict(custom_variables or {})
        self.interval_s = interval_s
        self.org_name = org_name
        self.errors: dict[str, str] = {}

    @classmethod
    def from_assets(cls, root: Path | str, store: PointSource, **kwargs: Any) -> MonitorEvaluator:
        """Monitors and webhooks from `datadog/`; incidents from its incident settings."""
        from local_datadog.incidents import IncidentEngine

        environ = kwargs.pop("environ", None)
        hooks, variables = load_webhooks(root, environ)
        if kwargs.get("incident_engine") is None:
            kwargs["incident_engine"] = IncidentEngine.from_assets(root, clock=kwargs.get("clock", time.time))
        return cls(load_monitors(root), store, webhooks=hooks, custom_variables=variables, **kwargs)

    # -- one cycle ------------------------------------------------------------------------------
    def evaluate(self, now: float | None = None) -> list[Transition]:
        now = self.clock() if now is None else now
        out: list[Transition] = []
        for mon in self.monitors:
            try:
                out += self._evaluate_monitor(mon, now)
                self.errors.pop(mon.key, None)
            except UnsupportedQuery as exc:
                if self.errors.get(mon.key) != str(exc):
                    log.warning("monitor %s skipped: %s", mon.key, exc)
                self.errors[mon.key] = str(exc)
        return out

    def run(self, every_s: float, stop: threading.Event) -> None:
        """Evaluate every `every_s` seconds until `stop` is set (for a background thread)."""
        while not stop.is_set():
            started = self.clock()
            try:
                self.evaluate(started)
            except Exception:  # one bad cycle must not stop the loop
                log.exception("monitor evaluation failed")
            stop.wait(max(0.0, every_s - (self.clock() - started)))

    def _evaluate_monitor(self, mon: MonitorDef, now: float) -> list[Transition]:
        states = self.state.load(mon.key)
        recovering = {tuple(s.tags.get(t, "") for t in mon.query.group_by) for s in states.values()
                      if s.state == ALERT}
        ev = evaluate_query(mon, self.store, now, self.interval_s, recovering)
        opts = mon.options
        window = mon.query.window.seconds
        transitions: list[Transition] = []
        seen: set[str] = set()
        for g, value in ev.values.items():
            tags = dict(zip(ev.group_by, g, strict=True))
            gkey = _scope(tags)
            seen.add(gkey)
            st = states.get(gkey) or GroupState(OK, now, None, now, now, tags=tags)
            states[gkey] = st
            if value is None:
                continue
            st.last_data = now
            st.value = value
            new_group_delay = float(opts.get("new_group_delay") or 0)
            if now - st.first_seen < new_group_delay:
                continue
            if opts.get("require_full_window") and ev.first_ts.get(g, now) > now - window + self.interval_s:
                continue
            transitions += self._move(mon, st, gkey, level(mon, value, st.state), value, now)
        drop = []
        for gkey, st in states.items():
            if gkey in seen:
                continue
            transitions += self._missing(mon, st, gkey, ev.count_like, now)
            if st.state == OK and now - st.last_data > max(24 * 3600, 2 * window):
                drop.append(gkey)
        for gkey, st in states.items():
            if gkey not in drop:
                transitions += self._maybe_renotify(mon, st, gkey, now)
        self.state.save(mon.key, {g: s for g, s in states.items() if g not in drop}, drop)
        for t in transitions:
            self._notify(mon, t)
        return transitions

    def _missing(self, mon: MonitorDef, st: GroupState, gkey: str, count_like: bool, now: float) -> list[Transition]:
        opts = mon.options
        silent_for = now - st.last_data
        timeout_h = opts.get("timeout_h")
        if st.state in {ALERT, WARN} and timeout_h and silent_for >= float(timeout_h) * 3600:
            return self._move(mon, st, gkey, OK, None, now)
        if count_like and st.state != NO_DATA:
            return self._move(mon, st, gkey, level(mon, 0.0, st.state), 0.0, now)
        on_missing = opts.get("on_missing_data")
        if on_missing == "resolve" and st.state != OK and silent_for >= mon.query.window.seconds:
            return self._move(mon, st, gkey, OK, None, now)
        wants_no_data = opts.get("notify_no_data") or on_missing in {"show_no_data", "show_and_notify_no_data"}
        if wants_no_data and st.state != NO_DATA:
            timeframe = float(opts.get("no_data_timeframe") or 2 * mon.query.window.seconds / 60) * 60
            if silent_for >= timeframe:
                return self._move(mon, st, gkey, NO_DATA, None, now)
        return []

    def _move(self, mon: MonitorDef, st: GroupState, gkey: str, new: str, value: float | None,
              now: float) -> list[Transition]:
        if new == st.state:
            return []
        previous = st.state
        if previous == OK:
            st.cycle_key = secrets.token_hex(8)
        st.state, st.since = new, now
        st.renotify_count = 0
        st.last_notified = now
        return [Transition(mon.key, mon.id, mon.name, dict(st.tags), gkey, previous, new, value, now,
                           cycle_key=st.cycle_key)]

    def _maybe_renotify(self, mon: MonitorDef, st: GroupState, gkey: str, now: float) -> list[Transition]:
        opts = mon.options
        interval = opts.get("renotify_interval")
        if not interval or st.state == OK or st.last_notified is None:
            return []
        statuses = opts.get("renotify_statuses") or ["alert", "no data"]
        if st.state.lower() not in statuses:
            return []
        occurrences = opts.get("renotify_occurrences")
        if occurrences is not None and st.renotify_count >= occurrences:
            return []
        if now - st.last_notified < float(interval) * 60 or st.since == now:
            return []
        st.last_notified = now
        st.renotify_count += 1
        return [Transition(mon.key, mon.id, mon.name, dict(st.tags), gkey, st.state, st.state, st.value, now,
                           renotify=True, cycle_key=st.cycle_key)]

    # -- notifications --------------------------------------------------------------------------
    def _context(self, mon: MonitorDef, t: Transition) -> msg.TransitionContext:
        th = mon.thresholds
        variables = {
            "value": _fmt(t.value),
            "threshold": _fmt(th.get("critical", mon.query.threshold)),
            "warn_threshold": _fmt(th.get("warning")),
            "comparator": mon.query.comparator,
            "last_triggered_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t.ts)),
            "last_triggered_at_epoch": str(int(t.ts * 1000)),
        }
        variables |= {f"{k}.name": v for k, v in t.group.items()}
        return msg.TransitionContext(t.to_state, t.from_state if not t.renotify else t.to_state,
                                     t.renotify, variables)

    def _notify(self, mon: MonitorDef, t: Transition) -> None:
        ctx = self._context(mon, t)
        text = msg.render(mon.message, ctx)
        if t.renotify and mon.options.get("escalation_message"):
            text += "\n\n" + msg.render(mon.options["escalation_message"], ctx)
        t.message = text.strip()
        name = msg.render(mon.name, ctx)
        label = {"Alert": "Triggered", "Warn": "Warn", "No Data": "No data", "OK": "Recovered"}[t.to_state]
        t.title = f"[{label} on {{{t.group_key}}}] {name}" if t.group_key else f"[{label}] {name}"
        t.notified = msg.mentions(text)
        self.state.record_transition(t)
        if self.incidents is not None:
            try:
                self.incidents.observe(t, mon, t.notified)
            except Exception:
                log.exception("incident engine failed on %s %s", mon.key, t.group_key)
        for handle in t.notified:
            if handle.startswith("webhook-"):
                self._call_webhook(mon, t, handle[len("webhook-"):], name)
            elif not handle.startswith("incident-"):
                self.state.record_notification(t.ts, t, "@" + handle, None, "logged (stand-in sends no chat or e-mail)")

    def webhook_variables(self, mon: MonitorDef, t: Transition, name: str) -> dict[str, str]:
        """Datadog's webhook variables for one notification."""
        scope = t.group_key
        tags = list(mon.tags) + [f"{k}:{v}" for k, v in t.group.items()]
        metric = next(iter(mon.query.metric_queries), None)
        window = mon.query.window.text.replace("last_", "the last ").replace("next_", "the next ")
        status = (f"{metric.metric if metric else mon.query.text} over {scope or '*'} was {mon.query.comparator} "
                  f"{_fmt(mon.query.threshold)} on {mon.query.time_agg} during {window}"
                  + (f" (value {_fmt(t.value)})" if t.value is not None else ""))
        values = {
            "ID": str(secrets.randbits(62)),
            "DATE": str(int(t.ts * 1000)),
            "LAST_UPDATED": str(int(t.ts * 1000)),
            "EVENT_TYPE": "query_alert_monitor",
            "EVENT_TITLE": t.title,
            "EVENT_MSG": t.message,
            "TEXT_ONLY_MSG": _text_only(t.message),
            "ALERT_ID": str(mon.id),
            "ALERT_TITLE": name,
            "ALERT_TRANSITION": t.alert_transition,
            "ALERT_TYPE": ALERT_TYPES[t.to_state],
            "ALERT_CYCLE_KEY": t.cycle_key,
            "ALERT_PRIORITY": f"P{mon.priority}" if mon.priority else "",
            "ALERT_SCOPE": scope,
            "ALERT_STATUS": status,
            "ALERT_QUERY": mon.query.text,
            "ALERT_METRIC": metric.metric if metric else "",
            "METRIC_NAMESPACE": metric.metric.split(".")[0] if metric else "",
            "AGGREG_KEY": f"{zlib.crc32(f'{mon.id}|{scope}'.encode()):08x}",
            "TAGS": ", ".join(tags),
            "LINK": f"standin:monitors/{mon.key}?group={scope}",
            "HOSTNAME": t.group.get("host", ""),
            "PRIORITY": "normal",
            "ORG_ID": "0",
            "ORG_NAME": self.org_name,
            "SNAPSHOT": "",
            "USER": "",
            "USERNAME": "",
            "EMAIL": "",
            "LOGS_SAMPLE": "",
        }
        values.update(self.custom_variables)
        return values

    def _call_webhook(self, mon: MonitorDef, t: Transition, name: str, rendered_name: str) -> None:
        hook = self.webhooks.get(name)
        if hook is None:
            self.state.record_notification(t.ts, t, f"@webhook-{name}", None, "no such webhook definition")
            return
        values = self.webhook_variables(mon, t, rendered_name)
        body = fill_payload(hook.payload, values)
        headers = fill_headers(hook.custom_headers, values)
        call = WebhookCall(name, hook.url, headers, body, mon.key, t.group_key, t.alert_transition)
        try:
            result = self.webhook_sink(call) or WebhookResult(200)
        except Exception as exc:  # a broken receiver must not stop evaluation
            result = WebhookResult(None, f"{type(exc).__name__}: {exc}")
        self.state.record_notification(t.ts, t, f"@webhook-{name}", result.status, result.error, body)
        note = getattr(self.incidents, "note", None)
        if note is not None:
            outcome = f"HTTP {result.status}" if result.status is not None else f"failed: {result.error}"
            note(mon.key, t.group_key, f"Webhook @webhook-{name} called ({t.alert_transition}): {outcome}.", t.ts)


def _scope(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{k}:{v}" for k, v in tags.items())


def _text_only(markdown: str) -> str:
    text = re.sub(r"[*_`#>]", "", markdown)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
