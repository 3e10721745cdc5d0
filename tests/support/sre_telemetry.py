"""A GODSEYE_HOME with known telemetry for the AI SRE tests: metrics, blocks and incidents.

Values are chosen so each tool's answer can be computed by hand (see the expectations in
`EXPECTED`). Metric points sit 30 s off the minute so a window that ends a few seconds after
`now` (a subprocess's clock) still contains the same points.
"""

from __future__ import annotations

import functools
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from local_datadog.incidents import ACTIVE, RESOLVED, Incident, IncidentStore, TimelineEntry
from local_datadog.store import MetricStore, Point

MINUTES = 120
LATENCY_START, LATENCY_STEP = 1000.0, 50.0  # ms, per minute: 6950 ms by the last minute, rising

EXPECTED = {
    "calls_15m": 225,  # 15 minutes x (10 catalog + 5 cart)
    "errors_15m": 3,
    "error_rate_pct_15m": 1.33,
    "latency_p95_15m": 6950,
    "latency_max_1h": 6950,
    "latency_min_1h": 4000,
    "latency_avg_1h": 5475,
    "latency_window_p95_1h": 6800,
    "tokens_15m": 1800,  # 15 x (100 input + 20 output)
    "cost_15m": 0.03,
    "blocked_15m": 4,  # s-evil 3, s-mid 1
    "quality_avg": 0.8,
    "evil_score": 0.97,
    "mid_score": 0.7,
    "bomber_violations": 4,
}


def seed(home: Path, now: float | None = None) -> float:
    """Write the known telemetry into `home`; returns the `now` it is relative to."""
    now = time.time() if now is None else now
    store = MetricStore(home / "standin.sqlite")
    points: list[Point] = []
    for i in range(MINUTES):
        ts = now - MINUTES * 60 + 30 + i * 60
        points += [
            Point(ts, 0.1, "gauge", {"session_id": "s-good", "user_id": "u-ok", "agent": "orchestrator"},
                  "llm.security.injection_score"),
            Point(ts, LATENCY_START + i * LATENCY_STEP, "distribution",
                  {"agent": "shopper", "model": "godseye-local", "service": "godseye-ui"}, "llm.latency"),
            Point(ts, 10, "count", {"server": "catalog", "tool": "search_products"}, "mcp.tool.calls"),
            Point(ts, 5, "count", {"server": "cart", "tool": "view_cart"}, "mcp.tool.calls"),
            Point(ts, 0.9, "gauge", {"agent": "shopper", "model": "godseye-local", "session_id": "s-good"},
                  "llm.response.quality"),
            Point(ts, 0.7, "gauge", {"agent": "stylist", "model": "godseye-local", "session_id": "s-good"},
                  "llm.response.quality"),
            Point(ts, 100, "count", {"model": "godseye-local", "agent": "shopper", "direction": "input",
                                     "user_id": "u-ok"}, "llm.token_usage"),
            Point(ts, 20, "count", {"model": "godseye-local", "agent": "shopper", "direction": "output",
                                    "user_id": "u-ok"}, "llm.token_usage"),
            Point(ts, 0.002, "count", {"model": "godseye-local", "user_id": "u-ok"}, "llm.cost_usd"),
        ]
    points += [
        Point(now - 150, 0.97, "gauge", {"session_id": "s-evil", "user_id": "u-bad", "agent": "orchestrator"},
              "llm.security.injection_score"),
        Point(now - 90, 0.3, "gauge", {"session_id": "s-evil", "user_id": "u-bad", "agent": "orchestrator"},
              "llm.security.injection_score"),
        Point(now - 610, 0.7, "gauge", {"session_id": "s-mid", "user_id": "u-mid", "agent": "orchestrator"},
              "llm.security.injection_score"),
        Point(now - 140, 2, "count", {"session_id": "s-evil", "reason": "injection"}, "llm.security.blocked"),
        Point(now - 80, 1, "count", {"session_id": "s-evil", "reason": "blocklist"}, "llm.security.blocked"),
        Point(now - 590, 1, "count", {"session_id": "s-mid", "reason": "injection"}, "llm.security.blocked"),
        Point(now - 110, 3, "count", {"server": "catalog", "tool": "search_products"}, "mcp.tool.errors"),
        Point(now - 290, 3, "count", {"user_id": "u-bomber", "kind": "bomb"}, "tryon.security.violation"),
        Point(now - 250, 1, "count", {"user_id": "u-bomber", "kind": "pixel_flood"}, "tryon.security.violation"),
        Point(now - 1500, 1, "count", {"user_id": "u-mid", "kind": "bad_format"}, "tryon.security.violation"),
        Point(now - 1500, 0.7, "gauge", {"session_id": "s-mid2", "user_id": "u-mid", "agent": "tryon"},
              "llm.security.injection_score"),
    ]
    store.add_points(points)
    store.close()
    _incidents(home, now)
    _blocks(home)
    return now


