"""The stand-in's monitor evaluation: Datadog semantics on injected points with a fake clock."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support.clock import FakeClock

from godseye.datadog_assets.message import TransitionContext, mentions, render
from godseye.datadog_assets.schema import check
from local_datadog.incidents import IncidentEngine, IncidentSetting, IncidentStore
from local_datadog.monitors import (
    MonitorDef,
    MonitorEvaluator,
    MonitorStateStore,
    WebhookDef,
    WebhookResult,
    evaluate_query,
    level,
)

REPO = Path(__file__).resolve().parents[1]
T0 = 1_800_000_000.0


@dataclass
class P:
    ts: float
    value: float
    type: str
    tags: dict[str, str]
    metric: str = ""
    rate: float = 1.0


@dataclass
class FakeStore:
    points_: list[P] = field(default_factory=list)
    queries: int = 0

    def add(self, metric: str, ts: float, value: float, mtype: str = "gauge", **tags: str) -> None:
        self.points_.append(P(ts, value, mtype, {"env": "test", "service": "godseye", **tags}, metric))

    def points(self, metric, start, end, filters=None):
        self.queries += 1
        return sorted((p for p in self.points_ if p.metric == metric and start <= p.ts < end
                       and all(p.tags.get(k) == v for k, v in (filters or {}).items())), key=lambda p: p.ts)


def monitor(key: str = "m", query: str = "max(last_5m):max:llm.security.injection_score{*} by {session_id} > 0.85",
            message: str = "{{#is_alert}}attack {{session_id.name}} @webhook-hook @incident-inc{{/is_alert}}"
                           "{{#is_warning}}suspicious {{session_id.name}}{{/is_warning}}"
                           "{{#is_recovery}}calm {{session_id.name}}{{/is_recovery}} @slack-sec",
            **options) -> MonitorDef:
    opts = {"thresholds": {"critical": float(query.rsplit(" ", 1)[1])}, **options}
    return MonitorDef.from_json(key, {"name": f"[{key}] {{{{session_id.name}}}}", "query": query, "message": message,
                                      "tags": ["managed-by:godseye", f"godseye-id:{key}", "team:security",
                                               "godseye-rule:test"], "options": opts, "priority": 1})


class Harness:
    def __init__(self, tmp_path: Path, monitors: list[MonitorDef], settings: dict | None = None):
        self.store = FakeStore()
        self.clock = FakeClock(T0)
        self.calls: list = []
        self.incidents = IncidentEngine(settings if settings is not None else {
            "inc": IncidentSetting(handle="inc", monitors=[m.key for m in monitors], severity="SEV-2",
                                   title="Attack from session {{session_id.name}}",
                                   fields_from_tags={"teams": "team", "session_id": "session_id"})},
            IncidentStore(tmp_path / "incidents.sqlite"), clock=self.clock)
        self.state_path = tmp_path / "state.sqlite"
        self.evaluator = self.make(monitors)

    def make(self, monitors: list[MonitorDef]) -> MonitorEvaluator:
        return MonitorEvaluator(
            monitors, self.store, self.incidents, self.sink, self.clock, state=MonitorStateStore(self.state_path),
            webhooks={"hook": WebhookDef("hook", "http://127.0.0.1:9/hook",
                                         json.dumps({"id": "$ID", "t": "$ALERT_TRANSITION", "scope": "$ALERT_SCOPE",
                                                     "title": "$EVENT_TITLE", "tags": "$TAGS", "session":
                                                     "$TAGS[session_id]", "cycle": "$ALERT_CYCLE_KEY"}),
                                         json.dumps({"X-Secret": "$SECRET"}))},
            custom_variables={"SECRET": "s3cret"})

    def sink(self, call):
        self.calls.append(call)
        return WebhookResult(200)

    def run(self, advance: float = 0.0):
        self.clock.advance(advance)
        return [(t.group_key, t.from_state, t.to_state) for t in self.evaluator.evaluate()]


def inject(store: FakeStore, now: float, score: float, session: str, ago: float = 5.0) -> None:
    store.add("llm.security.injection_score", now - ago, score, "gauge", session_id=session, user_id="u", agent="a")


# -- multi-alert ----------------------------------------------------------------------------------

def test_only_the_offending_session_alerts(tmp_path: Path) -> None:
    h = Harness(tmp_path, [monitor()])
    for i in range(20):
        inject(h.store, h.clock.now, 0.05 + i / 100, f"shopper-{i}", ago=10 + i)
    inject(h.store, h.clock.now, 0.97, "attacker")
    assert h.run() == [("session_id:attacker", "OK", "Alert")]
    assert [c.body["scope"] for c in h.calls] == ["session_id:attacker"]
    call = h.calls[0]
    assert call.headers == {"X-Secret": "s3cret"} and call.url == "http://127.0.0.1:9/hook"
    assert call.body["t"] == "Triggered" and call.body["session"] == "attacker"
    assert call.body["title"] == "[Triggered on {session_id:attacker}] [m] attacker"
    assert "godseye-rule:test" in call.body["tags"]
    incidents = h.incidents.store.list()
    assert [(i.title, i.severity, i.status) for i in incidents] == [("Attack from session attacker", "SEV-2", "active")]
    assert incidents[0].fields == {"teams": ["security"], "session_id": "attacker"}
    assert any("HTTP 200" in e.text for e in incidents[0].timeline)
    assert h.run(60) == []  # still alerting, no renotify configured, nothing new


def test_points_without_the_group_tag_never_form_an_na_group(tmp_path: Path) -> None:
    h = Harness(tmp_path, [monitor()])
    h.store.add("llm.security.injection_score", h.clock.now - 5, 0.99, "gauge", agent="a")  # session tags off
    assert h.run() == []


# -- thresholds -----------------------------------------------------------------------------------

def test_warning_then_critical_then_recovery_with_hysteresis(tmp_path: Path) -> None:
    mon = monitor(thresholds={"critical": 0.85, "warning": 0.6, "critical_recovery": 0.5}, timeout_h=1)
    h = Harness(tmp_path, [mon])
    inject(h.store, h.clock.now, 0.7, "s1")
    assert h.run() == [("session_id:s1", "OK", "Warn")]
    assert h.calls == []  # the webhook only fires on alert
    inject(h.store, h.clock.now + 60, 0.9, "s1")
    assert h.run(60) == [("session_id:s1", "Warn", "Alert")]
    assert [c.body["t"] for c in h.calls] == ["Triggered"]
    inject(h.store, h.clock.now + 400, 0.7, "s1")  # below critical, above critical_recovery: stays Alert
    assert h.run(400) == []
    inject(h.store, h.clock.now + 400, 0.3, "s1")
    assert h.run(400) == [("session_id:s1", "Alert", "OK")]
    inc = h.incidents.store.list()[0]
    assert inc.status == "resolved" and inc.resolved_at == h.clock.now
    assert [e.kind for e in inc.timeline][-2:] == ["transition", "resolved"]


def test_level_respects_comparator_direction() -> None:
    low = monitor(query="avg(last_10m):avg:llm.response.quality{*} by {agent} < 0.5",
                  thresholds={"critical": 0.5, "warning": 0.65, "critical_recovery": 0.6})
    assert level(low, 0.4, "OK") == "Alert"
    assert level(low, 0.6, "OK") == "Warn"
    assert level(low, 0.55, "Alert") == "Alert"  # not yet back to the recovery threshold
    assert level(low, 0.62, "Alert") == "Warn"
    assert level(low, 0.9, "Warn") == "OK"


def test_messages_render_per_transition() -> None:
    text = "{{#is_alert}}A {{value}}{{/is_alert}}{{#is_warning}}W{{/is_warning}}{{^is_alert}}-{{/is_alert}}" \
           "{{#is_alert_recovery}}R @webhook-x{{/is_alert_recovery}}{{#is_match \"s.name\" \"bad\"}}M{{/is_match}}"
    assert render(text, TransitionContext("Alert", "OK", variables={"value": "0.9", "s.name": "bad-1"})) == "A 0.9M"
    assert render(text, TransitionContext("Warn", "OK")) == "W-"
    recovered = render(text, TransitionContext("OK", "Alert"))
    assert recovered == "-R @webhook-x" and mentions(recovered) == ["webhook-x"]
    assert render(text, TransitionContext("OK", "Warn")) == "-"
    assert mentions("mail @sec@example.com and @slack-a-b.") == ["sec@example.com", "slack-a-b"]


# -- counts and windows ---------------------------------------------------------------------------

VIOLATIONS = "sum(last_10m):sum:tryon.security.violation{*} by {user_id}.as_count() > 3"


def test_as_count_sums_only_inside_the_window(tmp_path: Path) -> None:
    mon = monitor("v", VIOLATIONS, message="{{#is_alert}}user {{user_id.name}} @webhook-hook{{/is_alert}}",
                  thresholds={"critical": 3, "warning": 1})
    h = Harness(tmp_path, [mon], settings={})
    now = h.clock.now
    for i in range(10):  # old violations, outside the 10 minute window
        h.store.add("tryon.security.violation", now - 900 - i, 1, "count", user_id="old", kind="bomb")
    for i in range(4):
        h.store.add("tryon.security.violation", now - 30 - i, 1, "count", user_id="bomber", kind="bomb")
    h.store.add("tryon.security.violation", now - 20, 2, "count", user_id="clumsy", kind="bad_format")
    assert sorted(h.run()) == [("user_id:bomber", "OK", "Alert"), ("user_id:clumsy", "OK", "Warn")]
    ev = evaluate_query(mon, h.store, now)
    assert ev.values[("bomber",)] == 4 and ev.values[("clumsy",)] == 2 and ("old",) not in ev.values
    assert h.calls[0].body["scope"] == "user_id:bomber"
    # counts are zero once the violations leave the window: the groups recover
    assert sorted(h.run(601)) == [("user_id:bomber", "Alert", "OK"), ("user_id:clumsy", "Warn", "OK")]


def test_count_without_as_count_is_a_per_second_rate(tmp_path: Path) -> None:
    store = FakeStore()
    for i in range(6):
        store.add("mcp.tool.calls", T0 - 60 + i * 10, 5, "count", server="catalog", tool="search")
    rate = monitor("r", "avg(last_1m):sum:mcp.tool.calls{*} by {server} > 100")
    assert evaluate_query(rate, store, T0, interval_s=10).values[("catalog",)] == pytest.approx(0.5)
    count = monitor("c", "sum(last_1m):sum:mcp.tool.calls{*} by {server}.as_count() > 100")
    assert evaluate_query(count, store, T0, interval_s=10).values[("catalog",)] == 30


def test_as_count_ratio_aggregates_each_query_before_dividing() -> None:
    store = FakeStore()
    for i in range(10):
        store.add("mcp.tool.calls", T0 - 200 + i * 15, 10, "count", server="cart", tool="add")
        store.add("mcp.tool.calls", T0 - 200 + i * 15, 10, "count", server="catalog", tool="search")
    store.add("mcp.tool.errors", T0 - 50, 30, "count", server="cart", tool="add")
    mon = monitor("h", "sum(last_5m):sum:mcp.tool.errors{*} by {server}.as_count() / "
                       "sum:mcp.tool.calls{*} by {server}.as_count() > 0.25")
    values = evaluate_query(mon, store, T0).values
    assert values[("cart",)] == pytest.approx(0.3)
    assert values[("catalog",)] == 0.0  # no errors counted is zero errors, not no data


def test_filters_negations_and_evaluation_delay() -> None:
    store = FakeStore()
    store.add("tryon.security.violation", T0 - 100, 5, "count", user_id="a", kind="oversize")
    store.add("tryon.security.violation", T0 - 100, 2, "count", user_id="a", kind="bomb")
    store.add("tryon.security.violation", T0 - 10, 7, "count", user_id="a", kind="bomb")
    mon = monitor("f", "sum(last_5m):sum:tryon.security.violation{!kind:oversize} by {user_id}.as_count() > 3",
                  evaluation_delay=60)
    assert evaluate_query(mon, store, T0).values[("a",)] == 2  # oversize excluded, last minute delayed


def test_percentile_monitor_over_a_distribution() -> None:
    store = FakeStore()
    for i in range(100):
        store.add("llm.latency", T0 - 200 + i, float(i + 1) * 100, "distribution", agent="shopper", model="x")
    mon = monitor("p", "percentile(last_10m):p95:llm.latency{*} by {agent} > 20000")
    assert evaluate_query(mon, store, T0).values[("shopper",)] == 9500


# -- missing data, renotify, persistence ----------------------------------------------------------

def test_no_data_after_the_timeframe_and_back(tmp_path: Path) -> None:
    mon = monitor(thresholds={"critical": 0.85}, notify_no_data=True, no_data_timeframe=10,
                  message="{{#is_no_data}}silent {{session_id.name}} @slack-sec{{/is_no_data}}")
    h = Harness(tmp_path, [mon], settings={})
    inject(h.store, h.clock.now, 0.1, "s1")
    assert h.run() == []
    assert h.run(300) == []  # 5 minutes of silence: still OK
    assert h.run(301) == [("session_id:s1", "OK", "No Data")]
    inject(h.store, h.clock.now + 60, 0.2, "s1")
    assert h.run(60) == [("session_id:s1", "No Data", "OK")]


def test_gauge_without_data_keeps_its_state_until_timeout(tmp_path: Path) -> None:
    h = Harness(tmp_path, [monitor(timeout_h=1)])
    inject(h.store, h.clock.now, 0.99, "s1")
    assert h.run() == [("session_id:s1", "OK", "Alert")]
    assert h.run(1800) == []  # last known state kept
    assert h.run(1801) == [("session_id:s1", "Alert", "OK")]  # auto-resolved after timeout_h


def test_renotify_interval_and_statuses(tmp_path: Path) -> None:
    mon = monitor(thresholds={"critical": 0.85, "warning": 0.5}, renotify_interval=10, renotify_statuses=["alert"],
                  escalation_message="still bad {{session_id.name}}")
    h = Harness(tmp_path, [mon])
    for t in range(0, 3600, 60):
        inject(h.store, T0 + t, 0.95, "attacker", ago=0)
        inject(h.store, T0 + t, 0.6, "suspect", ago=0)
    h.clock.advance(1)
    assert sorted(h.run()) == [("session_id:attacker", "OK", "Alert"), ("session_id:suspect", "OK", "Warn")]
    assert h.run(300) == []
    renotified = h.evaluator.evaluate(h.clock.advance(301))
    assert [(t.group_key, t.renotify) for t in renotified] == [("session_id:attacker", True)]
    assert "still bad attacker" in renotified[0].message
    assert h.calls[-1].body["t"] == "Re-Triggered"
    assert h.calls[-1].body["cycle"] == h.calls[0].body["cycle"]  # same alert cycle
    assert h.run(60) == []
    inc = h.incidents.store.list()[0]
    assert [e.kind for e in inc.timeline].count("renotify") == 1
    assert len(h.incidents.store.list()) == 1  # renotify never opens a second incident


def test_state_survives_a_new_evaluator(tmp_path: Path) -> None:
    h = Harness(tmp_path, [monitor()])
    inject(h.store, h.clock.now, 0.99, "s1")
    assert h.run() == [("session_id:s1", "OK", "Alert")]
    h.evaluator = h.make([monitor()])
    inject(h.store, h.clock.now + 30, 0.99, "s1")
    assert h.run(30) == []  # no second Triggered after a restart
    assert len(h.calls) == 1


def test_new_group_delay_skips_young_groups(tmp_path: Path) -> None:
    h = Harness(tmp_path, [monitor(new_group_delay=60)])
    inject(h.store, h.clock.now, 0.99, "s1")
    assert h.run() == []
    inject(h.store, h.clock.now + 61, 0.99, "s1")
    assert h.run(61) == [("session_id:s1", "OK", "Alert")]


def test_broken_webhook_receiver_is_recorded_not_raised(tmp_path: Path) -> None:
    h = Harness(tmp_path, [monitor()])

    def boom(call):
        raise ConnectionError("refused")

    h.evaluator.webhook_sink = boom
    inject(h.store, h.clock.now, 0.99, "s1")
    assert h.run() == [("session_id:s1", "OK", "Alert")]
    deliveries = h.evaluator.state.notifications()
    assert any(d["handle"] == "@webhook-hook" and "refused" in (d["error"] or "") for d in deliveries)
    assert any(d["handle"] == "@slack-sec" for d in deliveries)


# -- anomaly and forecast approximations ------------------------------------------------------------

ANOMALY = ("avg(last_1h):anomalies(avg:llm.response.quality{*} by {agent}, 'agile', 2, direction='below', "
           "alert_window='last_10m', interval=60) >= 1")


def _quality(store: FakeStore, start: float, end: float, value, agent: str = "shopper") -> None:
    t = start
    while t < end:
        store.add("llm.response.quality", t, value(t) if callable(value) else value, "gauge", agent=agent, model="m")
        t += 20


def test_anomaly_fires_on_a_drop_below_the_band_only() -> None:
    mon = monitor("a", ANOMALY, thresholds={"critical": 1, "critical_recovery": 0},
                  threshold_windows={"trigger_window": "last_10m", "recovery_window": "last_10m"})
    store = FakeStore()
    _quality(store, T0 - 4200, T0 - 600, lambda t: 0.85 + 0.02 * ((t // 20) % 3 - 1))
    _quality(store, T0 - 600, T0, 0.4)
    _quality(store, T0 - 4200, T0, lambda t: 0.85 + 0.02 * ((t // 20) % 3 - 1), agent="stylist")
    _quality(store, T0 - 4200, T0 - 600, 0.5, agent="tryon")
    _quality(store, T0 - 600, T0, 0.99, agent="tryon")  # a rise: direction='below' ignores it
    values = evaluate_query(mon, store, T0).values
    assert values[("shopper",)] == 1.0
    assert values[("stylist",)] == 0.0
    assert values[("tryon",)] == 0.0
    assert level(mon, values[("shopper",)], "OK") == "Alert"


FORECAST = ("max(next_1d):forecast(sum:llm.cost_usd{*}.as_count().rollup(sum, 3600), 'linear', 1, "
            "interval='60m', history='1d') >= 20")


def test_forecast_projects_a_linear_trend() -> None:
    rising, flat = FakeStore(), FakeStore()
    for hour in range(24):
        ts = T0 - 86400 + hour * 3600 + 60
        rising.add("llm.cost_usd", ts, 1.0 + hour * 0.5, "count", model="m", user_id="u")
        flat.add("llm.cost_usd", ts, 2.0, "count", model="m", user_id="u")
    mon = monitor("f", FORECAST, thresholds={"critical": 20, "warning": 10})
    rising_value = evaluate_query(mon, rising, T0).values[()]
    assert rising_value == pytest.approx(1.0 + 47.5 * 0.5, rel=0.05)  # hour 47, a day past the history
    assert level(mon, rising_value, "OK") == "Alert"
    assert evaluate_query(mon, flat, T0).values[()] == pytest.approx(2.0)


# -- the repository's own monitors ----------------------------------------------------------------

def test_repo_monitors_drive_incidents_and_the_self_healing_payload(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GODSEYE_WEBHOOK_SECRET", "from-env")
    monkeypatch.setenv("GODSEYE_WEBHOOK_BASE_URL", "http://127.0.0.1:8999")
    store, clock, calls = FakeStore(), FakeClock(T0), []
    evaluator = MonitorEvaluator.from_assets(
        REPO / "datadog", store, clock=clock, webhook_sink=lambda c: calls.append(c),
        state=MonitorStateStore(tmp_path / "s.sqlite"),
        incident_engine=IncidentEngine.from_assets(REPO / "datadog", IncidentStore(tmp_path / "i.sqlite"), clock))
    assert not evaluator.errors
    for i in range(8):
        inject(store, clock.now, 0.1, f"shopper-{i}", ago=20 + i)
        store.add("tryon.security.violation", clock.now - 40, 1, "count", user_id=f"user-{i}", kind="bad_format")
    inject(store, clock.now, 0.93, "attacker")
    for i in range(5):
        store.add("tryon.security.violation", clock.now - 30 + i, 1, "count", user_id="bomber", kind="bomb")
    transitions = evaluator.evaluate()
    assert not evaluator.errors, evaluator.errors
    alerts = sorted((t.monitor_key, t.group_key) for t in transitions if t.to_state == "Alert")
    assert alerts == [("multimodal_violations", "user_id:bomber"), ("prompt_injection", "session_id:attacker")]
    assert sorted(c.body["alert"]["scope"] for c in calls) == ["session_id:attacker", "user_id:bomber"]
    call = next(c for c in calls if c.body["alert"]["scope"] == "session_id:attacker")
    assert call.url == "http://127.0.0.1:8999/hooks/datadog/self-heal"
    assert call.headers["X-Godseye-Webhook-Secret"] == "from-env"
    assert call.body["alert"]["transition"] == "Triggered" and call.body["alert"]["type"] == "error"
    assert "godseye-rule:prompt-injection" in call.body["tags"] and call.body["id"].isdigit()
    assert call.body["alert"]["priority"] == "P1"
    titles = sorted(i.title for i in evaluator.incidents.store.list())
    assert titles == ["Malicious image uploads from user bomber", "Prompt injection attack from session attacker"]
    from datadog_api_client.v2.model.incident_create_request import IncidentCreateRequest

    for inc in evaluator.incidents.store.list():
        assert check(inc.to_api_request(), IncidentCreateRequest) == []


def test_real_metric_store_feeds_the_evaluator(tmp_path: Path) -> None:
    store_mod = pytest.importorskip("local_datadog.store")
    store = store_mod.MetricStore(tmp_path / "standin.sqlite")
    clock = FakeClock(T0)
    store.add_points([
        store_mod.Point(clock.now - 10, 0.95, "gauge", {"session_id": "attacker", "env": "test"},
                        "llm.security.injection_score"),
        store_mod.Point(clock.now - 10, 0.1, "gauge", {"session_id": "shopper", "env": "test"},
                        "llm.security.injection_score"),
    ])
    calls: list = []
    evaluator = MonitorEvaluator([monitor()], store, None, calls.append, clock,
                                 state=MonitorStateStore(tmp_path / "s.sqlite"),
                                 webhooks={"hook": WebhookDef("hook", "http://127.0.0.1:9/h", None, None)})
    assert [(t.group_key, t.to_state) for t in evaluator.evaluate()] == [("session_id:attacker", "Alert")]
    assert calls[0].body["alert_scope"] == "session_id:attacker"  # default payload when none is configured
    store.close()


def test_incidents_cli_lists_local_incidents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    from typer.testing import CliRunner

    from godseye.cli.datadog_cmd import register_incidents
    from godseye.config import get_settings

    monkeypatch.setenv("GODSEYE_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        h = Harness(tmp_path, [monitor()])
        h.incidents.store = IncidentStore()  # the default path under GODSEYE_HOME
        inject(h.store, h.clock.now, 0.99, "attacker")
        h.run()
        app = typer.Typer()
        register_incidents(app)

        @app.command("noop")
        def _noop() -> None:  # a second command keeps `incidents` a subcommand
            pass

        result = CliRunner().invoke(app, ["incidents", "--json"])
        assert result.exit_code == 0, result.output
        listed = json.loads(result.stdout)
        assert [i["title"] for i in listed] == ["Attack from session attacker"]
        shown = CliRunner().invoke(app, ["incidents", "--show", str(listed[0]["public_id"])])
        assert shown.exit_code == 0 and "declared" in shown.stdout
    finally:
        get_settings.cache_clear()


def test_cli_evaluate_runs_the_repo_monitors_on_a_stand_in_store(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store_mod = pytest.importorskip("local_datadog.store")
    from typer.testing import CliRunner

    from godseye.cli.main import app
    from godseye.config import get_settings

    monkeypatch.setenv("GODSEYE_HOME", str(tmp_path))
    monkeypatch.setenv("GODSEYE_WEBHOOK_SECRET", "x")
    monkeypatch.setenv("GODSEYE_WEBHOOK_BASE_URL", "http://127.0.0.1:9")  # nothing listens: delivery fails
    get_settings.cache_clear()
    try:
        import time

        store = store_mod.MetricStore(tmp_path / "standin.sqlite")
        store.add_points([store_mod.Point(time.time() - 5, 0.99, "gauge", {"session_id": "evil"},
                                          "llm.security.injection_score")])
        store.close()
        result = CliRunner().invoke(app, ["datadog", "evaluate", str(REPO / "datadog"), "--json"])
        assert result.exit_code == 0, result.output
        lines = [json.loads(ln) for ln in result.stdout.splitlines() if ln.startswith("{")]
        assert [(x["monitor"], x["group"], x["to"]) for x in lines] == [
            ("prompt_injection", "session_id:evil", "Alert")]
        listed = CliRunner().invoke(app, ["datadog", "states", "--json"])
        assert json.loads(listed.stdout)[0]["state"] == "Alert"
    finally:
        get_settings.cache_clear()
