"""Godseye's MCP servers (FastMCP): one subpackage per server, each runnable as `python -m mcp_servers.<name>`.

Servers speak stdio by default (what ADK's `StdioConnectionParams` and the tests use) and streamable
HTTP on 127.0.0.1 with `--http PORT` when deployed next to the agents.
"""
