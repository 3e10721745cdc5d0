"""`godseye sre` commands. Thin: parse arguments, call the library, print JSON.

`godseye sre` (or `godseye sre chat`) is a terminal chat with the AI SRE agent (`agents/sre`);
with `--json` it reads JSON lines `{"session", "user", "text"}` and writes one JSON line per turn,
the same fields as `godseye chat --json` plus `tool_results` (the tool payloads the answer was
built from, so every number in it can be traced).

`godseye sre forecast` reads `[[unix_seconds, value], ...]` on stdin and prints the forecaster's
answer (see `forecasting.forecaster`). Bad input is a one-line `error: ...` on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import uuid
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(help="AI SRE: chat with the operator agent (default), forecasts and operator tools.")
SRE_APP = "sre"
DEFAULT_OPERATOR = "operator"


def _turn_json(result: Any) -> dict[str, Any]:
    """`godseye chat --json`'s fields, plus the tool payloads the answer was built from."""
    return {**result.to_json(), "tool_results": result.tool_results}


def _chat(json_mode: bool, session: str | None, user: str) -> None:
    from godseye.netguard import install_if_requested

    install_if_requested()
    from godseye.cli.chat import run_interactive, run_json_loop

    session = session or f"sre-{uuid.uuid4().hex[:8]}"
    if json_mode:
        raise typer.Exit(asyncio.run(run_json_loop(session, user, app_name=SRE_APP, service="godseye-sre",
                                                   to_json=_turn_json)))
    asyncio.run(run_interactive(
        session, user, app_name=SRE_APP, service="godseye-sre", prompt="operator> ", thinking="checking the telemetry…",
        title="[bold]Godseye AI SRE[/bold] — ask what is firing, who is attacking, what will break; Ctrl-D to quit.",
    ))


_JSON_HELP = "Read JSON lines {session,user,text}; write JSON lines (like `godseye chat --json`)."


@app.callback(invoke_without_command=True)
def sre_main(
    ctx: typer.Context,
    json_mode: bool = typer.Option(False, "--json", help=_JSON_HELP),
    session: str = typer.Option(None, help="Session id (default: a new one)."),
    user: str = typer.Option(DEFAULT_OPERATOR, help="Operator id."),
) -> None:
    """Chat with the AI SRE (no subcommand), or run one of the commands below."""
    if ctx.invoked_subcommand is None:
        _chat(json_mode, session, user)


@app.command("chat")
def chat_cmd(
    json_mode: bool = typer.Option(False, "--json", help=_JSON_HELP),
    session: str = typer.Option(None, help="Session id (default: a new one)."),
    user: str = typer.Option(DEFAULT_OPERATOR, help="Operator id."),
) -> None:
    """Chat with the AI SRE in the terminal, or script questions with --json."""
    _chat(json_mode, session, user)


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


@app.command("watch")
def watch(
    every: float = typer.Option(60.0, "--every", min=5, help="Seconds between forecasts."),
    horizon: str = typer.Option("2h", help="How far ahead to forecast."),
    once: bool = typer.Option(False, help="Forecast once and exit."),
) -> None:
    """Forecast every service on a schedule and emit llm.prediction.failure_probability (rule 3)."""
    import time

    from mcp_servers.datadog_query.server import get_operations
    from telemetry.metrics import metrics

    ops = get_operations()
    while True:
        started = time.monotonic()
        for assessment in ops.publish_failure_probabilities(horizon):
            probability = "no data" if assessment.probability is None else f"{assessment.probability:.3f}"
            typer.echo(f"{assessment.service}: failure probability within {horizon} = {probability}")
        metrics.flush()
        if once:
            return
        time.sleep(max(0.0, every - (time.monotonic() - started)))
