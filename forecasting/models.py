"""The candidate models. Each one turns a regular series into a predictive distribution per step.

Every model answers with the same thing, a location-scale Student-t per future step (`Prediction`):
intervals and crossing probabilities are then computed one way for all of them. The variances are
the textbook ones for each model, not heuristics:

- `LevelModel`: simple exponential smoothing, ETS(A,N,N). Variance at step h is
  sigma^2 (1 + (h-1) alpha^2) (Hyndman et al., *Forecasting with Exponential Smoothing*, 2008,
  class 1). alpha is picked on a grid by one-step squared error; the recursion runs in C through
  `scipy.signal.lfilter`, so the whole grid costs about a millisecond.
- `TrendModel`: a Theil-Sen line (median of pairwise slopes: a few spikes cannot tilt it) on the
  most recent `window` steps, with AR(1) errors. Point forecast = line + rho^h * last residual;
  variance = sigma^2 (1 - rho^(2h)) for the noise still to come plus the OLS prediction variance of
  the line, sigma^2 (1/n + (x - mean x)^2 / Sxx), inflated by (1 + rho) / (1 - rho) because
  autocorrelated residuals carry fewer independent observations than points. Degrees of freedom =
  effective sample size - 2, so short windows get honest, wide intervals.
- `HoltWintersModel`: additive Holt-Winters with damped trend, ETS(A,Ad,A), fitted by statsmodels'
  `ExponentialSmoothing` (heuristic initial states, no brute-force start: ten times faster, same
  optimum on our data). Variance = sigma^2 (1 + sum_{j<h} c_j^2), c_j = alpha (1 + beta phi_j) +
  gamma [j mod m == 0], phi_j = phi + ... + phi^j (Hyndman et al. 2008, table 6.2), where statsmodels'
  `smoothing_trend` is the beta of the component form (beta* in the state-space form).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter

_ALPHAS = np.unique(np.concatenate([np.geomspace(0.005, 0.3, 16), np.linspace(0.35, 1.0, 8)]))
# Theil-Sen costs O(n^2) pairs; longer windows are thinned to this many evenly spaced points.
_MAX_THEIL_SEN_POINTS = 400


@dataclass(frozen=True)
class Prediction:
    """Student-t predictive distribution per step: location `mean`, scale `scale`, `dof`."""

    mean: np.ndarray
    scale: np.ndarray
    dof: float


@dataclass
class Fitted:
    """A model fitted to one series; `predict(h)` gives the next h steps."""

    name: str
    params: dict[str, float] = field(default_factory=dict)
    _predict: object = None

    def predict(self, h: int) -> Prediction:
        return self._predict(h)  # type: ignore[operator]


def _sigma(sse: float, dof: int) -> float:
    return float(np.sqrt(max(sse, 0.0) / max(dof, 1)))


class LevelModel:
    """Flat forecast at the smoothed current level: the default when nothing else is supported."""

    name = "level"
    complexity = 0
    min_points = 3

    def fit(self, y: np.ndarray, reuse: Fitted | None = None) -> Fitted:
        n = len(y)
        init = float(np.mean(y[: min(n, 12)]))
        alphas = [reuse.params["alpha"]] if reuse else _ALPHAS
        best = None
        for alpha in alphas:
            level = lfilter([alpha], [1.0, alpha - 1.0], y, zi=[(1.0 - alpha) * init])[0]
            prev = np.concatenate(([init], level[:-1]))
            sse = float(np.sum((y[1:] - prev[1:]) ** 2))
            if best is None or sse < best[1] - 1e-12 * max(1.0, best[1]):
                best = (float(alpha), sse, float(level[-1]))
        alpha, sse, last = best  # type: ignore[misc]
        sigma = _sigma(sse, n - 2)
        dof = float(max(n - 2, 1))

        def predict(h: int) -> Prediction:
            steps = np.arange(1, h + 1, dtype=float)
            return Prediction(np.full(h, last), sigma * np.sqrt(1.0 + (steps - 1.0) * alpha**2), dof)

        return Fitted(self.name, {"alpha": alpha, "level": last, "sigma": sigma}, predict)


def _theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if len(x) > _MAX_THEIL_SEN_POINTS:
        pick = np.linspace(0, len(x) - 1, _MAX_THEIL_SEN_POINTS).round().astype(int)
        xs, ys = x[pick], y[pick]
    else:
        xs, ys = x, y
    i, j = np.triu_indices(len(xs), k=1)
    slope = float(np.median((ys[j] - ys[i]) / (xs[j] - xs[i])))
    intercept = float(np.median(y - slope * x))
    return slope, intercept


class TrendModel:
    """A straight line through the recent window, robust to spikes, with AR(1) residuals."""

    name = "linear_trend"
    complexity = 1
    min_points = 5

    def __init__(self, window: int):
        self.window = int(window)

    def fit(self, y: np.ndarray, reuse: Fitted | None = None) -> Fitted:
        yw = y[-self.window:]
        n = len(yw)
        x = np.arange(n, dtype=float)
        slope, intercept = _theil_sen(x, yw)
        resid = yw - (intercept + slope * x)
        sigma = _sigma(float(resid @ resid), n - 2)
        rho = 0.0
        centered = resid - resid.mean()
        denom = float(centered @ centered)
        if denom > 0 and n > 3:
            rho = float(np.clip((centered[1:] @ centered[:-1]) / denom, 0.0, 0.95))
        inflation = (1.0 + rho) / (1.0 - rho)
        n_eff = n / inflation
        xbar = x.mean()
        sxx = float(((x - xbar) ** 2).sum())
        last_resid = float(resid[-1])
        dof = float(max(n_eff - 2.0, 1.0))

        def predict(h: int) -> Prediction:
            steps = np.arange(1, h + 1, dtype=float)
            xh = (n - 1) + steps
            decay = rho**steps
            mean = intercept + slope * xh + decay * last_resid
            param_var = inflation * (1.0 / n + (xh - xbar) ** 2 / sxx)
            var = sigma**2 * ((1.0 - decay**2) + param_var)
            return Prediction(mean, np.sqrt(var), dof)

        params = {"slope_per_step": slope, "window_steps": float(n), "rho": rho, "sigma": sigma}
        return Fitted(self.name, params, predict)


class HoltWintersModel:
    """Additive Holt-Winters (damped trend) for series with a detected season of `period` steps."""

    name = "holt_winters"
    complexity = 2

    def __init__(self, period: int):
        self.period = int(period)
        self.min_points = 2 * self.period + 2

    def fit(self, y: np.ndarray, reuse: Fitted | None = None) -> Fitted:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        m = self.period
        model = ExponentialSmoothing(
            y, trend="add", damped_trend=True, seasonal="add", seasonal_periods=m,
            initialization_method="heuristic",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if reuse is not None:
                p = reuse.params
                res = model.fit(
                    smoothing_level=p["alpha"], smoothing_trend=p["beta"], smoothing_seasonal=p["gamma"],
                    damping_trend=p["phi"], optimized=False,
                )
            else:
                res = model.fit(use_brute=False)
        alpha = float(res.params["smoothing_level"])
        beta = float(res.params["smoothing_trend"])
        gamma = float(res.params["smoothing_seasonal"])
        phi = float(res.params["damping_trend"])
        n = len(y)
        sigma = _sigma(float(res.sse), n - 4)
        forecast = res.forecast

        def predict(h: int) -> Prediction:
            mean = np.asarray(forecast(h), dtype=float)
            j = np.arange(1, h, dtype=float)
            phi_j = j if phi >= 1.0 else phi * (1.0 - phi**j) / (1.0 - phi)
            c = alpha * (1.0 + beta * phi_j) + gamma * (np.arange(1, h) % m == 0)
            var = sigma**2 * (1.0 + np.concatenate(([0.0], np.cumsum(c**2))))
            return Prediction(mean, np.sqrt(var), float(max(n - 4, 1)))

        params = {"alpha": alpha, "beta": beta, "gamma": gamma, "phi": phi, "period_steps": float(m),
                  "sigma": sigma}
        return Fitted(self.name, params, predict)
