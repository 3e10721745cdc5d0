"""The Gemini path end to end: the real V-Commerce app on google-genai, against a local server that
speaks the Gemini REST API — transfers, MCP tool calls, tool results and usage metadata on the wire —
and cost-aware routing switching tiers at the budget and back after the window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.gemini_stub import GeminiStub, StubRequest, candidate_response, function_call, usage

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def shop_responder(request: StubRequest) -> dict:
    """Play the models: the orchestrator transfers, the shopper searches, then answers from results."""
    system = request.system_instruction()
    if 'internal name is "orchestrator"' in system:
        return function_call("transfer_to_agent", {"agent_name": "shopper"})(request)
    if request.ends_with_function_response():
        result = request.function_responses()[-1]["response"]
        products = (result.get("structuredContent") or {}).get("products") or []
        names = ", ".join(f"{p['name']} (${p['price']:.2f})" for p in products[:3]) or "nothing"
        return candidate_response([{"text": f"I found: {names}."}], usage_metadata=usage(900, 40))
    assert "search_products" in request.declared_names()
    return function_call("search_products", {"query": "red dress", "max_price": 80, "colour": "red"})(request)


def chat(lines: list[dict], env: dict[str, str], timeout: float = 240) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "godseye.cli.main", "chat", "--json"],
        input="\n".join(json.dumps(line) for line in lines) + "\n",
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


@pytest.fixture
def gemini_env(shop_home, tmp_path):
    env = dict(os.environ)
    for key in ("GODSEYE_MODEL_TIERS", "GODSEYE_USER_BUDGET_USD"):
        env.pop(key, None)
    env.update(GOOGLE_API_KEY="test-key", GODSEYE_HOME=str(shop_home), GODSEYE_MODEL="gemini-2.5-flash",
               GODSEYE_NETWORK_GUARD="1")
    return env


def test_gemini_function_calling_through_the_real_app(gemini_env):
    with GeminiStub(shop_responder) as stub:
        stub._script = []  # every request goes to the default responder below
        stub.default = shop_responder
        gemini_env["GODSEYE_GEMINI_BASE_URL"] = stub.base_url
        (result,) = chat([{"session": "g1", "user": "gem", "text": "red dresses under $80"}], gemini_env)
        requests = list(stub.requests)
    assert result["agent"] == "shopper", result
    assert result["route"] == ["shopper"]
    assert result["tool_calls"][0]["name"] == "search_products"
    assert result["tool_calls"][0]["args"]["max_price"] == 80
    assert result["products"], result
    assert all(p["price"] <= 80 and "red" in p["colours"] for p in result["products"])
    assert result["reply"].startswith("I found: ") and result["products"][0]["name"] in result["reply"]
    assert result["model"].startswith("gemini")
    # On the wire: MCP tools declared to Gemini, and the tool's result sent back as a functionResponse.
    shopper_calls = [r for r in requests if 'internal name is "shopper"' in r.system_instruction()]
    assert {"search_products", "add_to_cart"} <= set(shopper_calls[0].declared_names())
    sent = shopper_calls[-1].function_responses()[-1]
    assert sent["name"] == "search_products"
    assert sent["response"]["structuredContent"]["products"]


def test_budget_routes_to_cheaper_tier_and_back_after_window(gemini_env):
    """Tier 1 is Gemini (via the stub), tier 2 the local model. One Gemini answer costs more than the
    budget, so the next turn runs on the local model; once the window passes, Gemini again."""
    with GeminiStub() as stub:
        stub.default = shop_responder
        gemini_env.update(
            GODSEYE_GEMINI_BASE_URL=stub.base_url,
            GODSEYE_MODEL="auto",
            GODSEYE_MODEL_TIERS="gemini-2.5-flash,godseye-local",
            GODSEYE_USER_BUDGET_USD="0.0005",
            GODSEYE_BUDGET_WINDOW_S="6",
        )
        first = chat([{"session": "r1", "user": "spender", "text": "red dresses under $80"},
                      {"session": "r1", "user": "spender", "text": "show me black boots"}], gemini_env)
        time.sleep(6.5)
        (later,) = chat([{"session": "r1", "user": "spender", "text": "red dresses under $80"}], gemini_env)
        (other,) = chat([{"session": "r2", "user": "frugal", "text": "red dresses under $80"}], gemini_env)
    assert first[0]["model"].startswith("gemini"), first[0]
    assert first[1]["model"] == "godseye-local", first[1]
    assert first[1]["agent"] == "shopper" and first[1]["tool_calls"][0]["name"] == "search_products"
    assert later["model"].startswith("gemini"), later
    assert other["model"].startswith("gemini"), other
