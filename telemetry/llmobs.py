"""LLM Observability for Godseye through ddtrace's `LLMObs` SDK.

What goes there, and where it comes from:
- workflow: one per chat turn (`chat_turn`, from `ShopRuntime.turn`), input = the shopper's
  message, output = the reply, `session_id` set, so LLM Observability groups a conversation;
- agent: one per ADK agent step (orchestrator, shopper, ...), from `telemetry.adk_plugin`, plus
  ddtrace's google_adk integration span for the Runner;
- llm: one per model call with model, input/output messages and token metrics (from the plugin;
  Gemini calls also get ddtrace's google_genai span);
- tool: ddtrace's google_adk integration, one per tool call (our MCP client span when that
  integration is unavailable);
- retrieval: the catalog's LanceDB search, in the MCP server process (`retrieval` decorator),
  parented across the process boundary through the propagated context;
- evaluations: the guardrail scores (`injection_score`, `quality_score`, categorical `verdict`)
  joined to the turn's workflow span (`evaluate`, `submit_evaluations`).

Every span is also an APM span of the same trace (LLMObs spans are ddtrace spans), so there is one
trace per turn whichever view you open. Data goes through the local trace agent's EVP proxy
(`agentless_enabled=False`): no API key in the process; the stand-in's ddapm-test-agent receives it
offline. All helpers are no-ops when tracing or LLM Observability is off.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from telemetry import tracing

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_ML_APP = "godseye"
MAX_TEXT = 4000  # characters of any one message/document kept in a span (payload size, cost)
MAX_MESSAGES = 12  # latest messages of a model request kept in its llm span
LLMOBS_SPAN_TYPE = "llm"  # ddtrace's span_type of every LLMObs SDK span (ddtrace.ext.SpanTypes.LLM)
_SESSION_MEMORY = 2048  # sessions whose latest turn span is remembered for late evaluations

# label, metric type for each guardrail score kind
EVALUATIONS: dict[str, tuple[str, str]] = {
    "injection": ("injection_score", "score"),
    "injection_score": ("injection_score", "score"),
    "quality": ("quality_score", "score"),
    "quality_score": ("quality_score", "score"),
    "verdict": ("verdict", "categorical"),
}

_enabled = False
_current_turn: contextvars.ContextVar[Any] = contextvars.ContextVar("godseye_turn_span", default=None)
_turn_by_session: OrderedDict[str, Any] = OrderedDict()


_LLMObs: Any = None  # ddtrace's LLMObs class, imported on first use (never when tracing is off)


def _llmobs() -> Any:
    global _LLMObs
    if _LLMObs is None:
        from ddtrace.llmobs import LLMObs

        _LLMObs = LLMObs
    return _LLMObs


def enabled() -> bool:
    return _enabled


def enable(service: str | None = None) -> bool:
    """Start LLM Observability in agent mode (through the trace agent). Needs tracing to be on.

    Honours DD_LLMOBS_ENABLED=false and DD_LLMOBS_ML_APP. ddtrace's automatic LLM integrations stay
    off here: `telemetry.tracing` patches the ones that work with our versions itself (LLMObs'
    automatic patching would raise on google-adk >= 2.9).
    """
    global _enabled
    if _enabled:
        return True
    if not tracing.enabled():
        return False
    if os.environ.get("DD_LLMOBS_ENABLED", "true").strip().lower() in {"false", "0", "no", "off"}:
        return False
    try:
        LLMObs = _llmobs()
        LLMObs.enable(
            ml_app=os.environ.get("DD_LLMOBS_ML_APP") or DEFAULT_ML_APP,
            agentless_enabled=False,
            integrations_enabled=False,
            service=service or os.environ.get("DD_SERVICE"),
            env=os.environ.get("DD_ENV"),
        )
        _enabled = bool(LLMObs.enabled)
    except Exception as exc:
        log.warning("LLM Observability could not start (%s: %s)", type(exc).__name__, exc)
        _enabled = False
    return _enabled


def flush() -> None:
    if not _enabled:
        return
    try:
        _llmobs().flush()
    except Exception:
        log.debug("LLM Observability flush failed", exc_info=True)


# --- spans -----------------------------------------------------------------------------------------


def start(kind: str, name: str, *, session_id: str | None = None, display_name: str | None = None,
          model_name: str | None = None, model_provider: str | None = None, resource: str | None = None,
          input_data: Any = None, llmobs_tags: Mapping[str, Any] | None = None, **tags: Any) -> Any:
    """Start and activate an LLM Observability span of `kind` (workflow, agent, llm, tool, task,
    retrieval) that is also the APM span `name`; a plain APM span when LLM Observability is off, the
    no-op span when tracing is off. The caller finishes it (`finish`).

    `display_name` names it in LLM Observability while APM keeps the low-cardinality `name`
    ("adk.agent" in APM, "shopper" in LLM Observability). `input_data` and `llmobs_tags` are
    annotated in the same call as the name (one annotation per span start, not three).
    """
    if session_id:
        tags["session_id"] = session_id
    if not _enabled:
        return tracing.start_span(name, resource=resource or display_name, **tags)
    LLMObs = _llmobs()
    if kind == "llm":
        started = LLMObs.llm(model_name=model_name, name=name, model_provider=model_provider, session_id=session_id)
    else:
        started = getattr(LLMObs, kind)(name=name, session_id=session_id)
    fields: dict[str, Any] = {}
    if input_data is not None:
        fields["input_data"] = input_data
    if llmobs_tags:
        fields["tags"] = dict(llmobs_tags)
    if display_name and display_name != name:
        fields["_name"] = display_name
    if fields:
        try:
            try:
                LLMObs.annotate(started, **fields)
            except TypeError:  # private `_name` gone in a later ddtrace: keep the APM name
                fields.pop("_name", None)
                if fields:
                    LLMObs.annotate(started, **fields)
        except Exception:
            log.debug("LLMObs.annotate failed", exc_info=True)
        started.name = name  # `_name` renamed the APM span too
    started.resource = resource or display_name or name
    if tags:
        tracing.set_tags(started, tags)
    return started


def annotate(span: Any, **fields: Any) -> None:
    """LLMObs.annotate on one of our spans (input_data, output_data, metadata, metrics, tags);
    silently nothing when LLM Observability is off or the span is not an LLM Observability span."""
    if not _enabled or getattr(span, "span_type", None) != LLMOBS_SPAN_TYPE:
        return
    try:
        _llmobs().annotate(span, **fields)
    except Exception:
        log.debug("LLMObs.annotate failed", exc_info=True)


def finish(span: Any, error: BaseException | None = None) -> None:
    if span is None:
        return
    if error is not None:
        span.set_exc_info(type(error), error, error.__traceback__)
    span.finish()


def clip(text: Any, limit: int = MAX_TEXT) -> str:
    text = text if isinstance(text, str) else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the chat turn ---------------------------------------------------------------------------------


class TurnRecorder:
    """Handed to the code that runs a turn so it can put the outcome on the turn's span."""

    __slots__ = ("span",)

    def __init__(self, span: Any):
        self.span = span

    def __call__(self, result: Any) -> None:
        """Record a `TurnResult` (duck-typed: reply, agent, model, blocked, error, tool_calls)."""
        s = self.span
        if s is tracing.NOOP_SPAN:
            return
        agent = getattr(result, "agent", None)
        tracing.set_tags(s, {
            "godseye.agent": agent,
            "godseye.model": getattr(result, "model", None),
            "godseye.blocked": bool(getattr(result, "blocked", False)),
            "godseye.tool_calls": len(getattr(result, "tool_calls", None) or []),
        })
        error = getattr(result, "error", None)
        if error:
            s.error = 1
            s.set_tag("error.message", clip(error, 500))
        annotate(s, output_data=clip(getattr(result, "reply", "") or ""),
                 tags={"agent": agent or "none", "blocked": str(bool(getattr(result, "blocked", False))).lower()})


