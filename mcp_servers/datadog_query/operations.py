"""What the AI SRE can find out, computed from a `TelemetryBackend`: one method per MCP tool.

Each method returns a JSON-ready dict with the structured data and a `summary` sentence (plus
`details` lines) written only from that data (see `formatting`): a model, Gemini or the local
planner, can relay the summary and every figure in it traces to a field of the same result.
The console uses these methods directly, so the page and the chat agree.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mcp_servers.datadog_query import assets
from mcp_servers.datadog_query.backend import (
    SPACE_AGGREGATIONS,
    BackendError,
    MetricQuerySpec,
    Series,
    TelemetryBackend,
    is_percentile,
)
from mcp_servers.datadog_query.formatting import clock, nice_interval, num, parse_window, show, span
from mcp_servers.datadog_query.metrics_catalog import UnknownMetric, info, resolve_metric, split_aggregation

MAX_SERIES = 10
MAX_POINTS = 120
MAX_LISTED = 5
FORECAST_LOOKBACK_S = 3 * 86400.0  # two full days for a daily season, plus slack (see forecasting)
ALL_SERVICES = "*"
INCIDENT_EVENT_MARGIN_S = 600.0


_PLAIN_ID = re.compile(r"[\w.:@/+=-]{1,80}")


def _ident(value: str) -> str:
    """A session or user id as shown to a model: ids are chosen by clients, so one that is not a
    plain identifier (spaces, sentences, markup) is replaced by a stable digest instead of being
    relayed as text a model might read as an instruction."""
    if _PLAIN_ID.fullmatch(value):
        return value
    return f"unusual-id-{hashlib.sha1(value.encode()).hexdigest()[:10]}"


def _scope(scope: str) -> str:
    """A monitor group scope ('session_id:abc, agent:x') with every value passed through `_ident`."""
    parts = []
    for part in scope.split(", "):
        key, sep, value = part.partition(":")
        parts.append(f"{key}:{_ident(value)}" if sep and value else part)
    return ", ".join(parts)


class SreError(ValueError):
    """A request the tools cannot answer as asked; the message says what to change."""


def _window(text: str | None, default: str) -> tuple[float, str]:
    try:
        seconds = parse_window(text, default)
    except ValueError as exc:
        raise SreError(str(exc)) from None
    return seconds, span(seconds) or default


def _filters(text: str | Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    if not text:
        return ()
    if isinstance(text, Mapping):
        pairs = [(str(k), str(v)) for k, v in text.items()]
    else:
        pairs = []
        for part in str(text).replace(" ", ",").split(","):
            if not part.strip():
                continue
            key, sep, value = part.strip().partition(":")
            if not sep or not key or not value:
                raise SreError(f"filter {part!r} must look like key:value, e.g. agent:shopper")
            pairs.append((key, value))
    for key, value in pairs:
        if any(c in key + value for c in "{}(),"):
            raise SreError(f"filter {key}:{value} has characters a query cannot carry")
    return tuple(pairs)


def _group_by(text: str | Sequence[str] | None) -> tuple[str, ...]:
    if not text:
        return ()
    parts = text if isinstance(text, list | tuple) else str(text).replace(" ", ",").split(",")
    keys = tuple(p.strip() for p in parts if p and p.strip())
    for key in keys:
        if not key.replace("_", "").replace(".", "").replace("-", "").isalnum():
            raise SreError(f"cannot group by {key!r}: use tag keys such as agent, session_id, server")
    return keys


def _aggregation(requested: str | None, default: str) -> str:
    agg = (requested or default).strip().lower()
    if agg in {"average", "mean"}:
        agg = "avg"
    if agg not in SPACE_AGGREGATIONS and not is_percentile(agg):
        raise SreError(f"aggregation {agg!r} is not one of avg, sum, min, max, count, p50, p90, p95, p99")
    return agg


def _stats(series: Series, count: bool) -> dict[str, Any]:
    values = [v for _, v in series.points]
    row: dict[str, Any] = {
        "group": series.group, "label": series.label, "points": len(values),
        "last": num(values[-1]), "last_utc": clock(series.points[-1][0]),
        "min": num(min(values)), "max": num(max(values)), "avg": num(math.fsum(values) / len(values)),
    }
    if count:
        row["total"] = num(math.fsum(values))
    row["series"] = [[int(ts), num(v)] for ts, v in series.points[-MAX_POINTS:]]
    return row


class SreOperations:
    """The AI SRE's tools over one back end. `clock` and `blocklist` are injectable for tests."""

    def __init__(self, backend: TelemetryBackend, clock_fn: Callable[[], float] = time.time,
                 blocklist: Any = None):
        self.backend = backend
        self.clock = clock_fn
        self._blocklist = blocklist

    @property
    def blocklist(self) -> Any:
        if self._blocklist is None:
            from guardrails.blocklist import BlockList

            self._blocklist = BlockList()
        return self._blocklist

    def _series(self, spec: MetricQuerySpec, start: float, end: float, interval: float) -> list[Series]:
        try:
            return self.backend.series(spec, start, end, interval)
        except BackendError as exc:
            raise SreError(str(exc)) from None

    def _resolve(self, metric: str) -> tuple[str, str | None, bool]:
        prefix, name = split_aggregation(metric or "")
        try:
            resolved, by_meaning = resolve_metric(name)
        except UnknownMetric as exc:
            raise SreError(str(exc)) from None
        return resolved, prefix, by_meaning

    def _totals(self, metric: str, aggregation: str, start: float, end: float,
                group_by: tuple[str, ...] = (), filters: tuple[tuple[str, str], ...] = ()) -> dict[tuple, float]:
        """One value per group over the whole window (a single bucket)."""
        m = info(metric)
        spec = MetricQuerySpec(metric, aggregation, filters, group_by, as_count=m.kind == "count")
        out = {}
        for s in self._series(spec, start, end, max(1.0, end - start)):
            values = [v for _, v in s.points]
            key = tuple(s.group.get(k, "") for k in group_by)
            out[key] = math.fsum(values) if m.kind == "count" else (max(values) if aggregation == "max" else values[-1])
        return out

    # -- query_metric ----------------------------------------------------------------------------

    def query_metric(self, metric: str, aggregation: str | None = None, window: str = "1h",
                     group_by: str | Sequence[str] | None = None,
                     filters: str | Mapping[str, str] | None = None) -> dict[str, Any]:
        name, prefix, by_meaning = self._resolve(metric)
        m = info(name)
        agg = _aggregation(aggregation or prefix, m.default_aggregation)
        window_s, window_txt = _window(window, "1h")
        groups, flt = _group_by(group_by), _filters(filters)
        interval = nice_interval(window_s)
        now = self.clock()
        spec = MetricQuerySpec(name, agg, flt, groups, as_count=m.kind == "count")
        series = self._series(spec, now - window_s, now, interval)
        count = m.kind == "count"
        rows = sorted((_stats(s, count) for s in series), key=lambda r: -(r["max"] or 0))
        whole = None
        if m.kind == "distribution" and series:
            whole_series = self._series(spec, now - window_s, now, window_s)
            whole = {s.label: num(s.points[-1][1]) for s in whole_series}
            for row in rows:
                row["window_value"] = whole.get(row["label"])
        unit = m.unit
        scope = f" where {', '.join(f'{k}:{v}' for k, v in flt)}" if flt else ""
        result: dict[str, Any] = {
            "metric": name, "resolved_from": metric if by_meaning else None, "aggregation": agg, "kind": m.kind,
            "unit": unit, "window": window_txt, "interval": span(interval), "query": spec.text(interval),
            "backend": self.backend.name, "group_by": list(groups), "filters": dict(flt),
            "groups": len(rows), "series": rows[:MAX_SERIES],
        }
        head = f"{name} ({agg}{', per ' + span(interval) if count else ''}) over the last {window_txt}{scope}"
        if not rows:
            result["summary"] = f"No data for {head}."
            result["details"] = []
            return result
        if not groups and len(rows) == 1:
            r = rows[0]
            text = (f"{head}: latest {show(r['last'], unit)}, min {show(r['min'], unit)}, "
                    f"max {show(r['max'], unit)}, avg {show(r['avg'], unit)}")
            if count:
                text += f", total {show(r['total'], unit)}"
            if r.get("window_value") is not None:
                text += f"; {agg} over the whole window {show(r['window_value'], unit)}"
            result["summary"] = text + "."
            result["details"] = []
            return result
        top = "; ".join(f"{r['label']} max {show(r['max'], unit)}" + (f", total {show(r['total'], unit)}" if count else "")
                        for r in rows[:MAX_LISTED])
        result["summary"] = f"{head} by {', '.join(groups) or 'tags'}: {len(rows)} groups; highest {top}."
        result["details"] = [f"{r['label']}: latest {show(r['last'], unit)}, avg {show(r['avg'], unit)}"
                             for r in rows[:MAX_LISTED]]
        return result

    # -- monitors ----------------------------------------------------------------------------------

    def triggered_monitors(self) -> dict[str, Any]:
        now = self.clock()
        try:
            states = self.backend.monitor_states(now)
        except BackendError as exc:
            raise SreError(str(exc)) from None
        books = assets.runbooks()
        items = []
        for s in states:
            group, name = _scope(s.group), s.name
            for part in s.group.split(", "):
                raw = part.partition(":")[2]
                if raw and _ident(raw) != raw:
                    name = name.replace(raw, _ident(raw))
            items.append({
                "monitor": s.monitor, "name": name, "group": group, "state": s.state, "value": num(s.value),
                "threshold": num(s.threshold), "comparator": s.comparator, "since": s.since,
                "since_utc": clock(s.since), "source": s.source, "runbook": books.get(s.monitor),
            })
        alerting = sum(1 for i in items if i["state"] == "Alert")
        warning = sum(1 for i in items if i["state"] == "Warn")
        no_data = sum(1 for i in items if i["state"] == "No Data")
        live = any(i["source"] == "live" for i in items)
        result: dict[str, Any] = {"backend": self.backend.name, "total": len(items), "alerting": alerting,
                                  "warning": warning, "no_data": no_data, "monitors": items,
                                  "evaluated_now": live}
        if not items:
            result["summary"] = "Nothing is firing: no monitor group is in Alert, Warn or No Data."
            result["details"] = []
            return result
        listed = "; ".join(_monitor_line(i) for i in items[:MAX_LISTED])
        more = f" (and {len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else ""
        result["more"] = max(0, len(items) - MAX_LISTED)
        result["summary"] = (f"{alerting} alerting, {warning} warning, {no_data} without data: {listed}{more}.")
        seen, details = set(), []
        for i in items:
            if i["runbook"] and i["monitor"] not in seen:
                seen.add(i["monitor"])
                details.append(f"What to do for {i['monitor']}: {i['runbook']}")
        result["details"] = details
        return result

    # -- incidents ---------------------------------------------------------------------------------

    def list_incidents(self, status: str | None = None, limit: int = 20) -> dict[str, Any]:
        status = (status or "all").strip().lower()
        if status not in {"all", "open", "active", "stable", "resolved"}:
            raise SreError("status must be all, open, active, stable or resolved")
        if not 1 <= int(limit) <= 200:
            raise SreError("limit must be between 1 and 200")
        try:
            records = self.backend.incidents(status, int(limit))
        except BackendError as exc:
            raise SreError(str(exc)) from None
        items = [_incident_row(r) for r in records]
        open_n = sum(1 for i in items if i["status"] != "resolved")
        result: dict[str, Any] = {"backend": self.backend.name, "status_filter": status, "count": len(items),
                                  "open": open_n, "resolved": len(items) - open_n, "incidents": items}
        label = "" if status == "all" else f" {status}"
        if not items:
            result["summary"] = f"No{label} incidents."
            result["details"] = []
            return result
        listed = "; ".join(_incident_line(i) for i in items[:MAX_LISTED])
        result["summary"] = f"{len(items)}{label} incidents ({open_n} open, {len(items) - open_n} resolved): {listed}."
        result["details"] = []
        return result

    def get_incident(self, incident_id: str | int) -> dict[str, Any]:
        wanted = str(incident_id).strip()
        if not wanted:
            raise SreError("give an incident number, e.g. 3")
        try:
            record = self.backend.incident(wanted)
        except BackendError as exc:
            raise SreError(str(exc)) from None
        if record is None:
            raise SreError(f"no incident {wanted}; list_incidents shows the existing ones")
        row = _incident_row(record)
        timeline = [{"ts": e["ts"], "at_utc": clock(e["ts"]), "kind": e["kind"], "text": e["text"]}
                    for e in record.timeline]
        end = record.resolved_at or self.clock()
        try:
            events = self.backend.events((record.created_at or end) - INCIDENT_EVENT_MARGIN_S, end + 60)
        except BackendError:
            events = []
        row.update({"fields": record.fields, "customer_impacted": record.customer_impacted, "timeline": timeline,
                    "events": [{"ts": e.ts, "at_utc": clock(e.ts), "title": e.title, "alert_type": e.alert_type}
                               for e in events[-20:]]})
        if record.resolved_at and record.created_at:
            row["duration"] = span(record.resolved_at - record.created_at)
        text = f"Incident {_incident_line(row)}"
        if row.get("duration"):
            text += f"; resolved at {row['resolved_utc']} after {row['duration']}"
        text += f". {len(timeline)} timeline entries."
        row["timeline_entries"] = len(timeline)
        row["backend"] = self.backend.name
        row["summary"] = text
        row["details"] = [f"{e['at_utc']} {e['kind']}: {e['text']}" for e in timeline[-8:]]
        return row

    # -- offenders ---------------------------------------------------------------------------------

    def top_offenders(self, kind: str = "sessions", window: str = "1h", limit: int = 5) -> dict[str, Any]:
        kind = (kind or "sessions").strip().lower()
        if kind in {"session", "sessions"}:
            kind = "sessions"
        elif kind in {"user", "users"}:
            kind = "users"
        else:
            raise SreError("kind must be sessions or users")
        if not 1 <= int(limit) <= 100:
            raise SreError("limit must be between 1 and 100")
        window_s, window_txt = _window(window, "1h")
        now = self.clock()
        start = now - window_s
        tag = "session_id" if kind == "sessions" else "user_id"
        scores = self._totals("llm.security.injection_score", "max", start, now, (tag,))
        blocks = {b.key: b for b in self.blocklist.list_active() if b.kind == kind[:-1]}
        rows: dict[str, dict[str, Any]] = {}

        def row(key: str) -> dict[str, Any]:
            return rows.setdefault(key, {tag: key, "max_injection_score": None, "blocked": False})

        for (key,), score in scores.items():
            if key:
                row(_ident(key))["max_injection_score"] = num(score)
        if kind == "sessions":
            refusals = self._totals("llm.security.blocked", "sum", start, now, ("session_id",))
            for (key,), n in refusals.items():
                if key:
                    row(_ident(key))["refusals"] = num(n)
            threshold = assets.threshold("prompt_injection", 0.85)
        else:
            violations = self._totals("tryon.security.violation", "sum", start, now, ("user_id", "kind"))
            for (key, vkind), n in violations.items():
                if key:
                    r = row(_ident(key))
                    r["violations"] = num((r.get("violations") or 0) + n)
                    r.setdefault("violation_kinds", {})[vkind or "unknown"] = num(n)
            threshold = assets.threshold("multimodal_violations", 3)
        for key, entry in blocks.items():
            r = row(_ident(key))
            r.update({"blocked": True, "block_reason": entry.reason, "block_source": entry.source,
                      "blocked_utc": clock(entry.created_at)})
        primary = "max_injection_score" if kind == "sessions" else "violations"
        secondary = "refusals" if kind == "sessions" else "max_injection_score"
        ranked = sorted(rows.values(), key=lambda r: (-(r.get(primary) or 0), -(r.get(secondary) or 0),
                                                      not r["blocked"], r[tag]))
        shown = ranked[: int(limit)]
        over = sum(1 for r in rows.values() if (r.get(primary) or 0) > threshold)
        result: dict[str, Any] = {
            "backend": self.backend.name, "kind": kind, "window": window_txt, "ranked_by": primary,
            "alert_threshold": num(threshold), "candidates": len(rows), "shown": len(shown),
            "above_threshold": over, "blocked": len(blocks), "offenders": shown,
        }
        noun = kind[:-1]
        if not rows:
            result["summary"] = f"No {kind} with injection scores, refusals, violations or blocks in the last {window_txt}."
            result["details"] = []
            return result
        listed = ", ".join(_offender_line(r, tag, kind) for r in shown)
        measure = "injection score" if kind == "sessions" else "upload violations"
        result["summary"] = (f"Top {len(shown)} of {len(rows)} {kind} by {measure} in the last {window_txt}: {listed}. "
                             f"{over} above the alert threshold of {show(num(threshold))}; {len(blocks)} {noun}"
                             f"{'s' if len(blocks) != 1 else ''} blocked now.")
        result["details"] = [f"Blocked {r[tag]}: {r['block_reason']} (by {r['block_source']}, {r['blocked_utc']})"
                             for r in shown if r["blocked"]]
        return result

    # -- service health ----------------------------------------------------------------------------

    def service_health(self, window: str = "15m") -> dict[str, Any]:
        window_s, window_txt = _window(window, "15m")
        now = self.clock()
        start = now - window_s
        calls = self._totals("mcp.tool.calls", "sum", start, now, ("server",))
        errors = self._totals("mcp.tool.errors", "sum", start, now, ("server",))
        total_calls, total_errors = math.fsum(calls.values()), math.fsum(errors.values())
        servers = []
        for (server,) in sorted(set(calls) | set(errors)):
            c, e = calls.get((server,), 0.0), errors.get((server,), 0.0)
            servers.append({"server": server or "unknown", "calls": num(c), "errors": num(e),
                            "error_rate_pct": num(e / c * 100) if c else None})
        error_rate = num(total_errors / total_calls * 100) if total_calls else None
        latency = self._totals("llm.latency", "p95", start, now)
        latency_by_agent = self._totals("llm.latency", "p95", start, now, ("agent",))
        tokens = self._totals("llm.token_usage", "sum", start, now, ("direction",))
        cost = self._totals("llm.cost_usd", "sum", start, now)
        blocked = self._totals("llm.security.blocked", "sum", start, now, ("reason",))
        quality = self._totals("llm.response.quality", "avg", start, now)
        failure = self._totals("llm.prediction.failure_probability", "max", start, now, ("service",))
        active_blocks = len(self.blocklist.list_active())
        p95 = num(latency.get(())) if latency else None
        q = num(quality.get(())) if quality else None
        token_total = num(math.fsum(tokens.values())) if tokens else None
        cost_total = num(math.fsum(cost.values())) if cost else None
        blocked_total = num(math.fsum(blocked.values())) if blocked else 0
        worst_failure = max(failure.items(), key=lambda kv: kv[1]) if failure else None
        limits = {
            "error_rate_pct": assets.threshold("service_error_rate", 10.0),
            "latency_p95_ms": assets.threshold("llm_latency", 20000.0),
            "quality": assets.threshold("answer_quality", 0.5),
            "failure_probability": assets.threshold("failure_prediction", 0.8),
        }
        problems = []
        if error_rate is not None and error_rate > limits["error_rate_pct"]:
            problems.append(f"tool error rate {show(error_rate, '%')} is above {show(num(limits['error_rate_pct']), '%')}")
        if p95 is not None and p95 > limits["latency_p95_ms"]:
            problems.append(f"model latency p95 {show(p95, 'ms')} is above {show(num(limits['latency_p95_ms']), 'ms')}")
        if q is not None and q < limits["quality"]:
            problems.append(f"answer quality {show(q)} is below {show(num(limits['quality']))}")
        if worst_failure and worst_failure[1] > limits["failure_probability"]:
            problems.append(f"failure probability of {worst_failure[0][0] or 'a service'} is "
                            f"{show(num(worst_failure[1]))}, above {show(num(limits['failure_probability']))}")
        has_data = any([calls, latency, tokens, cost, blocked, quality, failure])
        status = "degraded" if problems else ("healthy" if has_data else "no data")
        result: dict[str, Any] = {
            "backend": self.backend.name, "window": window_txt, "status": status, "problems": problems,
            "tool_calls": num(total_calls), "tool_errors": num(total_errors), "error_rate_pct": error_rate,
            "servers": servers, "latency_percentile": "p95", "latency_p95_ms": p95,
            "latency_p95_ms_by_agent": {k[0] or "unknown": num(v) for k, v in latency_by_agent.items()},
            "tokens": token_total, "tokens_by_direction": {k[0] or "unknown": num(v) for k, v in tokens.items()},
            "cost_usd": cost_total, "blocked_requests": blocked_total,
            "blocked_by_reason": {k[0] or "unknown": num(v) for k, v in blocked.items()},
            "active_blocks": active_blocks, "quality_avg": q,
            "failure_probability": {k[0] or "*": num(v) for k, v in failure.items()},
            "limits": {k: num(v) for k, v in limits.items()},
        }
        if not has_data:
            result["summary"] = f"No telemetry in the last {window_txt}: nothing to judge the service's health by."
            result["details"] = []
            return result
        parts = []
        if total_calls:
            parts.append(f"tool error rate {show(error_rate, '%')} ({show(num(total_errors))} errors in "
                         f"{show(num(total_calls))} calls)")
        if p95 is not None:
            parts.append(f"model latency p95 {show(p95, 'ms')}")
        if token_total is not None:
            parts.append(f"{show(token_total)} tokens" + (f" costing {show(cost_total, 'USD')}" if cost_total is not None
                                                          else ""))
        parts.append(f"{show(blocked_total)} requests blocked, {active_blocks} sessions or users on the block list")
        if q is not None:
            parts.append(f"answer quality {show(q)} on average")
        if worst_failure:
            parts.append(f"failure probability up to {show(num(worst_failure[1]))} ({worst_failure[0][0] or '*'})")
        text = f"The service is {status} over the last {window_txt}: " + "; ".join(parts) + "."
        if problems:
            text += " Problems: " + "; ".join(problems) + "."
        result["summary"] = text
        result["details"] = [f"{s['server']}: {show(s['errors'])} errors in {show(s['calls'])} calls"
                             + (f" ({show(s['error_rate_pct'], '%')})" if s["error_rate_pct"] is not None else "")
                             for s in servers[:MAX_LISTED]]
        return result

    # -- forecasting -------------------------------------------------------------------------------

    def series_points(self, metric: str, aggregation: str, start: float, end: float, step: float,
                      filters: tuple[tuple[str, str], ...] = ()) -> list[list[float]]:
        """One series of [ts, value] points (all groups merged by the aggregation) for forecasting."""
        m = info(metric)
        spec = MetricQuerySpec(metric, aggregation, filters, (), as_count=m.kind == "count")
        series = self._series(spec, start, end, step)
        points = sorted(p for s in series for p in s.points)
        return [[ts, v] for ts, v in points]

    def forecast(self, metric: str, threshold: float, horizon: str = "2h", direction: str = "above",
                 aggregation: str | None = None) -> dict[str, Any]:
        from forecasting import ForecastError, forecast

        name, prefix, by_meaning = self._resolve(metric)
        m = info(name)
        agg = _aggregation(aggregation or prefix, m.default_aggregation)
        if direction not in {"above", "below"}:
            raise SreError("direction must be above or below")
        if threshold is None or not math.isfinite(float(threshold)):
            raise SreError("give the threshold to watch, e.g. 8000 for latency in ms")
        horizon_s, horizon_txt = _window(horizon, "2h")
        step = max(60, nice_interval(horizon_s, 24))
        now = self.clock()
        points = self.series_points(name, agg, now - max(FORECAST_LOOKBACK_S, 6 * horizon_s), now, step)
        base: dict[str, Any] = {"backend": self.backend.name, "metric": name,
                                "resolved_from": metric if by_meaning else None, "aggregation": agg,
                                "threshold": num(float(threshold)), "direction": direction, "horizon": horizon_txt,
                                "step": span(step), "n_points": len(points)}
        if not points:
            raise SreError(f"no data for {agg}:{name} in the last {span(FORECAST_LOOKBACK_S)}: nothing to forecast")
        try:
            fc = forecast(points, horizon_s, threshold=float(threshold), direction=direction, step_s=step)
        except ForecastError as exc:
            raise SreError(f"cannot forecast {name}: {exc}") from None
        lower, upper = fc.intervals[max(fc.intervals)]
        result = base | {
            "method": fc.method, "last_value": num(points[-1][1]), "forecast_end": num(fc.mean[-1]),
            "interval_level": max(fc.intervals), "forecast_end_low": num(lower[-1]), "forecast_end_high": num(upper[-1]),
            "crossing_time": fc.crossing_time, "crossing_at_utc": clock(fc.crossing_time),
            "crossing_in": span(fc.crossing_time - now) if fc.crossing_time is not None else None,
            "crossing_in_s": num(fc.crossing_time - now) if fc.crossing_time is not None else None,
            "probability": num(fc.probability),
            "forecast": [[int(t), num(v)] for t, v in zip(fc.times, fc.mean, strict=True)],
            "warnings": fc.warnings,
        }
        unit = m.unit
        word = "rise above" if direction == "above" else "fall below"
        now_part = (f"Now {show(result['last_value'], unit)}; expected in {horizon_txt}: "
                    f"{show(result['forecast_end'], unit)} ({int(round(result['interval_level'] * 100))}% interval "
                    f"{show(result['forecast_end_low'], unit)} to {show(result['forecast_end_high'], unit)}), "
                    f"method {fc.method}.")
        result["interval_pct"] = int(round(result["interval_level"] * 100))
        if fc.crossing_time is not None:
            result["summary"] = (f"{name} ({agg}) is forecast to {word} {show(result['threshold'], unit)} at "
                                 f"{result['crossing_at_utc']}, in {result['crossing_in']}; probability within "
                                 f"{horizon_txt}: {show(result['probability'])}. {now_part}")
        else:
            result["summary"] = (f"No crossing of {show(result['threshold'], unit)} is forecast for {name} ({agg}) "
                                 f"within {horizon_txt}; probability {show(result['probability'])}. {now_part}")
        result["details"] = []
        return result

    def _rule_fetcher(self, horizon_s: float) -> Callable[[str, float, float, Mapping[str, str]], list[list[float]]]:
        """The forecasting rules' series source, over this back end (local stand-in or Datadog)."""
        step = max(60, nice_interval(horizon_s, 24))

        def fetch(query: str, start: float, end: float, filters: Mapping[str, str]) -> list[list[float]]:
            prefix, name = split_aggregation(query)
            agg = prefix or info(name).default_aggregation
            flt = tuple((k, v) for k, v in filters.items() if not (k == "service" and v == ALL_SERVICES))
            return self.series_points(name, agg, start, end, step, flt)

        return fetch

    def publish_failure_probabilities(self, horizon: str = "2h") -> list[Any]:
        """Forecast every service and send `llm.prediction.failure_probability` (rule 3's monitor)."""
        from forecasting.failure import DEFAULT_RULES, emit_failure_probabilities

        horizon_s, _ = _window(horizon, "2h")
        services = self._services(DEFAULT_RULES, self.clock())
        return emit_failure_probabilities(self._rule_fetcher(horizon_s), DEFAULT_RULES, services, horizon_s)

    def predict_failures(self, horizon: str = "2h", service: str | None = None) -> dict[str, Any]:
        """Per-service failure probability within the horizon from the forecasting health rules."""
        from forecasting.failure import DEFAULT_RULES, assess_service

        horizon_s, horizon_txt = _window(horizon, "2h")
        now = self.clock()
        rules = DEFAULT_RULES
        services = [service] if service else self._services(rules, now)
        fetch = self._rule_fetcher(horizon_s)
        assessments = [assess_service(fetch, rules, svc, horizon_s, now) for svc in services]
        published = self._totals("llm.prediction.failure_probability", "max", now - 900, now, ("service",))
        threshold = assets.threshold("failure_prediction", 0.8)
        rows = []
        for a in assessments:
            rule_rows = []
            for o in a.outcomes:
                rule_rows.append({"rule": o.rule.label, "metric": o.rule.metric, "threshold": num(o.rule.threshold),
                                  "direction": o.rule.direction, "probability": num(o.probability),
                                  "crossing_time": o.crossing_time, "crossing_at_utc": clock(o.crossing_time),
                                  "crossing_in": span(o.crossing_time - now) if o.crossing_time else None,
                                  "method": o.method, "points": o.points, "error": o.error})
            rows.append({"service": a.service, "probability": num(a.probability), "rules": rule_rows})
        rows.sort(key=lambda r: -(r["probability"] if r["probability"] is not None else -1))
        judged = [r for r in rows if r["probability"] is not None]
        crossings = sorted(((r["service"], rr) for r in rows for rr in r["rules"] if rr["crossing_time"]),
                           key=lambda x: x[1]["crossing_time"])
        result: dict[str, Any] = {
            "backend": self.backend.name, "horizon": horizon_txt, "alert_threshold": num(threshold),
            "services": rows, "services_judged": len(judged), "at_risk": sum(1 for r in judged if r["probability"] > threshold),
            "published_probability": {k[0] or "*": num(v) for k, v in published.items()},
        }
        if not judged:
            missing = "; ".join(sorted({f"{rr['rule']}: {rr['error']}" for r in rows for rr in r["rules"]}))
            result["summary"] = (f"No failure forecast for the next {horizon_txt}: none of the health rules has usable "
                                 f"data ({missing}).")
            result["details"] = []
            return result
        parts = []
        for r in judged[:MAX_LISTED]:
            best = max((rr for rr in r["rules"] if rr["probability"] is not None), key=lambda rr: rr["probability"])
            label = "all services" if r["service"] == ALL_SERVICES else r["service"]
            parts.append(f"{label} {show(r['probability'])} (highest: {best['rule']} {show(best['probability'])})")
        text = f"Failure probability within {horizon_txt}: " + "; ".join(parts) + "."
        if crossings:
            svc, rr = crossings[0]
            text += (f" First predicted breach: {rr['rule']} crossing {show(rr['threshold'])} at {rr['crossing_at_utc']}"
                     f" (in {rr['crossing_in']}).")
        else:
            text += " No threshold crossing is predicted within the horizon."
        text += (f" {result['at_risk']} service{'s' if result['at_risk'] != 1 else ''} above the alert threshold "
                 f"of {show(num(threshold))}.")
        result["summary"] = text
        result["details"] = [f"{rr['rule']} ({r['service']}): probability {show(rr['probability'])}"
                             + (f", crossing at {rr['crossing_at_utc']}" if rr["crossing_time"] else "")
                             for r in judged[:3] for rr in r["rules"] if rr["probability"] is not None]
        return result

    def _services(self, rules: Sequence[Any], now: float) -> list[str]:
        found: set[str] = set()
        for rule in rules:
            _, name = split_aggregation(rule.metric)
            try:
                found.update(self.backend.tag_values(name, "service", now - rule.lookback_s, now))
            except BackendError:
                continue
        return sorted(found) or [ALL_SERVICES]


