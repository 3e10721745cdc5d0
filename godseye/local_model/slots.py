"""Argument extraction from shopper language: prices, colours, sizes, quantities, references.

These are language facts (how people write "under $80" or "size M"), not per-test keyword lists;
which tool to call is decided elsewhere, semantically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

COLOURS = (
    "black", "white", "ivory", "cream", "beige", "camel", "tan", "brown", "chocolate", "grey", "gray",
    "charcoal", "navy", "blue", "light blue", "sky blue", "teal", "turquoise", "green", "olive", "khaki",
    "sage", "emerald", "mint", "yellow", "mustard", "gold", "orange", "rust", "red", "burgundy", "wine",
    "maroon", "pink", "blush", "rose", "coral", "purple", "lilac", "lavender", "silver",
)
_COLOUR_ALIASES = {"gray": "grey"}
_COLOUR_RE = re.compile(r"\b(" + "|".join(sorted((re.escape(c) for c in COLOURS), key=len, reverse=True)) + r")\b")

_SIZE_WORDS = {
    "extra small": "XS", "x-small": "XS", "xsmall": "XS", "small": "S", "medium": "M", "large": "L",
    "extra large": "XL", "x-large": "XL", "xlarge": "XL", "xx-large": "XXL", "xxl": "XXL",
}
_SIZE_RE = re.compile(
    r"\bsize\s*(?P<a>xxs|xs|s|m|l|xl|xxl|\d{1,2}(?:\.5)?)\b|\bin\s+(?P<b>xxs|xs|xl|xxl)\b"
    r"|\b(?P<c>xxs|xs|xl|xxl)\b|\bin\s+(?:a\s+)?(?P<d>s|m|l)\b(?!\w)"
    r"|\b(?P<w>extra small|x-small|xsmall|small|medium|large|extra large|x-large|xlarge|xx-large)\b(?:\s+size)?",
    re.IGNORECASE,
)
_MONEY = r"\$?\s*(\d+(?:[.,]\d{1,2})?)\s*(?:\$|usd|dollars?|bucks|eur|€)?"
_BETWEEN_RE = re.compile(r"\bbetween\s+" + _MONEY + r"\s+(?:and|-|to)\s+" + _MONEY, re.IGNORECASE)
_RANGE_RE = re.compile(r"\$\s*(\d+(?:\.\d{1,2})?)\s*(?:-|to)\s*\$?\s*(\d+(?:\.\d{1,2})?)", re.IGNORECASE)
_MAX_RE = re.compile(
    r"\b(?:under|below|less than|cheaper than|no more than|max(?:imum)?|up to|at most|within|budget(?: of| is)?|"
    r"for less than|not over|not more than)\s+" + _MONEY,
    re.IGNORECASE,
)
_MIN_RE = re.compile(r"\b(?:over|above|more than|at least|from|starting at|min(?:imum)?)\s+" + _MONEY, re.IGNORECASE)
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "a couple of": 2, "a pair of": 1, "pair of": 1,
}
_QTY_RE = re.compile(
    r"\b(?P<n>\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten)\s*(?:x\s+|of\s+(?:them|those|these|it)|"
    r"pieces?|items?|units?|more|(?=\s+(?:of\s+)?(?:the|those|these|them|it|(?!dollars|bucks|euros)\w+s\b)))",
    re.IGNORECASE,
)
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "last": -1, "top": 1,
}
_ORDINAL_RE = re.compile(
    r"\b(?:the\s+)?(first|second|third|fourth|fifth|sixth|last|1st|2nd|3rd|4th|5th|6th)\b(?:\s+(?:one|item|option|"
    r"result|product|of (?:them|those)))?|\b(?:number|no\.?|#|option|item)\s*(\d)\b",
    re.IGNORECASE,
)
_PRODUCT_ID_RE = re.compile(r"\b([A-Z]{1,4}-?\d{3,8})\b")
_AFFIRM_RE = re.compile(
    r"^\s*(?:yes|yep|yeah|yup|sure|ok(?:ay)?|confirm(?:ed)?|please do|go ahead|do it|place (?:the|my) order|"
    r"i confirm|absolutely|definitely|proceed|let'?s do it|buy it|sounds good)\b",
    re.IGNORECASE,
)
_NEGATE_RE = re.compile(r"^\s*(?:no|nope|nah|cancel|stop|don'?t|do not|wait|not yet|never mind)\b", re.IGNORECASE)
_CHEAPER_RE = re.compile(r"\b(cheaper|less expensive|lower price|more affordable|budget option|too expensive|too pricey)\b",
                         re.IGNORECASE)
_PRICIER_RE = re.compile(r"\b(more expensive|pricier|higher end|more premium|fancier|luxur(?:y|ious))\b", re.IGNORECASE)


@dataclass
class Constraints:
    """What a shopper asked for, in the vocabulary of the catalog tools."""

    min_price: float | None = None
    max_price: float | None = None
    colour: str | None = None
    size: str | None = None
    extras: dict[str, object] = field(default_factory=dict)

    def as_args(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for key in ("min_price", "max_price", "colour", "size"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


def _money(value: str) -> float:
    return float(value.replace(",", "."))


def price_bounds(text: str) -> tuple[float | None, float | None]:
    """(min, max) price in the text, e.g. "under $80" -> (None, 80.0)."""
    if m := _BETWEEN_RE.search(text) or _RANGE_RE.search(text):
        low, high = sorted((_money(m.group(1)), _money(m.group(2))))
        return low, high
    high = low = None
    if m := _MAX_RE.search(text):
        high = _money(m.group(1))
    if m := _MIN_RE.search(text):
        # "from size 8" is not a price; require money context or a plausible number.
        candidate = _money(m.group(1))
        if "$" in m.group(0) or "dollar" in m.group(0).lower() or candidate >= 15:
            low = candidate
    return low, high


def colour(text: str) -> str | None:
    lowered = text.lower()
    if m := _COLOUR_RE.search(lowered):
        value = m.group(1)
        return _COLOUR_ALIASES.get(value, value)
    return None


def size(text: str) -> str | None:
    for m in _SIZE_RE.finditer(text):
        raw = next(g for g in (m.group("a"), m.group("b"), m.group("c"), m.group("d"), m.group("w")) if g)
        raw_l = raw.lower()
        if raw_l in _SIZE_WORDS:
            # "small bag", "large tote": a size word before a noun is a description, not a size,
            # unless the shopper said "size" or "in" around it.
            context = text[max(0, m.start() - 4) : m.end() + 6].lower()
            at_end = not text[m.end() :].strip(" .!?")
            after_comma = text[: m.start()].rstrip().endswith(",")
            if "size" not in context and not context.strip().startswith("in") and not (at_end or after_comma):
                continue
            return _SIZE_WORDS[raw_l]
        return raw.upper()
    return None


def quantity(text: str) -> int | None:
    if m := _QTY_RE.search(text):
        raw = m.group("n").lower()
        value = _NUMBER_WORDS.get(raw) or (int(raw) if raw.isdigit() else None)
        if value and 0 < value <= 100:
            return value
    return None


def ordinal(text: str) -> int | None:
    """1-based position the shopper points at ("the second one" -> 2, "the last one" -> -1)."""
    if m := _ORDINAL_RE.search(text):
        if m.group(2):
            return int(m.group(2))
        return _ORDINALS[m.group(1).lower()]
    return None


def product_ids(text: str) -> list[str]:
    return _PRODUCT_ID_RE.findall(text)


def is_affirmation(text: str) -> bool:
    return bool(_AFFIRM_RE.search(text)) and not _NEGATE_RE.search(text)


def is_negation(text: str) -> bool:
    return bool(_NEGATE_RE.search(text))


def wants_cheaper(text: str) -> bool:
    return bool(_CHEAPER_RE.search(text))


def wants_pricier(text: str) -> bool:
    return bool(_PRICIER_RE.search(text))


def constraints(text: str) -> Constraints:
    low, high = price_bounds(text)
    return Constraints(min_price=low, max_price=high, colour=colour(text), size=size(text))


_FILLER_RE = re.compile(
    r"\b(?:please|can you|could you|would you|i(?:'m| am)? (?:want|need|would like|'d like|looking for|searching for)|"
    r"show me|find me|find|search for|look for|get me|do you have|have you got|any|some|i want|i need|"
    r"looking for|searching for|something|anything|for me|thanks|thank you|hi|hello|hey)\b",
    re.IGNORECASE,
)


def search_query(text: str) -> str:
    """The product words of a request, without price/size phrases and politeness."""
    q = _BETWEEN_RE.sub(" ", text)
    q = _RANGE_RE.sub(" ", q)
    q = _MAX_RE.sub(" ", q)
    q = _MIN_RE.sub(" ", q)
    q = _SIZE_RE.sub(" ", q)
    q = _FILLER_RE.sub(" ", q)
    q = re.sub(r"[?!.,;:]+", " ", q)
    q = re.sub(r"\b(?:in|a|an|the|of|with|and|under|that|is|are|to|me|my)\s*$", " ", q.strip(), flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", q).strip()


_GREETING_RE = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|greetings|yo|howdy|bonjour|hola|ciao|hallo)"
    r"(?:\s+there)?[\s!.,?]*(?:how are you[?!. ]*)?$",
    re.IGNORECASE,
)


def is_greeting(text: str) -> bool:
    """A message that only greets: answered with a welcome, not routed or searched."""
    return bool(_GREETING_RE.match(text))


_ANY_ID_RE = re.compile(r"\b(?:[A-Z]{1,4}-?\d{3,8}|up_[0-9a-f]{6,32}|to_[0-9a-f]{6,32})\b")


def without_ids(text: str) -> str:
    """The text with product and upload ids replaced by "it": ids carry no meaning for matching."""
    return _ANY_ID_RE.sub("it", text)
