"""Failure forecasting for the AI SRE: real statistics, not a language model guessing from numbers.

`forecast(points, horizon_s, threshold=...)` resamples the points, looks for a daily/hourly/weekly
season, and averages level, trend and change-point structures (plus Holt-Winters when a season
shows) by their BIC evidence. It returns forecast points, prediction intervals, the predicted
threshold crossing time and the probability of a crossing within the horizon.
`forecasting.failure` turns per-metric rules into a per-service failure probability and emits it as
`llm.prediction.failure_probability`; `forecasting.scenarios` generates seeded test scenarios.
"""

from forecasting.durations import format_duration, parse_duration
from forecasting.forecaster import Forecast, forecast
from forecasting.series import ForecastError

__all__ = ["Forecast", "ForecastError", "forecast", "format_duration", "parse_duration"]
