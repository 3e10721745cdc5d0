"""What "the second one", "it", "that dress" or "the linen shirt" point at, from earlier tool results."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from godseye.embedding import get_embedder
from godseye.local_model import slots
from godseye.local_model.view import RequestView, tool_payload

_PRONOUN_RE = re.compile(r"\b(it|that|this|them|those|these|that one|this one)\b", re.IGNORECASE)


def is_product(obj: Any) -> bool:
    return isinstance(obj, dict) and "name" in obj and ("price" in obj or "unit_price" in obj) and (
        "id" in obj or "product_id" in obj
    )


def product_id(product: dict[str, Any]) -> str:
    return str(product.get("id") or product.get("product_id"))


def products_in(payload: Any) -> list[dict[str, Any]]:
    """Every product dict inside a tool payload, in order (lists, {"products": [...]}, outfits...)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if is_product(node):
            found.append(node)
            return
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(payload)
    return found


def last_product_list(view: RequestView) -> list[dict[str, Any]]:
    """Products of the most recent result that listed several (a search, similar items, an outfit).

    A single product's details do not count: after "what is the second one made of?" the list the
    shopper is still looking at is the search before it.
    """
    for call in reversed(view.calls):
        if call.result is None or call.is_error:
            continue
        products = products_in(tool_payload(call.result))
        if len(products) > 1 and call.name not in {"view_cart", "add_to_cart", "remove_from_cart", "update_quantity"}:
            return products
    return []


def all_seen_products(view: RequestView) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for call in view.calls:
        if call.result is not None and not call.is_error:
            for p in products_in(tool_payload(call.result)):
                seen[product_id(p)] = p
    return list(seen.values())


def resolve_product(view: RequestView, text: str | None = None) -> dict[str, Any] | None:
    """The product the shopper means, or None when nothing seen so far fits."""
    text = text if text is not None else view.user_text
    listing = last_product_list(view)
    pos = slots.ordinal(text)
    if pos is not None and listing:
        index = pos - 1 if pos > 0 else len(listing) + pos
        if 0 <= index < len(listing):
            return listing[index]
    seen = all_seen_products(view)
    for pid in slots.product_ids(text):
        for p in seen:
            if product_id(p).upper() == pid.upper():
                return p
    if not seen:
        return None
    # A name-like mention ("the linen shirt"): best semantic match among seen products.
    names = [str(p.get("name", "")) for p in seen]
    query = slots.search_query(text) or text
    vecs = get_embedder().embed(names)
    sims = vecs @ get_embedder().embed_one(query)
    best = int(np.argmax(sims))
    if sims[best] >= 0.55:
        return seen[best]
    if _PRONOUN_RE.search(text):
        # "it" / "that one": the single product in focus most recently.
        for call in reversed(view.calls):
            if call.result is None or call.is_error:
                continue
            products = products_in(tool_payload(call.result))
            if len(products) == 1:
                return products[0]
            if products:
                return products[0] if len(listing) == 1 else None
    return None
