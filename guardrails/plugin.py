"""`GuardrailsPlugin`: one ADK plugin that applies every guardrail to every agent of an App.

Order of work in a turn, and why it lives where it does:
- `before_agent_callback` (first agent of each turn): score ONLY the new user message (rescoring
  history would re-block every later turn), record it for session escalation, count the turn, and
  answer blocked sessions, blocked messages and too-long messages without any model call.
- `before_model_callback`: refuse blocked sessions/users before any model call (returning an
  LlmResponse skips the model and the after-hooks, so the block is counted here), and drop tool
  declarations an agent is not allowed to use.
- `before_tool_callback`: identity arguments come from the session, never from the model; tools
  outside the agent's allowlist are refused; `confirm_checkout` needs the shopper's own explicit
  confirmation in this turn, after a quote was shown in an earlier turn.
- `after_tool_callback`: tool results are untrusted data: instructions found in them are
  neutralised before the model reads them, and counted.
- `after_model_callback`: every final answer gets a quality score (grounding against this
  session's tool results, relevance, laziness, refusals, toxicity).
Scores go to session state (`guard:*` keys), metrics, and LLM Observability evaluations.
"""

from __future__ import annotations

import logging
from typing import Any

from google.adk.agents.callback_context import CallbackContext
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.plugins.base_plugin import BasePlugin
from google.adk.tools.base_tool import BaseTool
from google.adk.tools.tool_context import ToolContext
from google.genai import types

from godseye.local_model.slots import is_affirmation
from guardrails.blocklist import BlockList
from telemetry.metrics import metrics

log = logging.getLogger(__name__)

IDENTITY_ARGS = ("user_id",)
CONFIRMATION_TOOLS = {"confirm_checkout"}
QUOTE_TOOL = "quote_checkout"
TRANSFER_TOOL = "transfer_to_agent"

# Which tools each agent may call. An agent not listed may call whatever it declares.
DEFAULT_ALLOWLIST: dict[str, set[str]] = {
    "orchestrator": set(),
    "shopper": {"search_products", "get_product", "similar_products", "list_categories", "view_cart", "add_to_cart",
                "remove_from_cart", "update_quantity", "quote_checkout", "confirm_checkout", "list_orders"},
    "stylist": {"build_outfit", "search_products", "similar_products", "get_product", "list_categories",
                "trending_products"},
    "tryon": {"try_on", "validate_image", "get_product", "search_products"},
}

STATE_BLOCKED = "guard:blocked"
STATE_INJECTION = "guard:injection"
STATE_QUALITY = "guard:quality"
STATE_INVOCATION = "guard:invocation"
STATE_TURNS = "commerce:turns"
STATE_ADDS = "commerce:adds"
CART_ADD_TOOL = "add_to_cart"
CHECKOUT_TOOL = "confirm_checkout"
TOO_LONG_REFUSAL = "That message is too long for me to read safely; please send a shorter one."
INJECTION_REFUSAL = (
    "I can't help with that request: it looks like an attempt to change my instructions or get around "
    "the shop's rules. I'm happy to help you shop — what are you looking for?"
)


def _user_text(content: types.Content | None) -> str:
    if content is None:
        return ""
    return "\n".join(p.text for p in content.parts or [] if p.text)


def _refusal(message: str) -> LlmResponse:
    return LlmResponse(
        content=types.Content(role="model", parts=[types.Part(text=message)]),
        usage_metadata=types.GenerateContentResponseUsageMetadata(
            prompt_token_count=0, candidates_token_count=0, total_token_count=0
        ),
    )


