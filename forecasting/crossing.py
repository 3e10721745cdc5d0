"""When does the forecast cross a threshold, and how likely is a crossing within the horizon?

Crossing time: the first time the point forecast reaches the threshold, interpolated linearly
between the last observed value and the forecast steps (so it is not rounded to a whole step).

Probability: max over the horizon's steps of P(Y_h beyond threshold) under each step's predictive
distribution. Why the maximum of the per-step probabilities and not P(any step beyond) from joint
sample paths: an operational failure is the metric's *level* moving past the threshold, not one
noisy bucket poking over it. P(any step) grows with the number of steps even for a perfectly stable
series (24 independent buckets each 1% likely to poke over give 21%), so it would depend on the
step size and fire on noise; the per-step maximum does not. It is the probability for the step most
at risk and a lower bound of P(any step beyond). Because the point forecast is the predictive
median, probability >= 0.5 exactly when the point forecast crosses within the horizon, which keeps
`probability` and `crossing_time` consistent with each other (and makes 0.5 the natural alarm
level).
"""

from __future__ import annotations

import numpy as np

from forecasting.prediction import Prediction

DIRECTIONS = ("above", "below")


def _beyond(values: np.ndarray | float, threshold: float, direction: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return v >= threshold if direction == "above" else v <= threshold


def crossing_time(last_time: float, last_value: float, times: np.ndarray, mean: np.ndarray,
                  threshold: float, direction: str) -> float | None:
    """First time the path (last observation, then the point forecast) reaches the threshold.

    Only a crossing by the forecast counts: a last bucket already beyond the threshold whose
    forecast falls back is a blip, not a predicted crossing.
    """
    hits = np.flatnonzero(_beyond(mean, threshold, direction))
    if len(hits) == 0:
        return None
    k = int(hits[0])
    t0, v0 = (last_time, last_value) if k == 0 else (float(times[k - 1]), float(mean[k - 1]))
    t1, v1 = float(times[k]), float(mean[k])
    if bool(_beyond(v0, threshold, direction)):
        return t0
    frac = (threshold - v0) / (v1 - v0) if v1 != v0 else 1.0
    return t0 + float(np.clip(frac, 0.0, 1.0)) * (t1 - t0)


def step_probabilities(pred: Prediction, threshold: float, direction: str) -> np.ndarray:
    """P(Y_h at or beyond the threshold) per step under the predictive distribution."""
    if direction == "above":
        return 1.0 - pred.cdf(threshold, strict=True)
    return pred.cdf(threshold)


def crossing_probability(pred: Prediction, threshold: float, direction: str) -> float:
    """Probability of a crossing within the horizon: the largest per-step probability."""
    return float(np.clip(step_probabilities(pred, threshold, direction).max(), 0.0, 1.0))
