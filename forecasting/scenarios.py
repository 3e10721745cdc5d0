"""Seeded metric scenarios with a known truth, for the forecaster's benchmark and tests.

Each generator returns a `Scenario`: irregular timestamps (jittered one-minute scrapes with dropped
points, a gap and a few nulls, like a real agent), the noisy values, the noise-free signal, a
threshold with its direction, and the true crossing time: the first sample time at which the
noise-free signal reaches the threshold, or None. Truth is defined on the signal, not on the noisy
values, because a failure is the level moving past the threshold, not one noisy scrape poking over
it. Stable scenarios never cross; degrading ones cross a few hours after an onset.

Kinds: steady traffic, daily seasonality, a noisy flat line (stable); a slow memory/latency climb and
a sudden surge (degrading).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DAY = 86400.0
HOUR = 3600.0
HISTORY_S = 3 * DAY
SCRAPE_S = 60.0


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str  # "stable" | "degrading"
    seed: int
    times: np.ndarray
    values: np.ndarray  # observed, may hold NaN (a null from the back end)
    signal: np.ndarray  # noise-free truth at `times`
    threshold: float
    direction: str
    crossing_time: float | None
    onset_time: float | None

    @property
    def start(self) -> float:
        return float(self.times[0])

    @property
    def end(self) -> float:
        return float(self.times[-1])

    def points(self, until: float | None = None) -> list[list[float]]:
        """`[[ts, value], ...]` up to and including `until` (what a back end would return then)."""
        keep = self.times <= (self.end if until is None else until)
        return [[float(t), float(v)] for t, v in zip(self.times[keep], self.values[keep], strict=True)]

    def arrays(self, until: float | None = None) -> np.ndarray:
        keep = self.times <= (self.end if until is None else until)
        return np.column_stack([self.times[keep], self.values[keep]])


def _timestamps(rng: np.random.Generator, start: float = 1_700_000_000.0) -> np.ndarray:
    """One-minute scrapes with +-15 s jitter, 2% dropped and one 10-60 minute gap."""
    base = start + np.arange(0.0, HISTORY_S, SCRAPE_S)
    t = base + rng.uniform(-15, 15, len(base))
    keep = rng.random(len(t)) > 0.02
    gap_start = start + rng.uniform(0.2, 0.6) * HISTORY_S
    keep &= ~((t >= gap_start) & (t < gap_start + rng.uniform(600, 3600)))
    keep[-1] = True
    return np.sort(t[keep])


def _ar1(rng: np.random.Generator, n: int, sigma: float, rho: float) -> np.ndarray:
    """AR(1) noise with marginal standard deviation `sigma` (metrics wander, they are not iid)."""
    e = rng.normal(0.0, sigma * np.sqrt(1 - rho**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sigma)
    for i in range(1, n):
        out[i] = rho * out[i - 1] + e[i]
    return out


def _nulls(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    v = values.copy()
    v[rng.random(len(v)) < 0.002] = np.nan
    return v


def _first_crossing(times: np.ndarray, signal: np.ndarray, threshold: float, direction: str) -> float | None:
    hit = signal >= threshold if direction == "above" else signal <= threshold
    idx = np.flatnonzero(hit)
    return float(times[idx[0]]) if len(idx) else None


def _make(name: str, kind: str, seed: int, t: np.ndarray, signal: np.ndarray, noise: np.ndarray,
          threshold: float, direction: str, onset: float | None, rng: np.random.Generator) -> Scenario:
    cross = _first_crossing(t, signal, threshold, direction)
    if kind == "stable" and cross is not None:
        raise AssertionError(f"{name} seed {seed}: a stable scenario crossed its threshold")
    return Scenario(name, kind, seed, t, _nulls(rng, signal + noise), signal, float(threshold), direction,
                    cross, onset)


def steady_traffic(seed: int) -> Scenario:
    """Requests per second around a constant level; alert at 1.3-1.6x the level."""
    rng = np.random.default_rng([seed, 1])
    t = _timestamps(rng)
    level = rng.uniform(50, 500)
    signal = np.full(len(t), level)
    noise = _ar1(rng, len(t), 0.04 * level, rng.uniform(0.3, 0.8))
    return _make("steady_traffic", "stable", seed, t, signal, noise, level * rng.uniform(1.3, 1.6), "above",
                 None, rng)


def daily_seasonality(seed: int) -> Scenario:
    """Traffic with a daily cycle (plus a weaker 12 h harmonic); alert 25-50% of the swing above peak."""
    rng = np.random.default_rng([seed, 2])
    t = _timestamps(rng)
    level = rng.uniform(100, 1000)
    amp = rng.uniform(0.3, 0.5) * level
    phase = rng.uniform(0, DAY)
    cycle = np.sin(2 * np.pi * (t - phase) / DAY) + 0.3 * np.sin(4 * np.pi * (t - phase) / DAY)
    signal = level + amp * cycle / 1.3
    peak = level + amp
    noise = _ar1(rng, len(t), 0.05 * level, rng.uniform(0.3, 0.7))
    threshold = peak + rng.uniform(0.25, 0.5) * amp
    return _make("daily_seasonality", "stable", seed, t, signal, noise, threshold, "above", None, rng)


def noisy_flat(seed: int) -> Scenario:
    """A flat level under heavy-tailed noise (Student-t, 5 dof, 20% of the level); alert at 4-5 sigma."""
    rng = np.random.default_rng([seed, 3])
    t = _timestamps(rng)
    level = rng.uniform(100, 300)
    sigma = 0.2 * level
    noise = sigma * rng.standard_t(5, len(t)) / np.sqrt(5 / 3)
    threshold = level + rng.uniform(4, 5) * sigma
    signal = np.full(len(t), level)
    return _make("noisy_flat", "stable", seed, t, signal, noise, threshold, "above", None, rng)


def slow_climb(seed: int) -> Scenario:
    """A memory leak or latency creep: flat, then a linear or accelerating climb to the threshold.

    Onset in the last day; the signal reaches the threshold 3-8 h after the onset and the series
    goes on for 2-6 h after it. Odd seeds watch the same leak as free memory falling *below* a
    threshold, so both directions are exercised.
    """
    rng = np.random.default_rng([seed, 4])
    t = _timestamps(rng)
    end = t[-1]
    base = rng.uniform(40, 60)
    threshold = rng.uniform(85, 92)
    cross = end - 2 * HOUR - rng.uniform(0, 4 * HOUR)
    onset = cross - rng.uniform(3 * HOUR, 8 * HOUR)
    power = rng.choice([1.0, 1.5])  # latency accelerates as a resource saturates
    frac = np.clip((t - onset) / (cross - onset), 0, None)
    signal = base + (threshold - base) * frac**power
    noise = _ar1(rng, len(t), rng.uniform(0.5, 2.0), rng.uniform(0.3, 0.8))
    if seed % 2:
        return _make("slow_climb", "degrading", seed, t, 100 - signal, noise, 100 - threshold, "below",
                     onset, rng)
    return _make("slow_climb", "degrading", seed, t, signal, noise, threshold, "above", onset, rng)


def sudden_surge(seed: int) -> Scenario:
    """A traffic surge: the metric jumps part of the way to its limit at the onset and keeps climbing.

    The jump covers 30-50% of the distance to the threshold; the threshold is reached 90-180 minutes
    after the onset, which caps the achievable lead time.
    """
    rng = np.random.default_rng([seed, 5])
    t = _timestamps(rng)
    end = t[-1]
    level = rng.uniform(100, 400)
    threshold = level * rng.uniform(1.8, 2.5)
    cross = end - 2 * HOUR - rng.uniform(0, 3 * HOUR)
    onset = cross - rng.uniform(1.5 * HOUR, 3 * HOUR)
    jump = rng.uniform(0.3, 0.5) * (threshold - level)
    slope = (threshold - level - jump) / (cross - onset)
    after = t >= onset
    signal = np.full(len(t), level)
    signal[after] = level + jump + slope * (t[after] - onset)
    noise = _ar1(rng, len(t), 0.04 * level, 0.5)
    return _make("sudden_surge", "degrading", seed, t, signal, noise, threshold, "above", onset, rng)


GENERATORS: dict[str, Callable[[int], Scenario]] = {
    "steady_traffic": steady_traffic,
    "daily_seasonality": daily_seasonality,
    "noisy_flat": noisy_flat,
    "slow_climb": slow_climb,
    "sudden_surge": sudden_surge,
}
