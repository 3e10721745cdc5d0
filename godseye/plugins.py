"""The ADK plugins every Godseye App gets, in the order they must run."""

from __future__ import annotations

from google.adk.plugins.base_plugin import BasePlugin

from godseye.routing import CostRoutingPlugin
from guardrails.plugin import GuardrailsPlugin
from telemetry.adk_instrumentation import TelemetryPlugin


def build_plugins(app: str) -> list[BasePlugin]:
    """Telemetry first: its before_model hook must run even when a guardrail answers instead of the
    model. Guardrails next. Cost routing last, so it sees the request as it will be sent."""
    return [TelemetryPlugin(), GuardrailsPlugin(app=app), CostRoutingPlugin()]
