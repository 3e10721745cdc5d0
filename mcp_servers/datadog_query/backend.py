"""One interface over the two places telemetry lives: the Datadog API and the local stand-in.

Why a Protocol with plain records: the tools (`operations`), the operator console and the tests
code against `TelemetryBackend` only, so the same question gets the same answer shape whether it
is answered by api.datadoghq.com or by the SQLite files under GODSEYE_HOME. Metric reads are
expressed as Datadog query strings (`MetricQuerySpec.text`): the API runs them itself and the
stand-in runs them with the monitor evaluator's query engine, so both agree on semantics
(as_count, rollups, percentiles of distributions).

Selection (`select_backend`): `GODSEYE_SRE_BACKEND=local|datadog` forces one; otherwise the
Datadog API when both DD_API_KEY and DD_APP_KEY are set, the stand-in when not.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

SPACE_AGGREGATIONS = ("avg", "sum", "min", "max", "count")
ROLLUP_METHODS = ("avg", "sum", "min", "max")
_TEMPLATE = re.compile(r"\{\{\s*([\w.-]+)\.name\s*\}\}")


class BackendError(RuntimeError):
    """The back end could not answer (API error, unreadable store); the message is for operators."""


def render_name(name: str, group: dict[str, str]) -> str:
    """A monitor name with its {{tag.name}} variables filled from the group (or '*')."""
    return _TEMPLATE.sub(lambda m: group.get(m.group(1), "*"), name)


def scope_tags(scope: str) -> dict[str, str]:
    """Datadog's group scope 'session_id:abc,agent:x' as tags."""
    out = {}
    for part in scope.split(","):
        key, sep, value = part.strip().partition(":")
        if sep and key:
            out[key] = value
    return out


def is_percentile(aggregation: str) -> bool:
    return len(aggregation) > 1 and aggregation[0] == "p" and aggregation[1:].replace(".", "", 1).isdigit()


@dataclass(frozen=True)
class MetricQuerySpec:
    """One metric read: `aggregation:metric{filters} by {group_by}`, bucketed by a rollup.

    `aggregation` is the space aggregation (avg, sum, min, max, count) or a percentile (p50..p99)
    for distributions. `as_count` asks for per-bucket totals of a count metric.
    """

    metric: str
    aggregation: str = "avg"
    filters: tuple[tuple[str, str], ...] = ()
    group_by: tuple[str, ...] = ()
    as_count: bool = False

    def text(self, interval_s: float) -> str:
        scope = ",".join(f"{k}:{v}" for k, v in self.filters) or "*"
        by = f" by {{{','.join(self.group_by)}}}" if self.group_by else ""
        method = self.aggregation if self.aggregation in ROLLUP_METHODS else "avg"
        if self.as_count:
            method = "sum"
        count = ".as_count()" if self.as_count else ""
        return f"{self.aggregation}:{self.metric}{{{scope}}}{by}{count}.rollup({method}, {int(max(1, interval_s))})"


@dataclass
class Series:
    """One group of a metric query: its tags and (bucket start, value) points, oldest first."""

    group: dict[str, str]
    points: list[tuple[float, float]]

    @property
    def label(self) -> str:
        return ",".join(f"{k}:{v}" for k, v in self.group.items()) or "*"


@dataclass
class MonitorStatus:
    """A monitor group that is not OK (Alert, Warn or No Data)."""

    monitor: str  # the godseye-id (file stem of datadog/monitors/*.json) or the Datadog id
    name: str
    group: str  # Datadog's scope, e.g. "session_id:abc"; "" for a simple monitor
    state: str
    value: float | None = None
    threshold: float | None = None
    comparator: str | None = None
    since: float | None = None
    source: str = "evaluator"  # evaluator (stand-in's monitor state), live (evaluated now), datadog
    monitor_id: int | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class IncidentRecord:
    id: str
    public_id: int | None
    title: str
    severity: str
    status: str  # active, stable, resolved
    created_at: float | None
    resolved_at: float | None = None
    monitor: str | None = None
    group: dict[str, str] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    customer_impacted: bool = False
    timeline: list[dict[str, Any]] = field(default_factory=list)  # {ts, kind, text}


@dataclass
class EventRecord:
    ts: float
    title: str
    text: str
    tags: list[str] = field(default_factory=list)
    alert_type: str = "info"


@runtime_checkable
class TelemetryBackend(Protocol):
    """What the AI SRE's tools need from a telemetry back end."""

    name: str

    def series(self, spec: MetricQuerySpec, start: float, end: float, interval_s: float) -> list[Series]:
        """Bucketed points per group for start <= ts < end, buckets of `interval_s` seconds."""
        ...

    def monitor_states(self, now: float) -> list[MonitorStatus]:
        """Every monitor group currently in Alert, Warn or No Data."""
        ...

    def incidents(self, status: str | None = None, limit: int = 50) -> list[IncidentRecord]:
        """Incidents newest first; status None/'all', 'open' (not resolved), or one state."""
        ...

    def incident(self, incident_id: str) -> IncidentRecord | None:
        """One incident with its timeline, by public number (e.g. '3') or id."""
        ...

    def events(self, start: float, end: float, tags: list[str] | None = None) -> list[EventRecord]:
        ...

    def tag_values(self, metric: str, key: str, start: float, end: float) -> list[str]:
        ...


def datadog_keys_configured() -> bool:
    return bool(os.environ.get("DD_API_KEY") and os.environ.get("DD_APP_KEY"))


def select_backend() -> TelemetryBackend:
    """The Datadog API when keys are set (or forced), else the local stand-in."""
    forced = os.environ.get("GODSEYE_SRE_BACKEND", "auto").strip().lower()
    if forced not in {"auto", "local", "datadog"}:
        raise BackendError(f"GODSEYE_SRE_BACKEND must be auto, local or datadog, not {forced!r}")
    if forced == "datadog" or (forced == "auto" and datadog_keys_configured()):
        from mcp_servers.datadog_query.datadog_backend import DatadogBackend

        return DatadogBackend.from_env()
    from mcp_servers.datadog_query.local_backend import LocalBackend

    return LocalBackend()
