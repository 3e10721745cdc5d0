"""The `datadog_query` MCP server: the AI SRE's tools over Datadog or the local stand-in.

Layout: `backend` (the TelemetryBackend protocol and its records), `local_backend` and
`datadog_backend` (the two implementations), `operations` (what each tool computes, with its
summary), `server` (the FastMCP tools). `python -m mcp_servers.datadog_query [--http PORT]`.
"""
