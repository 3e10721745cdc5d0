"""`godseye standin ...`: the local Datadog stand-in (start, status, query, stats).

Thin: argument parsing and printing only; the work lives in `local_datadog`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

standin_app = typer.Typer(
    help="The local Datadog stand-in: DogStatsD receiver, trace/LLM Obs test agent, query API.",
    no_args_is_help=True,
)

HomeOption = typer.Option(None, "--home", help="Data directory (default: GODSEYE_HOME or ./var).")
JsonOption = typer.Option(False, "--json", help="Print JSON.")


def _home(home: Path | None) -> Path:
    if home is not None:
        return home
    from godseye.config import get_settings

    return get_settings().home


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _live(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """Ask a running stand-in's API for its live status (None when it does not answer)."""
    if not state or not state.get("running") or not state.get("api_url"):
        return None
    import httpx

    try:
        return httpx.get(f"{state['api_url']}/api/stats", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return None


@standin_app.command("start")
def start(
    home: Path | None = HomeOption,
    no_test_agent: bool = typer.Option(False, "--no-test-agent", help="Do not start ddapm-test-agent."),
    no_api: bool = typer.Option(False, "--no-api", help="Do not serve the HTTP query API."),
    dogstatsd_port: int | None = typer.Option(None, help="UDP port (default: DD_DOGSTATSD_PORT or 8125)."),
    dogstatsd_socket: str | None = typer.Option(None, help="Also listen on this Unix datagram socket."),
    trace_port: int | None = typer.Option(None, help="Test agent port (default: DD_TRACE_AGENT_URL or 8126)."),
    api_port: int | None = typer.Option(None, help="Query API port (default: 8127)."),
) -> None:
    """Run the stand-in in the foreground; Ctrl-C stops it."""
    from godseye.netguard import install_if_requested
    from local_datadog.server import endpoints_with_overrides, run_foreground

    install_if_requested()
    try:
        endpoints = endpoints_with_overrides(dogstatsd_port, trace_port, api_port, dogstatsd_socket)
    except ValueError as exc:
        _fail(str(exc), 2)
    code = run_foreground(_home(home), endpoints=endpoints, test_agent=not no_test_agent, api=not no_api)
    raise typer.Exit(code)


@standin_app.command("status")
def status(home: Path | None = HomeOption) -> None:
    """Is a stand-in running for this home, where does it listen, what has it received? (JSON)"""
    from local_datadog.endpoints import real_agent_configured
    from local_datadog.state import read_state

    home = _home(home)
    state = read_state(home)
    out: dict[str, Any] = {"home": str(home), "running": bool(state and state.get("running"))}
    if real_agent_configured():
        out["note"] = "DD_API_KEY is set: telemetry goes to the real Datadog Agent"
    if state:
        out.update({k: v for k, v in state.items() if k not in {"token", "running"}})
        if not state.get("running") and "error" not in state:
            out["note"] = f"stale state file: process {state.get('pid')} is gone"
        live = _live(state)
        if live is not None:
            out["live"] = live
        elif state.get("running"):
            out["live"] = None
            out["note"] = "process is alive but its API does not answer"
    typer.echo(json.dumps(out, indent=2, default=str))
    if not out["running"]:
        raise typer.Exit(1)


@standin_app.command("query")
def query(
    metric: str = typer.Argument(..., help="Metric name, e.g. llm.security.injection_score."),
    since: str = typer.Option("15m", "--since", help="How far back: 30s, 15m, 2h, 1d."),
    tag: list[str] = typer.Option([], "--tag", help="Filter key:value (repeatable, all must match)."),
    by: str | None = typer.Option(None, "--by", help="Group by this tag."),
    points: bool = typer.Option(False, "--points", help="List the points instead of a summary."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Summarise (or list) a metric's points from the stand-in's store."""
    from local_datadog.query import QueryError, parse_duration, parse_tag_filters, point_json, summarize
    from local_datadog.store import DEFAULT_FILENAME, MetricStore

    try:
        window = parse_duration(since)
        filters = parse_tag_filters(tag)
    except QueryError as exc:
        _fail(str(exc), 2)
    path = _home(home) / DEFAULT_FILENAME
    if not path.exists():
        _fail(f"no stand-in store at {path}; start one with `godseye standin start`")
    end = time.time()
    with MetricStore(path) as store:
        found = store.points(metric, end - window, end + 1, filters or None)
        known = store.metric_names() if not found else []
    if not found:
        hint = f" Known metrics: {', '.join(known[:20])}" if known else ""
        typer.echo(f"no points for {metric} in the last {since}" + (f" matching {filters}" if filters else "")
                   + "." + hint, err=True)
        if as_json:
            typer.echo(json.dumps({"metric": metric, "points": [], "groups": []}))
        raise typer.Exit(0)
    if points:
        rows = [point_json(p) for p in found]
        if as_json:
            typer.echo(json.dumps({"metric": metric, "points": rows}, indent=2))
            return
        _table(["time", "value", "type", "tags"],
               [[_clock(p.ts), _num(p.value) if p.member is None else p.member, p.type,
                 ",".join(f"{k}:{v}" for k, v in sorted(p.tags.items()))] for p in found])
        return
    groups = summarize(found, by)
    if as_json:
        typer.echo(json.dumps({"metric": metric, "since": since, "filters": filters, "by": by, "groups": groups},
                              indent=2))
        return
    _table([by or "group", "points", "sum", "avg", "min", "max", "last", "last at"],
           [[g["group"], str(g["points"]), _num(g["sum"]), _num(g["avg"]), _num(g["min"]), _num(g["max"]),
             _num(g["last"]), _clock(g["last_ts"])] for g in groups],
           title=f"{metric} ({groups[0]['type']}), last {since}")


@standin_app.command("stats")
def stats(home: Path | None = HomeOption, as_json: bool = JsonOption) -> None:
    """What the stand-in has received: datagrams, points, parse errors, drops."""
    from local_datadog.state import read_state
    from local_datadog.store import DEFAULT_FILENAME, MetricStore

    home = _home(home)
    path = home / DEFAULT_FILENAME
    if not path.exists():
        _fail(f"no stand-in store at {path}; start one with `godseye standin start`")
    with MetricStore(path) as store:
        totals = store.stats()
    live = _live(read_state(home))
    out = {"store": str(path), "totals": totals, "live": live.get("receiver") if live else None}
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    rows = [[name, str(value)] for name, value in totals.items()]
    _table(["counter", "total"], rows, title=f"stand-in store {path}")
    if live and live.get("receiver"):
        receiver = live["receiver"]
        typer.echo(f"running receiver {receiver.get('address')}: {receiver.get('datagrams')} datagrams, "
                   f"{receiver.get('parse_errors')} parse errors, {receiver.get('dropped')} dropped, "
                   f"{receiver.get('queued')} queued")
        for err in receiver.get("last_errors") or []:
            typer.echo(f"  recent problem: {err}")


def _num(value: float) -> str:
    return f"{value:.6g}"


def _clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def _table(headers: list[str], rows: list[list[str]], title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the `standin` command group to the top-level app."""
    app.add_typer(standin_app, name="standin")
