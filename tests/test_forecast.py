"""The forecaster on synthetic series with known answers, and on input that tries to break it."""

from __future__ import annotations

import json
import math
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasting import ForecastError, forecast, format_duration, parse_duration
from forecasting.holt_winters import fit_holt_winters
from forecasting.prediction import Prediction
from forecasting.series import regularize

T0 = 1_700_000_000.0
MIN = 60.0
HOUR = 3600.0
DAY = 86400.0


def series(values: np.ndarray, spacing: float = MIN, start: float = T0) -> np.ndarray:
    return np.column_stack([start + spacing * np.arange(len(values)), values])


# --- known answers ---------------------------------------------------------------------------------


def test_linear_ramp_crossing_time_and_probability():
    rng = np.random.default_rng(1)
    n = 12 * 60  # 12 h of one-minute points
    pts = series(50 + 0.1 * np.arange(n) + rng.normal(0, 1.0, n))  # +6 per hour
    last_level = 50 + 0.1 * (n - 1)
    threshold = last_level + 8.0  # reached 80 minutes after the last point
    fc = forecast(pts, 2 * HOUR, threshold=threshold)
    assert fc.method == "linear_trend"
    assert fc.crossing_in_s == pytest.approx(80 * MIN, abs=8 * MIN)
    assert fc.probability > 0.9
    assert fc.params["slope_per_hour"] == pytest.approx(6.0, rel=0.05)
    # A threshold the ramp only reaches after the horizon: no crossing, probability below one half.
    later = forecast(pts, 2 * HOUR, threshold=last_level + 20.0)
    assert later.crossing_time is None and later.probability < 0.5


def test_falling_series_crosses_a_below_threshold():
    rng = np.random.default_rng(2)
    n = 8 * 60
    pts = series(0.9 - 0.0005 * np.arange(n) + rng.normal(0, 0.003, n))  # free memory, -3%/h
    fc = forecast(pts, 2 * HOUR, threshold=0.9 - 0.0005 * (n - 1) - 0.045, direction="below")
    assert fc.crossing_in_s == pytest.approx(90 * MIN, abs=10 * MIN)
    assert fc.probability > 0.9
    assert forecast(pts, 2 * HOUR, threshold=0.2, direction="below").probability < 0.01


def test_flat_noise_gives_low_probability_and_no_crossing():
    rng = np.random.default_rng(3)
    pts = series(100 + rng.normal(0, 5, 6 * 60))
    fc = forecast(pts, 2 * HOUR, threshold=125)  # 5 sigma of a raw point
    assert fc.method == "level"
    assert fc.crossing_time is None
    assert fc.probability < 0.02
    assert np.allclose(fc.mean, 100, atol=2.0)


def test_climb_after_a_flat_stretch_is_caught_early():
    """Twelve flat hours, then a leak that started 90 minutes ago: the change point is found."""
    rng = np.random.default_rng(4)
    n = 14 * 60
    onset = n - 90
    y = 40 + 0.05 * np.maximum(np.arange(n) - onset, 0) + rng.normal(0, 0.5, n)  # +3 per hour
    pts = series(y)
    fc = forecast(pts, 2 * HOUR, threshold=48.5)  # true crossing at 40 + 3 * (1.5 + t) = 48.5 -> t = 1.33 h
    assert fc.method == "linear_trend"
    assert fc.crossing_in_s == pytest.approx(80 * MIN, abs=15 * MIN)
    assert fc.params["change_time"] == pytest.approx(pts[onset, 0], abs=20 * MIN)


def test_a_level_shift_is_not_a_trend():
    """A deploy bumps latency once; it is flat since. The forecast stays flat, no alarm."""
    rng = np.random.default_rng(5)
    n = 10 * 60
    y = 200 + 60 * (np.arange(n) >= n - 120) + rng.normal(0, 4, n)
    fc = forecast(series(y), 2 * HOUR, threshold=300)
    assert fc.probability < 0.05
    assert np.allclose(fc.mean, 260, atol=6)