def _incidents(home: Path, now: float) -> None:
    store = IncidentStore(home / "incidents.sqlite")
    old = Incident(id="inc-old", public_id=0, title="Prompt injection attack from session s-old", severity="SEV-2",
                   status=RESOLVED, handle="godseye-prompt-injection", monitor_key="prompt_injection",
                   monitor_id=1, group_key="session_id:s-old", group={"session_id": "s-old"},
                   fields={"session_id": "s-old"}, customer_impacted=True, customer_impact_scope="",
                   created_at=now - 5400, resolved_at=now - 3600,
                   timeline=[TimelineEntry(now - 5400, "declared", "Declared by monitor prompt_injection. Value 0.92."),
                             TimelineEntry(now - 3600, "resolved", "Resolved automatically.")])
    new = Incident(id="inc-new", public_id=0, title="Prompt injection attack from session s-evil", severity="SEV-2",
                   status=ACTIVE, handle="godseye-prompt-injection", monitor_key="prompt_injection",
                   monitor_id=1, group_key="session_id:s-evil", group={"session_id": "s-evil"},
                   fields={"session_id": "s-evil"}, customer_impacted=True, customer_impact_scope="",
                   created_at=now - 140,
                   timeline=[TimelineEntry(now - 140, "declared", "Declared by monitor prompt_injection. Value 0.97."),
                             TimelineEntry(now - 130, "note", "Webhook @webhook-godseye-self-heal called: HTTP 200.")])
    store.create(old)
    store.create(new)


def _blocks(home: Path) -> None:
    from guardrails.blocklist import BlockList

    blocks = BlockList(home / "guard.sqlite")
    blocks.block("session", "s-evil", "prompt injection (score 0.97)", source="webhook")
    blocks.block("user", "u-bomber", "malicious uploads", source="webhook")


@functools.cache
def shared_home() -> Path:
    """One seeded home per test process, for everything that runs the SRE app: the app's MCP
    toolset is created once per process with the GODSEYE_HOME of that moment."""
    home = Path(tempfile.mkdtemp(prefix="godseye-sre-"))
    seed(home)
    return home


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _numbers(obj: Any, out: set[float], skip: frozenset[str] = frozenset()) -> set[float]:
    if isinstance(obj, bool) or obj is None:
        return out
    if isinstance(obj, int | float):
        out.add(float(obj))
    elif isinstance(obj, str):
        out.update(float(m) for m in _NUMBER.findall(obj))
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if key not in skip:
                _numbers(value, out, skip)
    elif isinstance(obj, list | tuple):
        for value in obj:
            _numbers(value, out, skip)
    return out


def ungrounded_numbers(reply: str, payloads: list[Any]) -> list[str]:
    """Numbers in `reply` that no tool payload holds, ignoring the payloads' own summary lines:
    every figure must trace to a structured field (or a string field such as a time or a name)."""
    known = _numbers(payloads, set(), frozenset({"summary", "details"}))
    return [n for n in _NUMBER.findall(reply) if float(n) not in known]
