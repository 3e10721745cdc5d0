"""How early, and how falsely, does the failure forecaster alarm? Rolling-origin evaluation.

For many seeded instances of each scenario (`forecasting.scenarios`) the forecaster is run at a
series of origins, each time seeing only the points up to that origin, with a 2 h horizon. An
alarm is raised when the crossing probability is >= ALARM_PROBABILITY (0.5; with the forecaster's
symmetric predictive distributions that is "the point forecast crosses within the horizon").

- Degrading scenarios (origins every 10 minutes from 1 h before the onset to the true crossing):
  lead time = true crossing - first alarm raised within the 2 h before it (0 when there is none).
  Alarms raised while the true crossing is still more than 2 h away answer "will it cross within
  2 h?" wrongly: reported as premature.
- Stable scenarios (origins every 30 minutes over the last day, with two days of history before):
  false alarm rate per evaluation, and the share of instances with at least one false alarm.

Targets (issue 7): lead >= 60 min in degrading scenarios, <= 5% false alarms on stable ones.

    .venv/bin/python -m benchmarks.bench_forecast [--quick] [--instances N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from forecasting import forecast
from forecasting.scenarios import DAY, GENERATORS, HOUR, Scenario

HORIZON_S = 2 * HOUR
ALARM_PROBABILITY = 0.5
DEGRADING_EVERY_S = 600.0
STABLE_EVERY_S = 1800.0
STABLE_WINDOW_S = DAY


@dataclass
class Tally:
    instances: int = 0
    evaluations: int = 0
    leads_min: list[float] = field(default_factory=list)
    detected: int = 0
    premature: int = 0
    premature_chances: int = 0
    false_alarms: int = 0
    instances_with_false_alarm: int = 0
    ms: list[float] = field(default_factory=list)
    methods: Counter = field(default_factory=Counter)


def _run(scn: Scenario, origin: float, tally: Tally) -> float:
    pts = scn.arrays(until=origin)
    t0 = time.process_time()  # CPU time: the machine may be shared, wall time would measure neighbours
    fc = forecast(pts, HORIZON_S, threshold=scn.threshold, direction=scn.direction)
    tally.ms.append((time.process_time() - t0) * 1000)
    tally.evaluations += 1
    tally.methods[fc.method] += 1
    return float(fc.probability or 0.0)


def evaluate_degrading(scn: Scenario, tally: Tally) -> None:
    assert scn.crossing_time is not None and scn.onset_time is not None
    cross = scn.crossing_time
    first_alarm = None
    for origin in np.arange(scn.onset_time - HOUR, cross, DEGRADING_EVERY_S):
        alarm = _run(scn, float(origin), tally) >= ALARM_PROBABILITY
        if cross - origin > HORIZON_S:
            tally.premature_chances += 1
            tally.premature += alarm
        elif alarm and first_alarm is None:
            first_alarm = float(origin)
    tally.instances += 1
    if first_alarm is None:
        tally.leads_min.append(0.0)
    else:
        tally.detected += 1
        tally.leads_min.append((cross - first_alarm) / 60.0)


def evaluate_stable(scn: Scenario, tally: Tally) -> None:
    alarms = 0
    for origin in np.arange(scn.end - STABLE_WINDOW_S, scn.end + 1, STABLE_EVERY_S):
        alarms += _run(scn, float(origin), tally) >= ALARM_PROBABILITY
    tally.instances += 1
    tally.false_alarms += alarms
    tally.instances_with_false_alarm += alarms > 0


def _fmt(x: float | None, digits: int = 0) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5 instances per scenario instead of 20")
    ap.add_argument("--instances", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    args = ap.parse_args(argv)
    n = args.instances or (5 if args.quick else 20)
    tallies: dict[str, Tally] = {}
    started, cpu_started = time.perf_counter(), time.process_time()
    for name, gen in GENERATORS.items():
        tally = tallies.setdefault(name, Tally())
        for seed in range(args.seed, args.seed + n):
            scn = gen(seed)
            (evaluate_degrading if scn.kind == "degrading" else evaluate_stable)(scn, tally)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started

    print(f"Failure forecaster, rolling origin: horizon 2h, alarm when P(crossing) >= {ALARM_PROBABILITY}, "
          f"{n} instances per scenario\n")
    print("| scenario | kind | evaluations | detected | lead >= 60 min | lead median (min) | lead min (min) | premature "
          "alarms | false alarms / eval | instances with a false alarm | CPU ms / forecast (median, p95) | "
          "methods |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    for name, t in tallies.items():
        kind = GENERATORS[name](args.seed).kind
        ms = f"{statistics.median(t.ms):.0f}, {np.percentile(t.ms, 95):.0f}"
        methods = ", ".join(f"{m} {c / t.evaluations:.0%}" for m, c in t.methods.most_common())
        if kind == "degrading":
            lead_med, lead_min = statistics.median(t.leads_min), min(t.leads_min)
            prem = t.premature / t.premature_chances if t.premature_chances else 0.0
            ok &= lead_med >= 60
            early = sum(lead >= 60 for lead in t.leads_min)
            print(f"| {name} | {kind} | {t.evaluations} | {t.detected}/{t.instances} | {early}/{t.instances} | "
                  f"{_fmt(lead_med)} | "
                  f"{_fmt(lead_min)} | {prem:.1%} | - | - | {ms} | {methods} |")
        else:
            rate = t.false_alarms / t.evaluations
            ok &= rate <= 0.05
            print(f"| {name} | {kind} | {t.evaluations} | - | - | - | - | - | {rate:.1%} | "
                  f"{t.instances_with_false_alarm}/{t.instances} | {ms} | {methods} |")
    print(f"\nTargets: median lead >= 60 min (degrading), false alarms <= 5% per evaluation (stable): "
          f"{'met' if ok else 'NOT met'}. Wall time {elapsed:.0f}s, CPU {cpu:.0f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
