"""Semantic matching with the local embedder: which agent or tool a request is about.

Descriptions are split into clauses and the best clause wins, because one-line descriptions that
list several abilities ("searches ..., answers ..., manages the cart") dilute a whole-text vector.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from godseye.embedding import get_embedder

TOPK = 2  # mean of the best two clauses: one lucky word overlap is not enough
_CLAUSE_SPLIT = re.compile(r"(?<=[.;:!?])\s+|\n+|\s+-\s+|\(e\.g\.|\be\.g\.,?|\bfor example\b")
_QUOTED_EXAMPLE = re.compile(r"['\"“‘]([^'\"”’]{4,120})['\"”’]")


@lru_cache(maxsize=512)
def _clause_vectors(text: str) -> np.ndarray:
    clauses = [c.strip(" ,.;:()") for c in _CLAUSE_SPLIT.split(text) if c and len(c.strip()) > 3]
    clauses += _QUOTED_EXAMPLE.findall(text)
    clauses = [c for c in dict.fromkeys(clauses) if c]
    if not clauses:
        clauses = [text or "nothing"]
    return get_embedder().embed(clauses)


def similarity(query: str, description: str) -> float:
    """Mean cosine similarity of the query to the description's best TOPK clauses or quoted examples."""
    q = get_embedder().embed_one(query)
    return float(np.mean(np.sort(_clause_vectors(description) @ q)[-TOPK:]))


def rank(query: str, options: dict[str, str]) -> list[tuple[str, float]]:
    """Options (name -> description) ordered by similarity to the query, best first."""
    scored = [(name, similarity(query, desc)) for name, desc in options.items()]
    return sorted(scored, key=lambda item: item[1], reverse=True)
