"""Which model each agent runs on: one setting per agent, resolved to something ADK accepts.

- "godseye-local": the embedded planner (no key, no network), registered with ADK's LLMRegistry.
- a Gemini model name ("gemini-2.5-flash"): google-genai; `GODSEYE_GEMINI_BASE_URL` points it at
  another endpoint that speaks the same REST API (a proxy, or the test suite's local server).
- any LiteLLM model string ("ollama_chat/llama3", "openai/gpt-4o-mini"): ADK's LiteLlm.
"""

from __future__ import annotations

import os

from google.adk.models.base_llm import BaseLlm
from google.adk.models.google_llm import Gemini

from godseye.config import LOCAL_MODEL
from godseye.local_model import register as register_local_model


def resolve_model(name: str) -> str | BaseLlm:
    if name.startswith(LOCAL_MODEL):
        register_local_model()
        return name
    if name.startswith("gemini") and os.environ.get("GODSEYE_GEMINI_BASE_URL"):
        return Gemini(model=name, base_url=os.environ["GODSEYE_GEMINI_BASE_URL"])
    return name


def model_for(agent: str) -> str | BaseLlm:
    """The model for one agent: GODSEYE_MODEL_<AGENT>, else GODSEYE_MODEL ('auto' by default), routed
    across cheaper tiers by spend when several tiers are configured (see `godseye.routing`)."""
    from godseye.routing import routed_model

    return routed_model(agent)


def model_name(model: str | BaseLlm) -> str:
    return model if isinstance(model, str) else model.model