@contextlib.contextmanager
def chat_turn(*, app: str, session_id: str, user_id: str, text: str) -> Iterator[TurnRecorder]:
    """The root span of one chat turn: APM `godseye.chat.turn` (resource = the agent app, tags
    session_id and user_id) and the LLM Observability workflow span with the session id.

    Guardrail evaluations submitted during the turn (`evaluate`) attach to it.
    """
    if not tracing.enabled():
        yield TurnRecorder(tracing.NOOP_SPAN)
        return
    span = start("workflow", "godseye.chat.turn", session_id=session_id, display_name=f"{app}.turn",
                 resource=app, input_data=clip(text), llmobs_tags={"user_id": user_id, "app": app},
                 user_id=user_id, **{"godseye.app": app, "span.kind": "server"})
    token = _current_turn.set(span)
    _remember(session_id, span)
    try:
        yield TurnRecorder(span)
    except BaseException as exc:
        span.set_exc_info(type(exc), exc, exc.__traceback__)
        raise
    finally:
        _current_turn.reset(token)
        span.finish()


def _remember(session_id: str, span: Any) -> None:
    _turn_by_session[session_id] = span
    _turn_by_session.move_to_end(session_id)
    while len(_turn_by_session) > _SESSION_MEMORY:
        _turn_by_session.popitem(last=False)


