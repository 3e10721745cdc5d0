"""`python -m mcp_servers.datadog_query [--http PORT]`: stdio by default, streamable HTTP on 127.0.0.1 with --http."""

from mcp_servers.datadog_query.server import main

if __name__ == "__main__":
    main()
