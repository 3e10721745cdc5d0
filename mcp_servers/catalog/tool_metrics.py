"""FastMCP middleware that reports every tool call as the contract's `mcp.tool.*` metrics.

`mcp.tool.calls` (count), `mcp.tool.errors` (count) and `mcp.tool.latency` (distribution, ms), tagged
`server` and `tool`, so the MCP health monitors see each server the same way. Not catalog-specific:
any FastMCP server can add `ToolMetrics("<name>")` to its middleware.
"""

from __future__ import annotations

import time
from typing import Any

from fastmcp.server.middleware import Middleware, MiddlewareContext


class ToolMetrics(Middleware):
    def __init__(self, server: str):
        self.server = server

    async def on_call_tool(self, context: MiddlewareContext, call_next: Any) -> Any:
        from telemetry.metrics import metrics

        tags = {"server": self.server, "tool": getattr(context.message, "name", "unknown")}
        start = time.perf_counter()
        metrics.increment("mcp.tool.calls", tags=tags)
        try:
            result = await call_next(context)
        except Exception:
            metrics.increment("mcp.tool.errors", tags=tags)
            raise
        finally:
            metrics.distribution("mcp.tool.latency", (time.perf_counter() - start) * 1000.0, tags=tags)
        if getattr(result, "is_error", False) or getattr(result, "isError", False):
            metrics.increment("mcp.tool.errors", tags=tags)
        return result
