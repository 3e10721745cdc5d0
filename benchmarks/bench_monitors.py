"""How long `godseye datadog validate` and one stand-in monitor evaluation cycle take.

The detection loop's latency is the evaluation period plus one cycle, so the cycle time bounds how
often the stand-in can evaluate (the 60 s attack-to-block target). Run:
    .venv/bin/python -m benchmarks.bench_monitors [--quick]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from godseye.datadog_assets import validate
from local_datadog.incidents import IncidentEngine, IncidentStore
from local_datadog.monitors import MonitorEvaluator, MonitorStateStore
from local_datadog.store import MetricStore, Point

ASSETS = Path(__file__).resolve().parents[1] / "datadog"


def _fill(store: MetricStore, now: float, sessions: int, rng: random.Random) -> int:
    pts: list[Point] = []
    for s in range(sessions):  # ten turns per session over the last 10 minutes
        for turn in range(10):
            ts = now - 600 + turn * 60 + rng.random() * 50
            tags = {"session_id": f"s{s}", "user_id": f"u{s}", "agent": "shopper", "env": "bench"}
            pts.append(Point(ts, rng.random() * 0.3, "gauge", tags, "llm.security.injection_score"))
            pts.append(Point(ts, 0.7 + rng.random() * 0.3, "gauge",
                             {"session_id": f"s{s}", "agent": "shopper", "model": "m", "env": "bench"},
                             "llm.response.quality"))
            pts.append(Point(ts, 500 + rng.random() * 3000, "distribution", {"agent": "shopper", "model": "m"},
                             "llm.latency"))
            pts.append(Point(ts, 1, "count", {"server": "catalog", "tool": "search"}, "mcp.tool.calls"))
    for h in range(24 * 7):  # a week of hourly spend for the forecast monitor
        pts.append(Point(now - 7 * 86400 + h * 3600, 0.5 + h * 0.01, "count", {"model": "m", "user_id": "u0"},
                         "llm.cost_usd"))
    for m in range(240):  # four hours of quality per agent for the anomaly monitor
        pts.append(Point(now - 4 * 3600 + m * 60, 0.8 + rng.random() * 0.05, "gauge",
                         {"agent": "stylist", "model": "m"}, "llm.response.quality"))
    pts.append(Point(now - 5, 0.97, "gauge", {"session_id": "attacker", "agent": "shopper"},
                     "llm.security.injection_score"))
    for i in range(5):
        pts.append(Point(now - 30 + i, 1, "count", {"user_id": "bomber", "kind": "bomb"}, "tryon.security.violation"))
    return store.add_points(pts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller store, fewer repetitions")
    args = parser.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 5000]
    reps = 3 if args.quick else 5

    rows = []
    started = time.perf_counter()
    problems = validate(ASSETS)
    rows.append(("validate datadog/ (cold, strict + lint)", f"{(time.perf_counter() - started) * 1000:.0f} ms",
                 f"{len(problems)} problems"))
    timings = []
    for _ in range(reps):
        t0 = time.perf_counter()
        validate(ASSETS)
        timings.append(time.perf_counter() - t0)
    rows.append(("validate (warm)", f"{statistics.median(timings) * 1000:.0f} ms", f"median of {reps}"))

    rng = random.Random(7)
    for sessions in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            now = time.time()
            store = MetricStore(Path(tmp) / "standin.sqlite")
            n = _fill(store, now, sessions, rng)
            evaluator = MonitorEvaluator.from_assets(
                ASSETS, store, webhook_sink=lambda call: None, clock=lambda t=now: t,
                state=MonitorStateStore(Path(tmp) / "state.sqlite"),
                incident_engine=IncidentEngine.from_assets(ASSETS, IncidentStore(Path(tmp) / "inc.sqlite")),
                environ={"GODSEYE_WEBHOOK_SECRET": "bench"})
            t0 = time.perf_counter()
            first = evaluator.evaluate(now)
            cold = time.perf_counter() - t0
            warm = []
            for i in range(reps):
                t0 = time.perf_counter()
                evaluator.evaluate(now + 1 + i)
                warm.append(time.perf_counter() - t0)
            alerts = sorted(f"{tr.monitor_key}:{tr.group_key}" for tr in first if tr.to_state == "Alert")
            rows.append((f"evaluate 10 monitors, {sessions} sessions ({n} points)",
                         f"{cold * 1000:.0f} ms first / {statistics.median(warm) * 1000:.0f} ms next",
                         f"alerts: {', '.join(alerts)}"))
            store.close()

    print("| measurement | time | notes |")
    print("|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