def _monitor_line(i: Mapping[str, Any]) -> str:
    value = ""
    if i["value"] is not None:
        value = f" value {show(i['value'])}"
        if i["threshold"] is not None and i["comparator"]:
            value += f" {i['comparator']} {show(i['threshold'])}"
    since = f" since {i['since_utc']}" if i["since_utc"] else ""
    return f"{i['name']} [{i['state']}{value}{since}]"


def _incident_row(r: Any) -> dict[str, Any]:
    return {"id": r.id, "public_id": r.public_id, "title": r.title, "severity": r.severity, "status": r.status,
            "created_at": r.created_at, "created_utc": clock(r.created_at), "resolved_at": r.resolved_at,
            "resolved_utc": clock(r.resolved_at), "monitor": r.monitor, "group": r.group}


def _incident_line(i: Mapping[str, Any]) -> str:
    ref = f"#{i['public_id']}" if i.get("public_id") is not None else i["id"]
    return f"{ref} {i['severity']} \"{i['title']}\" ({i['status']}, declared {i['created_utc']})"


def _offender_line(r: Mapping[str, Any], tag: str, kind: str) -> str:
    bits = []
    if kind == "sessions":
        if r.get("max_injection_score") is not None:
            bits.append(f"max score {show(r['max_injection_score'])}")
        if r.get("refusals"):
            bits.append(f"{show(r['refusals'])} refusal{'s' if r['refusals'] != 1 else ''}")
    else:
        if r.get("violations"):
            kinds = ", ".join(f"{k} {show(v)}" for k, v in (r.get("violation_kinds") or {}).items())
            bits.append(f"{show(r['violations'])} violation{'s' if r['violations'] != 1 else ''} ({kinds})")
        if r.get("max_injection_score") is not None:
            bits.append(f"max injection score {show(r['max_injection_score'])}")
    if r["blocked"]:
        bits.append("blocked")
    return f"{r[tag]} ({', '.join(bits) or 'no activity in the window'})"
