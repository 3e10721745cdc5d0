"""Runs the local Datadog stand-in: DogStatsD receiver + ddapm-test-agent + the query API.

Why one object: tests, `godseye standin start`, `python -m local_datadog` and the product's run
command all need the same thing started in the same order and stopped cleanly (receiver drained,
test agent terminated, state file removed), with the DD_* variables that point clients at it.

    handle = run_in_background(home)      # threads in this process + the test agent subprocess
    handle.client_env()                   # DD_* for child processes; handle.apply_env() for this one
    handle.wait_idle(); handle.stop()

With DD_API_KEY set nothing local starts: telemetry goes to the real Datadog Agent.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from local_datadog.dogstatsd import DogStatsdReceiver
from local_datadog.endpoints import (
    Endpoints,
    bind_host,
    client_env,
    endpoints_from_env,
    real_agent_configured,
)
from local_datadog.state import read_state, remove_state, write_state
from local_datadog.store import DEFAULT_FILENAME, MetricStore
from local_datadog.testagent import TestAgent

log = logging.getLogger(__name__)

REAL_AGENT_MESSAGE = ("DD_API_KEY is set: telemetry goes to the real Datadog Agent "
                      "(DD_AGENT_HOST / DD_TRACE_AGENT_URL); the local stand-in is not started.")
DEFAULT_RETENTION_S = 7 * 86400


class StandinError(RuntimeError):
    """The stand-in cannot start (port taken, already running, test agent failed)."""


def _home(home: str | Path | None) -> Path:
    if home is not None:
        return Path(home)
    from godseye.config import get_settings

    return get_settings().home


def _retention_s() -> float:
    raw = os.environ.get("GODSEYE_STANDIN_RETENTION", "")
    if not raw:
        return DEFAULT_RETENTION_S
    from local_datadog.query import parse_duration

    return parse_duration(raw)


class Standin:
    """The stand-in's components, started together. `active` is False when DD_API_KEY is set."""

    def __init__(
        self,
        home: str | Path | None = None,
        endpoints: Endpoints | None = None,
        *,
        test_agent: bool = True,
        api: bool = True,
        write_state_file: bool = True,
        retention_s: float | None = None,
    ):
        self.home = _home(home)
        self.endpoints = endpoints or endpoints_from_env()
        self.want_test_agent = test_agent
        self.want_api = api
        self.write_state_file = write_state_file
        self.retention_s = _retention_s() if retention_s is None else retention_s
        self.active = False
        self.store: MetricStore | None = None
        self.receiver: DogStatsdReceiver | None = None
        self.test_agent: TestAgent | None = None
        self.api_url: str | None = None
        self.started_at: float | None = None
        self._token = uuid.uuid4().hex
        self._api_server: Any = None
        self._api_thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._maintenance: threading.Thread | None = None

    # -- addresses -------------------------------------------------------------------------------

    @property
    def dogstatsd_port(self) -> int | None:
        return self.receiver.port if self.receiver else None

    @property
    def dogstatsd_host(self) -> str:
        host = self.endpoints.dogstatsd_host or "127.0.0.1"
        return bind_host(host)

    @property
    def trace_agent_url(self) -> str | None:
        return self.test_agent.url if self.test_agent else None

    def client_env(self) -> dict[str, str]:
        """DD_* variables that make a process's datadog/ddtrace clients send here."""
        if not self.active:
            return {}
        return client_env(self.dogstatsd_port, self.trace_agent_url, self.dogstatsd_host,
                          self.receiver.socket_path if self.receiver and self.receiver.port is None else None)

    def apply_env(self) -> dict[str, str]:
        """Point this process's clients here: set the DD_* variables and rebuild the metrics client.
        (A tracer that is already configured must be reconfigured by its owner.)"""
        env = self.client_env()
        os.environ.update(env)
        try:
            from telemetry.metrics import metrics

            metrics.reset()
        except ImportError:  # the stand-in also runs without the product installed
            pass
        return env

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Standin:
        if real_agent_configured():
            log.warning(REAL_AGENT_MESSAGE)
            return self
        self.home.mkdir(parents=True, exist_ok=True)
        existing = read_state(self.home)
        if existing and existing.get("running") and existing.get("pid") != os.getpid():
            raise StandinError(f"a stand-in is already running for {self.home} (pid {existing.get('pid')}); "
                               "stop it first or use another GODSEYE_HOME")
        try:
            self.store = MetricStore(self.home / DEFAULT_FILENAME)
            ep = self.endpoints
            if ep.serves_dogstatsd:
                self.receiver = DogStatsdReceiver(
                    self.store,
                    host=ep.dogstatsd_host or "127.0.0.1",
                    port=ep.dogstatsd_port,
                    socket_path=ep.dogstatsd_socket,
                    udp=ep.dogstatsd_host is not None,
                ).start()
            if self.want_test_agent and ep.serves_traces:
                workdir = self.home / "testagent"
                self.test_agent = TestAgent(bind_host(ep.trace_host or "127.0.0.1"), ep.trace_port,
                                            workdir=workdir, log_path=workdir / "agent.log")
                try:
                    self.test_agent.start()
                except Exception as exc:
                    self.test_agent = None
                    raise StandinError(f"trace agent: {exc}") from exc
            if self.want_api:
                self._start_api()
        except OSError as exc:
            self.stop()
            raise StandinError(str(exc)) from exc
        except Exception:
            self.stop()
            raise
        self.active = True
        self.started_at = time.time()
        self._maintenance = threading.Thread(target=self._maintain, name="standin-maintenance", daemon=True)
        self._maintenance.start()
        if self.write_state_file:
            write_state(self.home, self.state())
        return self

    def _start_api(self) -> None:
        import uvicorn

        from local_datadog.api import create_app

        host, port = self.endpoints.api_host, self.endpoints.api_port
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"cannot serve the stand-in API on {host}:{port}: {exc.strerror}") from None
        sock.listen(128)
        bound = sock.getsockname()[1]
        assert self.store is not None
        app = create_app(self.store, self.live_status)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        self._api_server = server
        self._api_thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                            name="standin-api", daemon=True)
        self._api_thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline and self._api_thread.is_alive():
            time.sleep(0.01)
        if not server.started:
            raise OSError(0, "the stand-in API did not start")
        self.api_url = f"http://{host}:{bound}"

    def _maintain(self) -> None:
        """Retention: forget data older than GODSEYE_STANDIN_RETENTION (default 7 days), hourly."""
        while not self._stop_event.is_set():
            if self.store is not None and self.retention_s > 0:
                try:
                    self.store.prune(time.time() - self.retention_s)
                except Exception as exc:  # a busy database must not kill the stand-in
                    log.warning("stand-in retention pass failed: %s", exc)
            self._stop_event.wait(3600)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every datagram received so far is in the store."""
        return self.receiver.wait_idle(timeout) if self.receiver else True

    def stop(self) -> None:
        self._stop_event.set()
        if self._api_server is not None:
            self._api_server.should_exit = True
            if self._api_thread:
                self._api_thread.join(5)
            self._api_server = None
        if self.receiver is not None:
            self.receiver.stop()
        if self.test_agent is not None:
            self.test_agent.stop()
        if self.write_state_file and self.active:
            remove_state(self.home, self._token)
        if self.store is not None:
            self.store.close()
        self.active = False

    def __enter__(self) -> Standin:
        return self.start() if not self.active else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- status ----------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What goes into the state file."""
        r = self.receiver
        return {
            "token": self._token,
            "pid": os.getpid(),
            "started_at": self.started_at,
            "home": str(self.home),
            "store": str(self.store.path) if self.store else None,
            "dogstatsd": {
                "host": self.dogstatsd_host if r and r.port else None,
                "port": r.port if r else None,
                "socket": str(r.socket_path) if r and r.socket_path else None,
                "address": r.address if r else None,
            },
            "trace_agent_url": self.trace_agent_url,
            "test_agent_pid": self.test_agent.pid if self.test_agent else None,
            "api_url": self.api_url,
            "notes": list(self.endpoints.notes),
            "env": self.client_env() if self.active else {},
        }

    def live_status(self) -> dict[str, Any]:
        """Live view for /health and /api/stats."""
        out: dict[str, Any] = {
            "pid": os.getpid(),
            "uptime_s": round(time.time() - self.started_at, 1) if self.started_at else 0.0,
            "receiver": self.receiver.snapshot() if self.receiver else None,
            "trace_agent_url": self.trace_agent_url,
            "test_agent_running": bool(self.test_agent and self.test_agent.process
                                       and self.test_agent.process.poll() is None),
            "notes": list(self.endpoints.notes),
        }
        return out


