"""The whole stand-in: receiver + ddapm-test-agent + query API started by run_in_background, found
through its state file by the CLI, fed by child processes through the DD_* variables it hands out,
and not started at all when DD_API_KEY says a real Agent is wanted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from godseye.cli.main import app
from local_datadog import run_in_background, testagent
from local_datadog.endpoints import endpoints_from_env, real_agent_configured
from local_datadog.server import Standin, StandinError
from local_datadog.state import read_state
from local_datadog.store import MetricStore, Point

CHILD_PRELUDE = "from godseye.netguard import install_if_requested; install_if_requested()\n"


def child_env(handle: Standin, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DD_")}
    env.update(handle.client_env())
    env.update({"DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false", "DD_REMOTE_CONFIGURATION_ENABLED": "false",
                "DD_ENV": "ci", "DD_SERVICE": "godseye", "DD_VERSION": "0.0.1"})
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    handle = run_in_background(tmp_path_factory.mktemp("standin-home"), random_ports=True)
    yield handle
    handle.stop()


def test_child_process_metrics_reach_the_store_and_the_api(standin):
    code = CHILD_PRELUDE + (
        "from telemetry.metrics import metrics\n"
        "metrics.gauge('llm.security.injection_score', 0.97, tags={'session_id': 'attacker', 'agent': 'shopper',"
        " 'user_id': 'u9'})\n"
        "metrics.gauge('llm.security.injection_score', 0.05, tags={'session_id': 'shopper1', 'agent': 'shopper',"
        " 'user_id': 'u1'})\n"
        "metrics.increment('llm.security.blocked', tags={'reason': 'injection', 'session_id': 'attacker'})\n"
        "metrics.event('Injection blocked', 'session attacker', alert_type='error', tags={'session_id': 'attacker'})\n"
    )  # no explicit flush: the process exit must flush
    subprocess.run([sys.executable, "-c", code], env=child_env(standin), check=True, timeout=60)
    assert standin.wait_idle(5)

    api = standin.api_url
    assert httpx.get(f"{api}/health").json()["status"] == "ok"
    assert {"llm.security.injection_score", "llm.security.blocked"} <= set(httpx.get(f"{api}/api/metrics").json()["metrics"])
    body = httpx.get(f"{api}/api/query", params={"metric": "llm.security.injection_score", "from": "-5m",
                                                 "tag": ["agent:shopper", "env:ci"], "by": "session_id"}).json()
    assert body["count"] == 2
    assert {g["group"]: g["last"] for g in body["groups"]} == {"attacker": 0.97, "shopper1": 0.05}
    assert body["points"][0]["tags"]["service"] == "godseye"
    only = httpx.get(f"{api}/api/query", params={"metric": "llm.security.injection_score",
                                                 "tag": "session_id:attacker"}).json()
    assert [p["value"] for p in only["points"]] == [0.97]
    values = httpx.get(f"{api}/api/tag_values", params={"metric": "llm.security.injection_score",
                                                        "key": "session_id"}).json()["values"]
    assert values == ["attacker", "shopper1"]
    events = httpx.get(f"{api}/api/events", params={"tag": "session_id:attacker"}).json()["events"]
    assert [e["title"] for e in events] == ["Injection blocked"]
    stats = httpx.get(f"{api}/api/stats").json()
    assert stats["store"]["points"] >= 3 and stats["receiver"]["parse_errors"] == 0
    bad = httpx.get(f"{api}/api/query", params={"metric": "x", "from": "yesterday-ish"})
    assert bad.status_code == 400 and "not a time" in bad.json()["error"]
    assert httpx.get(f"{api}/api/query").status_code == 400


def test_test_agent_receives_a_ddtrace_span_and_llmobs_data(standin):
    code = CHILD_PRELUDE + (
        "from ddtrace.trace import tracer\n"
        "from ddtrace.llmobs import LLMObs\n"
        "LLMObs.enable(ml_app='godseye-test', agentless_enabled=False)\n"
        "with tracer.trace('chat.turn', service='godseye', resource='turn'):\n"
        "    with LLMObs.workflow(name='vcommerce.turn', session_id='sess-42') as span:\n"
        "        LLMObs.annotate(span=span, input_data='hello', output_data='hi there')\n"
        "        exported = LLMObs.export_span(span)\n"
        "LLMObs.submit_evaluation(span=exported, label='injection_score', metric_type='score', value=0.12,"
        " ml_app='godseye-test')\n"
        "LLMObs.flush()\n"
        "tracer.flush()\n"
    )
    subprocess.run([sys.executable, "-c", code], env=child_env(standin, DD_TRACE_ENABLED="true"),
                   check=True, timeout=60)
    url = standin.trace_agent_url
    traces = testagent.wait_for(lambda: testagent.traces(url), lambda t: any(
        span["name"] == "chat.turn" for trace in t for span in trace))
    spans = {span["name"]: span for trace in traces for span in trace}
    assert spans["chat.turn"]["service"] == "godseye"
    assert spans["vcommerce.turn"]["parent_id"] == spans["chat.turn"]["span_id"]
    llm_spans = testagent.wait_for(lambda: testagent.llmobs_spans(url), bool)
    (workflow,) = [s for s in llm_spans if s["name"] == "vcommerce.turn"]
    assert workflow["session_id"] == "sess-42"
    assert workflow["meta"]["span"]["kind"] == "workflow"
    assert workflow["meta"]["output"]["value"] == "hi there"
    evals = testagent.wait_for(lambda: testagent.llmobs_evaluations(url), bool)
    (ev,) = [e for e in evals if e["label"] == "injection_score"]
    assert ev["score_value"] == 0.12
    assert ev["join_on"]["span"]["span_id"] == workflow["span_id"]


def test_state_file_and_cli_status_stats_query(standin):
    state = read_state(standin.home)
    assert state["running"] and state["pid"] == os.getpid()
    assert state["dogstatsd"]["port"] == standin.dogstatsd_port
    assert state["trace_agent_url"] == standin.trace_agent_url
    assert state["env"]["DD_DOGSTATSD_PORT"] == str(standin.dogstatsd_port)

    MetricStore(standin.home / "standin.sqlite").add_points([
        Point(time.time() - 60, 3, "count", {"reason": "injection"}, metric="cli.blocked"),
        Point(time.time() - 30, 4, "count", {"reason": "injection"}, metric="cli.blocked"),
        Point(time.time() - 10, 1, "count", {"reason": "pii"}, metric="cli.blocked"),
    ])
    runner = CliRunner()
    status = runner.invoke(app, ["standin", "status", "--home", str(standin.home)])
    assert status.exit_code == 0, status.output
    out = json.loads(status.output)
    assert out["running"] and out["live"]["receiver"]["address"].startswith("udp://")

    query = runner.invoke(app, ["standin", "query", "cli.blocked", "--since", "5m", "--by", "reason", "--json",
                                "--home", str(standin.home)])
    assert query.exit_code == 0, query.output
    groups = {g["group"]: g["sum"] for g in json.loads(query.output)["groups"]}
    assert groups == {"injection": 7, "pii": 1}
    filtered = runner.invoke(app, ["standin", "query", "cli.blocked", "--tag", "reason:pii", "--points", "--json",
                                   "--home", str(standin.home)])
    assert [p["value"] for p in json.loads(filtered.output)["points"]] == [1]
    bad = runner.invoke(app, ["standin", "query", "cli.blocked", "--since", "soon", "--home", str(standin.home)])
    assert bad.exit_code == 2 and "not a duration" in bad.output

    stats = runner.invoke(app, ["standin", "stats", "--json", "--home", str(standin.home)])
    assert stats.exit_code == 0, stats.output
    assert json.loads(stats.output)["totals"]["points"] >= 3


def test_second_standin_on_the_same_home_is_refused(standin, monkeypatch):
    # Pretend the recorded owner is another live process (this test process's parent).
    state_file = standin.home / "standin.json"
    original = state_file.read_text()
    data = json.loads(original)
    data["pid"] = os.getppid()
    state_file.write_text(json.dumps(data))
    try:
        with pytest.raises(StandinError, match="already running"):
            run_in_background(standin.home, random_ports=True, test_agent=False, api=False)
    finally:
        state_file.write_text(original)


def test_stop_removes_state_and_frees_ports(tmp_path):
    handle = run_in_background(tmp_path, random_ports=True, test_agent=False)
    port, api = handle.dogstatsd_port, handle.api_url
    assert (tmp_path / "standin.json").exists()
    handle.stop()
    assert not (tmp_path / "standin.json").exists()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api}/health", timeout=1)
    result = CliRunner().invoke(app, ["standin", "status", "--home", str(tmp_path)])
    assert result.exit_code == 1 and json.loads(result.output)["running"] is False
    # The port is free again: a new receiver can bind it.
    again = run_in_background(tmp_path, endpoints=_endpoints(port), test_agent=False, api=False)
    try:
        assert again.dogstatsd_port == port
    finally:
        again.stop()


def _endpoints(port: int):
    from local_datadog.endpoints import Endpoints

    return Endpoints(dogstatsd_host="127.0.0.1", dogstatsd_port=port, trace_host=None)


def test_dd_api_key_means_nothing_local_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("DD_API_KEY", "not-a-real-key")
    handle = run_in_background(tmp_path, random_ports=True)
    try:
        assert handle.active is False
        assert handle.receiver is None and handle.test_agent is None and handle.api_url is None
        assert handle.client_env() == {}
        assert not (tmp_path / "standin.json").exists()
    finally:
        handle.stop()
    result = CliRunner().invoke(app, ["standin", "start", "--home", str(tmp_path)])
    assert result.exit_code == 0 and "real Datadog Agent" in result.output


def test_endpoints_follow_the_standard_variables():
    assert real_agent_configured({"DD_API_KEY": "k"}) and not real_agent_configured({})
    default = endpoints_from_env({})
    assert (default.dogstatsd_host, default.dogstatsd_port, default.trace_host, default.trace_port) == (
        "localhost", 8125, "localhost", 8126)
    ep = endpoints_from_env({"DD_AGENT_HOST": "127.0.0.2", "DD_DOGSTATSD_PORT": "9125",
                             "DD_TRACE_AGENT_URL": "http://127.0.0.1:9126", "GODSEYE_STANDIN_API_PORT": "9127"})
    assert (ep.dogstatsd_host, ep.dogstatsd_port, ep.trace_host, ep.trace_port, ep.api_port) == (
        "127.0.0.2", 9125, "127.0.0.1", 9126, 9127)
    url = endpoints_from_env({"DD_DOGSTATSD_URL": "udp://[::1]:7125"})
    assert (url.dogstatsd_host, url.dogstatsd_port) == ("::1", 7125)
    uds = endpoints_from_env({"DD_DOGSTATSD_URL": "unix:///tmp/dsd.socket"})
    assert uds.dogstatsd_socket is not None and uds.dogstatsd_host is None and uds.serves_dogstatsd
    remote = endpoints_from_env({"DD_AGENT_HOST": "datadog-agent.internal"})
    assert not remote.serves_dogstatsd and not remote.serves_traces and len(remote.notes) == 2
    with pytest.raises(ValueError, match="DD_DOGSTATSD_PORT"):
        endpoints_from_env({"DD_DOGSTATSD_PORT": "eighty"})


def test_python_m_local_datadog_runs_in_the_foreground_and_stops_on_sigterm(tmp_path):
    import signal
    import socket

    def free(kind: int) -> int:
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    udp, api = free(socket.SOCK_DGRAM), free(socket.SOCK_STREAM)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DD_")}
    env.update({"DD_AGENT_HOST": "127.0.0.1", "DD_DOGSTATSD_PORT": str(udp),
                "GODSEYE_STANDIN_API_PORT": str(api), "GODSEYE_HOME": str(tmp_path)})
    proc = subprocess.Popen([sys.executable, "-m", "local_datadog", "--no-test-agent"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        state = testagent.wait_for(lambda: read_state(tmp_path), lambda s: bool(s and s.get("api_url")), timeout=20)
        assert state and state["dogstatsd"]["port"] == udp and state["api_url"] == f"http://127.0.0.1:{api}"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"fg.metric:3|g|#env:dev", ("127.0.0.1", udp))
        query = testagent.wait_for(
            lambda: httpx.get(f"http://127.0.0.1:{api}/api/query", params={"metric": "fg.metric"}).json(),
            lambda body: body["count"] == 1)
        assert query["points"][0]["value"] == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, output
    assert f"udp://127.0.0.1:{udp}" in output and "stopping" in output
    assert read_state(tmp_path) is None
