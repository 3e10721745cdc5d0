"""datadog/ as code: strict schema checks, query lint, plan/apply idempotency and the CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from godseye.datadog_assets import validate
from godseye.datadog_assets.catalog import CatalogError, load_catalog, parse_metric_tables
from godseye.datadog_assets.plan import PlanError, Remote, apply, diff, plan
from godseye.datadog_assets.schema import check

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "datadog"

# The telemetry contract (DESIGN.md) as the README writes it; tests never depend on the README's prose.
CONTRACT_TABLE = """
| metric | type | tags (besides env/service/version) | meaning |
|---|---|---|---|
| `llm.security.injection_score` | gauge | session_id, user_id, agent | 0..1 injection intent |
| `llm.security.blocked` | count | reason, session_id | refused |
| `llm.token_usage` | count | model, agent, direction (input/output), user_id | tokens used |
| `llm.cost_usd` | count | model, user_id | spend |
| `llm.response.quality` | gauge | agent, model, session_id | 0..1 quality |
| `llm.latency` | distribution | agent, model | model call latency (ms) |
| `llm.interactions_per_conversion` | gauge | session_id | chat turns per cart add |
| commerce.cart.add / commerce.checkout | count | session_id | conversions |
| tryon.security.violation | count | user_id, kind | rejected upload |
| tryon.image.bytes / .pixels / .entropy | distribution | format | accepted uploads |
| tryon.generation.latency | distribution | backend | try-on generation time |
| llm.prediction.failure_probability | gauge | service, horizon | AI SRE forecast |
| mcp.tool.calls / .errors / .latency | count / count / distribution | server, tool | MCP health |
"""


@pytest.fixture()
def readme(tmp_path: Path) -> Path:
    path = tmp_path / "README.md"
    path.write_text("# Godseye\n\nSome prose.\n" + CONTRACT_TABLE + "\nMore prose.\n")
    return path


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "datadog"
    shutil.copytree(ASSETS, target)
    return target


def _edit(root: Path, rel: str, fn: Callable[[dict], None]) -> None:
    path = root / rel
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data, indent=2))


def _repo_readme_or(readme: Path) -> Path:
    real = REPO / "README.md"
    if real.is_file():
        try:
            load_catalog(real)
            return real
        except CatalogError:
            pass
    return readme


# -- the repository's assets ---------------------------------------------------------------------

def test_every_asset_in_the_repo_validates(readme: Path) -> None:
    problems = validate(ASSETS, readme=_repo_readme_or(readme))
    assert problems == [], "\n".join(map(str, problems))


def test_repo_assets_validate_against_the_contract_table_too(readme: Path) -> None:
    assert validate(ASSETS, readme=readme) == []


def test_assets_cover_the_five_rules_and_service_monitors() -> None:
    monitors = {p.stem: json.loads(p.read_text()) for p in (ASSETS / "monitors").glob("*.json")}
    queries = " ".join(m["query"] for m in monitors.values())
    for metric in ("llm.security.injection_score", "llm.interactions_per_conversion",
                   "llm.prediction.failure_probability", "llm.response.quality", "tryon.security.violation",
                   "llm.latency", "mcp.tool.errors", "llm.cost_usd"):
        assert metric in queries
    assert "anomalies(" in monitors["answer_quality_anomaly"]["query"]
    assert "forecast(" in monitors["token_spend_forecast"]["query"]
    injection = monitors["prompt_injection"]
    assert "by {session_id}" in injection["query"]
    assert "{{session_id.name}}" in injection["message"] and "@webhook-godseye-self-heal" in injection["message"]
    assert injection["options"]["thresholds"]["warning"] < injection["options"]["thresholds"]["critical"]
    assert "{{user_id.name}}" in monitors["multimodal_violations"]["message"]
    for stem, m in monitors.items():
        assert "managed-by:godseye" in m["tags"] and f"godseye-id:{stem}" in m["tags"]
    assert not list(ASSETS.rglob("*.py")), "datadog/ must never contain Python"
    for folder in ("dashboards", "slos", "incidents", "notifications", "webhooks"):
        assert list((ASSETS / folder).glob("*.json")), folder


# -- broken copies --------------------------------------------------------------------------------

MON = "monitors/prompt_injection.json"
BROKEN_CASES: dict[str, tuple[Callable[[Path], None], str, str, str]] = {
    "unknown key": (
        lambda r: _edit(r, MON, lambda d: d["options"].update(notify_nodata=True)),
        MON, "$.options.notify_nodata", "unknown key 'notify_nodata' for MonitorOptions (did you mean 'notify_no_data'?)"),
    "unknown top-level key": (
        lambda r: _edit(r, MON, lambda d: d.update(querry="x")), MON, "$.querry", "unknown key 'querry' for Monitor"),
    "bad enum": (
        lambda r: _edit(r, MON, lambda d: d.update(type="query alertt")), MON, "$.type", "not a valid MonitorType"),
    "bad enum in a list": (
        lambda r: _edit(r, MON, lambda d: d["options"].update(renotify_statuses=["alert", "warning"])),
        MON, "$.options.renotify_statuses[1]", "not a valid MonitorRenotifyStatusType"),
    "wrong type": (
        lambda r: _edit(r, MON, lambda d: d["options"].update(notify_no_data="yes")),
        MON, "$.options.notify_no_data", "expected boolean"),
    "read-only key": (
        lambda r: _edit(r, MON, lambda d: d.update(id=123)), MON, "$.id", "read-only"),
    "missing required key": (
        lambda r: _edit(r, MON, lambda d: d.pop("query")), MON, "$", "missing required key 'query'"),
    "unknown metric": (
        lambda r: _edit(r, MON, lambda d: d.update(query=d["query"].replace("injection_score", "injection_scor"))),
        MON, "$.query", "unknown metric 'llm.security.injection_scor'"),
    "unknown group tag": (
        lambda r: _edit(r, MON, lambda d: d.update(query=d["query"].replace("by {session_id}", "by {sesion_id}"))),
        MON, "$.query", "unknown tag 'sesion_id'"),
    "unknown filter tag": (
        lambda r: _edit(r, MON, lambda d: d.update(query=d["query"].replace("{*}", "{reason:jailbreak}"))),
        MON, "$.query", "unknown tag 'reason' in filter 'reason:jailbreak'"),
    "bad window": (
        lambda r: _edit(r, MON, lambda d: d.update(query=d["query"].replace("last_5m", "last_5x"))),
        MON, "$.query", "invalid window 'last_5x'"),
    "bad time aggregator": (
        lambda r: _edit(r, MON, lambda d: d.update(query=d["query"].replace("max(last_5m)", "mean(last_5m)"))),
        MON, "$.query", "must start with a time aggregator"),
    "warning above critical": (
        lambda r: _edit(r, MON, lambda d: d["options"]["thresholds"].update(warning=0.9)),
        MON, "$.options.thresholds.warning", "warning 0.9 must be below critical 0.85"),
    "warning below critical for a below-comparator": (
        lambda r: _edit(r, "monitors/answer_quality.json", lambda d: d["options"]["thresholds"].update(warning=0.4)),
        "monitors/answer_quality.json", "$.options.thresholds.warning", "must be above critical 0.5"),
    "recovery on the wrong side": (
        lambda r: _edit(r, MON, lambda d: d["options"]["thresholds"].update(critical_recovery=0.9)),
        MON, "$.options.thresholds.critical_recovery", "must be below critical"),
    "critical differs from the query": (
        lambda r: _edit(r, MON, lambda d: d["options"]["thresholds"].update(critical=0.8)),
        MON, "$.options.thresholds.critical", "differs from the query threshold 0.85"),
    "message variable of another group": (
        lambda r: _edit(r, MON, lambda d: d.update(message=d["message"] + " {{user_id.name}}")),
        MON, "$.message", "'user_id' is not a group of this monitor"),
    "unbalanced template": (
        lambda r: _edit(r, MON, lambda d: d.update(message=d["message"] + " {{#is_alert}} open")),
        MON, "$.message", "never closed"),
    "unknown webhook handle": (
        lambda r: _edit(r, MON, lambda d: d.update(message=d["message"] + " @webhook-nope")),
        MON, "$.message", "no webhook named 'nope'"),
    "route handle missing": (
        lambda r: _edit(r, MON, lambda d: d.update(message=d["message"].replace("@slack-godseye-security", ""))),
        MON, "$.message", "requires @slack-godseye-security"),
    "stable id differs from file": (
        lambda r: _edit(r, MON, lambda d: d.update(tags=[t if not t.startswith("godseye-id:") else "godseye-id:other"
                                                         for t in d["tags"]])),
        MON, "$.tags", "must be 'godseye-id:prompt_injection'"),
    "percentile on a gauge": (
        lambda r: _edit(r, MON, lambda d: d.update(query="percentile(last_5m):p95:llm.security.injection_score{*} "
                                                         "by {session_id} > 0.85")),
        MON, "$.query", "needs a distribution"),
    "as_count on a gauge": (
        lambda r: _edit(r, MON, lambda d: d.update(query=d["query"].replace("by {session_id}",
                                                                           "by {session_id}.as_count()"))),
        MON, "$.query", "only applies to count and rate metrics"),
    "anomaly without threshold windows": (
        lambda r: _edit(r, "monitors/answer_quality_anomaly.json", lambda d: d["options"].pop("threshold_windows")),
        "monitors/answer_quality_anomaly.json", "$.options.threshold_windows", "need threshold_windows"),
    "forecast on a last_ window": (
        lambda r: _edit(r, "monitors/token_spend_forecast.json",
                        lambda d: d.update(query=d["query"].replace("next_1d", "last_1d"))),
        "monitors/token_spend_forecast.json", "$.query", "use a next_<n> window"),
    "dashboard bad enum": (
        lambda r: _edit(r, "dashboards/service_health.json",
                        lambda d: d["widgets"][2]["definition"]["widgets"][0]["definition"]["requests"][0]
                        .update(display_type="linez")),
        "dashboards/service_health.json", "$.widgets[2].definition.widgets[0].definition.requests[0].display_type",
        "did you mean 'line'"),
    "dashboard unknown metric": (
        lambda r: _edit(r, "dashboards/tryon_security.json",
                        lambda d: d["widgets"][2]["definition"]["requests"][0]["queries"][0]
                        .update(query="sum:tryon.violation{*}.as_count()")),
        "dashboards/tryon_security.json", "$.widgets[2].definition.requests[0].queries[0].query",
        "unknown metric 'tryon.violation'"),
    "dashboard formula refers to a missing query": (
        lambda r: _edit(r, "dashboards/tryon_security.json",
                        lambda d: d["widgets"][2]["definition"]["requests"][0]["formulas"][0].update(formula="query9")),
        "dashboards/tryon_security.json", "$.widgets[2].definition.requests[0].formulas[0].formula",
        "refers to 'query9'"),
    "dashboard undefined template variable": (
        lambda r: _edit(r, "dashboards/tryon_security.json",
                        lambda d: d["widgets"][2]["definition"]["requests"][0]["queries"][0]
                        .update(query="sum:tryon.security.violation{$region}.as_count()")),
        "dashboards/tryon_security.json", "$.widgets[2].definition.requests[0].queries[0].query",
        "$region is not defined"),
    "slo with avg aggregator": (
        lambda r: _edit(r, "slos/mcp_tool_success.json",
                        lambda d: d["query"].update(denominator="avg:mcp.tool.calls{*}.as_count()")),
        "slos/mcp_tool_success.json", "$.query.denominator", "only allow the sum aggregator"),
    "slo bad timeframe": (
        lambda r: _edit(r, "slos/mcp_tool_success.json", lambda d: d["thresholds"][0].update(timeframe="14d")),
        "slos/mcp_tool_success.json", "$.thresholds[0].timeframe", "not a valid SLOTimeframe"),
    "webhook payload not JSON": (
        lambda r: _edit(r, "webhooks/godseye-self-heal.json", lambda d: d.update(payload="{\"id\": $ID")),
        "webhooks/godseye-self-heal.json", "$.payload", "must be JSON text"),
    "webhook unknown variable": (
        lambda r: _edit(r, "webhooks/godseye-self-heal.json",
                        lambda d: d.update(payload=d["payload"].replace("$ALERT_SCOPE", "$ALERT_SCOPES"))),
        "webhooks/godseye-self-heal.json", "$.payload", "unknown webhook variable $ALERT_SCOPES"),
    "secret committed to git": (
        lambda r: _edit(r, "webhooks/variables/GODSEYE_WEBHOOK_SECRET.json", lambda d: d.update(value="hunter2")),
        "webhooks/variables/GODSEYE_WEBHOOK_SECRET.json", "$.value", "must come from the environment"),
    "incident bad severity": (
        lambda r: _edit(r, "incidents/godseye-prompt-injection.json", lambda d: d.update(severity="SEV-9")),
        "incidents/godseye-prompt-injection.json", "$.severity", "not a valid IncidentSeverity"),
    "incident unknown monitor": (
        lambda r: _edit(r, "incidents/godseye-prompt-injection.json", lambda d: d["monitors"].append("nope")),
        "incidents/godseye-prompt-injection.json", "$.monitors[1]", "no monitor 'nope'"),
    "incident unknown key": (
        lambda r: _edit(r, "incidents/godseye-prompt-injection.json", lambda d: d.update(sevrity="SEV-1")),
        "incidents/godseye-prompt-injection.json", "$.sevrity", "did you mean 'severity'"),
    "malformed JSON": (
        lambda r: (r / MON).write_text((r / MON).read_text()[:-20]), MON, "$", "malformed JSON"),
    "python file in datadog/": (
        lambda r: (r / "__init__.py").write_text(""), "__init__.py", "$", "would shadow the `datadog` library"),
    "json outside the known folders": (
        lambda r: (r / "stray.json").write_text("{}"), "stray.json", "$", "outside the known folders"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_CASES))
def test_broken_copy_reports_the_right_problem(case: str, copy: Path, readme: Path) -> None:
    breaker, rel, path, fragment = BROKEN_CASES[case]
    breaker(copy)
    problems = validate(copy, readme=readme)
    wanted = f"datadog/{rel}"
    hits = [p for p in problems if p.file == wanted and p.path == path and fragment in p.message]
    assert hits, f"expected {wanted}: {path}: ...{fragment}... in:\n" + "\n".join(map(str, problems))


def test_missing_readme_is_a_problem_not_a_crash(copy: Path, tmp_path: Path) -> None:
    problems = validate(copy, readme=tmp_path / "nope.md")
    assert any("not found" in p.message for p in problems)


# -- pieces ---------------------------------------------------------------------------------------

def test_catalog_expands_shared_prefixes_and_types() -> None:
    catalog = parse_metric_tables(CONTRACT_TABLE)
    assert catalog.get("mcp.tool.errors").type == "count"
    assert catalog.get("mcp.tool.latency").type == "distribution"
    assert catalog.get("tryon.image.pixels").tags == {"format"}
    assert catalog.get("commerce.checkout").tags == {"session_id"}
    assert catalog.get("llm.token_usage").tags == {"model", "agent", "direction", "user_id"}
    assert catalog.get("llm.latency").has_tag("env") and not catalog.get("llm.latency").has_tag("session_id")
    assert "README" not in catalog.metrics


def test_readme_without_metric_table_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text("| name | value |\n|---|---|\n| a | b |\n")
    with pytest.raises(CatalogError):
        load_catalog(path)


def test_strict_check_picks_the_matching_oneof_candidate() -> None:
    from datadog_api_client.v1.model.dashboard import Dashboard

    body = {"title": "t", "layout_type": "ordered", "widgets": [
        {"definition": {"type": "note", "content": "hi", "bogus": 1}},
        {"definition": {"type": "timeseriess", "requests": [{"q": "avg:llm.latency{*}"}]}},
    ]}
    issues = dict(check(body, Dashboard))
    assert "unknown key 'bogus' for NoteWidgetDefinition" in issues["$.widgets[0].definition.bogus"]
    assert "TimeseriesWidgetDefinitionType" in issues["$.widgets[1].definition.type"]


def test_datadog_client_itself_is_lenient_which_is_why_we_walk_the_models() -> None:
    from datadog_api_client import Configuration
    from datadog_api_client.model_utils import validate_and_convert_types
    from datadog_api_client.v1.model.monitor import Monitor

    body = {"type": "query alert", "query": "avg(last_5m):avg:llm.latency{*} > 1",
            "options": {"notify_nodata": True}}
    validate_and_convert_types(body, (Monitor,), ["body"], True, True, configuration=Configuration())
    assert check(body, Monitor)  # ours is not


# -- plan / apply ---------------------------------------------------------------------------------

class FakeDatadog:
    """An in-memory account: objects per kind with ids, plus server-side defaults Datadog adds."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, dict]] = {}
        self.calls: list[tuple[str, str, str]] = []
        self._next = 1000

    def list(self, kind: str, keys: list[str]) -> list[Remote]:
        from godseye.datadog_assets.plan import remote_key

        return [Remote(rid, remote_key(kind, body), body) for rid, body in self.objects.get(kind, {}).items()]

    def create(self, kind: str, body: dict) -> str:
        self._next += 1
        rid = str(self._next)
        stored = json.loads(json.dumps(body))
        if kind == "monitor":
            stored["options"].setdefault("notify_audit", False)
            stored["options"]["silenced"] = {}  # a default we never wrote
            stored["id"] = int(rid)
        if kind == "webhook_variable" and stored.get("is_secret"):
            stored.pop("value")  # secrets are not returned
        self.objects.setdefault(kind, {})[rid] = stored
        self.calls.append(("create", kind, rid))
        return rid

    def update(self, kind: str, remote_id: str, body: dict) -> None:
        self.objects[kind][remote_id].update(json.loads(json.dumps(body)))
        self.calls.append(("update", kind, remote_id))