def run_in_background(
    home: str | Path | None = None,
    *,
    random_ports: bool = False,
    test_agent: bool = True,
    api: bool = True,
    endpoints: Endpoints | None = None,
    write_state_file: bool = True,
) -> Standin:
    """Start the stand-in in this process (threads) plus the test agent subprocess; returns the
    running handle (`.stop()`, `.client_env()`, `.apply_env()`, `.wait_idle()`, `.store`).

    random_ports=True binds free loopback ports (tests, parallel runs) instead of the DD_*-derived
    defaults 8125/8126/8127. With DD_API_KEY set nothing starts and `handle.active` is False.
    """
    if endpoints is None:
        endpoints = endpoints_from_env()
        if random_ports:
            endpoints = Endpoints(dogstatsd_host="127.0.0.1", dogstatsd_port=0, trace_host="127.0.0.1",
                                  trace_port=0, api_host="127.0.0.1", api_port=0)
    return Standin(home, endpoints, test_agent=test_agent, api=api, write_state_file=write_state_file).start()


# -- foreground entry point (python -m local_datadog, godseye standin start) ------------------------


def describe(standin: Standin) -> list[str]:
    lines = [f"Godseye local Datadog stand-in (home {standin.home})"]
    if standin.receiver:
        lines.append(f"  DogStatsD      {standin.receiver.address}  (rcvbuf {standin.receiver.stats.rcvbuf >> 20} MiB)")
    if standin.trace_agent_url:
        lines.append(f"  traces/LLMObs  {standin.trace_agent_url}  (ddapm-test-agent)")
    if standin.api_url:
        lines.append(f"  query API      {standin.api_url}/api/stats")
    if standin.store:
        lines.append(f"  store          {standin.store.path}")
    lines.extend(f"  note: {n}" for n in standin.endpoints.notes)
    env = standin.client_env()
    if env:
        lines.append("  clients: " + " ".join(f"{k}={v}" for k, v in sorted(env.items())))
    return lines


