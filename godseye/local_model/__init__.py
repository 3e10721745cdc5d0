"""The embedded default model: a local planner that speaks ADK's model interface with no network.

There is no usable small generative model offline, so this "model" plans instead of generating:
it routes to the sub-agent whose description best matches the request, picks the tool whose
declaration best matches it (semantic similarity with the local embedder), fills arguments from the
conversation, and writes answers only from tool results. See `llm.LocalPlannerLlm`.
"""

from godseye.local_model.llm import LocalPlannerLlm, register

__all__ = ["LocalPlannerLlm", "register"]
