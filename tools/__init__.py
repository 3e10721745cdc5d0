"""Tools the agents share: MCP toolset factories (how an agent reaches each MCP server)."""
