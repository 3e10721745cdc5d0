"""`godseye sre` commands. Thin: parse arguments, call the library, print JSON.

`godseye sre forecast` reads `[[unix_seconds, value], ...]` on stdin and prints the forecaster's
answer (see `forecasting.forecaster`). Bad input is a one-line `error: ...` on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer

app = typer.Typer(help="AI SRE: forecasts and operator tools.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _read_points(source: str) -> object:
    if source == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise _fail("pipe a JSON array of [unix_seconds, value] points on stdin (or use --input FILE)")
        text = sys.stdin.read()
    else:
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise _fail(f"cannot read {source}: {exc.strerror or exc}") from None
    if not text.strip():
        raise _fail("no input: expected a JSON array of [unix_seconds, value] points")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(f"input is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if isinstance(data, dict) and "points" in data:
        data = data["points"]
    if not isinstance(data, list):
        raise _fail("expected a JSON array of [unix_seconds, value] points")
    return data


@app.command("forecast")
def forecast_cmd(
    threshold: float | None = typer.Option(
        None, "--threshold", "-t", help="Alert threshold; gives crossing_time and probability."),
    horizon: str = typer.Option("2h", "--horizon", help="How far ahead: 90m, 2h, 7200s."),
    direction: str = typer.Option("above", "--direction", help="above|below: which side is the failure."),
    step: str | None = typer.Option(
        None, "--step", help="Resampling step (5m, 60s); default: horizon/24, never finer than the data."),
    level: float = typer.Option(0.95, "--level", help="Level of the `interval` field (0.8 and 0.95 always in `intervals`)."),
    source: str = typer.Option("-", "--input", "-i", help="Read points from this file instead of stdin."),
    pretty: bool = typer.Option(False, "--pretty", help="Indent the JSON."),
) -> None:
    """Forecast a metric from `[[unix_seconds, value], ...]` on stdin; print JSON."""
    from godseye.netguard import install_if_requested

    install_if_requested()
    from forecasting import ForecastError, forecast, parse_duration

    try:
        horizon_s = parse_duration(horizon)
        step_s = parse_duration(step) if step else None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if direction not in ("above", "below"):
        raise _fail(f"--direction must be above or below, got {direction!r}")
    if threshold is not None and not math.isfinite(threshold):
        raise _fail("--threshold must be a finite number")
    if not 0 < level < 1:
        raise _fail("--level must be between 0 and 1, e.g. 0.95")
    points = _read_points(source)
    try:
        result = forecast(points, horizon_s, threshold=threshold, direction=direction, step_s=step_s,
                          levels=sorted({0.8, 0.95, level}))
    except ForecastError as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps(result.to_dict(level), indent=2 if pretty else None))
