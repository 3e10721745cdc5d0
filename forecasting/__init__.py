"""Failure forecasting for the AI SRE: real statistics, not a language model guessing from numbers.

`forecast(points, horizon_s, threshold=...)` picks a model by holdout error (level, robust trend, or
Holt-Winters when a daily/hourly/weekly season shows), and returns forecast points, prediction
intervals, the predicted threshold crossing time and the probability of a crossing within the
horizon. `forecasting.failure` turns per-metric rules into a per-service failure probability and
emits it as `llm.prediction.failure_probability`.
"""

from forecasting.durations import format_duration, parse_duration
from forecasting.forecaster import Forecast, forecast
from forecasting.series import ForecastError

__all__ = ["Forecast", "ForecastError", "forecast", "format_duration", "parse_duration"]