def test_seasonal_series_uses_holt_winters_and_intervals_cover():
    """Daily cycle, 15-minute points, 4 days: interval coverage over many origins near nominal."""
    rng = np.random.default_rng(6)
    m = 96
    n = 4 * m
    t = np.arange(n)
    y = 500 + 150 * np.sin(2 * np.pi * t / m) + rng.normal(0, 15, n)
    pts = series(y, spacing=900.0)
    inside: dict[float, list[bool]] = {0.8: [], 0.95: []}
    for origin in range(n - m, n - 8, 4):
        fc = forecast(pts[: origin + 1], 2 * HOUR)
        assert fc.method == "holt_winters" and fc.season_s == DAY
        actual = y[origin + 1: origin + 9]
        for level, (lo, hi) in fc.intervals.items():
            inside[level].extend((actual >= lo) & (actual <= hi))
    print({lv: np.mean(v) for lv, v in inside.items()})
    assert 0.7 <= np.mean(inside[0.8]) <= 0.92
    assert 0.88 <= np.mean(inside[0.95]) <= 1.0
    assert forecast(pts, 2 * HOUR, threshold=800).probability < 0.01


def test_holt_winters_matches_statsmodels_point_forecast():
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    rng = np.random.default_rng(7)
    m, n = 24, 24 * 6
    y = 100 + 20 * np.sin(2 * np.pi * np.arange(n) / m) + 0.05 * np.arange(n) + rng.normal(0, 2, n)
    ours = fit_holt_winters(y, m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ExponentialSmoothing(y[-ours.n:], trend="add", damped_trend=True, seasonal="add",
                                   seasonal_periods=m, initialization_method="heuristic").fit(use_brute=False)
    mine = ours.predict(m - 1).means[0]  # h < m: statsmodels 0.15.0 reads a stale season at h = m
    assert np.allclose(mine, ref.forecast(m - 1), rtol=1e-6)


def test_holt_winters_variance_matches_simulation_of_the_fitted_recursion():
    """The analytic variance agrees with Monte Carlo runs of statsmodels' component-form recursion."""
    rng = np.random.default_rng(8)
    m, n = 12, 12 * 8
    y = 50 + 10 * np.sin(2 * np.pi * np.arange(n) / m) + np.cumsum(rng.normal(0, 0.5, n)) + rng.normal(0, 1, n)
    fit = fit_holt_winters(y, m)
    h, reps = 30, 20000
    a, b, g, phi = fit.alpha, fit.beta, fit.gamma, fit.phi
    lvl = np.full(reps, fit.level)
    trend = np.full(reps, fit.trend)
    season = np.tile(fit.season, (reps, 1))
    paths = np.empty((reps, h))
    for k in range(h):
        s = season[:, k % m].copy()
        yk = lvl + phi * trend + s + rng.normal(0, fit.sigma, reps)
        new_lvl = a * (yk - s) + (1 - a) * (lvl + phi * trend)
        new_trend = b * (new_lvl - lvl) + (1 - b) * phi * trend
        season[:, k % m] = g * (yk - lvl - phi * trend) + (1 - g) * s
        lvl, trend = new_lvl, new_trend
        paths[:, k] = yk
    pred = fit.predict(h)
    assert np.allclose(paths.mean(axis=0), pred.means[0], atol=5 * paths.std(axis=0).max() / math.sqrt(reps))
    assert np.allclose(paths.std(axis=0), pred.scales[0], rtol=0.04)


def test_mixture_quantiles_invert_the_cdf():
    a = Prediction.single(np.zeros(5), np.ones(5), 8.0)
    b = Prediction.single(np.full(5, 4.0), np.full(5, 2.0), math.inf)
    mix = Prediction.mixture([(0.3, a), (0.7, b)])
    for p in (0.025, 0.1, 0.5, 0.9, 0.975):
        assert np.allclose(mix.cdf(mix.quantile(p)), p, atol=1e-6)


def test_probability_and_crossing_time_agree():
    """P >= 0.5 exactly when the point forecast (the predictive median) crosses within the horizon."""
    rng = np.random.default_rng(9)
    for seed in range(12):
        r = np.random.default_rng(seed)
        n = int(r.integers(60, 600))
        y = r.normal(0, 1, n).cumsum() * r.uniform(0.1, 2) + r.uniform(-0.05, 0.05) * np.arange(n)
        pts = series(y, spacing=float(r.choice([30.0, 60.0, 300.0])))
        thr = float(y[-1] + rng.normal(0, 3))
        for direction in ("above", "below"):
            fc = forecast(pts, 2 * HOUR, threshold=thr, direction=direction)
            assert (fc.probability >= 0.5) == (fc.crossing_time is not None), (seed, direction, fc.probability)


def test_probability_falls_as_the_threshold_moves_away():
    rng = np.random.default_rng(10)
    pts = series(20 + 0.02 * np.arange(600) + rng.normal(0, 1, 600))
    probs = [forecast(pts, 2 * HOUR, threshold=thr).probability for thr in (30, 33, 36, 40, 50)]
    assert all(a >= b for a, b in zip(probs, probs[1:], strict=False))
    assert probs[0] > 0.99 and probs[-1] < 0.01


# --- robustness ------------------------------------------------------------------------------------


def test_short_series_work_and_too_short_is_a_clear_error():
    fc = forecast([[T0, 1.0], [T0 + 60, 2.0], [T0 + 120, 3.0]], 600, threshold=10)
    assert len(fc.mean) >= 1 and 0 <= fc.probability <= 1
    with pytest.raises(ForecastError, match="at least 3 points"):
        forecast([[T0, 1.0], [T0 + 60, 2.0]], 600)
    with pytest.raises(ForecastError, match="at least 3 points"):
        forecast([], 600)


def test_constant_series():
    pts = series(np.full(200, 42.0))
    below = forecast(pts, HOUR, threshold=50)
    assert below.probability < 1e-12 and below.crossing_time is None
    assert np.allclose(below.mean, 42.0)
    lo, hi = below.intervals[0.95]
    assert np.allclose(lo, 42.0) and np.allclose(hi, 42.0)
    over = forecast(pts, HOUR, threshold=41.9)
    assert over.probability == pytest.approx(1.0) and over.crossing_in_s == 0.0
    at = forecast(pts, HOUR, threshold=42.0)  # on the threshold: reached now, a coin flip for "beyond"
    assert at.crossing_in_s == 0.0 and at.probability == pytest.approx(0.5, abs=1e-6)
    json.dumps(at.to_dict(), allow_nan=False)


def test_nans_and_nulls_are_dropped_with_a_warning():
    rng = np.random.default_rng(11)
    y = 10 + rng.normal(0, 1, 300)
    pts = series(y).tolist()
    dirty = [list(p) for p in pts]
    for i in (5, 50, 150, 299):
        dirty[i][1] = None if i % 2 else math.nan
    dirty.append([math.nan, 3.0])
    fc = forecast(dirty, HOUR, threshold=20)
    assert any("dropped 5" in w for w in fc.warnings)
    assert np.all(np.isfinite(fc.mean))
    with pytest.raises(ForecastError):
        forecast([[T0 + i, math.nan] for i in range(10)], HOUR)


def test_unsorted_and_duplicate_timestamps_give_the_same_answer():
    rng = np.random.default_rng(12)
    pts = series(5 + 0.01 * np.arange(400) + rng.normal(0, 0.2, 400))
    clean = forecast(pts, HOUR, threshold=12)
    shuffled = pts[rng.permutation(len(pts))]
    doubled = np.vstack([shuffled, pts[::7]])  # exact duplicates average to the same bucket means
    messy = forecast(doubled.tolist(), HOUR, threshold=12)
    assert np.allclose(messy.mean, clean.mean, rtol=1e-3)
    assert messy.probability == pytest.approx(clean.probability, abs=1e-3)


def test_irregular_spacing_and_a_long_gap_are_resampled():
    rng = np.random.default_rng(13)
    t = np.sort(T0 + rng.uniform(0, 10 * HOUR, 900))
    t = t[(t < T0 + 3 * HOUR) | (t > T0 + 6 * HOUR)]  # three hours missing
    pts = np.column_stack([t, 100 + rng.normal(0, 2, len(t))])
    fc = forecast(pts, 2 * HOUR, threshold=150, step_s=300)
    assert fc.step == 300 and len(fc.mean) == 24
    assert fc.probability < 0.01
    rs = regularize(pts, 2 * HOUR, 300)
    assert 0.25 < rs.filled_fraction < 0.4


def test_millisecond_timestamps_are_converted():
    pts = series(np.linspace(0, 10, 100))
    ms = pts.copy()
    ms[:, 0] *= 1000
    a, b = forecast(pts, HOUR), forecast(ms, HOUR)
    assert np.allclose(a.mean, b.mean) and a.origin == b.origin
    assert any("milliseconds" in w for w in b.warnings)


def test_scale_invariance():
    rng = np.random.default_rng(14)
    y = 3 + 0.002 * np.arange(500) + rng.normal(0, 0.05, 500)
    small, big = forecast(series(y * 1e-9), HOUR), forecast(series(y * 1e9), HOUR)
    assert np.allclose(small.mean * 1e18, big.mean, rtol=1e-6)


@pytest.mark.parametrize(
    "bad, message",
    [
        ("not a list", "list of"),
        ({"a": 1}, "list of"),
        ([[T0, 1], [T0 + 1]], "not a \\[timestamp, value\\] pair"),
        ([[T0, 1], "x", [T0 + 2, 3]], "point 1"),
        ([[T0, "1"], [T0 + 1, 2], [T0 + 2, 3]], "value must be a number"),
        ([[True, 1], [T0 + 1, 2], [T0 + 2, 3]], "timestamp must be a number"),
    ],
)
def test_malformed_points_are_clear_errors(bad, message):
    with pytest.raises(ForecastError, match=message):
        forecast(bad, HOUR)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"horizon_s": 0}, "horizon"),
        ({"horizon_s": math.inf}, "horizon"),
        ({"horizon_s": HOUR, "direction": "up"}, "direction"),
        ({"horizon_s": HOUR, "threshold": math.nan}, "threshold"),
        ({"horizon_s": HOUR, "levels": (1.5,)}, "levels"),
        ({"horizon_s": 30 * DAY, "step_s": 1.0}, "coarser step"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, message):
    with pytest.raises(ForecastError, match=message):
        forecast(series(np.arange(50.0)), **kwargs)


