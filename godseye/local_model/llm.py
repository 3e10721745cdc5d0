"""`LocalPlannerLlm`: the embedded default model, registered with ADK's `LLMRegistry`.

Any agent whose model string is "godseye-local" (optionally "godseye-local/<variant>") gets it.
It yields exactly one non-partial `LlmResponse` per call, with `usage_metadata` (whitespace token
estimates) so token telemetry and budgets work the same as with Gemini.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncGenerator

from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.models.registry import LLMRegistry
from google.genai import types

from godseye.local_model.planner import decide
from godseye.local_model.view import read_request

log = logging.getLogger(__name__)


def _tokens(text: str) -> int:
    return max(1, len(text.split()) * 4 // 3)


def _request_tokens(request: LlmRequest) -> int:
    total = 0
    for content in request.contents or []:
        for part in content.parts or []:
            if part.text:
                total += _tokens(part.text)
            elif part.function_response:
                total += _tokens(str(part.function_response.response))
            elif part.function_call:
                total += _tokens(str(part.function_call.args))
    return total


class LocalPlannerLlm(BaseLlm):
    """A planner with ADK's model interface; see the package docstring for what it does."""

    model: str = "godseye-local"

    @classmethod
    def supported_models(cls) -> list[str]:
        return [r"godseye-local(/.*)?"]

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        # Embedding and planning are CPU work; keep the event loop responsive for other sessions.
        try:
            view = read_request(llm_request)
            decision = await asyncio.to_thread(decide, view)
        except Exception as exc:  # a planner bug must degrade to a message, never kill the turn
            log.exception("local planner failed")
            yield LlmResponse(
                content=types.Content(
                    role="model",
                    parts=[types.Part(text="Sorry, something went wrong on my side; please rephrase that.")],
                ),
                error_code="LOCAL_PLANNER_ERROR",
                error_message=str(exc),
                usage_metadata=types.GenerateContentResponseUsageMetadata(
                    prompt_token_count=_request_tokens(llm_request), candidates_token_count=0,
                    total_token_count=_request_tokens(llm_request),
                ),
                model_version=self.model,
            )
            return
        if decision.calls:
            parts = [
                types.Part(function_call=types.FunctionCall(id=f"adk-{uuid.uuid4().hex[:12]}", name=name, args=args))
                for name, args in decision.calls
            ]
            out_tokens = sum(_tokens(f"{n} {a}") for n, a in decision.calls)
        else:
            parts = [types.Part(text=decision.text or "")]
            out_tokens = _tokens(decision.text or "")
        prompt_tokens = _request_tokens(llm_request)
        yield LlmResponse(
            content=types.Content(role="model", parts=parts),
            partial=False,
            turn_complete=True,
            finish_reason=types.FinishReason.STOP,
            usage_metadata=types.GenerateContentResponseUsageMetadata(
                prompt_token_count=prompt_tokens,
                candidates_token_count=out_tokens,
                total_token_count=prompt_tokens + out_tokens,
            ),
            model_version=self.model,
        )


_registered = False


def register() -> None:
    """Make "godseye-local" resolvable by ADK (idempotent)."""
    global _registered
    if not _registered:
        LLMRegistry.register(LocalPlannerLlm)
        _registered = True
