"""`python -m mcp_servers.catalog [--http PORT]`: stdio by default, streamable HTTP on 127.0.0.1 with --http."""

from godseye.netguard import install_if_requested

install_if_requested()  # before anything can open a socket

from mcp_servers.catalog.server import main  # noqa: E402

if __name__ == "__main__":
    main()
