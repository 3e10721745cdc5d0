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


def init_telemetry(service: str, *, agents: bool = True) -> bool:
    """Set unified service tags for this process (DD_SERVICE keeps any value the operator set), then
    start APM tracing and LLM Observability when enabled. Returns whether tracing is on.

    `agents=False` is for processes that run no ADK agent (MCP servers): no ADK/Gemini patching.
    """
    os.environ.setdefault("DD_SERVICE", service)
    os.environ.setdefault("DD_ENV", "dev")
    os.environ.setdefault("DD_VERSION", "0.1.0")
    if not tracing.init_tracing(service, agents=agents):
        return False
    llmobs.enable(service=os.environ.get("DD_SERVICE", service))
    return True


def flush_telemetry() -> None:
    """Send what is buffered before the process exits (`godseye chat --json` relies on it)."""
    metrics.flush()
    llmobs.flush()
    tracing.flush()
