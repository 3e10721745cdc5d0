"""The one shape every model answers with: a weighted mixture of Student-t distributions per step.

Why a mixture: the forecaster averages its candidate structures by their BIC weights (see
`segmented`), so the predictive distribution of step h is sum_k w_k t(dof_k; mean_k[h], scale_k[h]).
A single model is the one-component case. Intervals, the point forecast (the predictive median) and
crossing probabilities are then computed one way for every model, and Student-t degrees of freedom
give short histories honest, wider intervals. The raw `scipy.special` functions are used rather
than `scipy.stats` distribution objects: same numbers, a hundredth of the overhead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

# Mixture components lighter than this are dropped (their mass is spread over the others).
MIN_WEIGHT = 1e-4
_BISECTION_STEPS = 32
NORMAL_DOF = 100.0


def _t_cdf(z: np.ndarray, dof: np.ndarray) -> np.ndarray:
    """Student-t CDF; `dof` broadcasts against `z`. Above NORMAL_DOF the normal CDF is used: it
    differs by less than 0.002 in probability and is twenty times cheaper than `stdtr`."""
    dof = np.broadcast_to(dof, z.shape)
    exact = dof <= NORMAL_DOF
    if not exact.any():
        return special.ndtr(z)
    return np.where(exact, special.stdtr(np.where(exact, dof, 1.0), z), special.ndtr(z))


def _t_ppf(p: np.ndarray, dof: np.ndarray) -> np.ndarray:
    exact = dof <= NORMAL_DOF
    return np.where(exact, special.stdtrit(np.where(exact, dof, 1.0), p), special.ndtri(p))


@dataclass(frozen=True)
class Prediction:
    """K components over H steps: `means`/`scales` (K, H), `dofs` (K,), `weights` (K,) summing to 1."""

    means: np.ndarray
    scales: np.ndarray
    dofs: np.ndarray
    weights: np.ndarray

    @classmethod
    def single(cls, mean: np.ndarray, scale: np.ndarray, dof: float) -> Prediction:
        return cls(np.asarray(mean, float)[None], np.asarray(scale, float)[None], np.array([float(dof)]),
                   np.array([1.0]))

    @classmethod
    def mixture(cls, parts: Sequence[tuple[float, Prediction]]) -> Prediction:
        """Weighted mixture of predictions; weights are renormalised, negligible ones dropped."""
        kept = [(w, p) for w, p in parts if w >= MIN_WEIGHT]
        if not kept:
            kept = [max(parts, key=lambda wp: wp[0])]
        total = sum(w for w, _ in kept)
        return cls(
            np.vstack([p.means for _, p in kept]),
            np.vstack([p.scales for _, p in kept]),
            np.concatenate([p.dofs for _, p in kept]),
            np.concatenate([p.weights * (w / total) for w, p in kept]),
        )

    def shifted(self, offset: np.ndarray) -> Prediction:
        """The same distribution moved by `offset` per step (a seasonal profile, say)."""
        return Prediction(self.means + np.asarray(offset)[None], self.scales, self.dofs, self.weights)

    @property
    def horizon(self) -> int:
        return self.means.shape[1]

    def cdf(self, x: float | np.ndarray, strict: bool = False) -> np.ndarray:
        """P(Y_h <= x) per step (P(Y_h < x) when `strict`; differs only for zero-scale components).

        `x` is a scalar, (H,) or (P, H); the answer has x's shape broadcast to (..., H).
        """
        x = np.asarray(x, dtype=float)
        x = np.broadcast_to(x, (*x.shape[:-1], self.horizon) if x.ndim else (self.horizon,))
        means = self.means.reshape(len(self.weights), *([1] * (x.ndim - 1)), self.horizon)
        scales = self.scales.reshape(means.shape)
        dofs = self.dofs.reshape(-1, *([1] * x.ndim))
        positive = scales > 0
        z = (x[None] - means) / np.where(positive, scales, 1.0)
        step = (x[None] > means) if strict else (x[None] >= means)
        comp = np.where(positive, _t_cdf(z, dofs), step)
        return np.clip(np.tensordot(self.weights, comp, axes=1), 0.0, 1.0)

    def quantiles(self, ps: Sequence[float]) -> np.ndarray:
        """(len(ps), H) quantiles: exact for one component, else bisection between the components'."""
        p = np.asarray(ps, dtype=float)[:, None, None]  # (P, 1, 1)
        comp = self.means[None] + _t_ppf(p, self.dofs[None, :, None]) * self.scales[None]  # (P, K, H)
        if len(self.weights) == 1:
            return comp[:, 0]
        lo, hi = comp.min(axis=1), comp.max(axis=1)
        target = p[:, :, 0]
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < target
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def quantile(self, p: float) -> np.ndarray:
        return self.quantiles([p])[0]

    @property
    def median(self) -> np.ndarray:
        return self.quantile(0.5)

    def interval(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.quantiles([0.5 - level / 2.0, 0.5 + level / 2.0])
        return lo, hi
