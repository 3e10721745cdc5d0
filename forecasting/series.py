"""Turn raw metric points into a regular series the models can use.

Why: metric back ends return points at irregular times, with gaps, duplicates, nulls and sometimes
out of order; every forecasting model here assumes one value per fixed step. We bucket the points
on a grid anchored at the newest timestamp (so the forecast origin is "now", not a rounded time),
average each bucket, and fill empty buckets by linear interpolation in time. How much was filled is
reported, because interpolated points make residuals look calmer than they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

# Millisecond timestamps (Datadog's pointlists use them) are above this; unix seconds are not
# until the year 5138.
_MS_TIMESTAMP = 1e11
MIN_POINTS = 3
# Grids longer than this keep only their most recent steps: it bounds the cost of a forecast
# (two weeks of 5-minute steps fit) and older history rarely helps a two-hour forecast.
MAX_STEPS = 5000


class ForecastError(ValueError):
    """Input that cannot be forecast, with a message meant for the person who sent it."""


@dataclass(frozen=True)
class RegularSeries:
    """Values on a regular grid: `times[i] = end - (n - 1 - i) * step`."""

    end: float
    step: float
    values: np.ndarray
    observed: np.ndarray  # bool per step: True when at least one raw point fell in the bucket
    warnings: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def times(self) -> np.ndarray:
        return self.end - self.step * np.arange(self.n - 1, -1, -1, dtype=float)

    @property
    def filled_fraction(self) -> float:
        return float(1.0 - self.observed.mean()) if self.n else 0.0


def to_arrays(points: Iterable[Sequence[object]] | np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(timestamps, values, dropped) from `[[ts, value], ...]`; nulls and non-finite pairs dropped.

    Raises ForecastError naming the first malformed element, so a CLI user can find it.
    """
    if isinstance(points, np.ndarray):
        arr = np.asarray(points, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ForecastError(f"expected an array of [timestamp, value] pairs, got shape {arr.shape}")
    else:
        if isinstance(points, str | bytes | dict):
            raise ForecastError("expected a list of [timestamp, value] pairs")
        rows = []
        for i, item in enumerate(points):
            if isinstance(item, str | bytes | dict) or not isinstance(item, Sequence) or len(item) != 2:
                raise ForecastError(f"point {i} is not a [timestamp, value] pair: {item!r:.80}")
            ts, value = item
            rows.append((_number(ts, i, "timestamp"), _number(value, i, "value")))
        arr = np.array(rows, dtype=float).reshape(-1, 2)
    ok = np.isfinite(arr).all(axis=1)
    return arr[ok, 0], arr[ok, 1], int((~ok).sum())


def _number(x: object, i: int, what: str) -> float:
    if x is None:
        return math.nan
    if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
        raise ForecastError(f"point {i}: {what} must be a number, got {x!r:.40}")
    return float(x)


def infer_step(ts: np.ndarray, horizon_s: float, steps_per_horizon: int = 24) -> float:
    """Default step: `horizon / 24`, never finer than the data's median spacing.

    Why: 24 steps resolve a crossing time to a few minutes for a 2 h horizon, and bucketing raw
    points that are finer than that averages away noise the forecast cannot use anyway.
    """
    spacing = float(np.median(np.diff(ts))) if len(ts) > 1 else horizon_s
    return max(horizon_s / steps_per_horizon, spacing, 1e-9)


def regularize(
    points: Iterable[Sequence[object]] | np.ndarray,
    horizon_s: float,
    step_s: float | None = None,
    max_steps: int = MAX_STEPS,
) -> RegularSeries:
    """Clean, sort, de-duplicate and bucket `points` onto a regular grid ending at the last point."""
    ts, vals, dropped = to_arrays(points)
    warnings: list[str] = []
    if dropped:
        warnings.append(f"dropped {dropped} point(s) with a null or non-finite timestamp or value")
    if len(ts) and np.all(ts > _MS_TIMESTAMP):
        ts = ts / 1000.0
        warnings.append("timestamps looked like milliseconds; converted to seconds")
    order = np.argsort(ts, kind="stable")
    ts, vals = ts[order], vals[order]
    distinct = len(np.unique(ts))
    if distinct < MIN_POINTS:
        raise ForecastError(
            f"need at least {MIN_POINTS} points with distinct timestamps and finite values, got {distinct}"
        )
    step = float(step_s) if step_s else infer_step(np.unique(ts), horizon_s)
    if not (step > 0 and math.isfinite(step)):
        raise ForecastError(f"step must be a positive number of seconds, got {step_s!r}")
    end = float(ts[-1])
    span = end - float(ts[0])
    n = int(math.floor(span / step + 1e-9)) + 1
    if n > max_steps:
        warnings.append(f"kept the most recent {max_steps} steps of {n}")
        n = max_steps
    # Bucket i covers (end - (n-i)*step, end - (n-1-i)*step]; index from the newest point backwards.
    back = np.floor((end - ts) / step + 1e-9).astype(np.int64)  # 0 for the newest bucket
    keep = back < n
    idx = (n - 1) - back[keep]
    sums = np.bincount(idx, weights=vals[keep], minlength=n)
    counts = np.bincount(idx, minlength=n)
    observed = counts > 0
    if observed.sum() < MIN_POINTS:
        raise ForecastError(
            f"only {int(observed.sum())} step(s) of {step:g}s hold data; use a smaller --step "
            f"(need at least {MIN_POINTS})"
        )
    values = np.empty(n)
    values[observed] = sums[observed] / counts[observed]
    if not observed.all():
        grid = np.arange(n)
        values[~observed] = np.interp(grid[~observed], grid[observed], values[observed])
        filled = 1.0 - observed.mean()
        if filled > 0.5:
            warnings.append(
                f"{filled:.0%} of the {step:g}s steps had no data and were interpolated; "
                "a coarser step would be more honest"
            )
    return RegularSeries(end=end, step=step, values=values, observed=observed, warnings=warnings)
