"""Process-level telemetry start and flush, called by every entry point (CLI, UI, MCP servers).

Everything is configured by the standard DD_* variables. Tracing and LLM Observability are on
only when wanted (DD_TRACE_ENABLED not "false") and a trace agent answers at start-up; otherwise
nothing of ddtrace is imported and a missing agent costs nothing visible. Metrics always go
through `telemetry.metrics`, which never blocks or raises when no agent listens.
"""

from __future__ import annotations

import os

from telemetry import llmobs, tracing
from telemetry.metrics import metrics

# ddtrace's own background services that Godseye does not use, off unless the operator sets them:
# Remote Configuration polls the agent every few seconds for settings pushed from the Datadog UI, and
# instrumentation telemetry sends heartbeats about the tracer itself and counts every span and
# annotation on the hot path. Both cost CPU in every traced process (the CLI/UI and each MCP server)
# and neither is needed for traces, LLM Observability or evaluations.
DDTRACE_DEFAULTS = {
    "DD_REMOTE_CONFIGURATION_ENABLED": "false",
    "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false",
}


def init_telemetry(service: str, *, agents: bool = True) -> bool:
    """Set unified service tags for this process (DD_SERVICE keeps any value the operator set), then
    start APM tracing and LLM Observability when enabled. Returns whether tracing is on.

    `agents=False` is for processes that run no ADK agent (MCP servers): no ADK/Gemini patching.
    """
    os.environ.setdefault("DD_SERVICE", service)
    os.environ.setdefault("DD_ENV", "dev")
    os.environ.setdefault("DD_VERSION", "0.1.0")
    for key, value in DDTRACE_DEFAULTS.items():  # read by ddtrace when tracing imports it
        os.environ.setdefault(key, value)
    if not tracing.init_tracing(service, agents=agents):
        return False
    llmobs.enable(service=os.environ.get("DD_SERVICE", service))
    return True


def flush_telemetry() -> None:
    """Send what is buffered before the process exits (`godseye chat --json` relies on it)."""
    metrics.flush()
    llmobs.flush()
    tracing.flush()
