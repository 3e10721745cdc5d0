"""The AI SRE ADK app ("sre"): one `ai_sre` agent for operators, on the `datadog_query` MCP tools.

It answers what is firing, who is attacking, what will break and when, and what to do, quoting only
numbers that came back from its tools (each tool result carries a summary built from its own data).
Gemini when configured, the embedded local planner otherwise (`godseye.models.model_for`). The
guardrails plugin applies to operators too (an agent missing from its allowlist may use all its
tools). Reachable through `adk web agents/`, `godseye sre` and the operator console.
"""

from __future__ import annotations

from google.adk.agents import LlmAgent
from google.adk.apps import App

from godseye.models import model_for
from godseye.plugins import build_plugins
from tools.mcp_toolsets import toolset

from .prompts import load

root_agent = LlmAgent(
    name="ai_sre",
    model=model_for("ai_sre"),
    description=(
        "AI SRE for the shop's operators: reads the telemetry, monitors and incidents, names attacking "
        "sessions and users, forecasts failures, and says what to do, with the numbers from its tools."
    ),
    instruction=load("ai_sre"),
    tools=[toolset("datadog_query")],
)

app = App(name="sre", root_agent=root_agent, plugins=build_plugins(app="sre"))
