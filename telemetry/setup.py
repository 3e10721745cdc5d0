"""Process-level telemetry start and flush, called by every entry point (CLI, UI, MCP servers).

Everything is configured by the standard DD_* variables. Tracing is on only when an agent is
expected (DD_TRACE_ENABLED not "false"); metrics always go through `telemetry.metrics`, which never
blocks or raises when no agent listens.
"""

from __future__ import annotations

import os

from telemetry.metrics import metrics


def init_telemetry(service: str) -> None:
    """Set unified service tags for this process (DD_SERVICE keeps any value the operator set)."""
    os.environ.setdefault("DD_SERVICE", service)
    os.environ.setdefault("DD_ENV", "dev")
    os.environ.setdefault("DD_VERSION", "0.1.0")


def flush_telemetry() -> None:
    """Send what is buffered before the process exits (`godseye chat --json` relies on it)."""
    metrics.flush()
