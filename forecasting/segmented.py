"""Level and trend on the recent window: regressions with AR(1) errors and an optional change point.

Why this shape: the failures worth predicting start somewhere. Memory is flat, then a leak begins;
latency jumps at a surge and keeps climbing. A straight line over the whole window is pulled flat by
the hours before the onset, and a model whose parameters were learned on a calm history reacts
hours late. So the structures compared here are the ones an SRE would draw on the chart:

    level         y = c                                   (nothing is happening)
    level_shift   y = c + d [x >= tau]                    (a step, then flat: a deploy, not a trend)
    trend         y = c + b x                             (a drift across the whole window)
    hinge         y = c + b (x - tau)+                    (flat, then a climb from tau)
    shift_hinge   y = c + d [x >= tau] + b (x - tau)+     (a jump at tau and a climb after it)
    kink          y = c + a x + b (x - tau)+              (a drift whose slope changed at tau)
    curve         y = c + b (x - tau)+ + q (x - tau)+^2   (flat, then a climb that accelerates or
                                                           levels off: saturation)

each with AR(1) errors (metrics wander; treating them as independent would call every wander a
trend). Fitting is Prais-Winsten GLS (rho from the OLS residuals), so the likelihoods are exact for
AR(1) errors and comparable. The structures are not picked one-and-done but averaged with weights
from their BIC evidence, the change point integrated out (`fit_segmented`): a barely-better trend
gets about half the weight. Before fitting, a Hampel filter replaces isolated spikes (more than 5
MADs from the median of their 7 neighbours) so a single bad scrape can neither tilt a line nor fake
a step. Each structure forecasts its extrapolation plus rho^h times the last residual; its variance
is the AR(1) noise still to come, sigma_u^2 (1 - rho^(2h)) / (1 - rho^2), plus the parameter
uncertainty x' Cov(beta) x, so a slope estimated from a few points gets a wide interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.special import logsumexp

from forecasting.prediction import Prediction

STRUCTURES = ("level", "level_shift", "trend", "hinge", "shift_hinge", "kink", "curve")
TREND_STRUCTURES = frozenset({"trend", "hinge", "shift_hinge", "kink", "curve"})
MAX_RHO = 0.95
MIN_AFTER_SHIFT = 3
# A straight climb may be believed after 4 steps (20 minutes at the default step): its evidence
# is integrated over every change point, so a short wiggle buys little weight.
MIN_AFTER_SLOPE = 4
# Acceleration only shows over a long stretch, and a quadratic fitted to a short one extrapolates
# noise explosively (at 12 steps it caused most false alarms on flat benchmark series): a curve
# needs 24 steps after its start, two hours at the default step.
MIN_AFTER_CURVE = 24
MIN_BEFORE = 3
HAMPEL_HALF_WIDTH = 3
HAMPEL_MADS = 5.0


@dataclass(frozen=True)
class SegmentFit:
    structure: str
    tau: int | None
    beta: np.ndarray
    cov: np.ndarray
    rho: float
    sigma_u: float
    bic: float  # at the best change point
    log_evidence: float  # BIC approximation, the change point integrated out
    n: int
    last_resid: float

    @property
    def has_trend(self) -> bool:
        return self.structure in TREND_STRUCTURES

    @property
    def slope(self) -> float:
        """Slope per step of the final segment (0 for flat structures)."""
        if self.structure == "kink":
            return float(self.beta[1] + self.beta[2])
        if self.structure == "curve":  # the slope at the last observation
            return float(self.beta[1] + 2 * self.beta[2] * (self.n - 1 - self.tau))
        return float(self.beta[-1]) if self.has_trend else 0.0

    def predict(self, h: int) -> Prediction:
        steps = np.arange(1, h + 1, dtype=float)
        x = (self.n - 1) + steps
        xf = design(self.structure, self.tau, x)
        decay = self.rho**steps
        mean = xf @ self.beta + decay * self.last_resid
        noise_var = self.sigma_u**2 * (1.0 - decay**2) / (1.0 - self.rho**2)
        param_var = np.einsum("ij,jk,ik->i", xf, self.cov, xf)
        dof = float(max(self.n - len(self.beta) - 2, 1))
        return Prediction.single(mean, np.sqrt(noise_var + param_var), dof)


def design(structure: str, tau: int | None, x: np.ndarray) -> np.ndarray:
    """Design matrix (len(x), k) of `structure` with change point `tau` at positions `x`."""
    taus = None if tau is None else np.array([tau], dtype=float)
    return designs(structure, taus, x)[0]


def designs(structure: str, taus: np.ndarray | None, x: np.ndarray) -> np.ndarray:
    """Stacked design matrices (len(taus) or 1, len(x), k), one per change point."""
    if structure == "level":
        return np.ones((1, len(x), 1))
    if structure == "trend":
        return np.stack([np.ones_like(x), x], axis=-1)[None]
    assert taus is not None
    t = np.asarray(taus, dtype=float)[:, None]
    ones = np.ones((len(t), len(x)))
    step = (x[None, :] >= t).astype(float)
    ramp = np.maximum(x[None, :] - t, 0.0)
    if structure == "level_shift":
        return np.stack([ones, step], axis=-1)
    if structure == "hinge":
        return np.stack([ones, ramp], axis=-1)
    if structure == "kink":
        return np.stack([ones, np.broadcast_to(x, ramp.shape), ramp], axis=-1)
    if structure == "curve":
        return np.stack([ones, ramp, ramp**2], axis=-1)
    return np.stack([ones, step, ramp], axis=-1)


def hampel(y: np.ndarray, half: int = HAMPEL_HALF_WIDTH, n_mads: float = HAMPEL_MADS) -> np.ndarray:
    """Replace isolated spikes by the median of their neighbourhood; steps and trends survive."""
    if len(y) < 2 * half + 1:
        return y
    padded = np.pad(y, half, mode="reflect")
    windows = sliding_window_view(padded, 2 * half + 1)
    med = np.median(windows, axis=1)
    mad = 1.4826 * np.median(np.abs(windows - med[:, None]), axis=1)
    # A floor on the scale from the whole window keeps flat stretches (MAD 0) from flagging noise.
    floor = 1.4826 * np.median(np.abs(np.diff(y))) / math.sqrt(2) if len(y) > 2 else 0.0
    scale = np.maximum(mad, floor)
    out = y.copy()
    spikes = np.abs(y - med) > n_mads * scale
    spikes &= scale > 0
    out[spikes] = med[spikes]
    return out


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.einsum("tkj,tj->tk", np.linalg.pinv(a), b)


def _gls(xm: np.ndarray, y: np.ndarray, scale_floor: float) -> dict[str, np.ndarray]:
    """Prais-Winsten GLS with AR(1) errors for a stack of designs `xm` (T, n, k), all at once.

    rho comes from the OLS residuals (one Cochrane-Orcutt step); the log-likelihood is the exact
    Gaussian AR(1) one at that rho, so structures with different rho stay comparable.
    """
    n, k = xm.shape[1], xm.shape[2]
    xmt = xm.transpose(0, 2, 1)
    beta = _solve(xmt @ xm, xmt @ y)
    r = y[None, :] - (xm @ beta[:, :, None])[:, :, 0]
    rr = (r * r).sum(axis=1)
    lag = (r[:, 1:] * r[:, :-1]).sum(axis=1)
    rho = np.where(rr > scale_floor**2 * n, np.clip(lag / np.maximum(rr, 1e-300), 0.0, MAX_RHO), 0.0)
    w = np.sqrt(1.0 - rho**2)
    ys = np.concatenate([(w * y[0])[:, None], y[None, 1:] - rho[:, None] * y[None, :-1]], axis=1)
    xs = np.concatenate([w[:, None, None] * xm[:, :1], xm[:, 1:] - rho[:, None, None] * xm[:, :-1]], axis=1)
    xst = xs.transpose(0, 2, 1)
    xtx = xst @ xs
    beta = _solve(xtx, (xst @ ys[:, :, None])[:, :, 0])
    u = ys - (xs @ beta[:, :, None])[:, :, 0]
    sse = np.maximum((u * u).sum(axis=1), n * scale_floor**2)
    loglik = -0.5 * n * (np.log(2 * np.pi * sse / n) + 1.0) + 0.5 * np.log(1.0 - rho**2)
    sigma_u = np.sqrt(sse / max(n - k, 1))
    try:
        xtx_inv = np.linalg.inv(xtx)
    except np.linalg.LinAlgError:
        xtx_inv = np.linalg.pinv(xtx)
    last = y[-1] - (xm[:, -1] * beta).sum(axis=1)
    return {"beta": beta, "cov": xtx_inv * (sigma_u**2)[:, None, None], "rho": rho, "sigma_u": sigma_u,
            "loglik": loglik, "last": last}


def _fit_structure(structure: str, taus: np.ndarray | None, x: np.ndarray, y: np.ndarray,
                   floor: float) -> SegmentFit:
    """Fit `structure` at every change point; keep the best one and the evidence averaged over all.

    BIC_tau = -2 log L + k log n with k = coefficients + sigma + rho. The change point is not a
    free parameter here but integrated out under a uniform prior: log evidence =
    logsumexp(-BIC_tau / 2) - log(number of positions). That is what makes a search over a hundred
    positions pay for itself: a wiggle that one position happens to fit is not evidence.
    """
    xm = designs(structure, taus, x)
    g = _gls(xm, y, floor)
    k = xm.shape[2] + 2
    bic = -2.0 * g["loglik"] + k * math.log(len(y))
    log_ev = float(logsumexp(-0.5 * bic) - math.log(len(bic)))
    i = int(np.argmin(bic))
    return SegmentFit(structure, None if taus is None else int(taus[i]), g["beta"][i], g["cov"][i],
                      float(g["rho"][i]), float(g["sigma_u"][i]), float(bic[i]), log_ev, len(y),
                      float(g["last"][i]))


@dataclass(frozen=True)
class SegmentedModel:
    """Every structure fitted to the window, with its posterior weight (BIC approximation)."""

    fits: dict[str, SegmentFit]
    weights: dict[str, float]

    @property
    def dominant(self) -> SegmentFit:
        return self.fits[max(self.weights, key=lambda s: (self.weights[s], -STRUCTURES.index(s)))]

    @property
    def trend_weight(self) -> float:
        return float(sum(w for s, w in self.weights.items() if s in TREND_STRUCTURES))

    def predict(self, h: int, structures: frozenset[str] | None = None) -> Prediction:
        """BIC-weighted mixture of the structures' predictions (optionally only some of them)."""
        names = [s for s in self.fits if structures is None or s in structures]
        return Prediction.mixture([(self.weights[s], self.fits[s].predict(h)) for s in names])


