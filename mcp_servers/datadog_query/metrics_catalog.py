"""The telemetry contract's metrics as the AI SRE knows them: type, unit, meaning, usual aggregation.

Why the tools need it: a count must be read with `.as_count()` and summed, a distribution with a
percentile, a gauge with avg/max; and an operator says "latency" or "token spend", not
`llm.latency`. `resolve_metric` maps their words to a metric name: an exact or dotted name first,
then semantic similarity against the meanings below (the local embedder), never a keyword list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

METRIC_TOKEN = re.compile(r"\b[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+\b")
MIN_SIMILARITY = 0.3


@dataclass(frozen=True)
class MetricInfo:
    name: str
    kind: str  # gauge, count, distribution
    meaning: str
    unit: str = ""

    @property
    def default_aggregation(self) -> str:
        return {"count": "sum", "distribution": "p95"}.get(self.kind, "avg")


CATALOG: dict[str, MetricInfo] = {m.name: m for m in (
    MetricInfo("llm.security.injection_score", "gauge",
               "prompt injection score of a user's turn, attack intent, jailbreak attempts", ""),
    MetricInfo("llm.security.blocked", "count", "requests blocked or refused by the guardrails, blocks", "requests"),
    MetricInfo("llm.token_usage", "count", "tokens used by the model, token usage, input and output tokens", "tokens"),
    MetricInfo("llm.cost_usd", "count", "model spend in dollars, cost, token spend, budget", "USD"),
    MetricInfo("llm.response.quality", "gauge", "answer quality score, grounding, lazy or hallucinated answers", ""),
    MetricInfo("llm.latency", "distribution", "model call latency, response time of the model, slowness", "ms"),
    MetricInfo("llm.interactions_per_conversion", "gauge",
               "chat turns per cart add, interactions per conversion, shopping friction", "turns"),
    MetricInfo("commerce.cart.add", "count", "products added to carts, cart adds, conversions", "adds"),
    MetricInfo("commerce.checkout", "count", "orders placed, checkouts, purchases", "orders"),
    MetricInfo("tryon.security.violation", "count",
               "rejected malicious uploads, image bombs, pixel floods, try-on violations", "uploads"),
    MetricInfo("tryon.image.bytes", "distribution", "size of accepted uploaded images in bytes", "bytes"),
    MetricInfo("tryon.image.pixels", "distribution", "pixel count of accepted uploaded images", "pixels"),
    MetricInfo("tryon.image.entropy", "distribution", "entropy of accepted uploaded images", ""),
    MetricInfo("llm.prediction.failure_probability", "gauge",
               "predicted probability that a service fails in the next hours, failure forecast", ""),
    MetricInfo("mcp.tool.calls", "count", "MCP tool calls, tool requests, traffic", "calls"),
    MetricInfo("mcp.tool.errors", "count", "MCP tool errors, failed tool calls, error count", "errors"),
    MetricInfo("mcp.tool.latency", "distribution", "MCP tool latency, tool response time", "ms"),
)}


class UnknownMetric(ValueError):
    """No metric matches what was asked; the message lists the metrics that exist."""


def info(metric: str) -> MetricInfo:
    """What we know of a metric; unknown metrics are treated as gauges (Datadog's default)."""
    return CATALOG.get(metric) or MetricInfo(metric, "gauge", metric)


def split_aggregation(text: str) -> tuple[str | None, str]:
    """'p95:llm.latency' -> ('p95', 'llm.latency'); 'llm.latency' -> (None, 'llm.latency')."""
    head, sep, tail = text.strip().partition(":")
    if sep and tail and re.fullmatch(r"avg|sum|min|max|count|p\d{1,2}(\.\d+)?", head.strip().lower()):
        return head.strip().lower(), tail.strip()
    return None, text.strip()


def resolve_metric(text: str, known: Iterable[str] = ()) -> tuple[str, bool]:
    """(metric name, resolved_by_meaning). Raises UnknownMetric when nothing is close enough."""
    wanted = (text or "").strip()
    if not wanted:
        raise UnknownMetric("name a metric, e.g. llm.latency or 'token spend'")
    names = set(CATALOG) | set(known)
    if wanted in names:
        return wanted, False
    tokens = METRIC_TOKEN.findall(wanted.lower())
    for token in tokens:
        if token in names:
            return token, False
    if tokens and len(tokens[0]) >= len(wanted) - 1:
        return tokens[0], False  # a metric-looking name we have not seen: query it, report no data
    from godseye.semantic import rank

    options = {m.name: f"{m.name.replace('.', ' ').replace('_', ' ')}: {m.meaning}" for m in CATALOG.values()}
    best, score = rank(wanted, options)[0]
    if score < MIN_SIMILARITY:
        raise UnknownMetric(f"no metric matches {wanted!r}; known metrics: {', '.join(sorted(CATALOG))}")
    return best, True