ENV = {"GODSEYE_WEBHOOK_SECRET": "s3cret", "GODSEYE_WEBHOOK_BASE_URL": "https://shop.example.com"}


def test_plan_offline_lists_creates_for_every_pushed_asset(monkeypatch: pytest.MonkeyPatch) -> None:
    actions = plan(ASSETS, environ={})
    creates = [a for a in actions if a.op == "create"]
    files = {p for p in ASSETS.rglob("*.json") if "notifications" not in p.parts}
    assert len(creates) == len(files)
    assert {a.kind for a in creates} == {"monitor", "dashboard", "slo", "webhook", "webhook_variable",
                                         "incident_setting"}
    secret = next(a for a in actions if a.kind == "webhook_variable")
    assert "GODSEYE_WEBHOOK_SECRET" in secret.note


def test_apply_refuses_offline() -> None:
    with pytest.raises(PlanError, match="DD_API_KEY"):
        apply(ASSETS, environ={})


def test_apply_refuses_when_a_secret_setting_is_missing(readme: Path, copy: Path) -> None:
    with pytest.raises(PlanError, match="GODSEYE_WEBHOOK_SECRET"):
        apply(ASSETS, client=FakeDatadog(), environ={})


def test_apply_is_idempotent_and_updates_only_what_changed(copy: Path) -> None:
    fake = FakeDatadog()
    first = apply(copy, client=fake, environ=ENV)
    assert {a.op for a in first if a.kind != "notification"} == {"create"}
    created = len(fake.calls)
    again = plan(copy, client=fake, environ=ENV)
    assert {a.op for a in again if a.kind != "notification"} == {"noop"}
    apply(copy, client=fake, environ=ENV)
    assert len(fake.calls) == created  # nothing duplicated, nothing touched
    _edit(copy, MON, lambda d: d["options"]["thresholds"].update(warning=0.65))
    changed = [a for a in plan(copy, client=fake, environ=ENV) if a.op != "noop" and a.kind != "notification"]
    assert [(a.kind, a.key, a.op) for a in changed] == [("monitor", "prompt_injection", "update")]
    assert changed[0].changes == ["$.options.thresholds.warning"]
    apply(copy, client=fake, environ=ENV)
    assert fake.calls[-1][0] == "update"
    assert {a.op for a in plan(copy, client=fake, environ=ENV) if a.kind != "notification"} == {"noop"}


