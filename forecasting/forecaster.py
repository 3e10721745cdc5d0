"""`forecast()`: clean the series, let the data pick a model, and answer with intervals and risk.

How the model is chosen (documented because it decides what operators are told):
1. The points are put on a regular grid (`series.regularize`: bucket means, gaps interpolated).
   Default step: horizon / 24, never finer than the data's median spacing.
2. Season: the autocorrelation of the detrended series at an hour, a day and a week
   (`seasonality.detect_season`; needs two full cycles of history).
3. Recent window: the last 6 horizons of steps (at least 24, at most 400). On it the structures of
   `segmented` are fitted (level, level shift, straight trend, flat-then-climb, jump-and-climb,
   change of slope, accelerating climb; all with AR(1) errors) and weighted by their BIC evidence
   with the change point integrated out. With a season, the window is first deseasonalised with
   the seasonal states of an additive Holt-Winters fit.
4. The forecast is the evidence-weighted mixture (Bayesian model averaging, BIC approximation):
   - no season: the mixture of all structures; reported `method` is `linear_trend` when the trend
     structures hold at least half the weight, else `level`;
   - season: the flat structures' weight goes to Holt-Winters' own forecast (ETS(A,Ad,A)), the
     trend structures' weight to "that trend + Holt-Winters' seasonal profile"; `method` is
     `seasonal_trend` when trends hold at least half the weight, else `holt_winters`.
   Why evidence rather than a holdout: a holdout judges models on data that ended V steps ago, so
   a climb that began within the last V steps cannot win until it is V steps old (measured: a
   two-hour holdout cost about an hour of lead time). BIC uses every point up to now; integrating
   the change point out and modelling AR(1) errors keeps it from buying trends with noise; and
   averaging instead of picking means a barely supported trend moves the forecast only partly.
5. The point forecast is the predictive median; intervals are predictive quantiles; crossing time
   and probability are defined in `crossing`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from forecasting.crossing import DIRECTIONS, crossing_probability, crossing_time
from forecasting.holt_winters import fit_holt_winters
from forecasting.prediction import Prediction
from forecasting.seasonality import detect_season
from forecasting.segmented import TREND_STRUCTURES, fit_segmented
from forecasting.series import ForecastError, regularize

DEFAULT_LEVELS = (0.8, 0.95)
WINDOW_IN_HORIZONS = 6
MIN_WINDOW = 24
MAX_WINDOW = 400
MAX_HORIZON_STEPS = 2000


@dataclass
class Forecast:
    """A forecast with its intervals and, when a threshold was given, the crossing and its risk."""

    method: str
    params: dict[str, float | None]
    origin: float
    step: float
    horizon_s: float
    times: np.ndarray
    mean: np.ndarray  # the point forecast per step: the predictive median (the mean for one model)
    intervals: dict[float, tuple[np.ndarray, np.ndarray]]
    threshold: float | None
    direction: str
    crossing_time: float | None
    probability: float | None
    season_s: float | None
    structure: str
    weights: dict[str, float]  # posterior weight of each structure on the recent window
    n_steps: int  # length of the regular series the models saw
    warnings: list[str] = field(default_factory=list)

    @property
    def crossing_in_s(self) -> float | None:
        return None if self.crossing_time is None else self.crossing_time - self.origin

    def to_dict(self, level: float | None = None) -> dict[str, object]:
        """JSON-ready dict. `interval` is the one at `level` (default: the widest computed)."""
        level = max(self.intervals) if level is None else float(level)
        if level not in self.intervals:
            raise ForecastError(f"no interval at level {level}; computed: {sorted(self.intervals)}")
        lower, upper = self.intervals[level]
        return {
            "method": self.method,
            "params": {k: _r(v) for k, v in self.params.items()},
            "origin": _r(self.origin),
            "step_s": _r(self.step),
            "horizon_s": _r(self.horizon_s),
            "forecast": [[_r(t), _r(v)] for t, v in zip(self.times, self.mean, strict=True)],
            "interval": {"level": level, "lower": [_r(v) for v in lower], "upper": [_r(v) for v in upper]},
            "intervals": [
                {"level": lv, "lower": [_r(v) for v in lo], "upper": [_r(v) for v in up]}
                for lv, (lo, up) in sorted(self.intervals.items())
            ],
            "threshold": self.threshold,
            "direction": self.direction,
            "crossing_time": _r(self.crossing_time),
            "crossing_in_s": _r(self.crossing_in_s),
            "probability": _r(self.probability),
            "season_s": _r(self.season_s),
            "structure": self.structure,
            "weights": {k: _r(v) for k, v in self.weights.items()},
            "n_steps": self.n_steps,
            "warnings": self.warnings,
        }


def _r(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return float(f"{x:.10g}") if math.isfinite(x) else None


def _check_args(horizon_s: float, threshold: float | None, direction: str, levels: Sequence[float]) -> None:
    if direction not in DIRECTIONS:
        raise ForecastError(f"direction must be 'above' or 'below', got {direction!r}")
    if isinstance(horizon_s, bool) or not isinstance(horizon_s, int | float) or not (
        horizon_s > 0 and math.isfinite(horizon_s)
    ):
        raise ForecastError(f"horizon must be a positive number of seconds, got {horizon_s!r}")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)
                                  or not math.isfinite(threshold)):
        raise ForecastError(f"threshold must be a finite number, got {threshold!r}")
    if not levels:
        raise ForecastError("need at least one interval level")
    for lv in levels:
        if not 0 < lv < 1:
            raise ForecastError(f"interval levels must be between 0 and 1, got {lv!r}")


def forecast(
    points: Iterable[Sequence[object]] | np.ndarray,
    horizon_s: float,
    threshold: float | None = None,
    direction: str = "above",
    step_s: float | None = None,
    levels: Sequence[float] = DEFAULT_LEVELS,
) -> Forecast:
    """Forecast `points` (`[[unix_seconds, value], ...]`) `horizon_s` ahead.

    Raises ForecastError (a ValueError) with a user-facing message for unusable input.
    """
    _check_args(horizon_s, threshold, direction, levels)
    series = regularize(points, horizon_s, step_s)
    h = int(math.ceil(horizon_s / series.step - 1e-9))
    if h > MAX_HORIZON_STEPS:
        raise ForecastError(
            f"the horizon is {h} steps of {series.step:g}s; use a coarser step (at most {MAX_HORIZON_STEPS})"
        )
    y = series.values
    n = len(y)
    window = min(n, max(MIN_WINDOW, min(MAX_WINDOW, WINDOW_IN_HORIZONS * h)))
    recent = y[-window:]
    season = detect_season(y, series.step)
    warnings = list(series.warnings)
    hw = None
    if season is not None:
        try:
            hw = fit_holt_winters(y, season[0])
        except (ValueError, np.linalg.LinAlgError) as exc:
            warnings.append(f"season found but Holt-Winters failed ({exc}); forecasting without it")
    seg = fit_segmented(recent if hw is None else recent - hw.seasonal_at(np.arange(-window + 1, 1)))
    trend_w = seg.trend_weight
    params: dict[str, float | None] = {}
    if hw is None:
        pred = seg.predict(h)
        method = "linear_trend" if trend_w >= 0.5 else "level"
    else:
        # Flat structures on the deseasonalised window mean Holt-Winters' own forecast stands;
        # trend structures carry Holt-Winters' seasonal profile on top of their line.
        parts = [(1.0 - trend_w, hw.predict(h))]
        if trend_w > 0:
            parts.append((trend_w, seg.predict(h, TREND_STRUCTURES).shifted(hw.seasonal_at(np.arange(1, h + 1)))))
        pred = Prediction.mixture(parts)
        method = "seasonal_trend" if trend_w >= 0.5 else "holt_winters"
        params.update({f"hw_{k}": v for k, v in hw.params.items()})
    dom = seg.dominant
    change = None if dom.tau is None else float(series.end - (window - 1 - dom.tau) * series.step)
    params.update({
        "trend_weight": trend_w,
        "slope_per_hour": dom.slope * 3600.0 / series.step,
        "rho": dom.rho,
        "sigma": dom.sigma_u,
        "change_time": change,
    })
    lv = [float(v) for v in levels]
    qs = pred.quantiles([0.5, *(0.5 - v / 2 for v in lv), *(0.5 + v / 2 for v in lv)])
    point = qs[0]
    intervals = {v: (qs[1 + i], qs[1 + len(lv) + i]) for i, v in enumerate(lv)}
    times = series.end + series.step * np.arange(1, h + 1, dtype=float)
    cross = prob = None
    if threshold is not None:
        threshold = float(threshold)
        cross = crossing_time(series.end, float(y[-1]), times, point, threshold, direction)
        prob = crossing_probability(pred, threshold, direction)
    return Forecast(
        method=method,
        params=params,
        origin=series.end,
        step=series.step,
        horizon_s=float(horizon_s),
        times=times,
        mean=point,
        intervals=intervals,
        threshold=threshold,
        direction=direction,
        crossing_time=cross,
        probability=prob,
        season_s=None if season is None else season[0] * series.step,
        structure=dom.structure,
        weights={k: round(v, 6) for k, v in seg.weights.items()},
        n_steps=n,
        warnings=warnings,
    )
