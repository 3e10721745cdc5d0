"""The Datadog API back end against a local fake of the few endpoints it uses (never the network).

The fake speaks `GET /api/v1/query`, `/api/v1/monitor`, `/api/v2/incidents[/{id}]` and
`/api/v1/events` with Datadog's response shapes, answers metric queries by the metric they name,
and records every request so the tests can check the query strings and the auth headers.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from support.sre_telemetry import ungrounded_numbers

from guardrails.blocklist import BlockList
from mcp_servers.datadog_query import server
from mcp_servers.datadog_query.backend import select_backend
from mcp_servers.datadog_query.datadog_backend import DatadogBackend
from mcp_servers.datadog_query.operations import SreError, SreOperations

NOW = float(int(time.time()))
INCIDENT_UUID = "4c1d5e8a-0000-4000-8000-00000000abcd"


def _series(metric: str, groups: dict[str, list[float | None]], step_s: int = 60) -> list[dict]:
    out = []
    for scope, values in groups.items():
        start_ms = int((NOW - step_s * len(values)) * 1000)
        out.append({
            "metric": metric, "display_name": metric, "scope": scope, "expression": metric,
            "tag_set": [] if scope == "*" else scope.split(","), "aggr": "avg", "interval": step_s,
            "length": len(values), "start": start_ms, "end": int(NOW * 1000), "query_index": 0, "unit": None,
            "pointlist": [[start_ms + i * step_s * 1000, v] for i, v in enumerate(values)],
        })
    return out


# Metric name -> (group scope -> values). What each query returns, whatever its rollup.
METRICS = {
    "llm.latency": {"*": [900.0, None, 1200.5, 1500.0]},
    "llm.security.injection_score": {"session_id:s-evil": [0.2, 0.96], "session_id:s-ok": [0.05]},
    "llm.security.blocked": {"session_id:s-evil": [2.0, 1.0]},
    "mcp.tool.calls": {"server:catalog": [200.0]},
    "mcp.tool.errors": {"server:catalog": [50.0]},
    "llm.token_usage": {"direction:input": [1000.0], "direction:output": [250.0]},
    "llm.cost_usd": {"*": [0.42]},
    "llm.response.quality": {"*": [0.66]},
    "llm.interactions_per_conversion": {"*": [4.0 + 0.1 * i for i in range(30)]},
}


class FakeDatadog(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict, dict]] = []
    fail_with: int | None = None

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, body: object, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        FakeDatadog.requests.append((url.path, query, dict(self.headers)))
        if FakeDatadog.fail_with:
            self._send({"errors": ["Forbidden"]}, FakeDatadog.fail_with)
        elif url.path == "/api/v1/query":
            metric = query["query"].split(":", 1)[1].split("{", 1)[0]
            groups = METRICS.get(metric, {})
            self._send({"status": "ok", "res_type": "time_series", "query": query["query"],
                        "from_date": int(query["from"]) * 1000, "to_date": int(query["to"]) * 1000,
                        "series": _series(metric, groups)})
        elif url.path == "/api/v1/monitor":
            self._send([{
                "id": 4242, "name": "[Godseye rule 1] Prompt injection in session {{session_id.name}}",
                "type": "query alert", "message": "...", "tags": ["godseye-id:prompt_injection", "service:godseye"],
                "query": "max(last_5m):max:llm.security.injection_score{*} by {session_id} > 0.85",
                "options": {"thresholds": {"critical": 0.85, "warning": 0.6}}, "overall_state": "Alert",
                "state": {"groups": {
                    "session_id:s-evil": {"name": "session_id:s-evil", "status": "Alert",
                                          "last_triggered_ts": int(NOW) - 300},
                    "session_id:s-ok": {"name": "session_id:s-ok", "status": "OK"}}},
            }, {
                "id": 4343, "name": "[Godseye] Model latency p95 of agent {{agent.name}}", "type": "query alert",
                "message": "...", "tags": [], "query": "percentile(last_10m):p95:llm.latency{*} by {agent} > 20000",
                "options": {"thresholds": {"critical": 20000}}, "overall_state": "No Data", "state": {"groups": {}},
            }])
        elif url.path == "/api/v2/incidents":
            self._send({"data": [_incident("active", resolved=False)], "meta": {"pagination": {"offset": 0, "size": 1}}})
        elif url.path == f"/api/v2/incidents/{INCIDENT_UUID}":
            self._send({"data": _incident("resolved", resolved=True)})
        elif url.path.startswith("/api/v2/incidents/"):
            self._send({"errors": ["Not found"]}, 404)
        elif url.path == "/api/v1/events":
            self._send({"status": "ok", "events": [{"id": 1, "date_happened": int(NOW) - 2000, "title": "Session blocked",
                                                    "text": "s-evil", "tags": ["session_id:s-evil"],
                                                    "alert_type": "warning"}]})
        else:
            self._send({"errors": ["unknown endpoint"]}, 404)


def _incident(state: str, resolved: bool) -> dict:
    created = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(NOW - 3600))
    attributes = {
        "public_id": 7, "title": "Prompt injection attack from session s-evil", "severity": "SEV-2", "state": state,
        "created": created, "modified": created, "detected": created, "customer_impacted": True,
        "fields": {"severity": {"type": "dropdown", "value": "SEV-2"}, "state": {"type": "dropdown", "value": state},
                   "session_id": {"type": "textbox", "value": "s-evil"}},
    }
    if resolved:
        attributes["resolved"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(NOW - 1800))
    return {"id": INCIDENT_UUID, "type": "incidents", "attributes": attributes}


@pytest.fixture(scope="module")
def fake_api():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeDatadog)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture
def ops(fake_api, tmp_path):
    FakeDatadog.requests.clear()
    FakeDatadog.fail_with = None
    backend = DatadogBackend("test-api-key", "test-app-key", host=fake_api)
    yield SreOperations(backend, clock_fn=lambda: NOW, blocklist=BlockList(tmp_path / "guard.sqlite"))
    backend.close()


def _grounded(result: dict) -> None:
    text = result["summary"] + "\n" + "\n".join(result.get("details") or [])
    assert ungrounded_numbers(text, [result]) == [], text


def test_metric_query_goes_to_the_api_with_keys(ops):
    r = ops.query_metric("p95:llm.latency", window="1h")
    path, query, headers = FakeDatadog.requests[0]
    assert path == "/api/v1/query"
    assert query["query"] == "p95:llm.latency{*}.rollup(avg, 60)"
    assert int(query["to"]) - int(query["from"]) == 3600
    assert headers["DD-API-KEY"] == "test-api-key" and headers["DD-APPLICATION-KEY"] == "test-app-key"
    (series,) = r["series"]
    assert (series["points"], series["min"], series["max"], series["last"]) == (3, 900, 1500, 1500)  # null skipped
    assert r["backend"] == "datadog"
    _grounded(r)


def test_counts_are_read_as_counts(ops):
    r = ops.top_offenders("sessions", "1h")
    queries = [q["query"] for p, q, _ in FakeDatadog.requests if p == "/api/v1/query"]
    assert "max:llm.security.injection_score{*} by {session_id}.rollup(max, 3600)" in queries
    assert "sum:llm.security.blocked{*} by {session_id}.as_count().rollup(sum, 3600)" in queries
    evil = r["offenders"][0]
    assert (evil["session_id"], evil["max_injection_score"], evil["refusals"]) == ("s-evil", 0.96, 3)
    _grounded(r)


def test_service_health_from_the_api(ops):
    r = ops.service_health("15m")
    assert (r["tool_calls"], r["tool_errors"], r["error_rate_pct"]) == (200, 50, 25)
    assert r["status"] == "degraded" and any("25%" in p for p in r["problems"])
    assert r["tokens"] == 1250 and r["cost_usd"] == 0.42 and r["quality_avg"] == 0.66
    _grounded(r)


def test_monitors_with_group_states(ops):
    r = ops.triggered_monitors()
    path, query, _ = FakeDatadog.requests[0]
    assert path == "/api/v1/monitor" and query["group_states"] == "alert,warn,no data"
    firing = [(m["monitor"], m["name"], m["group"], m["state"], m["source"]) for m in r["monitors"]]
    assert firing == [
        ("prompt_injection", "[Godseye rule 1] Prompt injection in session s-evil", "session_id:s-evil", "Alert",
         "datadog"),
        ("4343", "[Godseye] Model latency p95 of agent *", "", "No Data", "datadog"),
    ]
    assert r["monitors"][0]["since"] == NOW - 300 and r["monitors"][0]["threshold"] == 0.85
    assert "README.md#prompt_injection" in r["monitors"][0]["runbook"]  # runbooks come from datadog/ assets
    _grounded(r)


def test_incidents_and_timeline(ops):
    listed = ops.list_incidents("open")
    assert [(i["public_id"], i["severity"], i["status"]) for i in listed["incidents"]] == [(7, "SEV-2", "active")]
    detail = ops.get_incident("7")  # by public number: listed, then read by id
    assert detail["status"] == "resolved" and detail["duration"] == "30m"
    assert [e["kind"] for e in detail["timeline"]] == ["detected", "declared", "resolved"]
    assert detail["events"][0]["title"] == "Session blocked"
    assert detail["fields"] == {"session_id": "s-evil"}
    with pytest.raises(SreError, match="no incident"):
        ops.get_incident("00000000-0000-0000-0000-000000000000")
    _grounded(listed)
    _grounded(detail)


def test_forecast_on_api_series(ops):
    r = ops.forecast("llm.interactions_per_conversion", 12, horizon="2h")
    assert FakeDatadog.requests[-1][1]["query"] == "avg:llm.interactions_per_conversion{*}.rollup(avg, 300)"
    assert r["backend"] == "datadog" and r["n_points"] == 30 and r["last_value"] == 6.9
    assert r["forecast_end"] > r["last_value"]  # the climb goes on
    _grounded(r)


def test_api_errors_are_plain_messages(ops):
    FakeDatadog.fail_with = 403
    with pytest.raises(SreError, match="HTTP 403"):
        ops.triggered_monitors()


async def test_server_tools_on_the_api_backend(fake_api, monkeypatch):
    """Keys in the environment select the API back end; the tools answer from the fake."""
    monkeypatch.setenv("DD_API_KEY", "env-api-key")
    monkeypatch.setenv("DD_APP_KEY", "env-app-key")
    monkeypatch.setenv("GODSEYE_DATADOG_API_URL", fake_api)
    server.set_backend(None)
    FakeDatadog.requests.clear()
    FakeDatadog.fail_with = None
    try:
        assert select_backend().name == "datadog"
        async with Client(server.mcp) as client:
            firing = (await client.call_tool("triggered_monitors", {})).structured_content
            FakeDatadog.fail_with = 500
            with pytest.raises(ToolError, match="Datadog API"):
                await client.call_tool("list_incidents", {})
    finally:
        FakeDatadog.fail_with = None
        server.set_backend(None)
    assert firing["backend"] == "datadog" and firing["alerting"] == 1
    assert FakeDatadog.requests[0][2]["DD-API-KEY"] == "env-api-key"
