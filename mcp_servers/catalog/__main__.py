"""`python -m mcp_servers.catalog [--http PORT]`: stdio by default, streamable HTTP on 127.0.0.1 with --http."""

import os

from godseye.netguard import install_if_requested

install_if_requested()  # before anything can open a socket
# One BLAS thread: vector scoring is memory-bound, and idle OpenBLAS threads spin and steal the CPU that
# full-text search and the embedder need (measured: hybrid search CPU per query 55 -> 34 ms at 100k).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from mcp_servers.catalog.server import main  # noqa: E402

if __name__ == "__main__":
    main()
