"""Chat turn latency on the embedded local model, through the real app and MCP servers.

Runs `godseye chat --json` in a fresh process on a seeded catalog and reports the first turn (cold:
server start-up, model load) and warm turns by kind. With `--telemetry` it runs the same script twice
in one benchmark run — instrumentation off, then on against the local stand-in (DogStatsD receiver
and ddapm-test-agent) — and reports the overhead of instrumentation on warm turns.

    python -m benchmarks.bench_chat [--quick] [--telemetry]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = [
    "red dresses under $80 in size M",
    "something cheaper",
    "in blue",
    "what is the second one made of?",
    "add the second one to my cart in size M",
    "what's in my cart?",
    "show me black leather boots",
    "show me similar items to the first one",
    "an outfit for a job interview under $300",
    "what's the weather tomorrow?",
]


def _seed(home: Path, size: int) -> None:
    env = dict(os.environ, GODSEYE_HOME=str(home))
    subprocess.run([sys.executable, "-m", "godseye.cli.main", "catalog", "seed", "--size", str(size)],
                   check=True, env=env, capture_output=True)


def _run(home: Path, rounds: int, extra_env: dict[str, str]) -> list[dict]:
    env = dict(os.environ, GODSEYE_HOME=str(home), **extra_env)
    lines = []
    for r in range(rounds):
        lines += [json.dumps({"session": f"bench-{r}", "user": f"bench-user-{r}", "text": t}) for t in SCRIPT]
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "godseye.cli.main", "chat", "--json"], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    print(f"  ran {len(results)} turns in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return results


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _summary(results: list[dict]) -> dict[str, float]:
    warm = [r["latency_ms"] for r in results[1:]]
    return {"first": results[0]["latency_ms"], "p50": statistics.median(warm), "p95": _pct(warm, 0.95),
            "max": max(warm), "n": len(warm), "errors": sum(1 for r in results if r.get("error"))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round of the script instead of three")
    parser.add_argument("--telemetry", action="store_true", help="also measure instrumentation overhead")
    parser.add_argument("--catalog-size", type=int, default=1200)
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else 3
    with tempfile.TemporaryDirectory(prefix="godseye-bench-") as tmp:
        home = Path(tmp)
        print(f"seeding {args.catalog_size} products…", file=sys.stderr)
        _seed(home, args.catalog_size)
        off = {"DD_TRACE_ENABLED": "false", "DD_DOGSTATSD_PORT": "9", "DD_AGENT_HOST": "127.0.0.1"}
        rows = [("telemetry off", _summary(_run(home, rounds, off)))]
        if args.telemetry:
            from local_datadog import run_in_background

            standin = run_in_background(home / "standin", random_ports=True, write_state_file=False)
            try:
                on = dict(standin.client_env(), DD_TRACE_ENABLED="true")
                rows.append(("telemetry on (stand-in)", _summary(_run(home, rounds, on))))
            finally:
                standin.stop()
    print("\n| run | first turn ms | warm p50 ms | warm p95 ms | warm max ms | warm turns | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, s in rows:
        print(f"| {name} | {s['first']:.0f} | {s['p50']:.0f} | {s['p95']:.0f} | {s['max']:.0f} | {s['n']} | "
              f"{s['errors']} |")
    if len(rows) == 2:
        overhead = (rows[1][1]["p50"] - rows[0][1]["p50"]) / rows[0][1]["p50"] * 100
        print(f"\ninstrumentation overhead on warm p50: {overhead:+.1f}%")


if __name__ == "__main__":
    main()
