"""`godseye datadog validate|plan|apply|evaluate` and the top-level `godseye incidents`.

Thin: parse arguments, call `godseye.datadog_assets` / `local_datadog`, print lines or JSON. Exit
codes: 0 success, 1 problems found or apply refused, 2 bad usage.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from godseye.netguard import install_if_requested

app = typer.Typer(help="Datadog assets as code: validate, plan, apply, evaluate locally.", no_args_is_help=True)
err = Console(stderr=True)
out = Console()

DEFAULT_DIR = Path("datadog")


def _assets_dir(path: Path | None) -> Path:
    if path is not None:
        return path
    if DEFAULT_DIR.is_dir():
        return DEFAULT_DIR
    from godseye.config import PROJECT_ROOT

    return PROJECT_ROOT / "datadog"


@app.command("validate")
def validate_cmd(
    directory: Path = typer.Argument(None, help="Assets folder (default: datadog/)."),
    readme: Path = typer.Option(None, help="README with the metric table (default: next to the folder)."),
    as_json: bool = typer.Option(False, "--json", help="Print problems as JSON."),
) -> None:
    """Check every asset against Datadog's API models and lint its queries; non-zero exit on problems."""
    install_if_requested()
    from godseye.datadog_assets import validate
    from godseye.datadog_assets.loader import load_assets

    root = _assets_dir(directory)
    problems = validate(root, readme=readme)
    if as_json:
        print(json.dumps([{"file": p.file, "path": p.path, "message": p.message} for p in problems], indent=2))
    else:
        for p in problems:
            print(p)
        if not problems:
            count = len(load_assets(root).assets)
            err.print(f"[green]{count} asset file(s) in {root} are valid[/green]")
        else:
            err.print(f"[red]{len(problems)} problem(s)[/red]")
    raise typer.Exit(1 if problems else 0)


def _print_actions(actions: list, as_json: bool) -> None:
    if as_json:
        print(json.dumps([{"op": a.op, "kind": a.kind, "key": a.key, "file": a.file, "remote_id": a.remote_id,
                           "changes": a.changes, "note": a.note, "done": a.done} for a in actions], indent=2))
        return
    for a in actions:
        print(a)
    counts: dict[str, int] = {}
    for a in actions:
        counts[a.op] = counts.get(a.op, 0) + 1
    err.print(", ".join(f"{n} {op}" for op, n in sorted(counts.items())))


