"""`python -m local_datadog`: run the stand-in in the foreground (Ctrl-C stops it)."""

import sys

from local_datadog.server import main

if __name__ == "__main__":
    sys.exit(main())
