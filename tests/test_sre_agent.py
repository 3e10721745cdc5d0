"""Operator questions through the real AI SRE app: App "sre", the guardrails plugin, the datadog_query
server over stdio, and the embedded local model.

Each question must run the right tool, and every number in the answer must appear in a structured
field of that turn's tool results (the summaries themselves are not counted as evidence).
"""

from __future__ import annotations

import os
import uuid

import pytest
from support.sre_telemetry import shared_home, ungrounded_numbers

from godseye.config import get_settings
from godseye.runtime import BackgroundLoop, ShopRuntime, TurnResult


@pytest.fixture(scope="module")
def sre():
    previous = os.environ.get("GODSEYE_HOME")
    os.environ["GODSEYE_HOME"] = str(shared_home())
    get_settings.cache_clear()
    loop = BackgroundLoop()
    runtime = ShopRuntime(app_name="sre")
    session = f"op-{uuid.uuid4().hex[:8]}"

    def ask(text: str) -> TurnResult:
        return loop.run(runtime.turn(session_id=session, user_id="operator", text=text), timeout=120)

    yield ask
    loop.run(runtime.close(), timeout=30)
    loop.stop()
    if previous is None:
        os.environ.pop("GODSEYE_HOME", None)
    else:
        os.environ["GODSEYE_HOME"] = previous
    get_settings.cache_clear()


def _check(result: TurnResult, tool: str) -> dict:
    where = f"agent={result.agent} tools={result.tool_calls} error={result.error} reply={result.reply!r}"
    assert result.error is None, where
    assert result.agent == "ai_sre", where
    assert [c["name"] for c in result.tool_calls] == [tool], where
    payloads = [r["payload"] for r in result.tool_results]
    assert ungrounded_numbers(result.reply, payloads) == [], where
    return payloads[0]


def test_what_is_firing(sre):
    result = sre("what is firing?")
    payload = _check(result, "triggered_monitors")
    assert payload["alerting"] >= 2
    assert "s-evil" in result.reply and "0.97" in result.reply and "u-bomber" in result.reply
    assert "What to do" in result.reply  # the runbook of the incident setting


def test_who_is_attacking(sre):
    result = sre("who is attacking us?")
    payload = _check(result, "top_offenders")
    assert payload["offenders"][0]["session_id"] == "s-evil"
    assert "s-evil" in result.reply and "blocked" in result.reply


def test_what_will_break(sre):
    result = sre("will anything break in the next two hours?")
    payload = _check(result, "predict_failures")
    assert result.tool_calls[0]["args"] == {"horizon": "2h"}
    assert payload["services"][0]["service"] == "godseye-ui"
    assert "model latency p95" in result.reply and "godseye-ui" in result.reply


def test_how_healthy(sre):
    result = sre("how healthy is the service?")
    payload = _check(result, "service_health")
    assert payload["status"] in {"healthy", "degraded"}
    assert f"The service is {payload['status']}" in result.reply


@pytest.mark.parametrize(("question", "tool", "args"), [
    ("is anything on fire right now?", "triggered_monitors", {}),
    ("which users keep uploading malicious images?", "top_offenders", {"kind": "users"}),
    ("walk me through incident 2", "get_incident", {"incident_id": "2"}),
    ("p95 latency over the last hour", "query_metric", {"aggregation": "p95", "window": "1h"}),
])
def test_paraphrases_pick_the_tool_and_arguments(sre, question, tool, args):
    result = sre(question)
    _check(result, tool)
    assert args.items() <= result.tool_calls[0]["args"].items(), result.tool_calls


def test_greeting_uses_the_sre_prompt(sre):
    result = sre("hi")
    assert result.error is None and not result.tool_calls
    assert "AI SRE" in result.reply and "catalog" not in result.reply