finite = st.floats(allow_nan=True, allow_infinity=True, width=32)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(0, 1e6) | st.just(math.nan), finite), max_size=60),
       st.sampled_from(["above", "below"]))
def test_fuzz_never_crashes(points, direction):
    try:
        fc = forecast([[T0 + t, v] for t, v in points], 1800, threshold=0.0, direction=direction)
    except ForecastError:
        return
    out = fc.to_dict()
    json.dumps(out, allow_nan=False)
    assert 0.0 <= fc.probability <= 1.0


def test_a_few_thousand_points_are_fast():
    """Budget: < 200 ms for a few thousand points. Asserted loosely (shared CI machines)."""
    rng = np.random.default_rng(15)
    n = 4000  # 2.8 days of one-minute points with a daily season: the slowest path (Holt-Winters)
    t = np.arange(n)
    pts = series(100 + 30 * np.sin(2 * np.pi * t / 1440) + rng.normal(0, 3, n))
    forecast(pts, 2 * HOUR, threshold=200)  # warm imports
    cpu = []
    for _ in range(3):
        start = time.process_time()
        fc = forecast(pts, 2 * HOUR, threshold=200)
        cpu.append(time.process_time() - start)
    assert fc.method == "holt_winters"
    assert min(cpu) < 0.5


def test_durations_round_trip():
    assert parse_duration("90m") == 5400 and parse_duration("2h") == 7200 and parse_duration("7200s") == 7200
    assert parse_duration("1h30m") == 5400 and parse_duration(600) == 600
    assert format_duration(7200) == "2h" and format_duration(5400) == "90m" and format_duration(45) == "45s"
    for bad in ("", "2x", "-5m", "0s", "h", "nan"):
        with pytest.raises(ValueError):
            parse_duration(bad)
