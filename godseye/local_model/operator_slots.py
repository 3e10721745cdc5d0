"""Argument values an operator's words carry: time windows, horizons, thresholds, limits, ids.

The planner fills tool arguments by parameter name (`planner._value_for`); these are the generic
names of observability tools (the AI SRE's `datadog_query` server uses them, but nothing here
knows that server): `window`/`horizon` ("in the last hour", "next two hours"), `threshold`
("above 8000"), `limit` ("top 3"), `incident_id` ("incident #4"), `aggregation` ("p95",
"average"), `group_by` ("by agent"), `metric` (a dotted name, else the request's own words for
the tool to match) and `service`. A value the text does not state is None: the tool's default
applies.
"""

from __future__ import annotations

import re
from typing import Any

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty-five": 45, "half an": 0.5,
}
_UNITS = {"s": "s", "sec": "s", "second": "s", "m": "m", "min": "m", "minute": "m", "h": "h", "hr": "h",
          "hour": "h", "d": "d", "day": "d", "w": "w", "week": "w"}
_NUM = r"(\d+(?:\.\d+)?|half an|forty-five|" + "|".join(k for k in _NUMBER_WORDS if " " not in k and "-" not in k) + ")"
_DURATION = re.compile(
    rf"\b{_NUM}\s*-?\s*(weeks?|w|days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b", re.IGNORECASE)
_BARE_UNIT = re.compile(r"\b(?:last|past|next|this|coming|an?)\s+(hour|day|week|minute)\b", re.IGNORECASE)
_THRESHOLD = re.compile(
    r"\b(?:above|over|exceeds?|exceeding|cross(?:es|ing)?|reach(?:es|ing)?|hits?|below|under|beyond|past|"
    r"more than|less than|greater than|higher than|lower than|threshold(?: of)?|to)\s+\$?(-?\d+(?:\.\d+)?)(?!\s*"
    r"(?:hours?|hrs?|h|minutes?|mins?|m|days?|d|weeks?|w|seconds?|secs?|s)\b)", re.IGNORECASE)
_TOP = re.compile(r"\b(?:top|worst)\s+(\d+|" + "|".join(k for k in _NUMBER_WORDS if k.isalpha() and len(k) > 2)
                  + r")\b", re.IGNORECASE)
_INCIDENT = re.compile(r"(?:\bincident\s*(?:number|no\.?|#)?\s*|#)(\d+)\b", re.IGNORECASE)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
_PERCENTILE = re.compile(r"\bp(\d{2})\b|\b(\d{2})(?:th)? percentile\b", re.IGNORECASE)
_AGGREGATIONS = [("avg", r"average|avg|mean"), ("max", r"max|maximum|peak|highest|worst"),
                 ("min", r"min|minimum|lowest"), ("sum", r"total|sum")]
_GROUP = re.compile(r"\b(?:by|per|for each|each)\s+(agent|session|user|server|tool|model|service|reason|kind|"
                    r"direction)s?\b", re.IGNORECASE)
_GROUP_TAGS = {"session": "session_id", "user": "user_id"}
_METRIC = re.compile(r"\b[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+(?::[a-z0-9_.]+)?\b")
_SERVICE = re.compile(r"\bservice[:=\s]+([a-z0-9][\w.-]*-[\w.-]+|[a-z0-9][\w.-]*\.[\w.-]+)", re.IGNORECASE)

OPERATOR_PARAMETERS = frozenset({"window", "horizon", "threshold", "limit", "incident_id", "aggregation",
                                 "group_by", "metric", "service"})


def _amount(word: str) -> float:
    word = word.lower()
    return float(_NUMBER_WORDS[word]) if word in _NUMBER_WORDS else float(word)


def duration(text: str) -> str | None:
    """'in the last 30 minutes' -> '30m', 'next two hours' -> '2h', 'past day' -> '1d'."""
    m = _DURATION.search(text)
    if m:
        amount, unit = _amount(m.group(1)), m.group(2).lower().rstrip("s") or "s"
        code = _UNITS.get(unit, unit[0])
        if amount < 1 and code == "h":
            return f"{int(amount * 60)}m"
        return f"{int(amount) if amount == int(amount) else amount}{code}"
    m = _BARE_UNIT.search(text)
    if m:
        return f"1{_UNITS[m.group(1).lower()]}"
    return None


def threshold(text: str) -> float | None:
    m = _THRESHOLD.search(text)
    return float(m.group(1)) if m else None


def limit(text: str) -> int | None:
    m = _TOP.search(text)
    return int(_amount(m.group(1))) if m else None


def incident_id(text: str) -> str | None:
    m = _UUID.search(text)
    if m:
        return m.group(0)
    m = _INCIDENT.search(text)
    return m.group(1) if m else None


def aggregation(text: str) -> str | None:
    m = _PERCENTILE.search(text)
    if m:
        return f"p{m.group(1) or m.group(2)}"
    for name, pattern in _AGGREGATIONS:
        if re.search(rf"\b(?:{pattern})\b", text, re.IGNORECASE):
            return name
    return None


def group_by(text: str) -> str | None:
    m = _GROUP.search(text)
    if not m:
        return None
    word = m.group(1).lower()
    return _GROUP_TAGS.get(word, word)


def metric(text: str, fallback: str) -> str | None:
    """A dotted metric name in the text, else the request's words (the tool matches them)."""
    m = _METRIC.search(text.lower())
    return m.group(0) if m else (fallback or None)


def service(text: str) -> str | None:
    m = _SERVICE.search(text)
    return m.group(1) if m else None


def value_for(name: str, text: str, fallback_query: str = "") -> Any:
    """The value of an operator parameter stated in `text`, or None."""
    if name in {"window", "horizon"}:
        return duration(text)
    if name == "threshold":
        return threshold(text)
    if name == "limit":
        return limit(text)
    if name == "incident_id":
        return incident_id(text)
    if name == "aggregation":
        return aggregation(text)
    if name == "group_by":
        return group_by(text)
    if name == "metric":
        return metric(text, fallback_query)
    if name == "service":
        return service(text)
    return None
