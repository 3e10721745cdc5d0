"""`godseye up`: the whole product on its embedded defaults, started and stopped as one.

Order matters: the stand-in first (so every later process inherits DD_* variables pointing at it),
then the catalog (seeded on first run), then the background jobs that close the observability
loop (monitor evaluation, the self-healing webhook), then the Streamlit shop. Ctrl-C stops all.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from godseye.config import PROJECT_ROOT, apply_offline_defaults, get_settings

console = Console()


def _ensure_catalog() -> None:
    settings = get_settings()
    from mcp_servers.catalog.store import CatalogStore

    if CatalogStore().exists():
        return
    console.print(f"Seeding the demo catalog ({settings.catalog_seed_size} products, first run only)…")
    subprocess.run([sys.executable, "-m", "godseye.cli.main", "catalog", "seed"], check=True)


def _background(args: list[str], name: str, log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
    return subprocess.Popen([sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT,
                            cwd=str(PROJECT_ROOT))


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # same clean shutdown as Ctrl-C (service managers and `timeout` send SIGTERM)


def run_product(port: int = 8501, headless: bool = True) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    apply_offline_defaults()
    settings = get_settings()
    home = settings.ensure_home()
    log_dir = home / "logs"
    log_dir.mkdir(exist_ok=True)
    # The monitor evaluator and the webhook share this secret; Datadog gets it as a custom variable.
    os.environ.setdefault("GODSEYE_WEBHOOK_SECRET", secrets.token_urlsafe(24))

    from local_datadog import run_in_background

    standin = run_in_background(home)
    if standin.active:
        standin.apply_env()
        console.print("[green]Local Datadog stand-in[/green] running: metrics, traces and monitors stay on this machine.")
    else:
        console.print("DD_API_KEY is set: telemetry goes to your Datadog Agent; nothing local is started.")

    _ensure_catalog()
    children: list[subprocess.Popen] = []
    if standin.active:
        children.append(_background(["godseye.cli.main", "datadog", "evaluate", "--every", "15"], "monitors", log_dir))
        children.append(_background(["godseye.cli.main", "sre", "watch", "--every", "60"], "forecasts", log_dir))
    children.append(_background(["godseye.webhook", "--port", os.environ.get("GODSEYE_WEBHOOK_PORT", "8088")],
                                "webhook", log_dir))
    streamlit = [sys.executable, "-m", "streamlit", "run"]
    flags = ["--server.headless", str(headless).lower(), "--browser.gatherUsageStats", "false"]
    children.append(_background([*streamlit[2:], str(PROJECT_ROOT / "ui" / "console.py"),
                                 "--server.port", str(port + 1), *flags], "console", log_dir))
    ui = subprocess.Popen([*streamlit, str(PROJECT_ROOT / "ui" / "shop.py"), "--server.port", str(port), *flags],
                          cwd=str(PROJECT_ROOT))
    console.print(f"[bold]Godseye shop[/bold] at http://localhost:{port}, operator console at "
                  f"http://localhost:{port + 1}  (logs in {log_dir}; Ctrl-C to stop)")
    try:
        while ui.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("Stopping…")
    finally:
        for child in [ui, *children]:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in [ui, *children]:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        standin.stop()
    return 0 if ui.returncode in (0, None, -signal.SIGINT) else ui.returncode
