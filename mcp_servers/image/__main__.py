"""`python -m mcp_servers.image`: the image MCP server (stdio; `--http PORT` for streamable HTTP)."""

from godseye.netguard import install_if_requested

install_if_requested()

from mcp_servers.image.server import main  # noqa: E402

main()
