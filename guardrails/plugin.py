"""`GuardrailsPlugin`: one ADK plugin that applies every guardrail to every agent of an App.

Order of work in a turn, and why it lives where it does:
- `on_user_message_callback`: score ONLY the new user message (rescoring history would re-block
  every later turn) and record it for session escalation.
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
from telemetry.adk_instrumentation import TelemetryPlugin

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
    "stylist": {"build_outfit", "search_products", "similar_products", "get_product", "list_categories"},
    "tryon": {"try_on", "get_product", "search_products"},
}

STATE_BLOCKED = "guard:blocked"


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

    @property
    def blocklist(self) -> BlockList:
        if self._blocklist is None:
            self._blocklist = BlockList()
        return self._blocklist

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


def _declared_args(tool: BaseTool) -> set[str]:
    try:
        decl = tool._get_declaration()
    except Exception:
        return set()
    if decl is None:
        return set()
    schema = decl.parameters_json_schema or (decl.parameters.model_dump(exclude_none=True) if decl.parameters else {})
    return set((schema or {}).get("properties", {}) or {})


def build_plugins(app: str) -> list[BasePlugin]:
    # Telemetry first: its before_model hook must run even when a guardrail answers instead of the model.
    return [TelemetryPlugin(), GuardrailsPlugin(app=app)]
