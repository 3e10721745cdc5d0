"""A structured reading of an ADK `LlmRequest`: what the local planner needs to decide.

ADK hands a model the whole conversation as `contents`. Turns of the current agent keep their
function calls and responses; turns of other agents arrive rewritten as user text starting
"For context:" with the calls quoted (see google.adk.flows.llm_flows.context._fencing). Both forms
are read back into one list of tool calls so "the second one" works whichever agent searched.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

from google.adk.models.llm_request import LlmRequest
from google.genai import types

_CONTEXT_PREFIX = "For context:"
_QUOTED = re.compile(r"<<<BEGIN_QUOTED_AGENT_CONTENT>>>\n?(.*?)\n?<<<END_QUOTED_AGENT_CONTENT>>>", re.DOTALL)
_CALLED = re.compile(r"^\[(?P<agent>[^\]]+)\] called tool `(?P<tool>[^`]+)` with parameters:", re.DOTALL)
_RETURNED = re.compile(r"^\[(?P<agent>[^\]]+)\] `(?P<tool>[^`]+)` tool returned result:", re.DOTALL)
_SAID = re.compile(r"^\[(?P<agent>[^\]]+)\] said:", re.DOTALL)
_AGENT_INFO = re.compile(r"Agent name: (?P<name>\S+)\s*\nAgent description: (?P<desc>.*?)(?=\n\s*\n|\nAgent name:|$)",
                         re.DOTALL)
_OWN_NAME = re.compile(r'internal name is "(?P<name>[^"]+)"')


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments
    required: list[str]


@dataclass
class ToolCall:
    name: str
    args: dict[str, Any]
    result: Any = None  # the tool's response (MCP result dict or plain dict), None if not returned yet
    turn: int = 0  # index of the user turn this call belongs to

    @property
    def payload(self) -> Any:
        """The useful part of a result: MCP `structuredContent`, else parsed text content."""
        return tool_payload(self.result)

    @property
    def is_error(self) -> bool:
        return isinstance(self.result, dict) and bool(self.result.get("isError") or self.result.get("error"))


@dataclass
class RequestView:
    agent_name: str | None
    instruction: str
    user_texts: list[str]
    tools: dict[str, ToolSpec]
    transfer_targets: dict[str, str]  # agent name -> description
    calls: list[ToolCall] = field(default_factory=list)
    pending_results: list[ToolCall] = field(default_factory=list)  # answered since the last model turn

    @property
    def user_text(self) -> str:
        return self.user_texts[-1] if self.user_texts else ""

    @property
    def turn(self) -> int:
        return len(self.user_texts)

    def calls_this_turn(self) -> list[ToolCall]:
        """Tool calls made for the current user message (agent transfers are routing, not tools)."""
        return [c for c in self.calls if c.turn == self.turn and c.name != "transfer_to_agent"]

    def last_call(self, *names: str, with_result: bool = True) -> ToolCall | None:
        for call in reversed(self.calls):
            if call.name in names and (call.result is not None or not with_result):
                return call
        return None


def tool_payload(result: Any) -> Any:
    if not isinstance(result, dict):
        return result
    if "structuredContent" in result and result["structuredContent"] is not None:
        payload = result["structuredContent"]
        # FastMCP wraps non-object results as {"result": ...}.
        if isinstance(payload, dict) and set(payload) == {"result"}:
            return payload["result"]
        return payload
    content = result.get("content")
    if isinstance(content, list):
        texts = [c.get("text") for c in content if isinstance(c, dict) and c.get("type") == "text"]
        if len(texts) == 1:
            try:
                return json.loads(texts[0])
            except (TypeError, ValueError):
                return texts[0]
        if texts:
            return "\n".join(t for t in texts if t)
    if set(result) == {"result"}:
        return result["result"]
    return result


def error_message(result: Any) -> str:
    payload = tool_payload(result)
    if isinstance(payload, str):
        return payload
    if isinstance(result, dict):
        for key in ("error", "message", "detail"):
            if isinstance(result.get(key), str):
                return result[key]
    return "the service could not complete that request"


def _literal(text: str) -> Any:
    text = text.strip()
    for parse in (ast.literal_eval, json.loads):
        try:
            return parse(text)
        except (ValueError, SyntaxError, TypeError):
            continue
    return text


def _system_text(request: LlmRequest) -> str:
    si = request.config.system_instruction if request.config else None
    if si is None:
        return ""
    if isinstance(si, str):
        return si
    if isinstance(si, types.Content):
        return "\n".join(p.text or "" for p in si.parts or [])
    if isinstance(si, list):
        return "\n".join(str(getattr(p, "text", p) or "") for p in si)
    return str(si)


def _tool_specs(request: LlmRequest) -> dict[str, ToolSpec]:
    specs: dict[str, ToolSpec] = {}
    for tool in (request.config.tools if request.config and request.config.tools else []):
        for decl in getattr(tool, "function_declarations", None) or []:
            schema: dict[str, Any] = {}
            if decl.parameters_json_schema:
                schema = dict(decl.parameters_json_schema)
            elif decl.parameters is not None:
                schema = decl.parameters.model_dump(exclude_none=True, mode="json")
            props = schema.get("properties") or {}
            specs[decl.name] = ToolSpec(
                name=decl.name,
                description=decl.description or "",
                parameters=props,
                required=list(schema.get("required") or []),
            )
    return specs


def read_request(request: LlmRequest) -> RequestView:
    system = _system_text(request)
    own = _OWN_NAME.search(system)
    targets = {m.group("name"): m.group("desc").strip() for m in _AGENT_INFO.finditer(system)}
    view = RequestView(
        agent_name=own.group("name") if own else None,
        instruction=system,
        user_texts=[],
        tools=_tool_specs(request),
        transfer_targets=targets,
    )
    open_calls: dict[str, ToolCall] = {}
    for content in request.contents or []:
        parts = content.parts or []
        role = content.role
        if role == "user":
            texts = [p.text for p in parts if p.text]
            if texts and texts[0].startswith(_CONTEXT_PREFIX):
                _read_context(texts[1:] or _QUOTED.findall(texts[0]), view)
                continue
            real = [t for t in texts if not t.startswith("<<<BEGIN_SYSTEM_INSTRUCTION>>>")]
            if real:
                view.user_texts.append("\n".join(real).strip())
            for part in parts:
                if part.function_response:
                    fr = part.function_response
                    call = open_calls.pop(fr.id or fr.name, None) or open_calls.pop(fr.name, None)
                    if call is None:
                        call = ToolCall(fr.name, {}, turn=view.turn)
                        view.calls.append(call)
                    call.result = fr.response
        elif role == "model":
            for part in parts:
                if part.function_call:
                    fc = part.function_call
                    call = ToolCall(fc.name, dict(fc.args or {}), turn=view.turn)
                    view.calls.append(call)
                    open_calls[fc.id or fc.name] = call
    last = (request.contents or [None])[-1]
    if last is not None and any(p.function_response for p in last.parts or []):
        view.pending_results = [c for c in view.calls_this_turn() if c.result is not None]
    return view


def _read_context(texts: list[str], view: RequestView) -> None:
    """Recover another agent's tool calls from ADK's quoted transcript."""
    pending: dict[str, ToolCall] = {}
    for text in texts:
        body_match = _QUOTED.search(text)
        body = body_match.group(1) if body_match else ""
        if m := _CALLED.match(text):
            call = ToolCall(m.group("tool"), _as_dict(_literal(body)), turn=view.turn)
            view.calls.append(call)
            pending[call.name] = call
        elif m := _RETURNED.match(text):
            call = pending.pop(m.group("tool"), None)
            if call is None:
                call = ToolCall(m.group("tool"), {}, turn=view.turn)
                view.calls.append(call)
            call.result = _literal(body)


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
