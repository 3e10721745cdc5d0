"""Datadog's own APM test agent (`ddapm-test-agent`) as the stand-in for traces and LLM Observability.

Why this agent: it speaks every trace intake version ddtrace uses and keeps what it receives for
inspection, so what we assert on is exactly what a real Agent would have been sent. Two traps:
- It forwards LLM Observability data to Datadog when DD_API_KEY/DD_SITE are set, and treats
  DD_TRACE_AGENT_URL/DD_AGENT_URL as an upstream agent to forward to (and probes it at start).
  Our processes set DD_TRACE_AGENT_URL to point *at* it, so all of those are removed from its
  environment and forwarding is disabled explicitly.
- It also opens OTLP HTTP/gRPC servers (4318/4317 by default); we give them free ports so they
  never collide with a real collector or a parallel test.

How it exposes what it received (read from ddapm_test_agent/agent.py, version 1.69):
- `GET /test/traces` -> list of traces, each a list of span dicts (trace_id, span_id, parent_id,
  name, service, resource, meta, metrics, start, duration, ...). `?trace_ids=1,2` selects.
- `GET /test/session/requests` -> every stored intake request as {url, method, headers, body
  (base64)}. LLM Observability has no dedicated query endpoint: span events are the requests to
  `/evp_proxy/v{2,4}/api/v2/llmobs` (JSON or msgpack, maybe gzip; a list of
  {"event_type": "span", "spans": [...]}), evaluations are the requests to
  `/evp_proxy/v2/api/intake/llm-obs/v{1,2}/eval-metric` ({"data": {"type": "evaluation_metric",
  "attributes": {"metrics": [...]}}}). When ddtrace ships LLMObs spans inside APM traces
  (`meta_struct["_llmobs"]`), the agent synthesises an equivalent `/evp_proxy/v4/api/v2/llmobs`
  request, so reading the requests covers both paths.
- `GET /test/session/clear` forgets everything; `GET /info` answers once it is up.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8126
# Variables that make the test agent talk to Datadog or to another agent.
SCRUBBED_ENV = ("DD_API_KEY", "DD_SITE", "DD_APP_KEY", "DD_TRACE_AGENT_URL", "DD_AGENT_URL", "DD_AGENT_HOST",
                "DD_TRACE_AGENT_PORT", "DD_DOGSTATSD_URL", "DD_DOGSTATSD_PORT")
LLMOBS_SPAN_PATHS = ("/evp_proxy/v2/api/v2/llmobs", "/evp_proxy/v4/api/v2/llmobs")
LLMOBS_EVAL_PATHS = ("/evp_proxy/v2/api/intake/llm-obs/v1/eval-metric",
                     "/evp_proxy/v2/api/intake/llm-obs/v2/eval-metric")


class TestAgentError(RuntimeError):
    """The test agent could not be started or did not answer."""


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _executable() -> list[str]:
    """The ddapm-test-agent entry point of this interpreter's environment."""
    beside = Path(sys.executable).parent / "ddapm-test-agent"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ddapm-test-agent")
    if found:
        return [found]
    return [sys.executable, "-c", "from ddapm_test_agent.agent import main; main()"]


