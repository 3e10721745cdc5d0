"""The Datadog API back end (datadog-api-client): v1 metric queries, v1 monitors with their group
states, v2 incidents and v1 events.

Keys come from DD_API_KEY / DD_APP_KEY, the site from DD_SITE (datadoghq.com by default).
`GODSEYE_DATADOG_API_URL` replaces the whole base URL (a proxy, or the tests' fake server).
Every API failure becomes a `BackendError` with the status and Datadog's message, never a
traceback in an operator's chat.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ApiException, OpenApiException
from datadog_api_client.v1.api.events_api import EventsApi
from datadog_api_client.v1.api.metrics_api import MetricsApi
from datadog_api_client.v1.api.monitors_api import MonitorsApi
from datadog_api_client.v2.api.incidents_api import IncidentsApi

from mcp_servers.datadog_query.backend import (
    BackendError,
    EventRecord,
    IncidentRecord,
    MetricQuerySpec,
    MonitorStatus,
    Series,
    render_name,
    scope_tags,
)

T = TypeVar("T")
NOT_OK = {"Alert", "Warn", "No Data"}
UNSTABLE = ("list_incidents", "get_incident")  # short names: the client's setter rejects "v2." keys
INCIDENT_PAGE = 100


def _str(value: Any) -> str:
    """Enum models (states, severities) and plain strings alike."""
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value) / (1000.0 if value > 1e11 else 1.0)
    return None


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """An attribute of an API model that may be unset (the client raises on unset attributes)."""
    try:
        value = getattr(obj, name)
    except (AttributeError, KeyError, OpenApiException):
        return default
    return default if value is None else value


class DatadogBackend:
    name = "datadog"

    def __init__(self, api_key: str, app_key: str, host: str | None = None, site: str | None = None,
                 timeout_s: float = 20.0):
        config = Configuration(host=host, request_timeout=timeout_s, enable_retry=True, max_retries=2)
        config.api_key["apiKeyAuth"] = api_key
        config.api_key["appKeyAuth"] = app_key
        if site and not host:
            config.server_variables["site"] = site
        for op in UNSTABLE:
            config.unstable_operations[op] = True
        self.config = config
        self.client = ApiClient(config)

    @classmethod
    def from_env(cls) -> DatadogBackend:
        api_key, app_key = os.environ.get("DD_API_KEY"), os.environ.get("DD_APP_KEY")
        if not api_key or not app_key:
            raise BackendError("the Datadog back end needs DD_API_KEY and DD_APP_KEY")
        return cls(api_key, app_key, host=os.environ.get("GODSEYE_DATADOG_API_URL") or None,
                   site=os.environ.get("DD_SITE") or None)

    def close(self) -> None:
        self.client.close()

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Using unstable operation")
                return fn()
        except ApiException as exc:
            detail = (exc.body or b"")
            text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
            raise BackendError(f"Datadog API {what} failed: HTTP {exc.status} {exc.reason} {text[:200]}".strip()) \
                from None
        except (OpenApiException, OSError, ValueError) as exc:
            raise BackendError(f"Datadog API {what} failed: {type(exc).__name__}: {exc}") from None

    # -- metrics ---------------------------------------------------------------------------------

    def series(self, spec: MetricQuerySpec, start: float, end: float, interval_s: float) -> list[Series]:
        query = spec.text(interval_s)
        response = self._call("metrics query", lambda: MetricsApi(self.client).query_metrics(
            _from=int(start), to=int(end), query=query))
        out = []
        for s in _get(response, "series", []) or []:
            group = {}
            for tag in _get(s, "tag_set", []) or []:
                key, _, value = str(tag).partition(":")
                if key in spec.group_by:
                    group[key] = value
            points = []
            for p in _get(s, "pointlist", []) or []:
                pair = getattr(p, "value", p)
                if len(pair) >= 2 and pair[1] is not None:
                    points.append((float(pair[0]) / 1000.0, float(pair[1])))
            if points:
                out.append(Series(group, points))
        return out

    def tag_values(self, metric: str, key: str, start: float, end: float) -> list[str]:
        spec = MetricQuerySpec(metric, "avg", group_by=(key,))
        return sorted({s.group[key] for s in self.series(spec, start, end, max(60.0, end - start)) if key in s.group})

    # -- monitors --------------------------------------------------------------------------------

    def monitor_states(self, now: float) -> list[MonitorStatus]:
        monitors = self._call("monitor list", lambda: MonitorsApi(self.client).list_monitors(
            group_states="alert,warn,no data"))
        out: list[MonitorStatus] = []
        for mon in monitors or []:
            overall = _str(_get(mon, "overall_state"))
            tags = [str(t) for t in _get(mon, "tags", []) or []]
            key = next((t.split(":", 1)[1] for t in tags if t.startswith("godseye-id:")), str(_get(mon, "id", "")))
            thresholds = _get(_get(mon, "options"), "thresholds")
            critical = _get(thresholds, "critical")
            name = str(_get(mon, "name", key))
            common = {"monitor": key, "threshold": critical,
                      "comparator": _comparator(str(_get(mon, "query", ""))), "monitor_id": _get(mon, "id"),
                      "tags": tags, "source": "datadog"}
            groups = _get(_get(mon, "state"), "groups", {}) or {}
            listed = False
            for group_name, group in groups.items():
                status = _str(_get(group, "status"))
                if status in NOT_OK:
                    since = _epoch(_get(group, "last_nodata_ts" if status == "No Data" else "last_triggered_ts"))
                    scope = "" if group_name in ("*", "") else str(group_name).replace(",", ", ")
                    out.append(MonitorStatus(name=render_name(name, scope_tags(scope)), group=scope, state=status,
                                             since=since, **common))
                    listed = True
            if not listed and overall in NOT_OK:
                out.append(MonitorStatus(name=render_name(name, {}), group="", state=overall, **common))
        out.sort(key=lambda s: (s.state != "Alert", s.monitor, s.group))
        return out

    # -- incidents -------------------------------------------------------------------------------

    def incidents(self, status: str | None = None, limit: int = 50) -> list[IncidentRecord]:
        response = self._call("incident list", lambda: IncidentsApi(self.client).list_incidents(
            page_size=min(max(limit, 1), INCIDENT_PAGE)))
        records = [_incident(d) for d in _get(response, "data", []) or []]
        if status == "open":
            records = [r for r in records if r.status != "resolved"]
        elif status not in (None, "", "all"):
            records = [r for r in records if r.status == status]
        records.sort(key=lambda r: r.created_at or 0.0, reverse=True)
        return records[:limit]

    def incident(self, incident_id: str) -> IncidentRecord | None:
        wanted = str(incident_id).strip().lstrip("#")
        if wanted.isdigit():
            for record in self.incidents("all", INCIDENT_PAGE):
                if record.public_id == int(wanted):
                    return self.incident(record.id)
            return None
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Using unstable operation")
                response = IncidentsApi(self.client).get_incident(wanted)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise BackendError(f"Datadog API incident read failed: HTTP {exc.status} {exc.reason}") from None
        except (OpenApiException, OSError, ValueError) as exc:
            raise BackendError(f"Datadog API incident read failed: {type(exc).__name__}: {exc}") from None
        record = _incident(_get(response, "data"))
        record.timeline = _timeline(record, _get(_get(response, "data"), "attributes"))
        return record

    # -- events ----------------------------------------------------------------------------------

    def events(self, start: float, end: float, tags: list[str] | None = None) -> list[EventRecord]:
        kwargs: dict[str, Any] = {"tags": ",".join(tags)} if tags else {}
        response = self._call("event list", lambda: EventsApi(self.client).list_events(
            start=int(start), end=int(end), **kwargs))
        out = []
        for e in _get(response, "events", []) or []:
            out.append(EventRecord(ts=float(_get(e, "date_happened", 0)), title=str(_get(e, "title", "")),
                                   text=str(_get(e, "text", "")), tags=[str(t) for t in _get(e, "tags", []) or []],
                                   alert_type=_str(_get(e, "alert_type")) or "info"))
        out.sort(key=lambda e: e.ts)
        return out


def _comparator(query: str) -> str | None:
    for op in (">=", "<=", ">", "<"):
        if op in query:
            return op
    return None


def _field_value(fields: dict, name: str) -> Any:
    entry = fields.get(name)
    return _get(entry, "value") if entry is not None else None


def _incident(data: Any) -> IncidentRecord:
    attrs = _get(data, "attributes")
    fields = dict(_get(attrs, "fields", {}) or {})
    state = _get(attrs, "state") or _field_value(fields, "state") or ""
    severity = _str(_get(attrs, "severity")) or _str(_field_value(fields, "severity")) or "UNKNOWN"
    plain = {k: _get(v, "value") for k, v in fields.items() if k not in ("state", "severity")}
    return IncidentRecord(
        id=str(_get(data, "id", "")), public_id=_get(attrs, "public_id"), title=str(_get(attrs, "title", "")),
        severity=severity, status=str(_str(state)).lower(), created_at=_epoch(_get(attrs, "created")),
        resolved_at=_epoch(_get(attrs, "resolved")), fields={k: v for k, v in plain.items() if v is not None},
        customer_impacted=bool(_get(attrs, "customer_impacted", False)),
    )


def _timeline(record: IncidentRecord, attrs: Any) -> list[dict[str, Any]]:
    """The milestones Datadog records on the incident itself (the API has no timeline endpoint)."""
    marks = [("detected", _get(attrs, "detected"), "Detected."),
             ("declared", _get(attrs, "declared") or _get(attrs, "created"), f"Declared: {record.title}."),
             ("customer_impact", _get(attrs, "customer_impact_start"), "Customer impact started."),
             ("customer_impact", _get(attrs, "customer_impact_end"), "Customer impact ended."),
             ("resolved", _get(attrs, "resolved"), "Resolved.")]
    out = [{"ts": _epoch(ts), "kind": kind, "text": text} for kind, ts, text in marks if ts is not None]
    return sorted(out, key=lambda e: e["ts"])
