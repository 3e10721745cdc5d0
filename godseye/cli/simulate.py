"""`godseye simulate`: realistic traffic through the real product, with a progress bar and a summary.

Thin: parses options, runs `godseye.simulation.Simulation`, draws progress and tables, writes the
JSON report. Metrics go wherever DD_* point (the stand-in on localhost by default); `--standin`
starts one in this process for the run when none is running.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(stderr=True)


def _scenarios(raw: list[str]) -> tuple[str, ...]:
    from godseye.simulation import DEFAULT_SCENARIOS, SCENARIOS

    names: list[str] = []
    for item in raw or []:
        names += [n.strip().lower() for n in item.split(",") if n.strip()]
    if not names:
        return DEFAULT_SCENARIOS
    if "all" in names:
        return SCENARIOS
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        raise typer.BadParameter(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)} or all")
    return tuple(dict.fromkeys(names))


def _fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def summary_tables(report: dict[str, Any]) -> list[Table]:
    totals, lat = report["totals"], report["latency_ms"]
    head = Table(title=f"Simulation {report['run_id']} ({report['wall_s']:.0f} s)", show_header=False)
    head.add_column("what", style="bold")
    head.add_column("value")
    rows = [
        ("turns / uploads", f"{totals['turns']} / {totals['uploads']}  ({totals['steps_per_s']} steps/s)"),
        ("errors", f"{totals['errors']}  ({totals['error_rate']:.1%})"),
        ("latency p50 / p95 / max", f"{_fmt_ms(lat['p50'])} / {_fmt_ms(lat['p95'])} / {_fmt_ms(lat['max'])}"),
        ("latency by third (p50)", "  ".join(_fmt_ms(v) for v in report["latency_by_third_ms"])),
        ("answer quality by third", "  ".join("-" if v is None else f"{v:.2f}" for v in report["quality"]["by_third"])),
        ("refused turns", str(totals["refused_turns"])),
        ("blocked sessions", ", ".join(totals["blocked_sessions"]) or "none"),
        ("blocked users", ", ".join(totals["blocked_users"]) or "none"),
        ("innocent shoppers blocked", str(len(totals["innocent_blocked"]))),
        ("uploads rejected", ", ".join(f"{k}={v}" for k, v in totals["uploads_rejected"].items()) or "none"),
    ]
    faults = report["faults"]
    if faults["degraded_answers"] or faults["delayed_model_calls"]:
        rows.append(("injected faults", f"degraded answers {faults['degraded_answers']}, "
                                        f"delayed model calls {faults['delayed_model_calls']}"))
    for what, value in rows:
        head.add_row(what, value)

    journeys = Table(title="Journeys")
    for col in ("journey", "started", "completed", "turns", "uploads", "errors", "p50", "p95"):
        journeys.add_column(col, justify="left" if col == "journey" else "right")
    for kind, row in report["journeys"].items():
        journeys.add_row(kind, str(row["journeys"]), str(row["completed"]), str(row["turns"]), str(row["uploads"]),
                         str(row["errors"]), _fmt_ms(row["latency_ms"]["p50"]), _fmt_ms(row["latency_ms"]["p95"]))
    tables = [head, journeys]
    if report["offenders"]:
        offenders = Table(title="Attackers and bombers")
        for col in ("kind", "session / user", "hostile steps", "before block", "blocked by", "time to block",
                    "refused after"):
            offenders.add_column(col)
        for o in report["offenders"]:
            ttb = o["seconds_to_block"]
            offenders.add_row(o["kind"], f"{o['session_id']} / {o['user_id']}", str(o["hostile_steps"]),
                              str(o["hostile_before_block"]),
                              (o["blocked_by"] or "").split(":")[0] or ("refused" if o["blocked"] else "no"),
                              "-" if ttb is None else f"{ttb:.1f} s", "yes" if o["refused_after_block"] else "no")
        tables.append(offenders)
    return tables


async def _run(config: Any, progress: Progress | None) -> dict[str, Any]:
    from godseye.simulation import Simulation

    counts = {"steps": 0, "errors": 0, "refused": 0}
    task = None
    if progress is not None:
        total = config.duration_s or float(config.max_journeys or 1)
        task = progress.add_task("simulating", total=total, steps=0, errors=0, refused=0)

    def on_record(record: Any) -> None:
        counts["steps"] += 1
        counts["errors"] += bool(record.error)
        counts["refused"] += bool(record.blocked)
        if progress is not None and task is not None:
            progress.update(task, steps=counts["steps"], errors=counts["errors"], refused=counts["refused"])

    sim = Simulation(config, on_record=on_record)

    async def tick() -> None:
        while progress is not None and task is not None:
            done = sim.elapsed() if config.duration_s else len({r.journey for r in sim.records})
            description = "simulating" if sim.phase == "running" else sim.phase
            progress.update(task, completed=min(done, progress.tasks[0].total or done), description=description)
            await asyncio.sleep(0.5)

    ticker = asyncio.create_task(tick())
    try:
        return await sim.run()
    finally:
        ticker.cancel()


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        duration: float = typer.Option(60.0, "--duration", "-d", min=1, help="Seconds of traffic."),
        rate: float = typer.Option(2.0, "--rate", "-r", min=0.0, help="Steps per second over all sessions (0 = as fast as possible)."),
        concurrency: int = typer.Option(8, "--concurrency", "-c", min=1, help="Shopper sessions in flight at once."),
        scenario: list[str] = typer.Option(
            None, "--scenario", "-s",
            help="Comma-separated or repeated: shoppers, attack, bombs, quality, slow, friction, or all "
                 "(default shoppers,attack,bombs)."),
        seed: int = typer.Option(0, "--seed", help="Same seed, same traffic plan."),
        attackers: int = typer.Option(1, min=0, help="Attacker sessions (scenario attack)."),
        bombers: int = typer.Option(1, min=0, help="Users uploading hostile files (scenario bombs)."),
        quality_drop: float = typer.Option(0.8, min=0.0, max=1.0, help="Share of answers degraded at the worst (scenario quality)."),
        slow_max_ms: float = typer.Option(4000.0, min=0.0, help="Extra latency per model call at the end of the run (scenario slow)."),
        report: Path | None = typer.Option(None, "--report", help="Write the JSON report here."),
        run_id: str | None = typer.Option(None, help="Prefix of session and user ids (default sim<seed>-<time>)."),
        standin: bool = typer.Option(False, "--standin", help="Start the local Datadog stand-in for the run if none is running."),
        loop: bool = typer.Option(False, "--loop", help="Run the whole detection loop in this process: a private stand-in, "
                                  "the monitors of datadog/ every second, incidents and the self-heal webhook."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
        json_out: bool = typer.Option(False, "--json", help="Print the report (without per-step records) as JSON."),
    ) -> None:
        """Drive realistic traffic (shoppers, attackers, image bombs, faults) through the real product."""
        import json

        from godseye.simulation import SimConfig, write_report

        logging.getLogger("google_adk").setLevel(logging.ERROR)
        try:
            config = SimConfig(duration_s=duration, rate=rate or None, concurrency=concurrency,
                               scenarios=_scenarios(scenario), seed=seed, run_id=run_id, attackers=attackers,
                               bombers=bombers, quality_drop=quality_drop, slow_max_ms=slow_max_ms)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        if loop and standin:
            raise typer.BadParameter("--loop runs its own stand-in; use one of --loop and --standin")
        handle = _start_standin() if standin else None
        detection = _start_loop(config.run_id) if loop else None
        result_detection: dict[str, Any] = {}
        from telemetry.setup import flush_telemetry, init_telemetry

        init_telemetry(service="godseye-simulate")
        console.print(f"[bold]godseye simulate[/bold] run {config.run_id}: {', '.join(config.scenarios)} · "
                      f"{duration:g} s at {rate:g} steps/s · {concurrency} concurrent · seed {seed}", style="cyan")
        try:
            if quiet or json_out:
                result = asyncio.run(_run(config, None))
            else:
                columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                           TextColumn("steps {task.fields[steps]} · errors {task.fields[errors]} · "
                                      "refused {task.fields[refused]}"))
                with Progress(*columns, console=console, transient=False) as progress:
                    result = asyncio.run(_run(config, progress))
        except KeyboardInterrupt:
            console.print("interrupted", style="yellow")
            raise typer.Exit(130) from None
        finally:
            flush_telemetry()
            if handle is not None:
                handle.wait_idle()
                handle.stop()
            if detection is not None:
                result_detection = _finish_loop(detection)
        if detection is not None:
            result["detection"] = result_detection
        if report is not None:
            write_report(result, report)
            console.print(f"report written to {report}", style="dim")
        if json_out:
            typer.echo(json.dumps({k: v for k, v in result.items() if k != "steps"}, indent=1, default=str))
        else:
            for table in summary_tables(result):
                console.print(table)
            if detection is not None:
                console.print(detection_table(result["detection"]))
        raise typer.Exit(1 if result["totals"]["errors"] else 0)


def _start_loop(run_id: str | None) -> Any:
    from godseye.config import get_settings
    from godseye.simulation.loop import DetectionLoop

    workdir = get_settings().home / "simulate-loop" / str(run_id)
    console.print(f"detection loop: stand-in, monitors and webhook in {workdir}", style="dim")
    return DetectionLoop(workdir, every_s=1.0, metrics_flush_s=0.5).start()


def _finish_loop(detection: Any) -> dict[str, Any]:
    """Let the monitors see the last points, then collect what the loop did and stop it."""
    import time

    try:
        detection.flush()
        time.sleep(2.5)
        alerts = sorted({(t["monitor"], t["group"] or "(all)") for t in detection.transitions() if t["to"] == "Alert"})
        return {
            "alerts": [{"monitor": m, "group": g} for m, g in alerts],
            "incidents": [{"title": i.title, "severity": i.severity, "monitor": i.monitor_key, "status": i.status}
                          for i in detection.incidents()],
            "webhook": [{"scope": e["scope"], "transition": e["transition"], "action": e["action"]}
                        for e in detection.webhook_events()],
            "workdir": str(detection.workdir),
        }
    finally:
        detection.stop()


def detection_table(detection: dict[str, Any]) -> Table:
    table = Table(title="Detection loop (local monitors, incidents, self-heal webhook)")
    table.add_column("what")
    table.add_column("detail")
    for a in detection["alerts"]:
        table.add_row("alert", f"{a['monitor']} on {a['group']}")
    for i in detection["incidents"]:
        table.add_row("incident", f"{i['severity']} {i['title']} ({i['status']})")
    for w in detection["webhook"]:
        table.add_row("webhook", f"{w['transition']} {w['scope']} -> {w['action']}")
    if not (detection["alerts"] or detection["incidents"]):
        table.add_row("-", "no monitor alerted")
    return table


def _start_standin() -> Any:
    """An in-process stand-in for the run, unless one already runs for this home (then use it)."""
    from godseye.config import get_settings
    from local_datadog.server import StandinError, run_in_background
    from local_datadog.state import read_state

    home = get_settings().home
    state = read_state(home)
    if state and state.get("running"):
        import os

        from telemetry.metrics import metrics

        os.environ.update(state.get("env") or {})  # its ports, whatever DD_* said
        metrics.reset()
        console.print(f"using the stand-in already running for {home}", style="dim")
        return None
    try:
        handle = run_in_background(home, test_agent=False)
    except StandinError as exc:
        console.print(f"[yellow]stand-in not started ({exc}); metrics go to DD_* as configured[/yellow]")
        return None
    handle.apply_env()
    return handle
