"""The stand-in's incident engine: `@incident-<handle>` mentions become incidents, recoveries resolve them.

Datadog declares an incident when a monitor notification mentions an incident handle; the handle's
settings (severity, title, fields) live in `datadog/incidents/<handle>.json`. This engine does the
same on the stand-in's transitions: it opens one incident per monitor group (the title names the
attacking session or user), fills fields from the group and monitor tags, keeps a timeline of every
later transition and note (webhook calls), and resolves the incident when the group recovers.
`Incident.to_api_request()` is the same incident as a Datadog Incidents API create request, for
pushing it to an account when keys are set.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from godseye.datadog_assets import message as msg
from godseye.datadog_assets.loader import load_assets

log = logging.getLogger(__name__)

ACTIVE, STABLE, RESOLVED = "active", "stable", "resolved"
MULTI_VALUE_FIELDS = frozenset({"services", "teams"})


@dataclass
class IncidentSetting:
    handle: str
    monitors: list[str]
    severity: str
    title: str
    customer_impacted: bool = False
    customer_impact_scope: str = ""
    fields_from_tags: dict[str, str] = field(default_factory=dict)
    notification_handles: list[dict] = field(default_factory=list)
    resolve_on_recovery: bool = True
    runbook: str = ""
    description: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IncidentSetting:
        return cls(
            handle=data["handle"]["name"],
            monitors=list(data.get("monitors") or []),
            severity=data["severity"],
            title=data["title"],
            customer_impacted=bool(data.get("customer_impacted", False)),
            customer_impact_scope=data.get("customer_impact_scope", ""),
            fields_from_tags=dict(data.get("fields_from_tags") or {}),
            notification_handles=list(data.get("notification_handles") or []),
            resolve_on_recovery=bool(data.get("resolve_on_recovery", True)),
            runbook=data.get("runbook", ""),
            description=data.get("description", ""),
        )


def load_incident_settings(root: Path | str) -> dict[str, IncidentSetting]:
    out = {}
    for asset in load_assets(root).of("incident_setting"):
        try:
            setting = IncidentSetting.from_json(asset.data)
        except (KeyError, TypeError) as exc:
            log.warning("incident setting %s ignored: %s", asset.rel, exc)
            continue
        out[setting.handle] = setting
    return out


@dataclass
class TimelineEntry:
    ts: float
    kind: str  # declared, transition, renotify, note, resolved
    text: str


@dataclass
class Incident:
    id: str
    public_id: int
    title: str
    severity: str
    status: str
    handle: str
    monitor_key: str
    monitor_id: int
    group_key: str
    group: dict[str, str]
    fields: dict[str, Any]
    customer_impacted: bool
    customer_impact_scope: str
    created_at: float
    resolved_at: float | None = None
    notification_handles: list[dict] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "public_id": self.public_id, "title": self.title, "severity": self.severity,
            "status": self.status, "handle": self.handle, "monitor": self.monitor_key, "group": self.group,
            "fields": self.fields, "customer_impacted": self.customer_impacted, "created_at": self.created_at,
            "resolved_at": self.resolved_at,
            "timeline": [{"ts": e.ts, "kind": e.kind, "text": e.text} for e in self.timeline],
        }

    def to_api_request(self) -> dict:
        """This incident as a Datadog Incidents API (v2) IncidentCreateRequest body."""
        fields: dict[str, dict] = {
            "severity": {"type": "dropdown", "value": self.severity},
            "state": {"type": "dropdown", "value": self.status},
        }
        for name, value in self.fields.items():
            if name in MULTI_VALUE_FIELDS:
                fields[name] = {"type": "autocomplete", "value": value if isinstance(value, list) else [value]}
            else:
                fields[name] = {"type": "textbox", "value": str(value)}
        attributes: dict[str, Any] = {
            "title": self.title,
            "customer_impacted": self.customer_impacted,
            "fields": fields,
            "initial_cells": [{"cell_type": "markdown", "content": {"content": e.text}} for e in self.timeline[:1]],
            "notification_handles": self.notification_handles,
        }
        if self.customer_impacted and self.customer_impact_scope:
            attributes["customer_impact_scope"] = self.customer_impact_scope
        return {"data": {"type": "incidents", "attributes": attributes}}


_SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    public_id INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
    severity TEXT NOT NULL, status TEXT NOT NULL, handle TEXT NOT NULL, monitor TEXT NOT NULL,
    monitor_id INTEGER NOT NULL, grp TEXT NOT NULL, grp_tags TEXT NOT NULL, fields TEXT NOT NULL,
    customer_impacted INTEGER NOT NULL, customer_impact_scope TEXT NOT NULL, created_at REAL NOT NULL,
    resolved_at REAL, notification_handles TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_open ON incidents (monitor, grp, status);
CREATE TABLE IF NOT EXISTS timeline (
    id INTEGER PRIMARY KEY AUTOINCREMENT, incident TEXT NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS timeline_incident ON timeline (incident, id);
"""
_COLUMNS = ("public_id, id, title, severity, status, handle, monitor, monitor_id, grp, grp_tags, fields, "
            "customer_impacted, customer_impact_scope, created_at, resolved_at, notification_handles")


