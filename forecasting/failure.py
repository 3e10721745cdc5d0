"""Per-service failure probability for the next two hours, emitted for rule 3's monitor.

A service "fails" when any of its health rules is breached: latency p95 above a limit, error count
above a limit, free memory below a floor, and so on. Each rule's metric is forecast (`forecast`) and
its crossing probability within the horizon taken; the service's probability is

    P(failure) = 1 - prod_i (1 - p_i)

which treats the rules as independent. Real metrics of one service tend to move together (a
saturated pod is slow *and* erroring); for positively dependent breaches P(no breach) >= prod(1-p_i),
so this combination errs towards alarming, never below the largest single p_i: the safe side for a
warning that is meant to come two hours early.

The metric back end is a callable, `fetch_series(metric, start, end, filters) -> [(ts, value), ...]`,
so the local Datadog stand-in's store and the Datadog metrics API plug in the same way. `filters`
always carries `service`, plus the rule's own tags.

`emit_failure_probabilities` computes and sends the gauge `llm.prediction.failure_probability`
(tags `service`, `horizon`, e.g. `horizon:2h`); `run_loop` / `start_loop_thread` repeat it on an
interval. A rule whose data is missing or unusable is reported and skipped; when no rule of a
service can be evaluated, nothing is emitted for it (a made-up 0 would hide an outage; the monitor's
no-data handling is the right signal).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from forecasting.crossing import DIRECTIONS
from forecasting.durations import format_duration
from forecasting.forecaster import forecast
from forecasting.series import ForecastError

log = logging.getLogger(__name__)

METRIC_NAME = "llm.prediction.failure_probability"
DEFAULT_HORIZON_S = 7200.0
# Enough history for a daily season (two full days) plus slack; see forecasting.seasonality.
DEFAULT_LOOKBACK_S = 3 * 86400.0
DEFAULT_INTERVAL_S = 60.0

FetchSeries = Callable[[str, float, float, Mapping[str, str]], Sequence[Sequence[float]]]


class GaugeSink(Protocol):
    def gauge(self, name: str, value: float, tags: Mapping[str, object] | None = None) -> None: ...


@dataclass(frozen=True)
class Rule:
    """A health rule: `metric` (the query handed to fetch_series) must stay on the safe side."""

    metric: str
    threshold: float
    direction: str = "above"
    filters: Mapping[str, str] = field(default_factory=dict)
    name: str | None = None
    lookback_s: float = DEFAULT_LOOKBACK_S
    step_s: float | None = None

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"rule {self.label}: direction must be 'above' or 'below', got {self.direction!r}")
        if not math.isfinite(float(self.threshold)):
            raise ValueError(f"rule {self.label}: threshold must be a finite number")
        if not self.lookback_s > 0:
            raise ValueError(f"rule {self.label}: lookback must be positive")

    @property
    def label(self) -> str:
        return self.name or self.metric


# The shop's default health rules (Datadog query syntax for the metric part; the fetcher decides
# how to run it). Thresholds are starting points, meant to be tuned per deployment.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("p95:llm.latency", 8000.0, "above", name="model latency p95 (ms)"),
    Rule("p95:mcp.tool.latency", 2000.0, "above", name="MCP tool latency p95 (ms)"),
    Rule("sum:mcp.tool.errors", 20.0, "above", name="MCP tool errors per interval"),
    Rule("avg:system.mem.pct_usable", 0.1, "below", name="usable memory fraction"),
)


@dataclass(frozen=True)
class RuleOutcome:
    rule: Rule
    probability: float | None
    crossing_time: float | None = None
    method: str | None = None
    points: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.label, "metric": self.rule.metric, "threshold": self.rule.threshold,
            "direction": self.rule.direction, "probability": self.probability,
            "crossing_time": self.crossing_time, "method": self.method, "points": self.points,
            "error": self.error,
        }


@dataclass(frozen=True)
class FailureAssessment:
    service: str
    horizon_s: float
    at: float
    probability: float | None  # None when no rule could be evaluated
    outcomes: tuple[RuleOutcome, ...]
    emitted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service, "horizon": format_duration(self.horizon_s), "at": self.at,
            "probability": self.probability, "emitted": self.emitted,
            "rules": [o.to_dict() for o in self.outcomes],
        }


def combine(probabilities: Iterable[float]) -> float:
    """1 - prod(1 - p): the probability that at least one of independent breaches happens."""
    survive = 1.0
    for p in probabilities:
        survive *= 1.0 - min(max(float(p), 0.0), 1.0)
    return 1.0 - survive


def evaluate_rule(fetch_series: FetchSeries, rule: Rule, service: str, horizon_s: float, now: float
                  ) -> RuleOutcome:
    """Forecast one rule for one service; failures become an outcome with `error`, never raise."""
    filters = {**dict(rule.filters), "service": service}
    try:
        points = list(fetch_series(rule.metric, now - rule.lookback_s, now, filters))
    except Exception as exc:  # a back end outage must not stop the other rules or the loop
        log.warning("fetching %s for %s failed: %s", rule.metric, service, exc)
        return RuleOutcome(rule, None, error=f"fetch failed: {exc}")
    if not points:
        return RuleOutcome(rule, None, error="no data")
    try:
        fc = forecast(points, horizon_s, threshold=rule.threshold, direction=rule.direction, step_s=rule.step_s)
    except ForecastError as exc:
        return RuleOutcome(rule, None, points=len(points), error=str(exc))
    return RuleOutcome(rule, fc.probability, fc.crossing_time, fc.method, len(points))


def assess_service(fetch_series: FetchSeries, rules: Sequence[Rule], service: str,
                   horizon_s: float = DEFAULT_HORIZON_S, now: float | None = None) -> FailureAssessment:
    """The failure probability of `service` within `horizon_s`, with each rule's contribution."""
    now = time.time() if now is None else float(now)
    outcomes = tuple(evaluate_rule(fetch_series, r, service, horizon_s, now) for r in rules)
    usable = [o.probability for o in outcomes if o.probability is not None]
    return FailureAssessment(service, float(horizon_s), now, combine(usable) if usable else None, outcomes)