def fit_segmented(y: np.ndarray, structures: tuple[str, ...] = STRUCTURES) -> SegmentedModel:
    """Fit every structure to `y` (already the recent window) and weight them by their evidence.

    Weights are posterior probabilities, prior times exp(log evidence) normalised (Raftery 1995's
    BIC approximation to Bayesian model averaging), with even prior odds between the flat and the
    trend family: a trend that is barely better than a level gets about half the weight, so it
    cannot by itself push a forecast over a threshold.
    """
    y = hampel(np.asarray(y, dtype=float))
    n = len(y)
    x = np.arange(n, dtype=float)
    # Residual scale floor, relative to the data so that the fit does not depend on units.
    floor = 1e-9 * max(float(np.abs(y).max()), 1e-140)
    fits: dict[str, SegmentFit] = {}
    for structure in structures:
        if structure in ("level", "trend"):
            if n >= (2 if structure == "level" else 4):
                fits[structure] = _fit_structure(structure, None, x, y, floor)
            continue
        min_after = {"level_shift": MIN_AFTER_SHIFT, "curve": MIN_AFTER_CURVE}.get(structure, MIN_AFTER_SLOPE)
        taus = np.arange(MIN_BEFORE, n - min_after + 1)
        if len(taus):
            fits[structure] = _fit_structure(structure, taus, x, y, floor)
    # Prior odds 1:1 between "no trend" and "a trend", split evenly inside each family: with a
    # uniform prior per structure, five trend shapes against two flat ones would hand trends 5:2
    # odds before seeing any data.
    flat = [name for name in fits if name not in TREND_STRUCTURES]
    trend = [name for name in fits if name in TREND_STRUCTURES]
    log_prior = {name: math.log(0.5 / len(flat) if name in flat else 0.5 / len(trend)) for name in fits}
    if not trend or not flat:
        log_prior = dict.fromkeys(fits, 0.0)
    log_post = np.array([f.log_evidence + log_prior[name] for name, f in fits.items()])
    w = np.exp(log_post - logsumexp(log_post))
    return SegmentedModel(fits, {name: float(wi) for name, wi in zip(fits, w, strict=True)})
