"""One place that knows how agents reach the MCP servers.

Locally every server runs as a stdio child process of the agent runtime (`python -m
mcp_servers.<name>`), inheriting GODSEYE_HOME, the network guard and the DD_* variables so its
telemetry lands where the parent's does. When deployed, `GODSEYE_MCP_<NAME>_URL` points at a
streamable-HTTP server instead. Toolsets are cached per process: shopper and stylist share one
catalog server rather than starting two.
"""

from __future__ import annotations

import os
import sys
from functools import cache

from google.adk.tools.mcp_tool.mcp_session_manager import (
    StdioConnectionParams,
    StreamableHTTPConnectionParams,
)
from google.adk.tools.mcp_tool.mcp_toolset import McpToolset
from mcp import StdioServerParameters

from godseye.config import PROJECT_ROOT, get_settings

_PASSTHROUGH_PREFIXES = ("GODSEYE_", "DD_", "GOOGLE_", "GEMINI_", "OTEL_", "PYTHON", "PATH", "HOME", "LANG", "LC_",
                         "HF_", "NO_GCE_CHECK", "LITELLM_", "TMPDIR", "VIRTUAL_ENV")


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(_PASSTHROUGH_PREFIXES)}
    settings = get_settings()
    env["GODSEYE_HOME"] = str(settings.home)
    env.setdefault("PYTHONPATH", str(PROJECT_ROOT))
    env["PYTHONUNBUFFERED"] = "1"
    return env


@cache
def toolset(server: str) -> McpToolset:
    """The McpToolset for `mcp_servers.<server>` (stdio locally, HTTP when a URL is configured)."""
    settings = get_settings()
    url = os.environ.get(f"GODSEYE_MCP_{server.upper()}_URL")
    if url:
        params = StreamableHTTPConnectionParams(url=url, timeout=settings.mcp_timeout_s)
    else:
        params = StdioConnectionParams(
            server_params=StdioServerParameters(
                command=sys.executable,
                args=["-m", f"mcp_servers.{server}"],
                env=_child_env(),
                cwd=str(PROJECT_ROOT),
            ),
            timeout=settings.mcp_timeout_s,
        )
    # Server logs go to a file: they are not chat output, and ADK's default errlog is whatever
    # sys.stderr was when ADK was first imported (a test harness may have swapped it since).
    log_dir = settings.ensure_home() / "logs"
    log_dir.mkdir(exist_ok=True)
    errlog = open(log_dir / f"mcp-{server}.log", "a", encoding="utf-8")  # noqa: SIM115 - lives with the toolset
    return McpToolset(connection_params=params, errlog=errlog)