class GuardrailsPlugin(BasePlugin):
    def __init__(self, app: str, allowlist: dict[str, set[str]] | None = None, blocklist: BlockList | None = None):
        super().__init__(name="godseye_guardrails")
        self.app = app
        self.allowlist = allowlist if allowlist is not None else DEFAULT_ALLOWLIST
        self._blocklist = blocklist
        self._escalation: Any = None
        self._quality: Any = None

    @property
    def blocklist(self) -> BlockList:
        if self._blocklist is None:
            self._blocklist = BlockList()
        return self._blocklist

    @property
    def escalation(self) -> Any:
        if self._escalation is None:
            from guardrails.escalation import Escalation

            self._escalation = Escalation(blocklist=self.blocklist)
        return self._escalation

    # --- the user's turn -----------------------------------------------------------------------

    async def before_agent_callback(self, *, agent: Any, callback_context: CallbackContext) -> types.Content | None:
        """Once per turn (the first agent to run): count the turn, score the new message, escalate."""
        state = callback_context.state
        if state.get(STATE_INVOCATION) == callback_context.invocation_id:
            return None
        state[STATE_INVOCATION] = callback_context.invocation_id
        session_id, user_id = callback_context.session.id, callback_context.user_id
        turns = int(state.get(STATE_TURNS) or 0) + 1
        state[STATE_TURNS] = turns
        metrics.gauge("llm.interactions_per_conversion", turns / max(int(state.get(STATE_ADDS) or 0), 1),
                      tags={"session_id": session_id})

        entry = self.blocklist.check(session_id=session_id, user_id=user_id)
        if entry is not None:
            state[STATE_BLOCKED] = True
            metrics.increment("llm.security.blocked", tags={"reason": "blocklist", "session_id": session_id})
            return types.Content(role="model", parts=[types.Part(text=entry.message)])

        from guardrails.injection import scanned_text, score_text

        text = _user_text(callback_context.user_content)
        if scanned_text(text) != text:
            # Whatever the detector cannot read must not reach a model either.
            metrics.increment("llm.security.blocked", tags={"reason": "too_long", "session_id": session_id})
            return types.Content(role="model", parts=[types.Part(text=TOO_LONG_REFUSAL)])
        result = score_text(text)
        state[STATE_INJECTION] = result.as_dict()
        metrics.gauge("llm.security.injection_score", result.score,
                      tags={"session_id": session_id, "user_id": user_id, "agent": agent.name})
        self._evaluate("injection_score", result.score, session_id)
        self._evaluate("verdict", result.verdict, session_id)
        decision = self.escalation.record(session_id, user_id, result)
        if decision.blocked:
            state[STATE_BLOCKED] = True
            metrics.increment("llm.security.blocked", tags={"reason": "escalation", "session_id": session_id})
            return types.Content(role="model", parts=[types.Part(text=decision.message)])
        if result.blocked:
            metrics.increment("llm.security.blocked", tags={"reason": result.reason_tag, "session_id": session_id})
            return types.Content(role="model", parts=[types.Part(text=INJECTION_REFUSAL)])
        return None

    # --- model ---------------------------------------------------------------------------------

    async def before_model_callback(
        self, *, callback_context: CallbackContext, llm_request: LlmRequest
    ) -> LlmResponse | None:
        entry = self.blocklist.check(session_id=callback_context.session.id, user_id=callback_context.user_id)
        if entry is not None:
            callback_context.state[STATE_BLOCKED] = True
            return _refusal(entry.message)
        self._filter_declarations(callback_context.agent_name, llm_request)
        return None

    async def after_model_callback(
        self, *, callback_context: CallbackContext, llm_response: LlmResponse
    ) -> LlmResponse | None:
        """Every final answer gets a quality score (spend and latency are godseye.routing's)."""
        if llm_response.partial:
            return None
        answer = _answer_text(llm_response)
        if answer:
            self._score_answer(callback_context, answer, llm_response.model_version or "unknown")
        return None

    def _score_answer(self, callback_context: CallbackContext, answer: str, model: str) -> None:
        if self._quality is None:
            from guardrails.quality import QualityScorer

            self._quality = QualityScorer()
        request = _user_text(callback_context.user_content)
        results = _session_tool_results(callback_context)
        quality = self._quality.score(answer, request, results)
        session_id = callback_context.session.id
        callback_context.state[STATE_QUALITY] = quality.as_dict()
        metrics.gauge("llm.response.quality", quality.score,
                      tags={"agent": callback_context.agent_name, "model": model, "session_id": session_id})
        self._evaluate("quality_score", quality.score, session_id)

    def _filter_declarations(self, agent: str, llm_request: LlmRequest) -> None:
        allowed = self.allowlist.get(agent)
        if allowed is None or not llm_request.config or not llm_request.config.tools:
            return
        for tool in llm_request.config.tools:
            decls = getattr(tool, "function_declarations", None)
            if decls:
                tool.function_declarations = [d for d in decls if d.name in allowed or d.name == TRANSFER_TOOL]
        for name in list(llm_request.tools_dict):
            if name not in allowed and name != TRANSFER_TOOL:
                llm_request.tools_dict.pop(name)

    # --- tools ---------------------------------------------------------------------------------

    async def before_tool_callback(
        self, *, tool: BaseTool, tool_args: dict[str, Any], tool_context: ToolContext
    ) -> dict[str, Any] | None:
        allowed = self.allowlist.get(tool_context.agent_name)
        if allowed is not None and tool.name not in allowed and tool.name != TRANSFER_TOOL:
            return {"isError": True, "error": f"The {tool_context.agent_name} agent may not use {tool.name}."}
        for key in IDENTITY_ARGS:
            if key in tool_args or key in _declared_args(tool):
                tool_args[key] = tool_context.user_id
        if tool.name in CONFIRMATION_TOOLS and not self._confirmed(tool_context):
            return {
                "isError": True,
                "error": "Checkout needs your explicit confirmation: review the order summary and reply "
                "'yes, confirm' to place the order.",
            }
        return None

    async def after_tool_callback(
        self, *, tool: BaseTool, tool_args: dict[str, Any], tool_context: ToolContext, result: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Tool results are data: neutralise instructions hidden in them; count conversions."""
        session_id = tool_context.session.id
        if isinstance(result, dict) and not result.get("isError"):
            if tool.name == CART_ADD_TOOL:
                adds = int(tool_context.state.get(STATE_ADDS) or 0) + 1
                tool_context.state[STATE_ADDS] = adds
                metrics.count("commerce.cart.add", int(tool_args.get("quantity") or 1), tags={"session_id": session_id})
                turns = int(tool_context.state.get(STATE_TURNS) or 1)
                metrics.gauge("llm.interactions_per_conversion", turns / adds, tags={"session_id": session_id})
            elif tool.name == CHECKOUT_TOOL:
                metrics.increment("commerce.checkout", tags={"session_id": session_id})
        from guardrails.indirect import scan_tool_result

        sanitised, findings = scan_tool_result(result)
        if not findings:
            return None
        metrics.count("llm.security.blocked", len(findings), tags={"reason": "indirect_injection",
                                                                   "session_id": session_id})
        log.warning("neutralised %d instruction(s) in %s result", len(findings), tool.name)
        return sanitised

    def _evaluate(self, label: str, value: float | str, session_id: str) -> None:
        """Submit a guardrail score to LLM Observability when it is enabled (a no-op otherwise)."""
        try:
            from telemetry.llmobs import evaluate
        except ImportError:
            return
        evaluate(label, value, session_id=session_id)

    @staticmethod
    def _confirmed(tool_context: ToolContext) -> bool:
        """The shopper's own words in this turn confirm, and a quote was shown in an earlier turn."""
        if not is_affirmation(_user_text(tool_context.user_content)):
            return False
        current = tool_context.invocation_id
        for event in tool_context.session.events:
            if event.invocation_id == current:
                continue
            for response in event.get_function_responses() or []:
                if response.name == QUOTE_TOOL:
                    return True
        return False


def _answer_text(response: LlmResponse) -> str:
    """The final answer text of a model response ("" when it calls tools or transfers)."""
    parts = response.content.parts if response.content and response.content.parts else []
    if any(p.function_call for p in parts):
        return ""
    return "\n".join(p.text for p in parts if p.text and not p.thought).strip()


def _session_tool_results(callback_context: CallbackContext) -> list[Any]:
    """Every tool result of this session so far: what an answer may be grounded on."""
    results: list[Any] = []
    for event in callback_context.session.events:
        for response in event.get_function_responses() or []:
            if response.name != TRANSFER_TOOL:
                results.append(response.response)
    return results


def _declared_args(tool: BaseTool) -> set[str]:
    try:
        decl = tool._get_declaration()
    except Exception:
        return set()
    if decl is None:
        return set()
    schema = decl.parameters_json_schema or (decl.parameters.model_dump(exclude_none=True) if decl.parameters else {})
    return set((schema or {}).get("properties", {}) or {})
