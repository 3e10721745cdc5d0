"""FastMCP server "datadog_query": the AI SRE's read access to telemetry, monitors and incidents.

Thin on purpose: each tool checks its arguments through its signature and calls
`operations.SreOperations` on the back end `backend.select_backend()` picks (the Datadog API when
DD_API_KEY and DD_APP_KEY are set, the local stand-in otherwise). Every result carries a `summary`
sentence built only from the numbers in the same result, plus the structured data; bad arguments
and back end failures come back as plain ToolErrors.

Run: `python -m mcp_servers.datadog_query` (stdio) or `python -m mcp_servers.datadog_query --http 8767`
(streamable HTTP on 127.0.0.1, path /mcp).
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from pydantic import Field

from godseye.netguard import install_if_requested
from mcp_servers.datadog_query.backend import BackendError, TelemetryBackend, select_backend
from mcp_servers.datadog_query.operations import SreError, SreOperations
from telemetry.mcp_instrumentation import instrument_server

SERVER_NAME = "datadog_query"
T = TypeVar("T")

Metric = Annotated[str, Field(description=(
    "A metric name such as llm.latency, llm.security.injection_score, llm.cost_usd, mcp.tool.errors, "
    "optionally with an aggregation prefix like p95:llm.latency; plain words ('latency', 'token spend') "
    "are matched to the closest metric."))]
Window = Annotated[str, Field(description="How far back to look: 15m, 1h, 6h, 1d.")]
Horizon = Annotated[str, Field(description="How far ahead to look: 30m, 2h, 1d.")]
Aggregation = Annotated[str | None, Field(description=(
    "avg, sum, min, max, count, or a percentile p50/p90/p95/p99 (distributions). Default: sum for counts, "
    "p95 for distributions, avg for gauges."))]

_ops: SreOperations | None = None
_ops_lock = threading.Lock()


def get_operations() -> SreOperations:
    """The process's operations object (back end chosen on first use so importing stays cheap)."""
    global _ops
    if _ops is None:
        with _ops_lock:
            if _ops is None:
                try:
                    _ops = SreOperations(select_backend())
                except BackendError as exc:
                    raise ToolError(str(exc)) from None
    return _ops


def set_backend(backend: TelemetryBackend | None, **kwargs: Any) -> None:
    """Use another back end (tests, embedding the server in-process); None goes back to the default."""
    global _ops
    _ops = SreOperations(backend, **kwargs) if backend is not None else None


def _run(action: Callable[[SreOperations], T]) -> T:
    try:
        return action(get_operations())
    except (SreError, BackendError) as err:
        raise ToolError(str(err)) from None


mcp = FastMCP(
    SERVER_NAME,
    instructions=(
        "Read-only access to Godseye's telemetry (Datadog or the local stand-in): metrics, triggered monitors, "
        "incidents, top offending sessions and users, service health and forecasts. Every result has a "
        "`summary` built from its own numbers: quote numbers only from results."
    ),
)
instrument_server(mcp, SERVER_NAME)


@mcp.tool
def query_metric(
    metric: Metric,
    aggregation: Aggregation = None,
    window: Window = "1h",
    group_by: Annotated[str | None, Field(description="Tag keys to split by, comma separated: agent, "
                                          "session_id, user_id, server, tool, model, reason.")] = None,
    filters: Annotated[str | None, Field(description="Only points with these tags, e.g. 'agent:shopper' or "
                                         "'server:catalog,tool:search_products'.")] = None,
) -> dict[str, Any]:
    """Read one metric over a recent window: the time series per group with latest, min, max and
    average (and total for counts), plus a one-sentence summary.

    Typical requests: "what is the p95 model latency over the last hour?", "how much did we spend on
    tokens today?", "token usage by agent", "quality score of the stylist", "mcp.tool.errors by server".
    """
    return _run(lambda ops: ops.query_metric(metric, aggregation, window, group_by, filters))


@mcp.tool
def triggered_monitors() -> dict[str, Any]:
    """Which monitors are firing right now: every monitor group in Alert, Warn or No Data with its
    value, threshold, since when, and the runbook saying what to do.

    Typical requests: "what is firing?", "which alerts are on?", "is anything alerting right now?",
    "any monitors red?", "what's wrong at the moment?".
    """
    return _run(lambda ops: ops.triggered_monitors())


