"""`python -m benchmarks [--full] [NAME ...]`: run the benchmarks one after another, each printing its table.

Quick mode by default (every benchmark's `--quick`), so the whole set finishes in minutes on two
cores; `--full` runs the complete versions whose numbers the README and closing notes quote.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main() -> None:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help=f"benchmarks to run (default all): {', '.join(names)}")
    parser.add_argument("--full", action="store_true", help="full runs instead of --quick")
    args = parser.parse_args()
    chosen = [n for n in names if not args.only or n in args.only or n.removeprefix("bench_") in args.only]
    for name in chosen:
        print(f"\n## {name}\n", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"benchmarks.{name}")
        sys.argv = [name] if args.full else [name, "--quick"]
        try:
            module.main()
        except SystemExit as exc:
            if exc.code not in (0, None):
                print(f"{name} exited with {exc.code}", file=sys.stderr)
        print(f"\n({name}: {time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
