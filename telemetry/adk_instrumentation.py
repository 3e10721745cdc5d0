"""Godseye's spans inside an ADK run: agent steps, model calls and MCP tool calls.

ddtrace's google_adk integration gives one span for the Runner and one per tool dispatch, and its
google_genai integration one per Gemini request. What it cannot see we add here:
- `instrument_adk_agents()`: an `adk.agent` span per agent step (orchestrator, then the
  specialist it transferred to) around `BaseAgent.run_async`, the public entry every runner and
  workflow node uses. Not the plugin's before/after_agent hooks: ADK skips `after_agent` when an
  invocation ends early (a transfer, a confirmation pause), which would leave spans open.
- `TelemetryPlugin` (an ADK plugin, first on the App): an `llm.call` span per model call with
  model, agent, provider and token counts. Plugins are ADK's public hook and see every model (the
  embedded planner, Gemini, LiteLLM alike). In LLM Observability agent steps are agent spans and
  model calls llm spans with input/output messages and token metrics.
- `instrument_adk_mcp_client()`: an `mcp.tool.call` client span around ADK's `McpTool.run_async`,
  tagged with the MCP server and tool. The trace context it carries reaches the server through
  `_meta` (see `telemetry.tracing`).

Why open model spans are tracked by key: a guardrail that answers in `before_model` skips the model
and every `after_model` hook (DESIGN.md), so an `llm.call` opened by the plugin can be left without
its closing hook; it is closed, tagged `llm.skipped`, by the next model call of that agent or when
the agent step ends.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import weakref
from typing import Any

from google.adk.agents.callback_context import CallbackContext
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.plugins.base_plugin import BasePlugin

from telemetry import llmobs, tracing

log = logging.getLogger(__name__)

AGENT_SPAN = "adk.agent"
LLM_SPAN = "llm.call"
CLIENT_SPAN = "mcp.tool.call"
MAX_MESSAGES = llmobs.MAX_MESSAGES


def model_provider(model: str) -> str:
    """Provider label for a model string: "google" (Gemini), "godseye" (the embedded planner), or
    a LiteLLM prefix ("openai/gpt-4o-mini" -> "openai")."""
    if model.startswith("gemini") or model.startswith("models/gemini"):
        return "google"
    if model.startswith("godseye-local"):
        return "godseye"
    return model.split("/", 1)[0] if "/" in model else "unknown"


def _session_id(ctx: CallbackContext) -> str | None:
    session = getattr(ctx, "session", None)
    return getattr(session, "id", None)


def _text_of(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = getattr(content, "parts", None) or []
    return "\n".join(p.text for p in parts if getattr(p, "text", None) and not getattr(p, "thought", False))


def _message(content: Any) -> dict[str, Any]:
    role = {"model": "assistant"}.get(content.role or "user", content.role or "user")
    message: dict[str, Any] = {"role": role, "content": llmobs.clip(_text_of(content))}
    calls, results = [], []
    for part in content.parts or []:
        if part.function_call:
            calls.append({"name": part.function_call.name or "", "arguments": dict(part.function_call.args or {}),
                          "tool_id": part.function_call.id or "", "type": "function_call"})
        elif part.function_response:
            try:
                result = json.dumps(part.function_response.response, default=str)
            except (TypeError, ValueError):
                result = str(part.function_response.response)
            results.append({"name": part.function_response.name or "", "result": llmobs.clip(result),
                            "tool_id": part.function_response.id or "", "type": "function_call_output"})
    if calls:
        message["tool_calls"] = calls
    if results:
        message["tool_results"] = results
        message["role"] = "tool"
    return message


def input_messages(request: LlmRequest) -> list[dict[str, Any]]:
    """The request as LLM Observability messages: system instruction, then the latest contents."""
    messages = []
    system = getattr(request.config, "system_instruction", None) if request.config else None
    if system:
        messages.append({"role": "system", "content": llmobs.clip(_text_of(system))})
    messages.extend(_message(c) for c in (request.contents or [])[-MAX_MESSAGES:])
    return messages


def output_messages(response: LlmResponse) -> list[dict[str, Any]]:
    if response.content is None:
        return [{"role": "assistant", "content": llmobs.clip(response.error_message or "")}]
    return [_message(response.content)]


def token_counts(response: LlmResponse) -> dict[str, int]:
    usage = response.usage_metadata
    if usage is None:
        return {}
    prompt = usage.prompt_token_count or 0
    output = usage.candidates_token_count or 0
    total = usage.total_token_count or (prompt + output)
    return {"input_tokens": prompt, "output_tokens": output, "total_tokens": total}


class TelemetryPlugin(BasePlugin):
    """Model-call spans for every agent of an App; returns None from every hook, so it never changes
    what the agents do. Put it first in the App's plugins: `before_model` hooks of later plugins
    may answer instead of the model, and ours must have run by then."""

    def __init__(self, name: str = "godseye_telemetry"):
        super().__init__(name=name)
        # open model span -> (span, its input messages, annotated together when it closes)
        self._open: dict[tuple[str, str, str], tuple[Any, list[dict[str, Any]] | None]] = {}
        _plugins.add(self)

    def close_skipped(self, invocation_id: str, agent: str) -> None:
        """Close the model span a guardrail left open (its model never ran)."""
        span, messages = self._open.pop(("llm", invocation_id, agent), (None, None))
        if span is not None:
            span.set_tag("llm.skipped", "true")
            if messages is not None:
                llmobs.annotate(span, input_data=messages)
            span.finish()

    # --- models ------------------------------------------------------------------------------------

    async def before_model_callback(self, *, callback_context: CallbackContext, llm_request: LlmRequest) -> None:
        if not tracing.enabled():
            return None
        agent = callback_context.agent_name
        key = ("llm", callback_context.invocation_id, agent)
        self.close_skipped(callback_context.invocation_id, agent)
        model = llm_request.model or "unknown"
        provider = model_provider(model)
        tags = {"llm.model": model, "llm.agent": agent, "llm.provider": provider}
        messages = None
        if provider == "google" and tracing.integration_active("google_genai"):
            # ddtrace's google_genai span below this one is the LLM Observability llm span; a second
            # llm span here would count every token twice.
            span = tracing.start_span(LLM_SPAN, resource=model, session_id=_session_id(callback_context), **tags)
        else:
            span = llmobs.start("llm", LLM_SPAN, resource=model, model_name=model,
                                model_provider=provider, session_id=_session_id(callback_context), **tags)
            if llmobs.enabled():
                # converted now (the request is what the model is about to see), annotated with the
                # output in one call when the span closes
                messages = input_messages(llm_request)
        self._open[key] = (span, messages)
        return None

    async def after_model_callback(self, *, callback_context: CallbackContext, llm_response: LlmResponse) -> None:
        if not self._open or llm_response.partial:
            return None
        span, messages = self._open.pop(("llm", callback_context.invocation_id, callback_context.agent_name),
                                        (None, None))
        if span is None:
            return None
        tokens = token_counts(llm_response)
        tracing.set_tags(span, {f"llm.tokens.{k.removesuffix('_tokens')}": v for k, v in tokens.items()})
        if llm_response.error_code:
            span.error = 1
            span.set_tag("error.type", str(llm_response.error_code))
            span.set_tag("error.message", llmobs.clip(llm_response.error_message or "", 300))
        if llmobs.enabled():
            llmobs.annotate(span, input_data=messages, output_data=output_messages(llm_response), metrics=tokens)
        span.finish()
        return None

    async def on_model_error_callback(self, *, callback_context: CallbackContext, llm_request: LlmRequest,
                                      error: Exception) -> None:
        span, messages = self._open.pop(("llm", callback_context.invocation_id, callback_context.agent_name),
                                        (None, None))
        if span is not None:
            if messages is not None:
                llmobs.annotate(span, input_data=messages)
            llmobs.finish(span, error)
        return None


# --- agent steps ----------------------------------------------------------------------------------

# So an ending agent step can close what its plugin left open (weak: Apps come and go in tests).
_plugins: weakref.WeakSet[TelemetryPlugin] = weakref.WeakSet()


def _last_text(event: Any) -> str | None:
    content = getattr(event, "content", None)
    if content is None or getattr(event, "partial", False):
        return None
    return _text_of(content) or None


def instrument_adk_agents() -> bool:
    """Wrap `BaseAgent.run_async` in an `adk.agent` span (LLM Observability agent span). Idempotent."""
    from google.adk.agents.base_agent import BaseAgent

    original = BaseAgent.run_async
    if getattr(original, "_godseye_traced", False):
        return True

    @functools.wraps(original)
    async def run_async(self: Any, parent_context: Any) -> Any:
        if not tracing.enabled():
            async with contextlib.aclosing(original(self, parent_context)) as events:
                async for event in events:
                    yield event
            return
        session_id = getattr(getattr(parent_context, "session", None), "id", None)
        invocation_id = getattr(parent_context, "invocation_id", "")
        user_text = _text_of(getattr(parent_context, "user_content", None)) if llmobs.enabled() else None
        span = llmobs.start("agent", AGENT_SPAN, display_name=self.name, resource=self.name, session_id=session_id,
                            input_data=llmobs.clip(user_text) if user_text is not None else None,
                            **{"adk.agent": self.name, "adk.invocation_id": invocation_id})
        reply = None
        error: BaseException | None = None
        agen = original(self, parent_context)
        try:
            async for event in agen:
                if getattr(event, "author", None) == self.name:
                    reply = _last_text(event) or reply
                yield event
        except BaseException as exc:
            error = exc
            raise
        finally:
            await agen.aclose()
            for plugin in _plugins:
                plugin.close_skipped(invocation_id, self.name)
            if reply:
                llmobs.annotate(span, output_data=llmobs.clip(reply))
            llmobs.finish(span, error if isinstance(error, Exception) else None)

    run_async._godseye_traced = True  # type: ignore[attr-defined]
    BaseAgent.run_async = run_async  # type: ignore[method-assign]
    return True


# --- the MCP client span ---------------------------------------------------------------------------

_server_names: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()  # session manager -> name


def server_name(tool: Any) -> str:
    """Which MCP server an ADK McpTool talks to: <name> for our stdio children (`-m
    mcp_servers.<name>`), a script's stem, the <name> of the GODSEYE_MCP_<NAME>_URL it was
    configured with, else the command or the URL's host."""
    import os
    from urllib.parse import urlparse

    manager = getattr(tool, "_mcp_session_manager", None)
    try:
        cached = _server_names.get(manager)
    except TypeError:  # None or not weak-referenceable
        cached = None
    if cached:
        return cached
    params = getattr(manager, "_connection_params", None)
    name = "unknown"
    server_params = getattr(params, "server_params", None)
    if server_params is not None:
        args = [str(a) for a in getattr(server_params, "args", None) or []]
        module = args[args.index("-m") + 1] if "-m" in args[:-1] else None
        script = next((a for a in args if a.endswith(".py")), None)
        if module:  # mcp_servers.catalog -> catalog
            name = module.removesuffix(".__main__").removeprefix("mcp_servers.")
        elif script:
            name = os.path.splitext(os.path.basename(script))[0]
        else:
            name = os.path.basename(str(getattr(server_params, "command", name)))
    elif getattr(params, "url", None):
        url = str(params.url)
        configured = [var for var, value in os.environ.items()
                      if var.startswith("GODSEYE_MCP_") and var.endswith("_URL") and value == url]
        name = configured[0][len("GODSEYE_MCP_"):-len("_URL")].lower() if configured else urlparse(url).netloc
    with contextlib.suppress(TypeError):
        _server_names[manager] = name
    return name