class TestAgent:
    """Runs ddapm-test-agent as a child process on host:port (port 0 picks a free one)."""

    __test__ = False  # not a pytest class

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, workdir: str | Path | None = None,
                 log_path: str | Path | None = None):
        self.host = host
        self.port = port or free_port(host)
        self.workdir = Path(workdir) if workdir else None
        self.log_path = Path(log_path) if log_path else None
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 20.0) -> TestAgent:
        if self.process and self.process.poll() is None:
            return self
        if _port_in_use(self.host, self.port):
            if _answers(self.url):
                raise TestAgentError(f"a trace agent already answers on {self.url}; stop it or pick another port")
            raise TestAgentError(f"port {self.port} on {self.host} is already in use")
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
        env["DISABLE_LLMOBS_DATA_FORWARDING"] = "true"
        env.pop("PORT", None)
        env.pop("HOST", None)
        workdir = self.workdir or Path.cwd()
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "snapshots").mkdir(exist_ok=True)
        args = [
            *_executable(),
            "--host", self.host,
            "--port", str(self.port),
            "--otlp-http-port", str(free_port(self.host)),
            "--otlp-grpc-port", str(free_port(self.host)),
            "--snapshot-dir", str(workdir / "snapshots"),
            "--vcr-cassettes-directory", str(workdir / "vcr-cassettes"),
            "--disable-llmobs-data-forwarding",
            "--log-level", "WARNING",
        ]
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = open(self.log_path, "ab")  # noqa: SIM115 (lives as long as the process)
            out: Any = self._log_file
        else:
            out = subprocess.DEVNULL
        self.process = subprocess.Popen(args, env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._close_log()
                raise TestAgentError(f"ddapm-test-agent exited with code {self.process.returncode}"
                                     + (f"; see {self.log_path}" if self.log_path else ""))
            if _answers(self.url):
                return self
            time.sleep(0.1)
        self.stop()
        raise TestAgentError(f"ddapm-test-agent did not answer on {self.url} within {timeout:.0f} s")

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> TestAgent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Convenience wrappers around the module-level client helpers.
    def traces(self) -> list[list[dict[str, Any]]]:
        return traces(self.url)

    def llmobs_spans(self) -> list[dict[str, Any]]:
        return llmobs_spans(self.url)

    def llmobs_evaluations(self) -> list[dict[str, Any]]:
        return llmobs_evaluations(self.url)

    def clear(self) -> None:
        clear(self.url)


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/info", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


# -- client helpers (work against any running test agent) ---------------------------------------


def info(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/info", timeout=5).json()


def traces(url: str, trace_ids: list[int] | None = None) -> list[list[dict[str, Any]]]:
    """Every trace received (GET /test/traces), each a list of span dicts."""
    params = {"trace_ids": ",".join(map(str, trace_ids))} if trace_ids else None
    resp = httpx.get(f"{url}/test/traces", params=params, timeout=10)
    resp.raise_for_status()
    return resp.json()


def clear(url: str) -> None:
    httpx.get(f"{url}/test/session/clear", timeout=10).raise_for_status()


def requests(url: str) -> list[dict[str, Any]]:
    """Every stored intake request (GET /test/session/requests), oldest first, bodies decoded to bytes."""
    resp = httpx.get(f"{url}/test/session/requests", timeout=10)
    resp.raise_for_status()
    out = []
    for req in reversed(resp.json()):  # the agent lists newest first
        req = dict(req)
        req["body"] = base64.b64decode(req.get("body") or "")
        out.append(req)
    return out


def decode_payload(body: bytes, headers: dict[str, str]) -> Any:
    """Decode an EVP payload: JSON or msgpack, optionally gzip-compressed."""
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "")
    if "gzip" in lowered.get("content-encoding", "") or "gzip" in content_type or body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    if "msgpack" in content_type:
        import msgpack

        return msgpack.unpackb(body, raw=False, strict_map_key=False)
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        import msgpack

        return msgpack.unpackb(body, raw=False, strict_map_key=False)


def _path(url: str) -> str:
    return httpx.URL(url).path


def llmobs_spans(url: str) -> list[dict[str, Any]]:
    """LLM Observability span events received (workflow, agent, llm, tool, retrieval ...).

    Each span dict has trace_id, span_id, parent_id, name, session_id (when set), tags (list of
    "k:v"), meta (span.kind, input, output, metadata, ...), metrics (token counts), start_ns,
    duration, status.
    """
    spans: list[dict[str, Any]] = []
    seen: set[tuple[Any, Any]] = set()
    for req in requests(url):
        if _path(req["url"]) not in LLMOBS_SPAN_PATHS:
            continue
        payload = decode_payload(req["body"], req.get("headers", {}))
        for envelope in payload if isinstance(payload, list) else [payload]:
            if not isinstance(envelope, dict):
                continue
            for span in envelope.get("spans", []):
                key = (span.get("trace_id"), span.get("span_id"))
                if key not in seen:  # the agent may have both an EVP post and a synthesised copy
                    seen.add(key)
                    spans.append(span)
    return spans


def llmobs_evaluations(url: str) -> list[dict[str, Any]]:
    """LLM Observability evaluation metrics received (submit_evaluation): each has label,
    metric_type (score/categorical/boolean), score_value/categorical_value/boolean_value,
    join_on (span or tag), timestamp_ms, ml_app, tags."""
    out: list[dict[str, Any]] = []
    for req in requests(url):
        if _path(req["url"]) not in LLMOBS_EVAL_PATHS:
            continue
        payload = decode_payload(req["body"], req.get("headers", {}))
        data = payload.get("data", {}) if isinstance(payload, dict) else {}
        out.extend(data.get("attributes", {}).get("metrics", []))
    return out


def wait_for(fetch: Any, predicate: Any, timeout: float = 10.0, interval: float = 0.1) -> Any:
    """Poll `fetch()` until `predicate(result)` is true; returns the last result (tests)."""
    deadline = time.monotonic() + timeout
    result = fetch()
    while not predicate(result) and time.monotonic() < deadline:
        time.sleep(interval)
        result = fetch()
    return result
