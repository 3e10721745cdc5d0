"""MCP telemetry on both ends of a tool call: the server middleware and the ADK client span.

Server side, `instrument_server(mcp, "catalog")` adds one FastMCP middleware that, for every
`tools/call`:
- continues the caller's trace from the request's `_meta` (ddtrace's Datadog/W3C headers, put there
  by the client; see `telemetry.tracing`), so the server span `mcp.server.call` is a child of the
  client's `mcp.tool.call` span across stdio and HTTP alike, and spans the tool opens (such as
  `lancedb.search`) are its children;
- counts `mcp.tool.calls` and `mcp.tool.errors` and records `mcp.tool.latency` (ms) tagged
  server and tool (the contract's MCP health metrics).
Tracing in a server process starts with its first MCP message, not at import, so importing a
server module (tests, `fastmcp inspect`) has no side effects.

The client half (the `mcp.tool.call` span around ADK's McpTool, and the `_meta` injection) lives
in `telemetry.adk_instrumentation` and `telemetry.tracing`, so agent processes never import FastMCP.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext

from telemetry import tracing
from telemetry.metrics import metrics

log = logging.getLogger(__name__)

SERVER_SPAN = "mcp.server.call"
SERVICE_PREFIX = "godseye-mcp-"


def _request_meta(context: MiddlewareContext[Any]) -> dict[str, Any]:
    """The `_meta` of the current request (FastMCP keeps it on the request context)."""
    fastmcp_context = context.fastmcp_context
    request_context = getattr(fastmcp_context, "request_context", None) if fastmcp_context else None
    meta = getattr(request_context, "meta", None)
    if not meta:
        meta = getattr(context.message, "meta", None)
    if meta is None:
        return {}
    if isinstance(meta, dict):
        return meta
    dump = getattr(meta, "model_dump", None)
    return dump() if dump else {}


def _is_error_result(result: Any) -> bool:
    """An MCP error result, or a structured result that reports failure itself (`ok: false`)."""
    for holder in (result, getattr(result, "to_mcp_result", None)):
        if holder is None or callable(holder):
            continue
        if getattr(holder, "is_error", False) or getattr(holder, "isError", False):
            return True
    structured = getattr(result, "structured_content", None)
    return isinstance(structured, dict) and structured.get("ok") is False


class TelemetryMiddleware(Middleware):
    """Trace context, server span and MCP health metrics for one FastMCP server."""

    def __init__(self, server: str, service: str | None = None):
        self.server = server
        self.service = service or f"{SERVICE_PREFIX}{server}"
        self._started = False
        self._lock = threading.Lock()

    def _start_telemetry(self) -> None:
        if self._started:
            return
        with self._lock:
            if self._started:
                return
            self._started = True
            from telemetry.setup import init_telemetry

            try:
                init_telemetry(service=self.service, agents=False)
            except Exception:  # telemetry must never stop a server from answering
                log.debug("telemetry start failed in MCP server %s", self.server, exc_info=True)

    async def on_message(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        if not self._started:
            self._start_telemetry()
        return await call_next(context)

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        tool = str(getattr(context.message, "name", "unknown"))
        tags = {"server": self.server, "tool": tool}
        started = time.perf_counter()
        failed = False
        try:
            with tracing.continued_trace(_request_meta(context)), tracing.span(
                SERVER_SPAN, resource=tool, service=self.service,
                **{"mcp.server": self.server, "mcp.tool": tool, "span.kind": "server", "component": "fastmcp"},
            ) as span:
                result = await call_next(context)
                if _is_error_result(result):
                    failed = True
                    span.error = 1
            return result
        except Exception:
            failed = True
            raise
        finally:
            if failed:
                metrics.increment("mcp.tool.errors", tags=tags)
            metrics.increment("mcp.tool.calls", tags=tags)
            metrics.distribution("mcp.tool.latency", (time.perf_counter() - started) * 1000, tags=tags)


def instrument_server(mcp: Any, server: str) -> TelemetryMiddleware:
    """Add Godseye's telemetry middleware to a FastMCP server (one line in each server module)."""
    for existing in getattr(mcp, "middleware", []) or []:
        if isinstance(existing, TelemetryMiddleware):
            return existing
    middleware = TelemetryMiddleware(server)
    mcp.add_middleware(middleware)
    return middleware
