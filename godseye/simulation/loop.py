"""The whole detection loop in one process: stand-in, monitor evaluator, incidents, self-heal webhook.

attack -> metric (DogStatsD) -> the stand-in's store -> `datadog/monitors/*.json` evaluated every
`every_s` -> incident declared -> webhook POSTed over HTTP to the real `godseye.webhook` endpoint ->
block list -> the attacker's next message is refused. Each piece is the production code path; this
module only starts them side by side on loopback ports with their state in one directory, for the
end-to-end tests, the load benchmark and `godseye simulate --loop` demos.

`interval_s` is the evaluator's bucket width (Datadog's is the Agent's 10 s flush); tests shorten it
so a "sustained" change spans enough buckets in seconds rather than minutes.
"""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from godseye.config import PROJECT_ROOT

T = TypeVar("T")
DATADOG_DIR = PROJECT_ROOT / "datadog"


class DetectionLoop:
    def __init__(self, workdir: Path | str, *, datadog_dir: Path | str = DATADOG_DIR, every_s: float = 1.0,
                 interval_s: float = 10.0, secret: str | None = None, random_ports: bool = True,
                 metrics_flush_s: float | None = None):
        self.workdir = Path(workdir)
        self.datadog_dir = Path(datadog_dir)
        self.every_s = every_s
        self.interval_s = interval_s
        self.secret = secret or secrets.token_hex(16)
        self.random_ports = random_ports
        self.metrics_flush_s = metrics_flush_s
        self.standin: Any = None
        self.evaluator: Any = None
        self.incident_store: Any = None
        self.webhook_url = ""
        self.webhook_path = ""
        self._server: Any = None
        self._server_thread: threading.Thread | None = None
        self._eval_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._saved_env: dict[str, str | None] = {}

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> DetectionLoop:
        from local_datadog.incidents import IncidentEngine, IncidentStore
        from local_datadog.monitors import MonitorEvaluator, MonitorStateStore
        from local_datadog.server import run_in_background

        self.workdir.mkdir(parents=True, exist_ok=True)
        self.standin = run_in_background(self.workdir / "standin", random_ports=self.random_ports, test_agent=False,
                                         api=False, write_state_file=False)
        if not self.standin.active:
            raise RuntimeError("DD_API_KEY is set: the local stand-in does not run; unset it for a local loop")
        env = dict(self.standin.client_env())
        if self.metrics_flush_s is not None:
            env["GODSEYE_METRICS_FLUSH_S"] = str(self.metrics_flush_s)
        self._start_webhook()
        env["GODSEYE_WEBHOOK_SECRET"] = self.secret
        env["GODSEYE_WEBHOOK_BASE_URL"] = self.webhook_url
        self._set_env(env)
        self.incident_store = IncidentStore(self.workdir / "incidents.sqlite")
        self.evaluator = MonitorEvaluator.from_assets(
            self.datadog_dir, self.standin.store, environ=dict(os.environ), interval_s=self.interval_s,
            state=MonitorStateStore(self.workdir / "monitor_state.sqlite"),
            incident_engine=IncidentEngine.from_assets(self.datadog_dir, self.incident_store))
        self._eval_thread = threading.Thread(target=self.evaluator.run, args=(self.every_s, self._stop),
                                             name="godseye-monitor-eval", daemon=True)
        self._eval_thread.start()
        return self

    def _start_webhook(self) -> None:
        import uvicorn

        from godseye.webhook import PATH, SelfHealer, build_app

        healer = SelfHealer(secret=self.secret, db_path=self.workdir / "webhook.sqlite")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        port = sock.getsockname()[1]
        config = uvicorn.Config(build_app(healer), log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._server_thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                               name="godseye-webhook", daemon=True)
        self._server_thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            raise RuntimeError("the self-heal webhook did not start")
        self.webhook_url = f"http://127.0.0.1:{port}"
        self.webhook_path = PATH

    def _set_env(self, env: dict[str, str]) -> None:
        from telemetry.metrics import metrics

        for key, value in env.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        metrics.reset()  # the metrics client re-reads DD_* and the flush interval

    def stop(self) -> None:
        from telemetry.metrics import metrics

        self._stop.set()
        if self._eval_thread is not None:
            self._eval_thread.join(10)
        if self._server is not None:
            self._server.should_exit = True
            if self._server_thread is not None:
                self._server_thread.join(5)
        metrics.flush()
        if self.standin is not None:
            self.standin.wait_idle()
            self.standin.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        metrics.reset()

    def __enter__(self) -> DetectionLoop:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what happened -------------------------------------------------------------------------------

    def transitions(self, since: float = 0.0) -> list[dict]:
        return self.evaluator.state.transitions(since)

    def notifications(self) -> list[dict]:
        return self.evaluator.state.notifications()

    def incidents(self) -> list[Any]:
        return self.incident_store.list()

    def alerts(self, monitor: str) -> set[str]:
        """Groups of `monitor` that ever went to Alert (e.g. {"session_id:abc"})."""
        return {t["group"] for t in self.transitions() if t["monitor"] == monitor and t["to"] == "Alert"}

    def webhook_events(self) -> list[dict]:
        with sqlite3.connect(self.workdir / "webhook.sqlite") as db:
            rows = db.execute("SELECT event_id, received_at, transition, scope, rule, action FROM webhook_events "
                              "ORDER BY received_at").fetchall()
        keys = ("event_id", "received_at", "transition", "scope", "rule", "action")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def flush(self) -> None:
        """Push buffered metrics to the stand-in now and wait until they are stored."""
        from telemetry.metrics import metrics

        metrics.flush()
        self.standin.wait_idle()


def wait_for(predicate: Callable[[], T], timeout_s: float, every_s: float = 0.2) -> T | None:
    """Poll `predicate` until it returns something truthy (returned) or the time is up (None)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(every_s)
