"""The stand-in back end: the metric store, monitor states and incidents under GODSEYE_HOME.

Reads the files directly (no HTTP hop), the same ones the DogStatsD receiver, the monitor evaluator
and the incident engine write. Metric queries run through the monitor evaluator's query engine so
a value the AI SRE quotes is the value a monitor would compute.

Monitor states: when the stand-in's evaluator has written its state file in the last
`EVALUATOR_FRESH_S` seconds (`godseye up` runs it every 15 s) its states are the truth; otherwise
nobody is evaluating, so every monitor is evaluated now against the store (`source: live`) rather
than reporting stale or empty states.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from godseye.config import PROJECT_ROOT, get_settings
from godseye.datadog_assets.query import MetricQuery, QuerySyntaxError, parse_expression
from local_datadog.incidents import Incident, IncidentStore
from local_datadog.incidents import default_path as incidents_path
from local_datadog.monitors import (
    ALERT,
    OK,
    MonitorDef,
    MonitorStateStore,
    UnsupportedQuery,
    _QueryEvaluator,
    evaluate_query,
    level,
    load_monitors,
)
from local_datadog.store import MetricStore
from mcp_servers.datadog_query.backend import (
    BackendError,
    EventRecord,
    IncidentRecord,
    MetricQuerySpec,
    MonitorStatus,
    Series,
    render_name,
)

log = logging.getLogger(__name__)

EVALUATOR_FRESH_S = 120.0
MONITOR_STATE_FILE = "monitor_state.sqlite"


class LocalBackend:
    name = "local"

    def __init__(self, home: Path | str | None = None, assets: Path | str | None = None,
                 store: MetricStore | None = None):
        self.home = Path(home) if home is not None else get_settings().home
        self.assets = Path(assets) if assets is not None else PROJECT_ROOT / "datadog"
        self._store = store
        self._monitors: list[MonitorDef] | None = None

    # -- plumbing --------------------------------------------------------------------------------

    @property
    def store(self) -> MetricStore:
        if self._store is None:
            self._store = MetricStore(self.home / "standin.sqlite")
        return self._store

    @property
    def monitors(self) -> list[MonitorDef]:
        if self._monitors is None:
            self._monitors = load_monitors(self.assets)
        return self._monitors

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- metrics ---------------------------------------------------------------------------------

    def series(self, spec: MetricQuerySpec, start: float, end: float, interval_s: float) -> list[Series]:
        text = spec.text(interval_s)
        try:
            query = parse_expression(text)
        except QuerySyntaxError as exc:
            raise BackendError(f"cannot read that query: {exc.reason}") from None
        if not isinstance(query, MetricQuery):
            raise BackendError(f"{text!r} is not a single metric query")
        try:
            buckets = _QueryEvaluator(self.store, interval_s).leaf_series(query, start, end, interval_s)
        except UnsupportedQuery as exc:
            raise BackendError(str(exc)) from None
        out = []
        for key, values in buckets.items():
            group = dict(zip(spec.group_by, key, strict=True))
            points = [(start + b * interval_s, float(v)) for b, v in sorted(values.items()) if v is not None]
            if points:
                out.append(Series(group, points))
        return out

    def tag_values(self, metric: str, key: str, start: float, end: float) -> list[str]:
        return self.store.tag_values(metric, key, start, end)

    def events(self, start: float, end: float, tags: list[str] | None = None) -> list[EventRecord]:
        filters = dict(t.split(":", 1) for t in tags or [] if ":" in t) or None
        return [EventRecord(e.ts, e.title, e.text, [f"{k}:{v}" for k, v in e.tags.items()], e.alert_type)
                for e in self.store.events(start, end, filters)]

    # -- monitors --------------------------------------------------------------------------------

    def _state_store(self) -> tuple[MonitorStateStore | None, bool]:
        """The evaluator's state store, and whether an evaluator wrote to it recently."""
        path = self.home / MONITOR_STATE_FILE
        if not path.exists():
            return None, False
        mtimes = [p.stat().st_mtime for p in (path, Path(f"{path}-wal")) if p.exists()]
        return MonitorStateStore(path), max(mtimes) >= time.time() - EVALUATOR_FRESH_S

    def monitor_states(self, now: float) -> list[MonitorStatus]:
        states, fresh = self._state_store()
        out: list[MonitorStatus] = []
        for mon in self.monitors:
            threshold = mon.thresholds.get("critical", mon.query.threshold)
            common = {"monitor": mon.key, "threshold": threshold, "comparator": mon.query.comparator,
                      "monitor_id": mon.id, "tags": list(mon.tags)}
            if fresh and states is not None:
                for gkey, st in states.load(mon.key).items():
                    if st.state != OK:
                        out.append(MonitorStatus(name=render_name(mon.name, st.tags), group=gkey, state=st.state,
                                                 value=st.value, since=st.since, source="evaluator", **common))
                continue
            try:
                evaluation = evaluate_query(mon, self.store, now)
            except (UnsupportedQuery, ValueError, KeyError) as exc:
                log.info("monitor %s not evaluated live: %s", mon.key, exc)
                continue
            for key, value in evaluation.values.items():
                if value is None:
                    continue
                state = level(mon, value, OK)
                if state == OK:
                    continue
                group = dict(zip(evaluation.group_by, key, strict=True))
                scope = ", ".join(f"{k}:{v}" for k, v in group.items())
                out.append(MonitorStatus(name=render_name(mon.name, group), group=scope, state=state, value=value,
                                         since=None, source="live", **common))
        out.sort(key=lambda s: (s.state != ALERT, s.monitor, s.group))
        return out

    # -- incidents -------------------------------------------------------------------------------

    def _incident_store(self) -> IncidentStore | None:
        path = self.home / incidents_path().name
        return IncidentStore(path) if path.exists() else None

    def incidents(self, status: str | None = None, limit: int = 50) -> list[IncidentRecord]:
        store = self._incident_store()
        if store is None:
            return []
        return [_record(i) for i in store.list(status or "all", limit)]

    def incident(self, incident_id: str) -> IncidentRecord | None:
        store = self._incident_store()
        if store is None:
            return None
        wanted = str(incident_id).strip().lstrip("#")
        if wanted.isdigit():
            found = store.get(int(wanted))
            return _record(found) if found else None
        for inc in store.list("all", 1000):
            if inc.id == wanted:
                return _record(inc)
        return None


def _record(inc: Incident) -> IncidentRecord:
    return IncidentRecord(
        id=inc.id, public_id=inc.public_id, title=inc.title, severity=inc.severity, status=inc.status,
        created_at=inc.created_at, resolved_at=inc.resolved_at, monitor=inc.monitor_key, group=dict(inc.group),
        fields=dict(inc.fields), customer_impacted=inc.customer_impacted,
        timeline=[{"ts": e.ts, "kind": e.kind, "text": e.text} for e in inc.timeline],
    )