def _services(service: str | Iterable[str]) -> list[str]:
    return [service] if isinstance(service, str) else list(service)


def emit_failure_probabilities(
    fetch_series: FetchSeries,
    rules: Sequence[Rule],
    service: str | Iterable[str],
    horizon_s: float = DEFAULT_HORIZON_S,
    now: float | None = None,
    metrics_client: GaugeSink | None = None,
) -> list[FailureAssessment]:
    """Assess each service and send `llm.prediction.failure_probability` for those with a value."""
    if metrics_client is None:
        from telemetry.metrics import metrics as metrics_client  # the process-wide DogStatsD client
    horizon_tag = format_duration(horizon_s)
    out = []
    for svc in _services(service):
        a = assess_service(fetch_series, rules, svc, horizon_s, now)
        if a.probability is not None:
            metrics_client.gauge(METRIC_NAME, a.probability, tags={"service": svc, "horizon": horizon_tag})
            a = FailureAssessment(a.service, a.horizon_s, a.at, a.probability, a.outcomes, emitted=True)
        else:
            log.warning("no failure probability for %s: %s", svc,
                        "; ".join(f"{o.rule.label}: {o.error}" for o in a.outcomes))
        out.append(a)
    return out


def run_loop(
    fetch_series: FetchSeries,
    rules: Sequence[Rule],
    services: str | Iterable[str],
    interval_s: float = DEFAULT_INTERVAL_S,
    horizon_s: float = DEFAULT_HORIZON_S,
    stop: threading.Event | None = None,
    iterations: int | None = None,
    metrics_client: GaugeSink | None = None,
    on_result: Callable[[list[FailureAssessment]], None] | None = None,
) -> int:
    """Emit every `interval_s` until `stop` is set or `iterations` runs are done; returns the count.

    Runs are spaced from their start times (a slow back end does not make the schedule drift), and
    an unexpected error in one run is logged and the loop goes on: a forecaster that dies silently
    is worse than one run missing.
    """
    if not interval_s > 0:
        raise ValueError("interval must be positive")
    stop = stop or threading.Event()
    services = _services(services)
    done = 0
    next_run = time.monotonic()
    while not stop.is_set() and (iterations is None or done < iterations):
        try:
            results = emit_failure_probabilities(fetch_series, rules, services, horizon_s,
                                                 metrics_client=metrics_client)
            if on_result is not None:
                on_result(results)
        except Exception:
            log.exception("failure forecast run failed")
        done += 1
        if iterations is not None and done >= iterations:
            break
        next_run += interval_s
        stop.wait(max(0.0, next_run - time.monotonic()))
    return done


def start_loop_thread(fetch_series: FetchSeries, rules: Sequence[Rule], services: str | Iterable[str],
                      interval_s: float = DEFAULT_INTERVAL_S, horizon_s: float = DEFAULT_HORIZON_S,
                      metrics_client: GaugeSink | None = None) -> tuple[threading.Thread, threading.Event]:
    """Run `run_loop` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_loop, name="failure-forecast", daemon=True,
        kwargs={"fetch_series": fetch_series, "rules": rules, "services": services, "interval_s": interval_s,
                "horizon_s": horizon_s, "stop": stop, "metrics_client": metrics_client},
    )
    thread.start()
    return thread, stop