def run_foreground(home: str | Path | None = None, *, endpoints: Endpoints | None = None,
                   test_agent: bool = True, api: bool = True) -> int:
    """Start, print where everything listens, block until Ctrl-C / SIGTERM, stop cleanly."""
    if real_agent_configured():
        print(REAL_AGENT_MESSAGE)
        return 0
    standin = Standin(home, endpoints, test_agent=test_agent, api=api)
    try:
        standin.start()
    except StandinError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in describe(standin):
        print(line, flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    stop = threading.Event()

    def _signal(signum: int, frame: object) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _signal)
    try:
        while not stop.wait(0.5):
            if standin.test_agent and standin.test_agent.process and standin.test_agent.process.poll() is not None:
                print("error: the trace agent exited; stopping", file=sys.stderr)
                break
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        print("stopping...", flush=True)
        standin.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    from godseye.netguard import install_if_requested

    install_if_requested()
    parser = argparse.ArgumentParser(prog="python -m local_datadog", description=__doc__.splitlines()[0])
    parser.add_argument("--home", help="data directory (default: GODSEYE_HOME or ./var)")
    parser.add_argument("--no-test-agent", action="store_true", help="do not start ddapm-test-agent")
    parser.add_argument("--no-api", action="store_true", help="do not serve the HTTP query API")
    parser.add_argument("--dogstatsd-port", type=int, help="UDP port (default: DD_DOGSTATSD_PORT or 8125)")
    parser.add_argument("--dogstatsd-socket", help="also listen on this Unix datagram socket path")
    parser.add_argument("--trace-port", type=int, help="test agent port (default: DD_TRACE_AGENT_URL or 8126)")
    parser.add_argument("--api-port", type=int, help="query API port (default: 8127)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        endpoints = endpoints_with_overrides(args.dogstatsd_port, args.trace_port, args.api_port,
                                             args.dogstatsd_socket)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run_foreground(args.home, endpoints=endpoints, test_agent=not args.no_test_agent, api=not args.no_api)


def endpoints_with_overrides(dogstatsd_port: int | None = None, trace_port: int | None = None,
                             api_port: int | None = None, dogstatsd_socket: str | None = None) -> Endpoints:
    ep = endpoints_from_env()
    if dogstatsd_port is not None:
        ep.dogstatsd_port = dogstatsd_port
    if trace_port is not None:
        ep.trace_port = trace_port
    if api_port is not None:
        ep.api_port = api_port
    if dogstatsd_socket:
        ep.dogstatsd_socket = Path(dogstatsd_socket)
    return ep