def test_webhook_url_and_secret_are_resolved_from_the_environment(copy: Path) -> None:
    fake = FakeDatadog()
    apply(copy, client=fake, environ=ENV)
    hook = next(iter(fake.objects["webhook"].values()))
    assert hook["url"] == "https://shop.example.com/hooks/datadog/self-heal"
    assert "$GODSEYE_WEBHOOK_SECRET" in hook["custom_headers"]  # Datadog substitutes its own variable


def test_two_remote_objects_with_one_key_are_a_conflict_not_a_guess(copy: Path) -> None:
    fake = FakeDatadog()
    apply(copy, client=fake, environ=ENV)
    monitors = fake.objects["monitor"]
    rid, body = next((k, v) for k, v in monitors.items() if "godseye-id:prompt_injection" in v["tags"])
    monitors["9999"] = dict(body, id=9999)
    conflict = [a for a in plan(copy, client=fake, environ=ENV) if a.op == "conflict"]
    assert [a.key for a in conflict] == ["prompt_injection"]
    before = len(fake.calls)
    apply(copy, client=fake, environ=ENV)
    assert len(fake.calls) == before


def test_diff_ignores_server_defaults_and_int_float_noise() -> None:
    assert diff({"a": 1, "b": {"c": [1, 2]}}, {"a": 1.0, "b": {"c": [1, 2], "d": 3}, "e": 4}) == []
    assert diff({"a": True}, {"a": 1}) == ["$.a"]
    assert diff({"a": [1]}, {"a": [1, 2]}) == ["$.a"]