def turn_span(session_id: str | None = None) -> Any:
    """The span of the turn running in this context, else the latest turn of `session_id`."""
    current = _current_turn.get()
    if current is not None:
        return current
    return _turn_by_session.get(session_id) if session_id else None


# --- evaluations -----------------------------------------------------------------------------------


def _exported(target: Any) -> dict[str, str] | None:
    """{'span_id', 'trace_id'} for an LLMObs span, an exported span dict, or None."""
    if target is None:
        return None
    if isinstance(target, Mapping):
        return {"span_id": str(target["span_id"]), "trace_id": str(target["trace_id"])}
    try:
        exported = _llmobs().export_span(target)
    except Exception:
        return None
    return {"span_id": exported["span_id"], "trace_id": exported["trace_id"]} if exported else None


def _target_for(session_id: str | None) -> dict[str, str] | None:
    found = _exported(turn_span(session_id))
    if found is not None:
        return found
    try:  # outside ShopRuntime (adk web): the innermost LLMObs span of this context
        return _exported(_llmobs().export_span())
    except Exception:
        return None


def evaluate(kind: str, value: float | str | bool, *, session_id: str | None = None,
             span: Any = None, tags: Mapping[str, str] | None = None) -> bool:
    """Submit one guardrail score as an LLM Observability evaluation on the current turn's span.

    `kind`: "injection"/"injection_score" and "quality"/"quality_score" (scores, 0..1), "verdict"
    (categorical, e.g. "allow", "block"); any other kind is submitted under its own label with the
    type its value implies. Returns whether it was submitted (False when LLM Observability is off
    or no span of this turn is known). Never raises.
    """
    if not _enabled:
        return False
    label, metric_type = EVALUATIONS.get(kind, (kind, _metric_type(value)))
    if metric_type == "score":
        try:
            value = float(value)
        except (TypeError, ValueError):
            log.debug("evaluation %s: %r is not a score", label, value)
            return False
    else:
        value = value if isinstance(value, bool) and metric_type == "boolean" else str(value)
    target = _exported(span) if span is not None else _target_for(session_id)
    if target is None:
        log.debug("evaluation %s dropped: no span for session %s", label, session_id)
        return False
    eval_tags = {"source": "guardrails", **(tags or {})}
    if session_id:
        eval_tags["session_id"] = session_id
    try:
        _llmobs().submit_evaluation(label=label, metric_type=metric_type, value=value, span=target,
                                    tags=eval_tags)
        return True
    except Exception as exc:
        log.debug("submit_evaluation(%s) failed: %s", label, exc)
        return False