def default_path() -> Path:
    from godseye.config import get_settings

    return get_settings().home / "incidents.sqlite"


class IncidentStore:
    """Incidents and their timelines in SQLite under GODSEYE_HOME, readable by `godseye incidents`."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as conn:
            conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
        return conn

    def _row(self, r: tuple) -> Incident:
        inc = Incident(
            id=r[1], public_id=r[0], title=r[2], severity=r[3], status=r[4], handle=r[5], monitor_key=r[6],
            monitor_id=r[7], group_key=r[8], group=json.loads(r[9]), fields=json.loads(r[10]),
            customer_impacted=bool(r[11]), customer_impact_scope=r[12], created_at=r[13], resolved_at=r[14],
            notification_handles=json.loads(r[15]))
        inc.timeline = [TimelineEntry(*t) for t in self._conn().execute(
            "SELECT ts, kind, text FROM timeline WHERE incident = ? ORDER BY id", (inc.id,))]
        return inc

    def create(self, inc: Incident) -> Incident:
        with self._conn() as conn:
            cur = conn.execute(
                f"INSERT INTO incidents ({_COLUMNS.split(', ', 1)[1]}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (inc.id, inc.title, inc.severity, inc.status, inc.handle, inc.monitor_key, inc.monitor_id,
                 inc.group_key, json.dumps(inc.group), json.dumps(inc.fields), int(inc.customer_impacted),
                 inc.customer_impact_scope, inc.created_at, inc.resolved_at, json.dumps(inc.notification_handles)))
            inc.public_id = int(cur.lastrowid or 0)
            conn.executemany("INSERT INTO timeline (incident, ts, kind, text) VALUES (?,?,?,?)",
                             [(inc.id, e.ts, e.kind, e.text) for e in inc.timeline])
        return inc

    def add_entry(self, incident_id: str, entry: TimelineEntry) -> None:
        with self._conn() as conn:
            conn.execute("INSERT INTO timeline (incident, ts, kind, text) VALUES (?,?,?,?)",
                         (incident_id, entry.ts, entry.kind, entry.text))

    def set_status(self, incident_id: str, status: str, resolved_at: float | None = None) -> None:
        with self._conn() as conn:
            conn.execute("UPDATE incidents SET status = ?, resolved_at = ? WHERE id = ?",
                         (status, resolved_at, incident_id))

    def open_for(self, monitor: str, group_key: str) -> Incident | None:
        r = self._conn().execute(
            f"SELECT {_COLUMNS} FROM incidents WHERE monitor = ? AND grp = ? AND status != ? "
            "ORDER BY public_id DESC LIMIT 1", (monitor, group_key, RESOLVED)).fetchone()
        return self._row(r) if r else None

    def list(self, status: str | None = None, limit: int = 100) -> list[Incident]:
        if status in (None, "all"):
            rows = self._conn().execute(
                f"SELECT {_COLUMNS} FROM incidents ORDER BY public_id DESC LIMIT ?", (limit,)).fetchall()
        elif status == "open":
            rows = self._conn().execute(
                f"SELECT {_COLUMNS} FROM incidents WHERE status != ? ORDER BY public_id DESC LIMIT ?",
                (RESOLVED, limit)).fetchall()
        else:
            rows = self._conn().execute(
                f"SELECT {_COLUMNS} FROM incidents WHERE status = ? ORDER BY public_id DESC LIMIT ?",
                (status, limit)).fetchall()
        return [self._row(r) for r in rows]

    def get(self, public_id: int) -> Incident | None:
        r = self._conn().execute(f"SELECT {_COLUMNS} FROM incidents WHERE public_id = ?", (public_id,)).fetchone()
        return self._row(r) if r else None


class IncidentEngine:
    """Turns monitor transitions into incidents; the evaluator calls `observe` for every transition."""

    def __init__(self, settings: Mapping[str, IncidentSetting], store: IncidentStore | None = None,
                 clock: Callable[[], float] = time.time):
        self.settings = dict(settings)
        self.store = store or IncidentStore()
        self.clock = clock

    @classmethod
    def from_assets(cls, root: Path | str, store: IncidentStore | None = None,
                    clock: Callable[[], float] = time.time) -> IncidentEngine:
        return cls(load_incident_settings(root), store, clock)

    def observe(self, transition: Any, monitor: Any, handles: list[str]) -> Incident | None:
        """Declare, update or resolve the incident of one monitor group after a transition."""
        t = transition
        open_incident = self.store.open_for(t.monitor_key, t.group_key)
        wanted = [h[len("incident-"):] for h in handles if h.startswith("incident-")]
        if open_incident is None:
            if t.to_state != "Alert" or not wanted:
                return None
            setting = self.settings.get(wanted[0])
            if setting is None:
                log.warning("monitor %s mentions @incident-%s, which has no settings", t.monitor_key, wanted[0])
                return None
            return self._declare(setting, t, monitor)
        setting = self.settings.get(open_incident.handle)
        value = f" (value {t.value:g})" if isinstance(t.value, int | float) else ""
        if t.renotify:
            self.store.add_entry(open_incident.id, TimelineEntry(t.ts, "renotify", f"Still {t.to_state}{value}."))
        elif t.to_state == "OK":
            self.store.add_entry(open_incident.id, TimelineEntry(t.ts, "transition", f"Monitor recovered{value}."))
            if setting is None or setting.resolve_on_recovery:
                self.store.add_entry(open_incident.id, TimelineEntry(t.ts, "resolved",
                                                                     "Resolved automatically: the monitor group recovered."))
                self.store.set_status(open_incident.id, RESOLVED, t.ts)
        else:
            self.store.add_entry(open_incident.id, TimelineEntry(
                t.ts, "transition", f"Monitor went from {t.from_state} to {t.to_state}{value}."))
            self.store.set_status(open_incident.id, STABLE if t.to_state == "Warn" else ACTIVE)
        return self.store.open_for(t.monitor_key, t.group_key) or self.store.get(open_incident.public_id)

    def note(self, monitor_key: str, group_key: str, text: str, ts: float | None = None) -> None:
        """Add a timeline note (for example the self-healing webhook's answer) to the open incident."""
        inc = self.store.open_for(monitor_key, group_key)
        if inc is not None:
            self.store.add_entry(inc.id, TimelineEntry(ts if ts is not None else self.clock(), "note", text))

    def _declare(self, setting: IncidentSetting, t: Any, monitor: Any) -> Incident:
        variables = {f"{k}.name": v for k, v in t.group.items()}
        variables["value"] = f"{t.value:g}" if isinstance(t.value, int | float) else ""
        title = msg.render(setting.title, msg.TransitionContext("Alert", "OK", False, variables)).strip()
        monitor_tags = {}
        for tag in getattr(monitor, "tags", []):
            key, _, val = tag.partition(":")
            monitor_tags.setdefault(key, val)
        fields: dict[str, Any] = {}
        for name, tag_key in setting.fields_from_tags.items():
            val = t.group.get(tag_key) or monitor_tags.get(tag_key)
            if val:
                fields[name] = [val] if name in MULTI_VALUE_FIELDS else val
        first = f"Declared by monitor `{t.monitor_key}` on {t.group_key or 'its whole scope'}: {t.title or t.to_state}. "
        if isinstance(t.value, int | float):
            first += f"Value {t.value:g}. "
        if setting.runbook:
            first += f"Runbook: {setting.runbook}"
        inc = Incident(
            id=str(uuid.uuid4()), public_id=0, title=title, severity=setting.severity, status=ACTIVE,
            handle=setting.handle, monitor_key=t.monitor_key, monitor_id=t.monitor_id, group_key=t.group_key,
            group=dict(t.group), fields=fields, customer_impacted=setting.customer_impacted,
            customer_impact_scope=setting.customer_impact_scope, created_at=t.ts,
            notification_handles=list(setting.notification_handles),
            timeline=[TimelineEntry(t.ts, "declared", first.strip())],
        )
        return self.store.create(inc)
