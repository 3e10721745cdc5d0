"""LLM Observability helpers with tracing OFF (the pytest process): they must be free no-ops that
never change what the product does. What LLM Observability receives is tested in a subprocess
against a test agent (tests/test_tracing_e2e.py)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from telemetry import llmobs


class Product(BaseModel):
    id: str
    name: str
    description: str = ""


def test_evaluations_are_not_submitted_when_off():
    assert not llmobs.enabled()
    assert llmobs.evaluate("injection", 0.9, session_id="s1") is False
    assert llmobs.submit_evaluations(None, 0.9, 0.2, "block", session_id="s1") == 0


def test_evaluation_labels_and_types():
    assert llmobs.EVALUATIONS["injection"] == ("injection_score", "score")
    assert llmobs.EVALUATIONS["quality"] == ("quality_score", "score")
    assert llmobs.EVALUATIONS["verdict"] == ("verdict", "categorical")
    assert llmobs._metric_type(0.5) == "score"
    assert llmobs._metric_type(True) == "boolean"
    assert llmobs._metric_type("allow") == "categorical"


async def test_chat_turn_is_transparent_when_off():
    class Result:
        reply, agent, blocked, error = "hi", "shopper", False, None

    with llmobs.chat_turn(app="vcommerce", session_id="s1", user_id="u1", text="hello") as record:
        record(Result())
    assert llmobs.turn_span("s1") is None  # nothing remembered when nothing was traced

    with pytest.raises(RuntimeError), llmobs.chat_turn(app="vcommerce", session_id="s1", user_id="u1", text="x"):
        raise RuntimeError("the turn's own error passes through")


def test_retrieval_decorator_returns_the_result_untouched_when_off():
    calls = []

    class Store:
        @llmobs.retrieval("lancedb.search")
        def search(self, query: str = "", *, limit: int = 5) -> list[Product]:
            calls.append((query, limit))
            return [Product(id="p1", name="Red Dress")]

    found = Store().search("red dress", limit=3)
    assert found == [Product(id="p1", name="Red Dress")]
    assert calls == [("red dress", 3)]
    assert Store.search.__name__ == "search"


def test_documents_from_models_and_dicts():
    docs = llmobs._documents([
        Product(id="p1", name="Red Dress", description="linen"),
        {"id": "p2", "name": "Shirt", "score": 0.5},
        {"text": "only text"},
    ])
    assert docs == [
        {"id": "p1", "name": "Red Dress", "text": "linen"},
        {"id": "p2", "name": "Shirt", "text": "Shirt", "score": 0.5},
        {"text": "only text"},
    ]


def test_clip_keeps_payloads_bounded():
    assert llmobs.clip("short") == "short"
    clipped = llmobs.clip("x" * 10_000, 100)
    assert len(clipped) == 100 and clipped.endswith("…")
    assert llmobs.clip({"a": 1}) == "{'a': 1}"