@mcp.tool
def list_incidents(
    status: Annotated[Literal["open", "active", "stable", "resolved", "all"] | None,
                      Field(description="open (not resolved), active, stable, resolved or all (default).")] = None,
) -> dict[str, Any]:
    """List incidents declared by the detection rules, newest first, with severity, status and when
    they were declared or resolved.

    Typical requests: "list the incidents", "any open incidents?", "what incidents did we have today?",
    "show resolved incidents".
    """
    return _run(lambda ops: ops.list_incidents(status))


@mcp.tool
def get_incident(
    incident_id: Annotated[str, Field(description="The incident number (e.g. 3 or #3) or its id.")],
) -> dict[str, Any]:
    """Read one incident: title, severity, status, fields (session, user, rule) and its timeline of
    transitions, webhook calls and notes, with the events around it.

    Typical requests: "show incident 3", "what happened in incident #2?", "timeline of incident 5".
    """
    return _run(lambda ops: ops.get_incident(incident_id))


@mcp.tool
def top_offenders(
    kind: Annotated[Literal["sessions", "users"], Field(description=(
        "sessions: ranked by their highest prompt injection score, with refusals; users: ranked by "
        "malicious upload violations, with injection scores."))] = "sessions",
    window: Window = "1h",
    limit: Annotated[int, Field(description="How many to list, 1 to 100.", ge=1, le=100)] = 5,
) -> dict[str, Any]:
    """Who is attacking the shop: the sessions or users with the worst prompt injection scores,
    guardrail refusals or malicious uploads, and whether they are on the block list.

    Typical requests: "who is attacking us?", "which sessions try prompt injection?", "top offenders",
    "which users upload image bombs?", "who got blocked?".
    """
    return _run(lambda ops: ops.top_offenders(kind, window, limit))


@mcp.tool
def service_health(window: Window = "15m") -> dict[str, Any]:
    """A health report of the shop: MCP tool error rate, model latency p95, tokens and spend,
    guardrail blocks, average answer quality and failure probability, judged against the monitors'
    thresholds (healthy, degraded or no data).

    Typical requests: "how healthy is the service?", "how are we doing?", "status report", "what's the
    error rate and latency?", "are things ok right now?".
    """
    return _run(lambda ops: ops.service_health(window))


@mcp.tool
def forecast(
    metric: Metric,
    threshold: Annotated[float, Field(description="The value that would be a problem, e.g. 8000 (ms).")],
    horizon: Horizon = "2h",
    direction: Annotated[Literal["above", "below"], Field(description="Which side of the threshold is bad.")]
    = "above",
    aggregation: Aggregation = None,
) -> dict[str, Any]:
    """Forecast one metric with prediction intervals (seasonal or trend model chosen by the data):
    when it will cross a threshold and the probability of crossing within the horizon.

    Typical requests: "when will p95 latency cross 8000 ms?", "forecast llm.latency above 5000 over the
    next 2 hours", "when does the injection score reach 0.85?", "predict when errors pass 20".
    """
    return _run(lambda ops: ops.forecast(metric, threshold, horizon, direction, aggregation))


@mcp.tool
def predict_failures(
    horizon: Horizon = "2h",
    service: Annotated[str | None, Field(description="Only this service (default: every service seen).")] = None,
) -> dict[str, Any]:
    """What will break and when: for each service, the probability that a health rule (latency,
    tool errors, memory) is breached within the horizon, and the first predicted crossing time.

    Typical requests: "will anything break in the next two hours?", "what is going to fail soon?",
    "are we heading for an outage?", "failure risk for the next hour", "what will break and when?".
    """
    return _run(lambda ops: ops.predict_failures(horizon, service))


def main(argv: list[str] | None = None) -> None:
    install_if_requested()
    parser = argparse.ArgumentParser(prog="python -m mcp_servers.datadog_query",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--http", type=int, metavar="PORT", help="serve streamable HTTP on 127.0.0.1:PORT")
    args = parser.parse_args(argv)
    if args.http:
        mcp.run(transport="http", host="127.0.0.1", port=args.http, show_banner=False)
    else:
        mcp.run(show_banner=False)


if __name__ == "__main__":
    main()