@app.command("plan")
def plan_cmd(
    directory: Path = typer.Argument(None, help="Assets folder (default: datadog/)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Compare the assets with the Datadog account (DD_API_KEY + DD_APP_KEY); offline, list the creates."""
    install_if_requested()
    from godseye.datadog_assets.plan import keys_configured, plan

    if not keys_configured():
        err.print("[yellow]offline (DD_API_KEY/DD_APP_KEY not set): showing what apply would create[/yellow]")
    try:
        actions = plan(_assets_dir(directory))
    except Exception as exc:  # API errors: say what failed, no traceback
        err.print(f"[red]plan failed: {type(exc).__name__}: {exc}[/red]")
        raise typer.Exit(1) from None
    _print_actions(actions, as_json)


@app.command("apply")
def apply_cmd(
    directory: Path = typer.Argument(None, help="Assets folder (default: datadog/)."),
    rotate_secrets: bool = typer.Option(False, help="Also push secret webhook variables that already exist."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create or update the assets in the Datadog account; idempotent, refuses offline."""
    install_if_requested()
    from godseye.datadog_assets.plan import PlanError, apply

    try:
        actions = apply(_assets_dir(directory), rotate_secrets=rotate_secrets)
    except PlanError as exc:
        err.print(f"[red]apply refused: {exc}[/red]")
        raise typer.Exit(1) from None
    except Exception as exc:
        err.print(f"[red]apply failed: {type(exc).__name__}: {exc}[/red]")
        raise typer.Exit(1) from None
    _print_actions(actions, as_json)


@app.command("evaluate")
def evaluate_cmd(
    directory: Path = typer.Argument(None, help="Assets folder (default: datadog/)."),
    store: Path = typer.Option(None, help="Stand-in metric store (default: GODSEYE_HOME/standin.sqlite)."),
    every: float = typer.Option(0.0, help="Seconds between evaluations; 0 evaluates once."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Evaluate the monitors on the local stand-in's metrics (transitions, incidents, webhooks)."""
    install_if_requested()
    import threading

    from local_datadog.monitors import MonitorEvaluator
    from local_datadog.store import MetricStore, default_path

    path = store or default_path()
    if not path.exists():
        err.print(f"[red]no stand-in metric store at {path}; start one with `godseye standin start`[/red]")
        raise typer.Exit(1)
    evaluator = MonitorEvaluator.from_assets(_assets_dir(directory), MetricStore(path))

    def show(transitions: list) -> None:
        for t in transitions:
            line = {"ts": t.ts, "monitor": t.monitor_key, "group": t.group_key, "from": t.from_state,
                    "to": t.to_state, "value": t.value, "renotify": t.renotify, "notified": t.notified}
            print(json.dumps(line) if as_json else
                  f"{time.strftime('%H:%M:%S', time.localtime(t.ts))} {t.monitor_key} {t.group_key or '*'} "
                  f"{t.from_state} -> {t.to_state} value={t.value} notified={','.join(t.notified)}")
        for key, reason in evaluator.errors.items():
            err.print(f"[yellow]{key} not evaluated: {reason}[/yellow]")

    if every <= 0:
        show(evaluator.evaluate())
        return
    stop = threading.Event()
    try:
        while not stop.is_set():
            show(evaluator.evaluate())
            stop.wait(every)
    except KeyboardInterrupt:
        stop.set()


@app.command("states")
def states_cmd(
    show_all: bool = typer.Option(False, "--all", help="Include groups in OK."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Monitor group states kept by the local evaluation (Alert, Warn, No Data; --all for OK too)."""
    install_if_requested()
    from godseye.config import get_settings
    from local_datadog.monitors import MonitorStateStore

    path = get_settings().home / "monitor_state.sqlite"
    rows = MonitorStateStore(path).states() if path.exists() else []
    rows = [r for r in rows if show_all or r["state"] != "OK"]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("monitor", "group", "state", "since", "value")
    for r in rows:
        table.add_row(r["monitor"], r["group"] or "*", r["state"],
                      time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["since"])),
                      "" if r["value"] is None else f"{r['value']:g}")
    out.print(table)


def register_incidents(root_app: typer.Typer) -> None:
    """Add `godseye incidents` (the stand-in's incidents) to the top-level app."""

    @root_app.command("incidents")
    def incidents_cmd(
        status: str = typer.Option("all", help="all, open, active, stable or resolved."),
        show: int = typer.Option(None, help="Show one incident (public id) with its timeline."),
        limit: int = typer.Option(50, min=1),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """List incidents declared by the local monitor evaluation."""
        install_if_requested()
        from local_datadog.incidents import IncidentStore, default_path

        if status not in {"all", "open", "active", "stable", "resolved"}:
            err.print("[red]--status must be all, open, active, stable or resolved[/red]")
            raise typer.Exit(2)
        path = default_path()
        if not path.exists():
            if as_json:
                print("[]")
            else:
                err.print(f"no incidents yet ({path} does not exist)")
            return
        store = IncidentStore(path)
        if show is not None:
            inc = store.get(show)
            if inc is None:
                err.print(f"[red]no incident #{show}[/red]")
                raise typer.Exit(1)
            if as_json:
                print(json.dumps(inc.to_dict(), indent=2))
                return
            out.print(f"[bold]#{inc.public_id} {inc.title}[/bold]  {inc.severity}  {inc.status}")
            out.print(f"monitor {inc.monitor_key} on {inc.group_key or '*'}; fields {json.dumps(inc.fields)}")
            for e in inc.timeline:
                out.print(f"  {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(e.ts))}  {e.kind:<10} {e.text}")
            return
        incidents = store.list(status, limit)
        if as_json:
            print(json.dumps([i.to_dict() for i in incidents], indent=2))
            return
        table = Table("#", "severity", "status", "title", "monitor", "declared", "resolved")
        for i in incidents:
            table.add_row(str(i.public_id), i.severity, i.status, i.title, i.monitor_key,
                          time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(i.created_at)),
                          time.strftime("%H:%M:%S", time.localtime(i.resolved_at)) if i.resolved_at else "")
        out.print(table)
