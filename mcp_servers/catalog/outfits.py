"""Outfit building: a complete look for an occasion from what is in stock, within a budget.

A look is a set of roles (main piece, shoes, accessory...) with the subcategories that can fill
each. Which look fits a request is decided semantically (the request against each look's
description, with the local embedder), then every role is filled by a catalog search for the
request's own words in that subcategory, so the result reflects the shop's real stock and prices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from mcp_servers.catalog.models import CatalogError, Product
from mcp_servers.catalog.vocab import SUBCATEGORY_BY_NAME


@dataclass(frozen=True)
class Look:
    name: str
    description: str
    roles: tuple[tuple[str, tuple[str, ...]], ...]  # (role, subcategories that can fill it)
    menswear: tuple[tuple[str, tuple[str, ...]], ...] | None = None


LOOKS: tuple[Look, ...] = (
    Look("formal", "wedding guest, gala, ceremony, cocktail party, formal dinner, black tie, elegant evening event",
         (("outfit", ("dresses",)), ("shoes", ("heels", "sandals")), ("bag", ("bags",)), ("jewellery", ("jewellery",))),
         (("shirt", ("shirts",)), ("trousers", ("trousers",)), ("jacket", ("jackets",)), ("shoes", ("loafers",)))),
    Look("office", "office, work, business meeting, job interview, conference, smart professional day",
         (("top", ("shirts",)), ("bottom", ("trousers", "skirts")), ("layer", ("jackets",)), ("shoes", ("loafers",
                                                                                                       "heels")),
          ("bag", ("bags",)))),
    Look("beach", "beach, pool, seaside holiday, summer vacation, resort, hot weather trip",
         (("swim", ("swimwear",)), ("cover-up", ("dresses", "shorts")), ("shoes", ("sandals",)),
          ("sunglasses", ("sunglasses",)), ("hat", ("hats",)))),
    Look("party", "party, night out, club, birthday celebration, date night, drinks",
         (("outfit", ("dresses", "skirts")), ("shoes", ("heels", "boots")), ("bag", ("bags",))),
         (("shirt", ("shirts",)), ("bottom", ("jeans", "trousers")), ("shoes", ("boots", "loafers")))),
    Look("casual", "casual weekend, everyday errands, brunch, relaxed day, city walk, sightseeing",
         (("top", ("t-shirts", "shirts")), ("bottom", ("jeans", "shorts", "skirts")), ("shoes", ("sneakers",)),
          ("bag", ("bags",)))),
    Look("sport", "gym, running, yoga, hiking, workout, training, sport",
         (("top", ("activewear",)), ("bottom", ("activewear", "shorts")), ("shoes", ("sneakers",)))),
    Look("winter", "winter, cold weather, snow, ski trip, rainy autumn, chilly evening",
         (("knit", ("knitwear",)), ("bottom", ("jeans", "trousers")), ("coat", ("coats",)), ("shoes", ("boots",)),
          ("scarf", ("scarves",)))),
    Look("travel", "travel, long flight, road trip, airport, weekend away, city break",
         (("top", ("t-shirts", "knitwear")), ("bottom", ("trousers", "jeans")), ("layer", ("jackets",)),
          ("shoes", ("sneakers", "loafers")), ("bag", ("bags",)))),
)
_MEN = re.compile(r"\b(men|man|male|him|his|husband|boyfriend|guy|gentleman|groom|dad|father|son|brother)\b", re.I)
_WOMEN = re.compile(r"\b(women|woman|female|her|wife|girlfriend|lady|bride|mum|mom|mother|daughter|sister)\b", re.I)
_SEASONS = {
    "summer": re.compile(r"\b(summer|july|august|june|hot|heat)\b", re.I),
    "winter": re.compile(r"\b(winter|december|january|february|snow|cold|freezing)\b", re.I),
    "spring": re.compile(r"\b(spring|march|april|may)\b", re.I),
    "autumn": re.compile(r"\b(autumn|fall|september|october|november)\b", re.I),
}


class OutfitPiece(BaseModel):
    role: str
    product: Product


class Outfit(BaseModel):
    """A look: one product per role, all in stock, with the total price."""

    occasion: str
    look: str
    pieces: list[OutfitPiece] = Field(default_factory=list)
    total: float = 0.0
    currency: str = "USD"
    within_budget: bool = True
    notes: list[str] = Field(default_factory=list)


def detect_gender(text: str) -> str | None:
    if _MEN.search(text):
        return "men"
    if _WOMEN.search(text):
        return "women"
    return None


def detect_season(text: str) -> str | None:
    for season, pattern in _SEASONS.items():
        if pattern.search(text):
            return season
    return None


def pick_look(occasion: str) -> Look:
    from godseye.semantic import rank

    scores = dict(rank(occasion, {look.name: look.description for look in LOOKS}))
    return max(LOOKS, key=lambda look: scores[look.name])


def build_outfit(
    store: Any,
    occasion: str,
    *,
    max_total: float | None = None,
    size: str | None = None,
    colour: str | None = None,
    gender: str | None = None,
    per_role: int = 6,
) -> Outfit:
    look = pick_look(occasion)
    gender = gender or detect_gender(occasion)
    season = detect_season(occasion)
    roles = look.menswear if gender == "men" and look.menswear else look.roles
    outfit = Outfit(occasion=occasion, look=look.name)
    choices: list[tuple[str, list[Product]]] = []
    for role, subcategories in roles:
        candidates: list[Product] = []
        for sub in subcategories:
            sizing = SUBCATEGORY_BY_NAME[sub].sizing if sub in SUBCATEGORY_BY_NAME else "one"
            try:
                found = store.search(
                    f"{occasion} {sub}",
                    subcategory=sub,
                    size=size if sizing == "apparel" else None,
                    colour=colour if role in {"outfit", "top", "knit", "swim", "shirt"} else None,
                    in_stock=True,
                    limit=per_role,
                )
            except CatalogError:
                # A shop's own catalog may not carry this kind, size or colour: the role stays open.
                continue
            candidates += [p for p in found if _fits(p, gender)]
        if season:
            candidates.sort(key=lambda p: season not in p.seasons)  # stable: keeps search order otherwise
        if candidates:
            choices.append((role, candidates))
        else:
            outfit.notes.append(f"nothing in stock for the {role}")
    picks = {role: cands[0] for role, cands in choices}
    if max_total is not None:
        picks = _fit_budget(choices, picks, max_total, outfit)
    outfit.pieces = [OutfitPiece(role=role, product=p) for role, p in picks.items()]
    outfit.total = round(sum(p.price for p in picks.values()), 2)
    outfit.within_budget = max_total is None or outfit.total <= max_total
    if not outfit.within_budget:
        outfit.notes.append(f"the cheapest complete look costs {outfit.total:.2f}, above the budget of {max_total:.2f}")
    return outfit


def _fits(product: Product, gender: str | None) -> bool:
    return gender is None or product.gender in {gender, "unisex"}


def _fit_budget(
    choices: list[tuple[str, list[Product]]], picks: dict[str, Product], budget: float, outfit: Outfit
) -> dict[str, Product]:
    """Swap the priciest pieces for cheaper candidates, then drop optional roles, until it fits."""
    picks = dict(picks)
    by_role = dict(choices)
    while sum(p.price for p in picks.values()) > budget:
        best_role, best_saving, best_item = None, 0.0, None
        for role, current in picks.items():
            cheaper = min(by_role[role], key=lambda p: p.price)
            if current.price - cheaper.price > best_saving:
                best_role, best_saving, best_item = role, current.price - cheaper.price, cheaper
        if best_role is None:
            break
        picks[best_role] = best_item
    # Accessories are optional; main pieces are not.
    for role in reversed(list(picks)):
        if sum(p.price for p in picks.values()) <= budget or len(picks) <= 2:
            break
        if role in {"bag", "jewellery", "hat", "sunglasses", "scarf", "layer"}:
            outfit.notes.append(f"left out the {role} to stay within budget")
            picks.pop(role)
    return picks
