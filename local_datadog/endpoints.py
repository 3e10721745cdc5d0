"""Where the stand-in listens, derived from the same DD_* variables the clients read.

Why: the `datadog` and `ddtrace` libraries send wherever DD_AGENT_HOST, DD_DOGSTATSD_PORT,
DD_DOGSTATSD_URL, DD_TRACE_AGENT_URL and DD_TRACE_AGENT_PORT point (default localhost:8125 and
localhost:8126). The stand-in binds exactly there, so an unconfigured process and a configured one
both land in it. A variable that points at another machine means a real Agent lives there: that
part of the stand-in is not started. DD_API_KEY means the real Datadog Agent path is wanted and
nothing local starts at all.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_DOGSTATSD_PORT = 8125
DEFAULT_TRACE_PORT = 8126
DEFAULT_API_PORT = 8127
DEFAULT_HOST = "localhost"  # what the datadog and ddtrace clients use when nothing is set


def is_loopback(host: str) -> bool:
    """Literal loopback addresses and localhost; no DNS lookups (offline, and names can lie)."""
    if host in {"localhost", "ip6-localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def real_agent_configured(env: Mapping[str, str] | None = None) -> bool:
    """DD_API_KEY set: telemetry goes to a real Datadog Agent, nothing local starts."""
    env = os.environ if env is None else env
    return bool(env.get("DD_API_KEY", "").strip())


@dataclass
class Endpoints:
    dogstatsd_host: str | None = DEFAULT_HOST  # None: UDP not served locally
    dogstatsd_port: int = DEFAULT_DOGSTATSD_PORT
    dogstatsd_socket: Path | None = None  # DD_DOGSTATSD_URL=unix:///path
    trace_host: str | None = DEFAULT_HOST  # None: traces go elsewhere, no test agent
    trace_port: int = DEFAULT_TRACE_PORT
    api_host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    notes: list[str] = field(default_factory=list)  # why something is not started locally

    @property
    def serves_dogstatsd(self) -> bool:
        return self.dogstatsd_host is not None or self.dogstatsd_socket is not None

    @property
    def serves_traces(self) -> bool:
        return self.trace_host is not None


def _port(value: str | None, default: int, name: str) -> int:
    if not value:
        return default
    try:
        port = int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"{name}={value!r} is not a port number")
    return port


def endpoints_from_env(env: Mapping[str, str] | None = None) -> Endpoints:
    """Read DD_AGENT_HOST, DD_DOGSTATSD_PORT, DD_DOGSTATSD_URL, DD_TRACE_AGENT_URL,
    DD_TRACE_AGENT_PORT and GODSEYE_STANDIN_API_HOST / GODSEYE_STANDIN_API_PORT."""
    env = os.environ if env is None else env
    ep = Endpoints()
    agent_host = env.get("DD_AGENT_HOST", "").strip() or DEFAULT_HOST
    ep.dogstatsd_host = agent_host
    ep.dogstatsd_port = _port(env.get("DD_DOGSTATSD_PORT"), DEFAULT_DOGSTATSD_PORT, "DD_DOGSTATSD_PORT")
    url = env.get("DD_DOGSTATSD_URL", "").strip()
    if url:
        parsed = urlparse(url)
        if parsed.scheme in {"unix", "unixgram"}:
            ep.dogstatsd_socket = Path(parsed.path)
            ep.dogstatsd_host = None
        elif parsed.scheme == "udp":
            ep.dogstatsd_host = parsed.hostname or DEFAULT_HOST
            ep.dogstatsd_port = parsed.port or DEFAULT_DOGSTATSD_PORT
        else:
            raise ValueError(f"DD_DOGSTATSD_URL={url!r}: expected udp://host:port or unix:///path")
    if ep.dogstatsd_host is not None and not is_loopback(ep.dogstatsd_host):
        ep.notes.append(f"DogStatsD goes to {ep.dogstatsd_host}:{ep.dogstatsd_port} (not this machine); "
                        "the local receiver is not started")
        ep.dogstatsd_host = None

    ep.trace_host = agent_host
    ep.trace_port = _port(env.get("DD_TRACE_AGENT_PORT"), DEFAULT_TRACE_PORT, "DD_TRACE_AGENT_PORT")
    trace_url = env.get("DD_TRACE_AGENT_URL", "").strip()
    if trace_url:
        parsed = urlparse(trace_url)
        if parsed.scheme in {"http", "https"}:
            ep.trace_host = parsed.hostname or DEFAULT_HOST
            ep.trace_port = parsed.port or DEFAULT_TRACE_PORT
        else:
            ep.notes.append(f"DD_TRACE_AGENT_URL={trace_url} is not http://host:port; the test agent is not started")
            ep.trace_host = None
    if ep.trace_host is not None and not is_loopback(ep.trace_host):
        ep.notes.append(f"traces go to {ep.trace_host}:{ep.trace_port} (not this machine); "
                        "the local test agent is not started")
        ep.trace_host = None

    ep.api_host = env.get("GODSEYE_STANDIN_API_HOST", "").strip() or "127.0.0.1"
    ep.api_port = _port(env.get("GODSEYE_STANDIN_API_PORT"), DEFAULT_API_PORT, "GODSEYE_STANDIN_API_PORT")
    return ep


def bind_host(host: str) -> str:
    """The address to bind for a loopback host name (the test agent takes one address)."""
    return "127.0.0.1" if host in {"localhost", "ip6-localhost", ""} else host.strip("[]")


def client_env(dogstatsd_port: int | None, trace_url: str | None, dogstatsd_host: str = "127.0.0.1",
               dogstatsd_socket: Path | None = None) -> dict[str, str]:
    """DD_* variables that point a child process's clients at a running stand-in."""
    env: dict[str, str] = {}
    if dogstatsd_socket is not None:
        env["DD_DOGSTATSD_URL"] = f"unix://{dogstatsd_socket}"
    elif dogstatsd_port is not None:
        env["DD_AGENT_HOST"] = dogstatsd_host
        env["DD_DOGSTATSD_PORT"] = str(dogstatsd_port)
        env["DD_DOGSTATSD_URL"] = f"udp://{dogstatsd_host}:{dogstatsd_port}"
    if trace_url:
        env["DD_TRACE_AGENT_URL"] = trace_url
    return env