# -- CLI ------------------------------------------------------------------------------------------

def test_cli_validate_exit_codes_and_lines(copy: Path, readme: Path) -> None:
    from godseye.cli.main import app

    runner = CliRunner()
    ok = runner.invoke(app, ["datadog", "validate", str(copy), "--readme", str(readme)])
    assert ok.exit_code == 0, ok.output
    _edit(copy, MON, lambda d: d["options"].update(notify_nodata=True))
    _edit(copy, "monitors/llm_latency.json", lambda d: d.update(query=d["query"].replace("last_10m", "last_10q")))
    bad = runner.invoke(app, ["datadog", "validate", str(copy), "--readme", str(readme)])
    assert bad.exit_code == 1
    lines = [ln for ln in bad.stdout.splitlines() if ln.startswith("datadog/")]
    assert any(ln.startswith(f"datadog/{MON}: $.options.notify_nodata: unknown key") for ln in lines)
    assert any(ln.startswith("datadog/monitors/llm_latency.json: $.query:") for ln in lines)
    assert "Traceback" not in bad.output


def test_cli_plan_offline_and_apply_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    from godseye.cli.main import app

    monkeypatch.delenv("DD_API_KEY", raising=False)
    monkeypatch.delenv("DD_APP_KEY", raising=False)
    runner = CliRunner()
    planned = runner.invoke(app, ["datadog", "plan", str(ASSETS), "--json"])
    assert planned.exit_code == 0, planned.output
    actions = json.loads(planned.stdout)
    assert {a["op"] for a in actions} <= {"create", "skip"} and len(actions) > 20
    refused = runner.invoke(app, ["datadog", "apply", str(ASSETS)])
    assert refused.exit_code == 1
    assert "DD_API_KEY" in refused.output and "Traceback" not in refused.output