def _result_error(result: Any) -> str | None:
    if not isinstance(result, dict):
        return None
    if result.get("isError") or result.get("is_error"):
        content = result.get("content") or []
        texts = [c.get("text", "") for c in content if isinstance(c, dict)]
        return " ".join(t for t in texts if t) or "tool error"
    error = result.get("error")
    return str(error) if error else None


def instrument_adk_mcp_client() -> bool:
    """Wrap ADK's McpTool.run_async in an `mcp.tool.call` span (idempotent). Public method, stable
    across ADK releases, and every McpTool is covered however its toolset was built."""
    from google.adk.tools.mcp_tool.mcp_tool import McpTool

    original = McpTool.run_async
    if getattr(original, "_godseye_traced", False):
        return True

    @functools.wraps(original)
    async def run_async(self: Any, *, args: dict[str, Any], tool_context: Any) -> Any:
        if not tracing.enabled():
            return await original(self, args=args, tool_context=tool_context)
        tags = {"mcp.server": server_name(self), "mcp.tool": self.name, "span.kind": "client", "component": "mcp"}
        session_id = getattr(getattr(tool_context, "session", None), "id", None)
        as_llmobs_tool = not tracing.integration_active("google_adk")
        if as_llmobs_tool:  # without the integration's tool span, this one is the LLMObs tool span
            span = llmobs.start("tool", CLIENT_SPAN, display_name=self.name, resource=self.name, session_id=session_id,
                                input_data=llmobs.clip(json.dumps(args, default=str)) if llmobs.enabled() else None,
                                **tags)
        else:
            span = tracing.start_span(CLIENT_SPAN, resource=self.name, session_id=session_id, **tags)
        try:
            result = await original(self, args=args, tool_context=tool_context)
        except BaseException as exc:
            llmobs.finish(span, exc)
            raise
        error = _result_error(result)
        if error:
            span.error = 1
            span.set_tag("error.message", llmobs.clip(error, 300))
        if as_llmobs_tool:
            llmobs.annotate(span, output_data=llmobs.clip(json.dumps(result, default=str)))
        span.finish()
        return result

    run_async._godseye_traced = True  # type: ignore[attr-defined]
    McpTool.run_async = run_async  # type: ignore[method-assign]
    return True