def _metric_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "score"
    return "categorical"


def submit_evaluations(span_context: Any, injection_score: float | None, quality_score: float | None,
                       verdict: str | None, *, session_id: str | None = None) -> int:
    """The guardrail scores of one turn as evaluations: `injection_score` and `quality_score`
    (score) and `verdict` (categorical). `span_context`: an LLMObs span, an exported span dict, or
    None for the current turn. Returns how many were submitted."""
    sent = 0
    for kind, value in (("injection_score", injection_score), ("quality_score", quality_score),
                        ("verdict", verdict)):
        if value is not None:
            sent += evaluate(kind, value, session_id=session_id, span=span_context)
    return sent


# --- retrieval -------------------------------------------------------------------------------------


def _documents(items: Any) -> list[dict[str, Any]]:
    docs = []
    for item in list(items or [])[:50]:
        get = item.get if isinstance(item, Mapping) else functools.partial(getattr, item)
        doc: dict[str, Any] = {}
        for key in ("id", "name"):
            value = get(key, None)
            if value is not None:
                doc[key] = str(value)
        text = get("description", None) or get("text", None) or doc.get("name")
        if text:
            doc["text"] = clip(text, 500)
        score = get("score", None)
        if isinstance(score, int | float):
            doc["score"] = float(score)
        docs.append(doc)
    return docs


def retrieval(name: str = "lancedb.search", *, query_arg: str = "query", **static_tags: Any) -> Callable[[F], F]:
    """Decorate a search function: APM span `name` + LLM Observability retrieval span whose input
    is the query (argument `query_arg`, else the first string argument) and whose output is the
    returned documents (objects or dicts with id/name/description/score)."""

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)
        resource = fn.__qualname__

        def query_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
            try:
                bound = signature.bind_partial(*args, **kwargs)
            except TypeError:
                return ""
            value = bound.arguments.get(query_arg)
            if value is None:
                value = next((a for a in bound.arguments.values() if isinstance(a, str)), "")
            return str(value or "")

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not tracing.enabled():
                return fn(*args, **kwargs)
            query = query_of(args, kwargs)
            span = start("retrieval", name, resource=resource, **{"db.system": "lancedb", **static_tags})
            tracing.set_tags(span, {"retrieval.query": clip(query, 200),
                                    **{f"retrieval.{k}": v for k, v in kwargs.items()
                                       if isinstance(v, str | int | float | bool)}})
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                finish(span, exc)
                raise
            docs = _documents(result) if isinstance(result, list | tuple) else []
            span.set_metric("retrieval.documents", len(docs))
            annotate(span, input_data=query, output_data=docs)
            span.finish()
            return result

        return wrapper  # type: ignore[return-value]

    return decorate


# --- distributed context ---------------------------------------------------------------------------


def active_parent_id() -> int | None:
    """Span id of the active LLM Observability span (what propagation names as the parent), or None."""
    if not _enabled:
        return None
    provider = getattr(getattr(_llmobs(), "_instance", None), "_llmobs_context_provider", None)
    active = provider.active() if provider is not None else None
    return getattr(active, "span_id", None)


def activate_distributed(headers: Mapping[str, str], context: Any) -> Callable[[], None]:
    """Make the LLM Observability parent carried in `headers` the parent of LLMObs spans started in
    this context (an MCP server continuing the client's trace). Returns an undo callable."""
    if not _enabled:
        return _nothing
    LLMObs = _llmobs()
    provider = getattr(getattr(LLMObs, "_instance", None), "_llmobs_context_provider", None)
    previous = provider.active() if provider is not None else None
    try:
        LLMObs._activate_llmobs_distributed_context_soft_fail(dict(headers), context)
    except Exception:
        log.debug("could not activate the LLM Observability parent", exc_info=True)
        return _nothing
    if provider is None:
        return _nothing
    return functools.partial(provider.activate, previous)


def _nothing() -> None:
    return None
