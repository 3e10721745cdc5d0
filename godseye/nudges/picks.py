"""Which products a nudge names: drawn from the catalog and the shop's trends, never made up.

Every pick is a `Product` read from the catalog; the engine reads them all again right before a
nudge is shown and drops anything that sold out in between (`fresh`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from mcp_servers.catalog.models import CatalogError, Product
from mcp_servers.catalog.outfits import LOOKS, Look

# A product's occasions (catalog vocabulary) -> the outfit look (mcp_servers.catalog.outfits) it belongs to.
OCCASION_LOOK = {
    "wedding": "formal", "office": "office", "interview": "office", "beach": "beach", "party": "party",
    "date night": "party", "casual": "casual", "sport": "sport", "travel": "travel",
}
LOOK_OCCASION = {"formal": "wedding", "office": "office", "beach": "beach", "party": "party", "casual": "casual",
                 "sport": "sport", "travel": "travel", "winter": "winter"}
CANDIDATES_PER_ROLE = 6
SIMILAR_DEPTH = 10


def _roles(look: Look, gender: str | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return look.menswear if gender == "men" and look.menswear else look.roles


def look_for(product: Product) -> Look:
    """The look a product most plausibly belongs to: by its occasions, then by its kind, then winter/casual."""
    by_name = {look.name: look for look in LOOKS}
    gender = product.gender if product.gender in ("women", "men") else None
    containing = [look for look in LOOKS if any(product.subcategory in subs for _, subs in _roles(look, gender))]
    for occasion in product.occasions:
        look = by_name.get(OCCASION_LOOK.get(occasion.casefold(), ""))
        if look is not None and look in containing:
            return look
    if "winter" in product.seasons and by_name["winter"] in containing:
        return by_name["winter"]
    if containing:
        return containing[0]
    for occasion in product.occasions:  # a watch or a belt: complete the look its occasion calls for
        look = by_name.get(OCCASION_LOOK.get(occasion.casefold(), ""))
        if look is not None:
            return look
    return by_name["casual"]


def _gender(product: Product) -> str | None:
    return product.gender if product.gender in ("women", "men") else None


def _fits_gender(candidate: Product, gender: str | None) -> bool:
    return gender is None or candidate.gender in (gender, "unisex")


def complete_the_look(catalog: Any, product: Product, *, limit: int, exclude: set[str],
                      boost: dict[str, float] | None = None) -> list[tuple[str, Product]]:
    """(role, product) pairs that go with `product`: one in-stock piece for each other role of its look.

    Candidates for a role come from a catalog search for the look's occasion in that role's kinds;
    among them, trending products (`boost`) and ones sharing the product's seasons and occasions win.
    """
    look = look_for(product)
    gender = _gender(product)
    occasion = next((o for o in product.occasions if OCCASION_LOOK.get(o.casefold()) == look.name),
                    LOOK_OCCASION.get(look.name, look.name))
    picks: list[tuple[str, Product]] = []
    taken = set(exclude) | {product.id}
    for role, subcategories in _roles(look, gender):
        if product.subcategory in subcategories:
            continue  # the role the shopper just filled
        candidates: list[Product] = []
        for sub in subcategories:
            try:
                found = catalog.search(f"{occasion} {sub}", subcategory=sub, in_stock=True, limit=CANDIDATES_PER_ROLE)
            except CatalogError:  # a kind this catalog does not sell
                continue
            candidates += [p for p in found if p.id not in taken and _fits_gender(p, gender)]
        if not candidates:
            continue
        best = max(candidates, key=lambda p: _affinity(p, product, boost) - candidates.index(p) * 0.01)
        picks.append((role, best))
        taken.add(best.id)
        if len(picks) >= limit:
            break
    return picks


def _affinity(candidate: Product, anchor: Product, boost: dict[str, float] | None) -> float:
    shared_seasons = len(set(candidate.seasons) & set(anchor.seasons))
    shared_occasions = len(set(candidate.occasions) & set(anchor.occasions))
    trend = (boost or {}).get(candidate.id, 0.0)
    return 0.5 * min(shared_seasons, 1) + 0.5 * min(shared_occasions, 1) + trend


def cheaper_match(catalog: Any, product: Product, *, ratio: float, exclude: set[str]) -> Product | None:
    """The closest in-stock product of the same kind that costs at most `ratio` x the price, if any."""
    try:
        similar = catalog.similar(product.id, limit=SIMILAR_DEPTH, in_stock=True)
    except CatalogError:
        return None
    gender = _gender(product)
    for candidate in similar:  # nearest first
        if (candidate.subcategory == product.subcategory and candidate.id not in exclude
                and candidate.price <= product.price * ratio and _fits_gender(candidate, gender)):
            return candidate
    return None


def focus_subcategory(seen: Sequence[dict]) -> str | None:
    """The kind of product the shopper has looked at most lately (recent views break ties)."""
    recent = [s.get("subcategory") for s in seen[-10:] if s.get("subcategory")]
    if not recent:
        return None
    counts = Counter(recent)
    return max(counts, key=lambda sub: (counts[sub], max(i for i, s in enumerate(recent) if s == sub)))


def best_rated(catalog: Any, subcategory: str | None, *, limit: int, exclude: set[str]) -> list[Product]:
    """Top-rated in-stock products of a kind (the catalog's own browse order) when there are no trends yet."""
    try:
        found = catalog.search("", category=subcategory, in_stock=True, limit=min(limit + len(exclude), 50))
    except CatalogError:
        return []
    return [p for p in found if p.id not in exclude][:limit]


def fresh(catalog: Any, product_ids: Iterable[str]) -> dict[str, Product]:
    """The named products as the catalog has them now, only those still in stock."""
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return {}
    return {p.id: p for p in catalog.get_many(ids) if p.stock > 0}
