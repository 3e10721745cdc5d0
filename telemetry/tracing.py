"""ddtrace APM for Godseye: process set-up, a `span()` helper, and trace context across MCP.

Why it looks like this:
- ddtrace is imported only when tracing is wanted (DD_TRACE_ENABLED not "false") *and* a trace
  agent answers. Offline, in tests and without an agent nothing is imported, nothing is patched and
  nothing is logged: `span()` hands back a no-op and costs a function call.
- ddtrace's own integrations are used where they work with our versions: `google_genai` (Gemini
  model calls) and `google_adk` (Runner and tool dispatch spans). ddtrace 4.16 cannot patch
  google-adk >= 2.9 unless `google.adk.flows.llm_flows.tools._caller` is imported first (the
  package loads its sub-packages lazily; dd-trace-py issue 20386), so we import it first.
  ddtrace's `mcp` integration does nothing with mcp 2.x, so MCP gets our own spans
  (`telemetry.mcp_instrumentation`).
- One trace per chat turn needs the MCP server's span to be a child of the client's tool-call span
  across stdio and HTTP. ADK's McpTool already puts whatever OpenTelemetry's global propagator
  injects into the `_meta` of each `tools/call` request; we register a propagator that injects
  ddtrace's active span (Datadog and W3C headers, plus LLM Observability's parent id), and the
  server middleware extracts it again. No ADK class is subclassed for this.

Configuration is the standard DD_* variables, read by ddtrace itself: DD_TRACE_AGENT_URL or
DD_AGENT_HOST/DD_TRACE_AGENT_PORT, DD_ENV, DD_SERVICE, DD_VERSION, DD_TRACE_ENABLED.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlparse

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_AGENT_HOST = "localhost"
DEFAULT_TRACE_PORT = 8126
_PROBE_TIMEOUT_S = 0.25

_lock = threading.Lock()
_tracer: Any = None  # ddtrace's tracer once tracing is on; None means every helper is a no-op
_integrations: dict[str, bool] = {}


# --- switches --------------------------------------------------------------------------------------


def tracing_requested(env: Mapping[str, str] | None = None) -> bool:
    """DD_TRACE_ENABLED is anything but false/0/no (ddtrace's own default is on)."""
    env = os.environ if env is None else env
    return env.get("DD_TRACE_ENABLED", "true").strip().lower() not in {"false", "0", "no", "off"}


def enabled() -> bool:
    """True once `init_tracing` turned ddtrace on in this process."""
    return _tracer is not None


def integration_active(name: str) -> bool:
    """Whether ddtrace's own integration `name` patched successfully (e.g. "google_adk")."""
    return _integrations.get(name, False)


def agent_address(env: Mapping[str, str] | None = None) -> tuple[str, str | int | None]:
    """Where ddtrace will send traces: (host, port), or ("unix", socket path). Same precedence as
    ddtrace: DD_TRACE_AGENT_URL, then DD_AGENT_HOST + DD_TRACE_AGENT_PORT, then localhost:8126."""
    env = os.environ if env is None else env
    url = env.get("DD_TRACE_AGENT_URL", "").strip()
    if url:
        parsed = urlparse(url)
        if parsed.scheme == "unix":
            return "unix", parsed.path
        return parsed.hostname or DEFAULT_AGENT_HOST, parsed.port or (443 if parsed.scheme == "https" else 80)
    host = env.get("DD_AGENT_HOST", "").strip() or DEFAULT_AGENT_HOST
    port = int(env.get("DD_TRACE_AGENT_PORT", "").strip() or DEFAULT_TRACE_PORT)
    return host, port


def agent_reachable(env: Mapping[str, str] | None = None, timeout: float = _PROBE_TIMEOUT_S) -> bool:
    """A cheap connect to the trace agent. ddtrace would otherwise log a send failure for every
    flush when no agent listens; checking once at start-up keeps a missing agent invisible."""
    host, port = agent_address(env)
    if host == "unix":
        return bool(port) and os.path.exists(str(port))
    try:
        with socket.create_connection((host, int(port or DEFAULT_TRACE_PORT)), timeout=timeout):
            return True
    except OSError:
        return False


# --- start-up --------------------------------------------------------------------------------------


def init_tracing(service: str, *, agents: bool = True) -> bool:
    """Turn ddtrace on for this process; returns whether tracing is on. Idempotent and never raises.

    Off when DD_TRACE_ENABLED is false or no trace agent answers (then nothing is imported).
    `agents=False` (MCP servers) skips the ADK and google-genai instrumentation, which would import
    google-adk into a process that never runs an agent.
    """
    global _tracer
    if _tracer is not None:
        return True
    if not tracing_requested():
        return False
    with _lock:
        if _tracer is not None:
            return True
        if not agent_reachable():
            host, port = agent_address()
            log.debug("no trace agent at %s:%s; tracing stays off", host, port)
            return False
        try:
            _tracer = _start_ddtrace(service, agents)
        except Exception:  # tracing must never take the product down
            log.warning("could not start ddtrace; tracing stays off", exc_info=log.isEnabledFor(logging.DEBUG))
            _tracer = None
            return False
    return True


def _start_ddtrace(service: str, agents: bool) -> Any:
    os.environ.setdefault("DD_SERVICE", service)
    import ddtrace
    from ddtrace import config, tracer

    # ddtrace read DD_* when first imported; an earlier import (another library) may predate ours.
    config.service = config.service or os.environ.get("DD_SERVICE") or service
    config.env = config.env or os.environ.get("DD_ENV")
    config.version = config.version or os.environ.get("DD_VERSION")
    if agents:
        _patch_integrations(ddtrace)
        _install_mcp_meta_propagator()
        from telemetry.adk_instrumentation import instrument_adk_agents, instrument_adk_mcp_client

        instrument_adk_agents()
        instrument_adk_mcp_client()
    return tracer


def _patch_integrations(ddtrace: Any) -> None:
    """google_genai and google_adk, each verified separately so one failure keeps the other."""
    for name in ("google_genai", "google_adk"):
        try:
            if name == "google_adk":
                # Workaround for dd-trace-py issue 20386 (see module docstring).
                import google.adk.flows.llm_flows.tools._caller  # noqa: F401
            ddtrace.patch(**{name: True}, raise_errors=True)
            _integrations[name] = True
        except Exception as exc:
            _integrations[name] = False
            log.info("ddtrace %s integration unavailable (%s: %s); using Godseye spans only",
                     name, type(exc).__name__, exc)


# --- spans -----------------------------------------------------------------------------------------


class _NoopSpan:
    """Stands in for a ddtrace Span when tracing is off, so callers never branch (even `span.error = 1`)."""

    span_id = 0
    trace_id = 0
    error = 0

    def set_tag(self, key: str, value: Any = None) -> None:
        pass

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        pass

    def set_metric(self, key: str, value: float) -> None:
        pass

    def set_exc_info(self, *args: Any) -> None:
        pass

    def finish(self, *args: Any, **kwargs: Any) -> None:
        pass


NOOP_SPAN = _NoopSpan()


def set_tags(span: Any, tags: Mapping[str, Any]) -> None:
    """Numbers become span metrics, everything else a string tag; None is skipped."""
    for key, value in tags.items():
        if value is None:
            continue
        if isinstance(value, bool):
            span.set_tag(key, str(value).lower())
        elif isinstance(value, int | float):
            span.set_metric(key, value)
        else:
            span.set_tag(key, str(value))


class span:  # noqa: N801 (reads like a function at call sites: `with span(...)`, `@span(...)`)
    """A ddtrace span as a context manager or a decorator (sync and async functions).

    `with span("lancedb.search", table="products") as s: ...` yields the ddtrace Span (or a no-op
    when tracing is off); exceptions are recorded on the span and re-raised. As a decorator every
    call gets its own span.
    """

    __slots__ = ("name", "resource", "service", "span_type", "tags", "_span")

    def __init__(self, name: str, *, resource: str | None = None, service: str | None = None,
                 span_type: str | None = None, **tags: Any):
        self.name = name
        self.resource = resource
        self.service = service
        self.span_type = span_type
        self.tags = tags
        self._span: Any = None

    def __enter__(self) -> Any:
        if _tracer is None:
            return NOOP_SPAN
        self._span = _tracer.trace(self.name, resource=self.resource, service=self.service,
                                   span_type=self.span_type)
        if self.tags:
            set_tags(self._span, self.tags)
        return self._span

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        current, self._span = self._span, None
        if current is None:
            return
        if exc_type is not None:
            current.set_exc_info(exc_type, exc, tb)
        current.finish()

    def _fresh(self) -> span:
        return span(self.name, resource=self.resource, service=self.service, span_type=self.span_type, **self.tags)

    def __call__(self, fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self._fresh():
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def start_span(name: str, *, resource: str | None = None, service: str | None = None,
               span_type: str | None = None, **tags: Any) -> Any:
    """Start and activate a span that the caller finishes later (callback pairs such as ADK's
    before/after hooks, where no `with` block fits). Returns the no-op span when tracing is off."""
    if _tracer is None:
        return NOOP_SPAN
    started = _tracer.trace(name, resource=resource, service=service, span_type=span_type)
    if tags:
        set_tags(started, tags)
    return started


def current_span() -> Any:
    """The active ddtrace span, or None."""
    return _tracer.current_span() if _tracer is not None else None


# --- propagation -----------------------------------------------------------------------------------


def inject(carrier: dict[str, str], target: Any = None) -> dict[str, str]:
    """Write the trace context of `target` (default: the active span) into `carrier` as header-style
    keys (x-datadog-*, traceparent/tracestate). LLM Observability adds its parent id when enabled."""
    if _tracer is None:
        return carrier
    target = target if target is not None else _tracer.current_span()
    if target is None:
        return carrier
    from ddtrace.propagation.http import HTTPPropagator

    HTTPPropagator.inject(target, carrier)
    return carrier


def _string_items(carrier: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k).lower(): v for k, v in (carrier or {}).items() if isinstance(v, str)}


@contextlib.contextmanager
def continued_trace(carrier: Mapping[str, Any] | None) -> Iterator[bool]:
    """Make the trace context found in `carrier` (an MCP `_meta`, HTTP headers) the parent of spans
    started inside the block. Yields whether a context was found. LLM Observability spans started
    inside get the propagated LLM Observability parent as well."""
    if _tracer is None:
        yield False
        return
    headers = _string_items(carrier)
    from ddtrace.propagation.http import HTTPPropagator

    context = HTTPPropagator.extract(headers)
    if not context.trace_id:
        yield False
        return
    provider = _tracer.context_provider
    previous = provider.active()
    provider.activate(context)
    from telemetry import llmobs

    restore_llmobs = llmobs.activate_distributed(headers, context)
    try:
        yield True
    finally:
        restore_llmobs()
        provider.activate(previous)


_last_injected: tuple[tuple[Any, ...], dict[str, str]] | None = None


def _active_headers() -> dict[str, str]:
    """`inject({})` for the active span, remembered for as long as the same span (and the same LLM
    Observability parent) is active: one MCP `tools/call` is injected twice (by ADK's McpTool and by
    the MCP client), and ADK lists every toolset's tools before each model call, all under one span.
    Returns a copy the caller may keep."""
    global _last_injected
    target = _tracer.current_span() if _tracer is not None else None
    if target is None:
        return {}
    from telemetry import llmobs

    def key() -> tuple[Any, ...]:
        return target.trace_id, target.span_id, target.context.sampling_priority, llmobs.active_parent_id()

    last = _last_injected
    if last is None or last[0] != key():
        headers = inject({}, target)  # may take the sampling decision: key() after it
        last = _last_injected = (key(), headers)
    return dict(last[1])


class _DatadogTextMapPropagator:
    """An OpenTelemetry TextMapPropagator that writes ddtrace's active span, so ADK's McpTool (which
    calls the global OpenTelemetry propagator to fill `_meta`) carries our trace to MCP servers."""

    _FIELDS = frozenset({"x-datadog-trace-id", "x-datadog-parent-id", "x-datadog-sampling-priority",
                         "x-datadog-origin", "x-datadog-tags", "traceparent", "tracestate"})

    def inject(self, carrier: Any, context: Any = None, setter: Any = None) -> None:
        headers = _active_headers()
        for key, value in headers.items():
            if setter is not None:
                setter.set(carrier, key, value)
            else:
                carrier[key] = value

    def extract(self, carrier: Any, context: Any = None, getter: Any = None) -> Any:
        if context is None:
            from opentelemetry.context import get_current

            return get_current()
        return context

    @property
    def fields(self) -> set[str]:
        return set(self._FIELDS)


def _install_mcp_meta_propagator() -> None:
    """Put our propagator in front of OpenTelemetry's global one. A real OpenTelemetry span, if an
    application configured an SDK, still wins for `traceparent` because its propagator runs last."""
    from opentelemetry import propagate
    from opentelemetry.propagators.composite import CompositePropagator
    from opentelemetry.propagators.textmap import TextMapPropagator

    current = propagate.get_global_textmap()
    if getattr(current, "_godseye_datadog", False):
        return
    ours = type("DatadogTextMapPropagator", (_DatadogTextMapPropagator, TextMapPropagator), {})()
    composite = CompositePropagator([ours, current])
    composite._godseye_datadog = True  # type: ignore[attr-defined]
    propagate.set_global_textmap(composite)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Switch all tracing off inside the block and back on after it: our spans, LLM Observability and
    ddtrace's google_adk/google_genai integrations (unpatched, then patched again). For benchmarks
    that compare instrumented and plain chat turns in the same run; not for production paths."""
    global _tracer
    if _tracer is None:
        yield
        return
    from telemetry import llmobs

    saved, saved_llmobs = _tracer, llmobs._enabled
    modules = _integration_modules()
    for module in modules:
        module.unpatch()
    _tracer, llmobs._enabled = None, False
    try:
        yield
    finally:
        _tracer, llmobs._enabled = saved, saved_llmobs
        for module in modules:
            module.patch()


def _integration_modules() -> list[Any]:
    import importlib

    return [importlib.import_module(f"ddtrace.contrib.internal.{name}.patch")
            for name, active in _integrations.items() if active]


# --- shutdown --------------------------------------------------------------------------------------


def flush() -> None:
    """Send finished spans now (short-lived CLIs exit before ddtrace's periodic writer runs)."""
    if _tracer is None:
        return
    try:
        _tracer.flush()
    except Exception:
        log.debug("trace flush failed", exc_info=True)
