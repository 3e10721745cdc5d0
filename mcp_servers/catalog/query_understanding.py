"""Reading the product kind a shopper names in a free-text query ("red dresses" -> dresses).

Semantic search alone ranks a red skirt close to "red dresses"; a shopper who names a kind means
that kind. When a query names exactly one kind the shop carries (and no category filter was given),
search treats it as a filter; queries naming several kinds ("shoes to go with a dress") stay open.
"""

from __future__ import annotations

import re

from mcp_servers.catalog import vocab

_WORD = re.compile(r"[a-z][a-z-]*")


def kinds_named(query: str, known: set[str]) -> set[str]:
    """Subcategories (from `known`) named by words or word pairs of the query."""
    words = _WORD.findall(query.lower())
    candidates = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    found = set()
    for candidate in candidates:
        kind = vocab.normalise_category(candidate)
        if kind in known:
            found.add(kind)
    return found


def implied_subcategory(query: str, subcategories: set[str], categories: set[str] = frozenset()) -> str | None:
    """The one subcategory a query names, or None when it names none, several, or a category too."""
    kinds = kinds_named(query, set(subcategories) | set(categories))
    if len(kinds) != 1:
        return None
    (kind,) = kinds
    return kind if kind in subcategories else None
