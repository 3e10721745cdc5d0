"""Is there a season, and how long is it? Decided from the autocorrelation of the detrended series.

Why only calendar periods (an hour, a day, a week): operational metrics follow clocks (traffic by
time of day, hourly jobs, weekday cycles); letting any lag compete would find "seasons" in noise and
in slow drifts. A period counts when the history holds at least two full cycles, its
autocorrelation is clearly positive, and it is a peak rather than the tail of a slow drift (it
beats the autocorrelation half a period earlier by a margin): a random walk or a slow climb has a
high but falling autocorrelation, a real cycle has a trough at half a period and a peak at one.
"""

from __future__ import annotations

import numpy as np

CALENDAR_PERIODS_S = (3600.0, 86400.0, 604800.0)
MIN_ACF = 0.3
MIN_PEAK_MARGIN = 0.2
MIN_STEPS_PER_CYCLE = 4


def _autocorr(x: np.ndarray, lags: list[int]) -> dict[int, float]:
    x = x - x.mean()
    denom = float(x @ x)
    if denom <= 0:
        return dict.fromkeys(lags, 0.0)
    n = len(x)
    size = 1 << (2 * n - 1).bit_length()
    spec = np.fft.rfft(x, size)
    acov = np.fft.irfft(spec * np.conj(spec), size)[:n]
    return {lag: float(acov[lag] / denom) for lag in lags}


def detect_season(values: np.ndarray, step_s: float, periods_s: tuple[float, ...] = CALENDAR_PERIODS_S
                  ) -> tuple[int, float] | None:
    """(period in steps, autocorrelation) of the strongest qualifying season, or None."""
    n = len(values)
    candidates = []
    for period in periods_s:
        m = int(round(period / step_s))
        if m < MIN_STEPS_PER_CYCLE or n < 2 * m or abs(m * step_s - period) > 0.05 * period:
            continue
        candidates.append(m)
    if not candidates:
        return None
    t = np.arange(n, dtype=float)
    slope, intercept = np.polyfit(t, values, 1)
    resid = values - (slope * t + intercept)
    lags = sorted({m for m in candidates} | {m // 2 for m in candidates})
    acf = _autocorr(resid, lags)
    best: tuple[int, float] | None = None
    for m in candidates:
        r = acf[m]
        if r >= MIN_ACF and r - acf[m // 2] >= MIN_PEAK_MARGIN and (best is None or r > best[1]):
            best = (m, r)
    return best
