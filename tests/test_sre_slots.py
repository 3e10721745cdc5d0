"""The local planner reads an operator's windows, horizons, thresholds and ids from their words."""

from __future__ import annotations

import pytest

from godseye.local_model import operator_slots as slots
from mcp_servers.datadog_query.formatting import num, parse_window, show, span


@pytest.mark.parametrize(("text", "expected"), [
    ("will anything break in the next two hours?", "2h"),
    ("errors in the last 30 minutes", "30m"),
    ("latency over the past hour", "1h"),
    ("spend in the last 3 days", "3d"),
    ("what happened in the past half an hour", "30m"),
    ("p95 latency", None),
    ("top 5 sessions", None),
])
def test_durations(text, expected):
    assert slots.duration(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("when will p95 latency cross 8000 ms?", 8000.0),
    ("will the injection score go above 0.85 in the next 2 hours", 0.85),
    ("alert me when quality drops below 0.4", 0.4),
    ("forecast latency for the next 2 hours", None),
])
def test_thresholds(text, expected):
    assert slots.threshold(text) == expected


def test_other_operator_values():
    assert slots.limit("top 3 offenders") == 3 and slots.limit("the worst ten users") == 10
    assert slots.limit("add the first one to my cart") is None  # shop phrasing never sets a limit
    assert slots.incident_id("walk me through incident #12") == "12"
    assert slots.incident_id("show 4c1d5e8a-0000-4000-8000-00000000abcd") == "4c1d5e8a-0000-4000-8000-00000000abcd"
    assert slots.aggregation("p99 latency") == "p99" and slots.aggregation("average quality") == "avg"
    assert slots.aggregation("latency in the last 30 minutes") is None  # 'min' of minutes is not an aggregation
    assert slots.group_by("token usage by agent") == "agent" and slots.group_by("errors per session") == "session_id"
    assert slots.metric("show llm.cost_usd today", "show cost today") == "llm.cost_usd"
    assert slots.metric("how much did we spend", "spend") == "spend"
    assert slots.value_for("colour", "red") is None


def test_numbers_are_shown_as_stored():
    for value in (0.97123, 6950.4, 1.23456e-05, 0.03000001, 1e-15):
        shown = show(num(value))
        assert float(shown) == num(value) and "e" not in shown
    assert span(4332) == "1h12m" and span(45) == "45s" and span(90000) == "1d1h"
    assert parse_window("last_1h", "15m") == 3600 and parse_window("30 minutes", "15m") == 1800
    with pytest.raises(ValueError, match="not a time window"):
        parse_window("soonish", "15m")
