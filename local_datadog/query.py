"""Small helpers shared by the query API and the CLI: time ranges, tag filters, summaries.

Why here: the HTTP API, `godseye standin query` and tests must read "15m", "-1h", "now", unix
seconds and ISO dates the same way, and summarise points the same way.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from local_datadog.store import Event, Point, ServiceCheck

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


class QueryError(ValueError):
    """A query parameter that cannot be understood (shown to the user as is)."""


def parse_duration(text: str) -> float:
    """'90s', '15m', '2h', '1d', '1w' or plain seconds -> seconds."""
    match = _DURATION.match(str(text))
    if not match:
        raise QueryError(f"{text!r} is not a duration; use e.g. 30s, 15m, 2h, 1d")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def parse_time(text: str | float | None, now: float | None = None, default: float | None = None) -> float:
    """'now', unix seconds (or ms), '-15m' / '15m' (that long ago), or an ISO 8601 date."""
    now = time.time() if now is None else now
    if text is None or text == "":
        if default is None:
            raise QueryError("a time is required")
        return default
    if isinstance(text, int | float):
        value = float(text)
    else:
        s = text.strip()
        if s == "now":
            return now
        if s.startswith("-"):
            return now - parse_duration(s[1:])
        match = _DURATION.match(s)
        if match and match.group(2):  # "15m": that long ago
            return now - parse_duration(s)
        try:
            value = float(s)
        except ValueError:
            try:
                return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise QueryError(f"{text!r} is not a time; use now, -15m, unix seconds or an ISO date") from None
    if value > 1e11:  # milliseconds
        value /= 1000.0
    return value


def parse_tag_filters(items: Iterable[str] | None) -> dict[str, str]:
    """['k:v', 'env:prod'] -> {'k': 'v', 'env': 'prod'}; also accepts 'k:v,k2:v2'."""
    filters: dict[str, str] = {}
    for item in items or []:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition(":")
            if not sep or not key:
                raise QueryError(f"tag filter {part!r} must look like key:value")
            filters[key] = value
    return filters


def summarize(points: list[Point], by: str | None = None) -> list[dict[str, Any]]:
    """Group points by one tag (or all together) -> count, sum, min, max, avg, last, per group.

    For counts `sum` is the total; for gauges `last` is the current value; for distributions
    `count` weighs each point by 1/rate, like Datadog does.
    """
    groups: dict[str, list[Point]] = {}
    for p in points:
        key = p.tags.get(by, "(none)") if by else "*"
        groups.setdefault(key, []).append(p)
    out = []
    for key, pts in sorted(groups.items()):
        values = [p.value for p in pts]
        weight = sum(1.0 / p.rate if p.rate else 1.0 for p in pts)
        row: dict[str, Any] = {
            "group": key,
            "points": len(pts),
            "count": round(weight, 6),
            "sum": math.fsum(values),
            "min": min(values),
            "max": max(values),
            "avg": math.fsum(values) / len(values),
            "last": values[-1],
            "last_ts": pts[-1].ts,
            "type": pts[-1].type,
        }
        members = {p.member for p in pts if p.member is not None}
        if members:
            row["unique"] = len(members)
        out.append(row)
    return out


def point_json(p: Point) -> dict[str, Any]:
    out: dict[str, Any] = {"ts": p.ts, "value": p.value, "type": p.type, "tags": p.tags}
    if p.rate != 1.0:
        out["rate"] = p.rate
    if p.member is not None:
        out["member"] = p.member
    return out


def event_json(e: Event) -> dict[str, Any]:
    return {"ts": e.ts, "title": e.title, "text": e.text, "tags": e.tags, "host": e.host,
            "aggregation_key": e.aggregation_key, "priority": e.priority, "source_type": e.source_type,
            "alert_type": e.alert_type}


def service_check_json(c: ServiceCheck) -> dict[str, Any]:
    return {"ts": c.ts, "name": c.name, "status": c.status, "tags": c.tags, "host": c.host, "message": c.message}
