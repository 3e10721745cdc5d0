"""`plan` and `apply`: make a Datadog account match `datadog/`, idempotently, never duplicating.

Every asset has a stable key Datadog keeps for us: the `godseye-id:<file stem>` tag on monitors and
SLOs, a `godseye-id:<stem>` marker in a dashboard's description, the name of a webhook, custom
variable or incident handle. Plan lists what the account has under those keys and compares only the
keys the file sets (Datadog adds defaults we never wrote), so a second apply is all no-ops. Two
remote objects claiming one key is a conflict apply refuses to touch rather than guess.

Offline (no DD_API_KEY/DD_APP_KEY) plan says what it would do: everything is a create.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from godseye.datadog_assets.loader import (
    AssetSet,
    MissingSetting,
    id_from_tags,
    load_assets,
    resolve_placeholders,
)
from godseye.datadog_assets.problems import join_path

APPLY_ORDER = ("webhook_variable", "webhook", "incident_setting", "monitor", "slo", "dashboard")
_DESC_ID = re.compile(r"godseye-id:([A-Za-z0-9_.\-]+)")


@dataclass
class Desired:
    kind: str
    key: str
    body: dict
    file: str
    secret: bool = False  # remote value cannot be read back (secret custom variables)
    missing: str = ""  # a ${env:...} setting that is not set; apply refuses, plan says so


@dataclass
class Remote:
    id: str
    key: str | None
    body: dict


@dataclass
class Action:
    kind: str
    key: str
    op: str  # create | update | noop | conflict | skip
    file: str
    remote_id: str | None = None
    changes: list[str] = field(default_factory=list)
    note: str = ""
    done: bool = False

    def __str__(self) -> str:
        detail = self.note or (", ".join(self.changes[:5]) + (" ..." if len(self.changes) > 5 else ""))
        rid = f" [{self.remote_id}]" if self.remote_id else ""
        return f"{self.op:<8} {self.kind:<17} {self.key}{rid}" + (f"  ({detail})" if detail else "")


class Backend(Protocol):
    """The part of the Datadog API plan/apply needs; tests use an in-memory fake."""

    def list(self, kind: str, keys: list[str]) -> list[Remote]: ...

    def create(self, kind: str, body: dict) -> str: ...

    def update(self, kind: str, remote_id: str, body: dict) -> None: ...


class PlanError(RuntimeError):
    """Apply cannot run (no keys, invalid assets, missing deploy settings)."""


def keys_configured(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("DD_API_KEY") and env.get("DD_APP_KEY"))


def remote_key(kind: str, body: dict) -> str | None:
    """The stable key of an object as Datadog returns it."""
    if kind in {"monitor", "slo"}:
        return id_from_tags(body.get("tags"))
    if kind == "dashboard":
        m = _DESC_ID.search(body.get("description") or "")
        return m.group(1) if m else None
    if kind == "incident_setting":
        return ((body.get("data") or {}).get("attributes") or {}).get("name") or body.get("name")
    return body.get("name")


def desired_state(assets: AssetSet, environ: Mapping[str, str] | None = None) -> list[Desired]:
    """What the account should hold, with `${env:...}` placeholders resolved where they are set."""
    desired: list[Desired] = []
    for kind in APPLY_ORDER:
        for asset in assets.of(kind):
            missing = ""
            try:
                body = resolve_placeholders(asset.data, environ)
            except MissingSetting as exc:
                body, missing = asset.data, str(exc)
            if kind == "incident_setting":
                key = body["handle"]["name"]
                body = {"data": {"type": "incidents_handles", "attributes": body["handle"]}}
            elif kind in {"monitor", "slo", "dashboard"}:
                key = asset.stem
            else:
                key = body.get("name", asset.stem)
            desired.append(Desired(kind, key, body, asset.rel, secret=bool(body.get("is_secret")), missing=missing))
    return desired


def diff(desired: Any, remote: Any, path: str = "$") -> list[str]:
    """JSON paths where `remote` differs from `desired`, looking only at what `desired` sets."""
    empty = ([], {}, None, "")
    if desired in empty and remote in empty and not isinstance(desired, bool | int | float):
        return []
    if isinstance(desired, dict):
        if not isinstance(remote, dict):
            return [path]
        out: list[str] = []
        for key, value in desired.items():
            out += diff(value, remote.get(key), join_path(path, key))
        return out
    if isinstance(desired, list):
        if not isinstance(remote, list) or len(remote) != len(desired):
            return [path]
        out = []
        for i, (d, r) in enumerate(zip(desired, remote, strict=True)):
            out += diff(d, r, join_path(path, i))
        return out
    if isinstance(desired, bool) or isinstance(remote, bool):
        return [] if type(desired) is type(remote) and desired == remote else [path]
    if isinstance(desired, int | float) and isinstance(remote, int | float):
        return [] if float(desired) == float(remote) else [path]
    return [] if desired == remote else [path]


def _loopback_url(url: str) -> bool:
    return bool(re.match(r"^https?://(localhost|127\.|\[::1\]|0\.0\.0\.0)", url or ""))


def plan(root: Path | str, client: Backend | None = None, environ: Mapping[str, str] | None = None) -> list[Action]:
    """What apply would do; offline (no client and no keys) every API-managed asset is a create."""
    assets = load_assets(root)
    desired = desired_state(assets, environ)
    actions: list[Action] = []
    if client is None and keys_configured(environ):
        client = DatadogApiBackend()
    for kind in APPLY_ORDER:
        wanted = [d for d in desired if d.kind == kind]
        if not wanted:
            continue
        remote_by_key: dict[str, list[Remote]] = {}
        if client is not None:
            for r in client.list(kind, [d.key for d in wanted]):
                if r.key:
                    remote_by_key.setdefault(r.key, []).append(r)
        for d in wanted:
            note = ""
            if kind == "webhook" and _loopback_url(d.body.get("url", "")) and client is not None:
                note = "URL is loopback: Datadog cannot reach it; set GODSEYE_WEBHOOK_BASE_URL"
            found = remote_by_key.get(d.key, [])
            if d.missing:
                note = f"needs a setting: {d.missing}"
            if client is None:
                actions.append(Action(kind, d.key, "create", d.file, note=note or "offline: would create"))
            elif d.missing:
                actions.append(Action(kind, d.key, "skip", d.file, note=note))
            elif not found:
                actions.append(Action(kind, d.key, "create", d.file, note=note))
            elif len(found) > 1:
                ids = ", ".join(r.id for r in found)
                actions.append(Action(kind, d.key, "conflict", d.file,
                                      note=f"{len(found)} remote objects share this key ({ids}); fix by hand"))
            else:
                remote = found[0]
                if d.secret:
                    actions.append(Action(kind, d.key, "noop", d.file, remote.id,
                                          note="secret exists; its value cannot be read back (use --rotate-secrets)"))
                    continue
                changes = diff(d.body, remote.body)
                op = "update" if changes else "noop"
                actions.append(Action(kind, d.key, op, d.file, remote.id, changes, note=note if changes else ""))
    for asset in assets.of("notification_routes"):
        actions.append(Action("notification", asset.stem, "skip", asset.rel,
                              note="routes are mentions in monitor messages; nothing to push"))
    return actions


def apply(root: Path | str, client: Backend | None = None, environ: Mapping[str, str] | None = None, *,
          rotate_secrets: bool = False) -> list[Action]:
    """Create or update what plan says; refuses offline, on invalid assets or missing settings."""
    from godseye.datadog_assets.validate import validate

    if client is None:
        if not keys_configured(environ):
            raise PlanError("apply needs a Datadog account: set DD_API_KEY and DD_APP_KEY (and DD_SITE if not "
                            "datadoghq.com). Offline, `godseye datadog plan` shows what would be done.")
        client = DatadogApiBackend()
    problems = validate(root)
    if problems:
        raise PlanError(f"{len(problems)} problem(s) in {root}; run `godseye datadog validate` first")
    wanted = desired_state(load_assets(root), environ)
    missing = [f"  {d.file}: {d.missing}" for d in wanted if d.missing]
    if missing:
        raise PlanError("missing deploy settings:\n" + "\n".join(missing))
    actions = plan(root, client, environ)
    desired = {(d.kind, d.key): d for d in wanted}
    for action in actions:
        d = desired.get((action.kind, action.key))
        if d is None:
            continue
        if action.op == "create":
            action.remote_id = client.create(action.kind, d.body)
            action.done = True
        elif action.op == "update" or (rotate_secrets and d.secret and action.op == "noop"):
            assert action.remote_id is not None
            client.update(action.kind, action.remote_id, d.body)
            action.op = "update"
            action.done = True
    return actions


class DatadogApiBackend:
    """Backend on datadog-api-client; reads DD_API_KEY, DD_APP_KEY and DD_SITE from the environment."""

    def __init__(self) -> None:
        from datadog_api_client import ApiClient, Configuration

        self.configuration = Configuration()
        for op in ("list_global_incident_handles", "create_global_incident_handle",
                   "update_global_incident_handle", "list_incident_types"):
            try:
                self.configuration.unstable_operations[f"v2.{op}"] = True
            except KeyError:
                pass
        self.client = ApiClient(self.configuration)
        self._incident_type_id: str | None = None

    # -- helpers --------------------------------------------------------------------------------
    def _model(self, body: dict, model: type) -> Any:
        from datadog_api_client.model_utils import validate_and_convert_types

        return validate_and_convert_types(body, (model,), ["body"], True, True, configuration=self.configuration)

    @staticmethod
    def _dict(obj: Any) -> dict:
        from datadog_api_client.model_utils import model_to_dict

        return model_to_dict(obj, serialize=True) if not isinstance(obj, dict) else obj

    def _api(self, name: str) -> Any:
        from datadog_api_client.v1.api.dashboards_api import DashboardsApi
        from datadog_api_client.v1.api.monitors_api import MonitorsApi
        from datadog_api_client.v1.api.service_level_objectives_api import ServiceLevelObjectivesApi
        from datadog_api_client.v1.api.webhooks_integration_api import WebhooksIntegrationApi
        from datadog_api_client.v2.api.incidents_api import IncidentsApi

        return {"monitor": MonitorsApi, "dashboard": DashboardsApi, "slo": ServiceLevelObjectivesApi,
                "webhook": WebhooksIntegrationApi, "webhook_variable": WebhooksIntegrationApi,
                "incident_setting": IncidentsApi}[name](self.client)

    # -- Backend --------------------------------------------------------------------------------
    def list(self, kind: str, keys: list[str]) -> list[Remote]:
        from datadog_api_client.exceptions import NotFoundException

        api = self._api(kind)
        out: list[Remote] = []
        if kind == "monitor":
            for m in api.list_monitors_with_pagination(monitor_tags="managed-by:godseye"):
                body = self._dict(m)
                out.append(Remote(str(body["id"]), remote_key(kind, body), body))
        elif kind == "slo":
            for s in api.list_slos_with_pagination(tags_query="managed-by:godseye"):
                body = self._dict(s)
                out.append(Remote(str(body["id"]), remote_key(kind, body), body))
        elif kind == "dashboard":
            for summary in api.list_dashboards_with_pagination():
                s = self._dict(summary)
                key = remote_key(kind, s)
                if key:
                    out.append(Remote(s["id"], key, self._dict(api.get_dashboard(s["id"]))))
        elif kind in {"webhook", "webhook_variable"}:
            get = api.get_webhooks_integration if kind == "webhook" else api.get_webhooks_integration_custom_variable
            for key in keys:
                try:
                    body = self._dict(get(key))
                except NotFoundException:
                    continue
                out.append(Remote(key, body.get("name", key), body))
        elif kind == "incident_setting":
            response = self._dict(api.list_global_incident_handles())
            for item in response.get("data") or []:
                body = {"data": {"type": item.get("type"), "attributes": item.get("attributes") or {}}}
                out.append(Remote(item["id"], (item.get("attributes") or {}).get("name"), body))
        return out

    def _incident_body(self, body: dict, remote_id: str | None = None) -> Any:
        from datadog_api_client.v2.model.incident_handle_request import IncidentHandleRequest

        if self._incident_type_id is None:
            types = self._dict(self._api("incident_setting").list_incident_types()).get("data") or []
            default = next((t for t in types if (t.get("attributes") or {}).get("is_default")), types[0] if types else None)
            if default is None:
                raise PlanError("the account has no incident type to attach incident handles to")
            self._incident_type_id = default["id"]
        data = dict(body["data"])
        data["relationships"] = {"incident_type": {"data": {"id": self._incident_type_id, "type": "incident_types"}}}
        if remote_id:
            data["id"] = remote_id
        return self._model({"data": data}, IncidentHandleRequest)

    def create(self, kind: str, body: dict) -> str:
        from datadog_api_client.v1.model.dashboard import Dashboard
        from datadog_api_client.v1.model.monitor import Monitor
        from datadog_api_client.v1.model.service_level_objective_request import ServiceLevelObjectiveRequest
        from datadog_api_client.v1.model.webhooks_integration import WebhooksIntegration
        from datadog_api_client.v1.model.webhooks_integration_custom_variable import (
            WebhooksIntegrationCustomVariable,
        )

        api = self._api(kind)
        if kind == "monitor":
            return str(self._dict(api.create_monitor(self._model(body, Monitor)))["id"])
        if kind == "dashboard":
            return str(self._dict(api.create_dashboard(self._model(body, Dashboard)))["id"])
        if kind == "slo":
            created = self._dict(api.create_slo(self._model(body, ServiceLevelObjectiveRequest)))
            return str(created["data"][0]["id"])
        if kind == "webhook":
            api.create_webhooks_integration(self._model(body, WebhooksIntegration))
            return body["name"]
        if kind == "webhook_variable":
            api.create_webhooks_integration_custom_variable(self._model(body, WebhooksIntegrationCustomVariable))
            return body["name"]
        if kind == "incident_setting":
            return str(self._dict(api.create_global_incident_handle(self._incident_body(body)))["data"]["id"])
        raise PlanError(f"cannot create {kind}")

    def update(self, kind: str, remote_id: str, body: dict) -> None:
        from datadog_api_client.v1.model.dashboard import Dashboard
        from datadog_api_client.v1.model.monitor_update_request import MonitorUpdateRequest
        from datadog_api_client.v1.model.service_level_objective import ServiceLevelObjective
        from datadog_api_client.v1.model.webhooks_integration_custom_variable_update_request import (
            WebhooksIntegrationCustomVariableUpdateRequest,
        )
        from datadog_api_client.v1.model.webhooks_integration_update_request import (
            WebhooksIntegrationUpdateRequest,
        )

        api = self._api(kind)
        if kind == "monitor":
            api.update_monitor(int(remote_id), self._model(body, MonitorUpdateRequest))
        elif kind == "dashboard":
            api.update_dashboard(remote_id, self._model(body, Dashboard))
        elif kind == "slo":
            api.update_slo(remote_id, self._model(body, ServiceLevelObjective))
        elif kind == "webhook":
            api.update_webhooks_integration(remote_id, self._model(body, WebhooksIntegrationUpdateRequest))
        elif kind == "webhook_variable":
            api.update_webhooks_integration_custom_variable(
                remote_id, self._model(body, WebhooksIntegrationCustomVariableUpdateRequest))
        elif kind == "incident_setting":
            api.update_global_incident_handle(self._incident_body(body, remote_id))
        else:
            raise PlanError(f"cannot update {kind}")
