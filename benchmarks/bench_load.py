"""Load: concurrent shoppers through the real product on the local model, with the stand-in running.

At each level N, N shopper sessions start together and each runs one seeded journey from the
simulator (search, refine, ask, add to cart, outfit: 2-4 turns) as fast as the product answers, all
through one `ShopRuntime` (the ADK app, guardrails, MCP servers over stdio, SQLite sessions), the
way one UI/API process serves its users. Metrics go to an in-process local Datadog stand-in (its
DogStatsD receiver), started before the app so the MCP servers report to it too.

Reported per level: turns, wall time, throughput (turns/s), p50/p95/max turn latency, errors and
error rate, refused turns (should be 0: these are innocent shoppers), and the DogStatsD metrics the
stand-in stored. Target: 200 concurrent sessions with zero errors.

    python -m benchmarks.bench_load [--quick] [--levels 10,50,200] [--home DIR]

`--quick` runs 10 and 50. Without `--home` (or a GODSEYE_HOME holding a catalog) a small catalog
is seeded into a temporary directory first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("browse", "buy", "stylist", "compare")


def _has_catalog(home: Path) -> bool:
    return (home / "catalog.lance").exists()


def _seed(home: Path, size: int) -> None:
    print(f"seeding a {size}-product catalog in {home} ...", file=sys.stderr)
    env = dict(os.environ, GODSEYE_HOME=str(home))
    subprocess.run([sys.executable, "-m", "godseye.cli.main", "catalog", "seed", "--size", str(size)],
                   check=True, env=env, capture_output=True, cwd=ROOT)


async def _level(runtime, faults, n: int, seed: int) -> dict:
    from godseye.simulation import SimConfig, Simulation

    config = SimConfig(duration_s=None, rate=None, concurrency=n, max_journeys=n, scenarios=("shoppers",),
                       seed=seed, run_id=f"load{n}-{int(time.time())}", shopper_kinds=KINDS, turn_timeout_s=300)
    return await Simulation(config, runtime=runtime, faults=faults).run()


def _mcp_counts(store, start: float, end: float) -> dict[str, int]:
    """MCP tool calls and tool errors the servers reported to the stand-in during a level (tool
    errors include the shopper's own mistakes, e.g. a size the product does not come in)."""
    out = {}
    for name in ("calls", "errors"):
        out[name] = int(sum(p.value for p in store.points(f"mcp.tool.{name}", start, end)))
    return out


def _fmt(ms: float | None) -> str:
    return "-" if ms is None else f"{ms / 1000:.2f}"


async def _main(levels: list[int], seed: int) -> list[dict]:
    from godseye.simulation import FaultSchedule, Simulation
    from local_datadog.server import run_in_background

    workdir = Path(tempfile.mkdtemp(prefix="godseye-load-standin-"))
    standin = run_in_background(workdir, random_ports=True, test_agent=False, api=False, write_state_file=False)
    standin.apply_env()  # before the app is imported: the MCP servers inherit DD_* too
    faults = FaultSchedule()
    runtime = Simulation.build_runtime(faults)
    rows = []
    try:
        await runtime.turn(session_id=f"warm-{time.time():.0f}", user_id="warm", text="show me boots")
        for n in levels:
            before = standin.store.stats()["points"]
            started, started_wall = time.perf_counter(), time.time()
            report = await _level(runtime, faults, n, seed)
            wall = time.perf_counter() - started
            from telemetry.metrics import metrics

            metrics.flush()
            standin.wait_idle()
            totals, lat = report["totals"], report["latency_ms"]
            rows.append({
                "sessions": n, "turns": totals["turns"], "wall_s": round(wall, 1),
                "turns_per_s": round(totals["turns"] / wall, 2), "p50_s": _fmt(lat["p50"]), "p95_s": _fmt(lat["p95"]),
                "max_s": _fmt(lat["max"]), "errors": totals["errors"], "error_rate": totals["error_rate"],
                "refused": totals["refused_turns"], "innocent_blocked": len(totals["innocent_blocked"]),
                "error_kinds": sorted({(e["error"] or "")[:120] for e in report["errors"]}),
                "metric_points": standin.store.stats()["points"] - before,
                "mcp": _mcp_counts(standin.store, started_wall, time.time() + 1),
            })
            print(f"  {n} sessions: {totals['turns']} turns in {wall:.1f} s, {totals['errors']} errors",
                  file=sys.stderr)
    finally:
        await runtime.close()
        standin.wait_idle()
        standin.stop()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 and 50 sessions only")
    parser.add_argument("--levels", help="comma-separated session counts (default 10,50,200)")
    parser.add_argument("--home", type=Path, help="GODSEYE_HOME with a seeded catalog")
    parser.add_argument("--seed-size", type=int, default=400, help="catalog size when one must be seeded")
    parser.add_argument("--seed", type=int, default=1, help="traffic seed")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")] if args.levels else [10, 50] if args.quick else [10, 50, 200]

    home = args.home or (Path(os.environ["GODSEYE_HOME"]) if os.environ.get("GODSEYE_HOME") else None)
    if home is None or not _has_catalog(home):
        home = home or Path(tempfile.mkdtemp(prefix="godseye-load-"))
        _seed(home, args.seed_size)
    os.environ["GODSEYE_HOME"] = str(home)
    for var in ("DD_API_KEY", "DD_SITE"):  # the stand-in, never a real account
        os.environ.pop(var, None)
    os.environ.setdefault("DD_TRACE_ENABLED", "false")
    from godseye.config import apply_offline_defaults
    from godseye.netguard import install_if_requested

    install_if_requested()
    apply_offline_defaults()
    import logging

    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("google_adk").setLevel(logging.CRITICAL)
    rows = asyncio.run(_main(levels, args.seed))

    print(f"\n### Load: concurrent shoppers on the local model (home {home}, {os.cpu_count()} CPUs)\n")
    print("| sessions | turns | wall s | turns/s | p50 s | p95 s | max s | errors | error rate | refused | "
          "MCP calls / tool errors | metric points |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['sessions']} | {r['turns']} | {r['wall_s']} | {r['turns_per_s']} | {r['p50_s']} | {r['p95_s']} | "
              f"{r['max_s']} | {r['errors']} | {r['error_rate']:.1%} | {r['refused']} | "
              f"{r['mcp']['calls']} / {r['mcp']['errors']} | {r['metric_points']} |")
    for r in rows:
        if r["error_kinds"]:
            print(f"\nerrors at {r['sessions']} sessions: " + "; ".join(r["error_kinds"]))


if __name__ == "__main__":
    main()
