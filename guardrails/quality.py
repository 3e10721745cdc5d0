"""Answer quality: is the agent's answer grounded, relevant, helpful and civil? A score in [0, 1].

    QualityScorer().score(answer, request, tool_results) -> QualityResult

Checks (each a sub-score in [0, 1], reported in `checks`):
- grounding: every price, discount or percentage, stock figure, policy claim (returns, shipping,
  warranty) and named product in the answer must be supported by the session's tool results.
  Numbers are compared as numbers (19.99 == "$19.99" == priceUsd {units: 19, nanos: 990000000});
  a price may also be a quantity multiple or, when the answer says "total", a sum of supported
  prices; a budget the shopper gave counts as said. An unsupported price, discount, percentage,
  stock figure or policy claim is a hard failure: the score is capped below the bad threshold.
  That is the guarantee: a "99% discount" no tool returned is never scored good.
- relevance: cosine similarity of the answer to the request on the local embedder (and to the tool
  results, since an answer about what the tools found is on topic); short follow-ups ("the second
  one", "yes please") are not judged.
- effort: lazy or evasive answers ("check our website", "it depends", a one-liner when products
  were found, no concrete item although the tools returned some).
- refusal: "I can't help with that" when the tool results had content to answer from. A refusal
  with nothing to go on is honest and scores fine.
- toxicity: better-profanity's offline word list (with shop words such as "nude" colour, "fanny
  pack", "kinky boots" and identity words exempted) plus insults aimed at the shopper.

Verdict: good >= 0.7, warn >= 0.4, bad below. `label` names the worst problem (ok, ungrounded,
off_topic, lazy, refusal, toxic) so dashboards can count them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np

Verdict = Literal["good", "warn", "bad"]
GOOD, WARN = 0.7, 0.4
HARD_FAIL_CAP = 0.2
# An invented figure in an answer that is off topic anyway is best described as off topic.
_LABEL_PRIORITY = ["toxic", "ungrounded", "refusal", "lazy", "off_topic", "ungrounded_detail"]
_WEIGHTS = {"grounding": 0.35, "relevance": 0.25, "effort": 0.2, "refusal": 0.1, "toxicity": 0.1}


@dataclass(frozen=True)
class QualityResult:
    score: float
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)
    checks: dict[str, float] = field(default_factory=dict)
    label: str = "ok"

    def as_dict(self) -> dict:
        return {"score": round(self.score, 4), "verdict": self.verdict, "reasons": list(self.reasons),
                "checks": {k: round(v, 4) for k, v in self.checks.items()}, "label": self.label}


# ---- evidence: what the tools returned ------------------------------------------------------

_NUM = re.compile(r"(?<![\w.])(\d{1,3}(?:[,\u202f ]\d{3})+|\d+)(?:[.,](\d{1,2}))?(?![\d])")
_PCT_TEXT = re.compile(r"(\d+(?:[.,]\d+)?)\s?(?:%|percent|per cent|prozent|pour cent)", re.I)
_NAME_KEYS = {"name", "title", "product_name", "productname", "product"}
_DISCOUNT_KEYS = ("discount", "percent", "pct", "off", "sale", "promo", "reduction", "markdown", "rebate")
_STOCK_KEYS = ("stock", "quantity", "qty", "available", "inventory", "units_left", "remaining", "item_count")


@dataclass
class Evidence:
    text: str = ""
    numbers: set[float] = field(default_factory=set)
    percents: set[float] = field(default_factory=set)
    stock: set[float] = field(default_factory=set)
    names: list[str] = field(default_factory=list)
    items: int = 0  # how many product-like records the tools returned

    @property
    def has_content(self) -> bool:
        return bool(self.items or len(self.text.strip()) > 40)


def _parse_number(whole: str, frac: str | None) -> float:
    return float(re.sub(r"[,\u202f ]", "", whole) + ("." + frac if frac else ""))


def numbers_in(text: str) -> set[float]:
    out: set[float] = set()
    for m in _NUM.finditer(text):
        out.add(_parse_number(m.group(1), m.group(2)))
    return out


def collect_evidence(tool_results: Iterable[Any]) -> Evidence:
    ev = Evidence()
    texts: list[str] = []

    def walk(obj: Any, key: str = "") -> None:
        k = key.lower()
        if isinstance(obj, str):
            s = obj.strip()
            if s[:1] in "[{" and s[-1:] in "]}":
                try:
                    walk(json.loads(s), key)
                    return
                except ValueError:
                    pass
            texts.append(obj)
            ev.numbers.update(numbers_in(obj))
            ev.percents.update(float(m.group(1).replace(",", ".")) for m in _PCT_TEXT.finditer(obj))
            if k in _NAME_KEYS:
                ev.names.append(obj.lower())
        elif isinstance(obj, bool) or obj is None:
            return
        elif isinstance(obj, int | float):
            value = float(obj)
            if math.isfinite(value):
                ev.numbers.add(round(value, 2))
                if any(d in k for d in _DISCOUNT_KEYS):
                    ev.percents.update({value, round(value * 100, 2)})
                if any(s in k for s in _STOCK_KEYS):
                    ev.stock.add(value)
        elif isinstance(obj, dict):
            if "units" in obj and isinstance(obj.get("units"), int):  # Online Boutique money
                ev.numbers.add(round(obj["units"] + (obj.get("nanos") or 0) / 1e9, 2))
            if any(str(x).lower() in _NAME_KEYS for x in obj) and any(
                    str(x).lower() in {"price", "priceusd", "unit_price", "id", "product_id"} for x in obj):
                ev.items += 1
            for child_key, value in obj.items():
                walk(value, str(child_key))
        elif isinstance(obj, list | tuple):
            for value in obj:
                walk(value, key)

    for result in tool_results:
        if isinstance(result, dict) and result.get("isError"):
            continue
        walk(result)
    ev.text = "\n".join(texts).lower()
    ev.percents.update(float(m.group(1).replace(",", ".")) for m in _PCT_TEXT.finditer(ev.text))
    return ev


# ---- claims: what the answer asserts ----------------------------------------------------------

_PRICE = re.compile(
    r"(?:[$€£]\s?(\d{1,3}(?:[,\u202f]\d{3})+|\d+)(?:[.,](\d{1,2}))?)|"
    r"(?:(\d{1,3}(?:[,\u202f]\d{3})+|\d+)(?:[.,](\d{1,2}))?\s?(?:€|eur\b|euros?\b|usd\b|dollars?\b|\$|£|gbp\b|bucks\b))",
    re.I,
)
_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s?(?:%|percent\b|per cent\b)", re.I)
_DISCOUNT_CONTEXT = re.compile(r"\b(off|discount\w*|sale|reduc\w*|cheaper|sav(?:e|ing|ings)|promo\w*|coupon|"
                               r"voucher|markdown|rabatt|remise|descuento|sconto)\b")
_STOCK_CLAIM = re.compile(
    r"\b(?:only|just|last)?\s*(\d+)\s+(?:[a-z'-]+\s+){0,3}?(?:left|in stock|available|remaining)\b|"
    r"\bwe (?:have|stock|carry|got)\s+(\d+)\b|\b(\d+)\s+(?:pairs|units|pieces)\b", re.I)
_DISCOUNT_WORDS = re.compile(
    r"\b(on sale|discount(?:ed)?|coupon|promo(?:tion)? code|voucher|half[- ]price|clearance|bogo|"
    r"buy one,? get one|special offer|price (?:cut|drop|reduction)|markdown|reduced|for free|free of charge|"
    r"complimentary|on the house|at no (?:extra )?cost|(?<![-\w])free (?!shipping|delivery|returns?|exchanges?)[a-z]+|"
    r"(?:is|are|comes?|get(?:s| it| one| them)?|be)\s+(?:\w+\s+)?free)\b",
    re.I)
_POLICY = re.compile(
    r"\b(free (?:shipping|delivery|returns?|exchanges?)|(\d+)[- ]day (?:returns?|return (?:policy|window)|"
    r"money[- ]back|refunds?|trial|exchange)|(?:lifetime|(\d+)[- ](?:year|month)) warranty|price match(?:ing)?|"
    r"money[- ]back guarantee|(?:ships|delivered|delivery) (?:with)?in (\d+) (?:business |working )?days|"
    r"next[- ]day delivery|same[- ]day (?:delivery|shipping))\b", re.I)
_SPEC = re.compile(
    r"\b(\d+(?:[.,]\d+)?)\s?(?:-\s?)?(days?|hours?|hrs?|minutes|litres?|liters?|l\b|ml|cm|mm|metres?|meters?|m\b|kg|"
    r"grams?|g\b|years?|months?|weeks?|mah|watts?|w\b|inch(?:es)?|gb|tb)\b(?! ago)", re.I)
_BOLD = re.compile(r"\*\*([^*\n]{2,80})\*\*|__([^_\n]{2,80})__")
_LIST_NAME = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+([A-Z][^:\n—–(]{2,60}?)\s*(?:[—–:(]| - |\$|€|£|,\s)", re.M)
_TOTAL_WORDS = re.compile(r"\b(total|together|altogether|in all|combined|both|sum|subtotal)\b", re.I)
_APPROX = re.compile(r"\b(about|around|approximately|roughly|nearly|almost|under|below|less than|up to|over|"
                     r"more than|from|starting at|budget|max(?:imum)?|min(?:imum)?)\s*$", re.I)


def _close(a: float, b: float, tol: float = 0.011) -> bool:
    return abs(a - b) <= tol


@dataclass
class Grounding:
    score: float = 1.0
    hard: list[str] = field(default_factory=list)  # prices, discounts, stock, policies
    detail: list[str] = field(default_factory=list)  # other figures (sizes, durations, capacities)
    soft: list[str] = field(default_factory=list)
    claims: int = 0


def check_grounding(answer: str, request: str, ev: Evidence) -> Grounding:
    g = Grounding()
    said = numbers_in(request)
    total_context = bool(_TOTAL_WORDS.search(answer))
    quantities = {float(q) for q in range(2, 11)} & (said | numbers_in(answer))
    base = sorted(ev.numbers)

    def price_supported(value: float, approx: bool) -> bool:
        if any(_close(value, e) for e in ev.numbers) or any(_close(value, s) for s in said):
            return True
        if approx and any(abs(value - e) <= max(1.0, 0.05 * e) for e in ev.numbers):
            return True
        if any(_close(value, e * q) for e in ev.numbers for q in quantities):
            return True
        if total_context and len(base) <= 200:
            return any(_close(value, a + b) for i, a in enumerate(base) for b in base[i:])
        return False

    for m in _PRICE.finditer(answer):
        whole, frac = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        value = _parse_number(whole, frac)
        g.claims += 1
        approx = bool(_APPROX.search(answer[max(0, m.start() - 24):m.start()]))
        if not price_supported(value, approx):
            g.hard.append(f"price {m.group(0).strip()} is not in any tool result")
    for m in _PERCENT.finditer(answer):
        value = float(m.group(1).replace(",", "."))
        g.claims += 1
        if any(_close(value, p, 0.05) for p in ev.percents):
            continue
        around = answer[max(0, m.start() - 40):m.end() + 30].lower()
        if _DISCOUNT_CONTEXT.search(around):
            g.hard.append(f"discount {m.group(0).strip()} is not in any tool result")
        elif not any(_close(value, e) for e in ev.numbers):
            g.soft.append(f"percentage {m.group(0).strip()} is not in any tool result")
    for m in _STOCK_CLAIM.finditer(answer):
        value = float(next(x for x in m.groups() if x))
        g.claims += 1
        pool = ev.stock or ev.numbers
        if not any(_close(value, s) for s in pool):
            g.hard.append(f"stock figure '{m.group(0).strip()}' is not in any tool result")
    for m in _DISCOUNT_WORDS.finditer(answer):
        g.claims += 1
        word = m.group(1).lower()
        stem = re.split(r"[ -]", word)[0][:5]
        if not (re.search(r"\b(sale|discount|coupon|promo|voucher|clearance|offer|reduced|markdown|off|free)\b",
                          ev.text) and (stem in ev.text or "discount" in ev.text or "sale" in ev.text)):
            g.hard.append(f"'{m.group(0)}' is not supported by any tool result")
    for m in _POLICY.finditer(answer):
        g.claims += 1
        claim = m.group(0).lower()
        key = next((k for k in ("shipping", "delivery", "return", "exchange", "refund", "warranty", "price match",
                                "money", "trial", "ships", "delivered") if k in claim), claim)
        number = next((x for x in m.groups()[1:] if x), None)
        stem = key[:6]
        if stem not in ev.text or (number is not None and float(number) not in ev.numbers):
            g.hard.append(f"policy claim '{m.group(0)}' is not supported by any tool result")
    for m in _SPEC.finditer(answer):
        value = float(m.group(1).replace(",", "."))
        g.claims += 1
        if not (any(_close(value, e, 0.051) for e in ev.numbers) or value in said):
            g.detail.append(f"'{m.group(0)}' is not in any tool result")
    names = [x for m in _BOLD.finditer(answer) for x in m.groups() if x]
    names += [m.group(1) for m in _LIST_NAME.finditer(answer)]
    for name in dict.fromkeys(n.strip() for n in names):
        if not name or numbers_in(name) and not re.search(r"[a-z]{3}", name.lower()):
            continue
        g.claims += 1
        if not _name_supported(name, ev):
            g.soft.append(f"product '{name}' is not in any tool result")
    if g.claims:
        bad = len(g.hard) + len(g.detail) + 0.5 * len(g.soft)
        g.score = max(0.0, 1.0 - bad / g.claims)
    if g.soft and not ev.has_content:
        g.score = min(g.score, 0.3)
    return g


def _mentions_evidence(answer: str, ev: Evidence) -> bool:
    """Does the answer use something specific the tools returned: a number, a product, details?

    A product counts when most of its name's words appear ("Gold Hoop Earrings 30mm" for "the gold
    hoop earrings"); repeating the category the shopper asked for ("we have earrings") does not.
    """
    said = _words(answer)
    if any(_close(n, e) for n in numbers_in(answer) for e in ev.numbers):
        return True
    for name in ev.names:
        words = _words(name)
        if words and len(words & said) / len(words) >= 0.6:
            return True
    distinctive = {w for w in _words(ev.text) if len(w) > 4} - _COMMON_WORDS
    return len(distinctive & said) >= 3


_COMMON_WORDS = frozenset(
    ["about", "their", "there", "which", "would", "could", "should", "these", "those", "other", "after", "before", "under", "while", "where", "price", "stock", "products", "product", "items", "available", "colours", "sizes", "description", "currency"]
)
_STOP = frozenset(["the", "a", "an", "and", "or", "of", "with", "in", "for", "to", "on", "by", "our", "your", "this", "that", "these", "those", "set", "new"])


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 1}


def _name_supported(name: str, ev: Evidence) -> bool:
    low = name.lower().strip(" .:")
    if low and low in ev.text:
        return True
    words = _words(low)
    if not words:
        return True
    candidates = ev.names or [ev.text]
    return any(len(words & _words(c)) / len(words) >= 0.6 for c in candidates)


# ---- effort, refusal, toxicity ---------------------------------------------------------------

_REFUSAL = re.compile(
    r"\b(?:i(?:'m| am)? (?:sorry,? )?(?:but )?(?:can(?:no|')t|cannot|am unable to|unable to|not able to|"
    r"won'?t be able to|do not have the ability to|don'?t have access)\s+(?:help|assist|answer|provide|do that|"
    r"recommend|find|show|support|comply)|as an ai\b|i'm just an ai|i (?:must|have to) decline|i (?:can'?t|cannot) "
    r"(?:help|assist) with (?:that|this)|that'?s not something i can)", re.I)
_LAZY = re.compile(
    r"\b(?:(?:just |please )?(?:check|look at|browse|visit|see|search) (?:our|the) (?:website|site|catalog(?:ue)?|"
    r"store|shop) (?:yourself|for (?:more|details))|(?:you can|you could|you should|try to|go) (?:search|look|"
    r"browse|google)(?: it)?(?: (?:yourself|on your own|online|for it))|it depends|hard to say|there are (?:many|"
    r"lots of|several|plenty of|various) (?:options|products|choices|items)(?: available)?[.!]?\s*$|i'?m not sure|"
    r"i don'?t know|no idea|whatever you (?:like|want)|figure it out|up to you|do your own research|"
    r"lorem ipsum|not my problem|can'?t be bothered|(?:read|check|see) the (?:terms|conditions|faq|label|manual|"
    r"description|product page|website)(?: and conditions)?[.!]?\s*$|try (?:it|them) and see|"
    r"(?:maybe )?try another (?:shop|store|website))\b", re.I | re.M)
_INSULT_NOUNS = (
    r"idiots?|morons?|losers?|fools?|brats?|twits?|fatso|dumbass|jerks?|weirdos?|imbeciles?|cretins?|dimwits?|"
    r"halfwits?|numbskulls?|bozos?|buffoons?|cheapskates?|simpletons?|airheads?|peasants?"
)
_VOCATIVE = r"clowns?|nerds?|dorks?|geniuses|genius|princess|grandpa|sweetie|snowflakes?|buddy boy|pal"
_INSULT = re.compile(
    rf"\b(?:you(?:'re| are)?|ur|u r|what an?|such an?|like you|are you)\s+(?:an?\s+|such an?\s+|so\s+|really\s+|"
    rf"being\s+|total\s+|complete\s+|little\s+|\w+\s+)?(?:{_INSULT_NOUNS}|idiotic|stupid|moronic|dumb|"
    r"pathetic|clueless|ignorant|useless|worthless|brainless|annoying|ridiculous|brain-?dead|clumsy|lazy|"
    r"self-righteous|whiny|hipster)\b|"
    rf",\s*(?:you\s+)?(?:an?\s+)?(?:\w+\s+){{0,2}}(?:{_INSULT_NOUNS}|{_VOCATIVE})\s*[.!?]|"
    rf"\b(?:an?|such an?)\s+(?:[\w-]+\s+){{0,2}}(?:{_INSULT_NOUNS})\b|"
    r"\b(?:shut up|nobody cares|who cares|go away|get lost|leave me alone|stop (?:bothering|bugging) me|"
    r"spare me|for all i care|(?:i )?don'?t care|your problem|not my problem|take it or leave it|"
    r"don'?t (?:come crying|bother me)|waste of (?:my|our) time|stop wasting my time|terrible taste|"
    r"learn some patience|can'?t you read|(?:are|what are) you,? (?:a |an )?(?:\w+ )?(?:idiot|blind|stupid)|"
    r"to hide that body|of course you'?d want|happy now\?|so basic|how (?:original|edgy|thrilling)|"
    r"(?:stupid|dumb|idiotic|ridiculous|pathetic) (?:question|request|idea|choice|taste)|ugh,? (?:fine|whatever)|"
    r"(?:annoying|spoiled|whiny) brats?|boring as hell|knock yourself out)\b", re.I)
_SHOP_PHRASES = re.compile(
    r"\b(?:fanny packs?|boob tubes?|shag (?:rugs?|carpets?|pile)|pussy[- ]bow|kinky boots|nude|screws?|pawn|"
    r"(?:vera|alexander) wang|queer|gay|lesbian|bisexual|trans|omg|cock(?:tail|erel)s?|fat-free|"
    r"low-fat|naked eye|jesus sandals?)\b", re.I)


@lru_cache(maxsize=1)
def _profanity():
    from better_profanity import profanity

    from guardrails.fast_profanity import speed_up

    profanity.load_censor_words()
    return speed_up(profanity)  # same answers, without scanning the word list per word (bench_load)


def toxicity(answer: str) -> tuple[float, list[str]]:
    """1.0 = civil, 0.0 = toxic; with the words that made it so."""
    reasons = [f"insults the shopper: '{m.group(0)}'" for m in _INSULT.finditer(answer)]
    cleaned = _SHOP_PHRASES.sub(" ", answer)
    prof = _profanity()
    if prof.contains_profanity(cleaned):
        censored = prof.censor(cleaned, "\x00")
        words = [w for w, c in zip(cleaned.split(), censored.split(), strict=False) if "\x00" in c]
        reasons.append(f"profanity: {', '.join(words[:3])}")
    if not reasons:
        return 1.0, []
    return 0.0, reasons


# ---- relevance ---------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _embedder():
    from godseye.embedding import LocalEmbedder

    return LocalEmbedder(max_tokens=128, cache_size=1024)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))


_FOLLOW_UP = re.compile(r"^\s*(?:yes|yeah|yep|ok(?:ay)?|sure|no|nope|thanks?|thank you|please|the \w+ one|"
                        r"that one|this one|(?:the )?(?:first|second|third|last|other) one)\b", re.I)


def relevance(answer: str, request: str, ev: Evidence) -> tuple[float | None, float]:
    """(score or None when the request is too short to judge, raw cosine to the request)."""
    if not request.strip() or len(request.split()) < 3 or _FOLLOW_UP.match(request):
        return None, 0.0
    emb = _embedder()
    a = emb.embed_one(answer[:600])
    cos_req = _cos(a, emb.embed_one(request[:400]))
    if ev.text.strip():
        # On topic = close to what was asked AND to what the tools found: an answer that only
        # shares a place name with the request ("Berlin's TV tower is 368 m tall") is not.
        cos_ev = _cos(a, emb.embed_one(ev.text[:600]))
        cos = 0.5 * (cos_req + cos_ev) if cos_ev < cos_req else cos_req
    else:
        cos = cos_req
    return float(np.clip((cos - 0.08) / (0.38 - 0.08), 0.0, 1.0)), cos_req


# ---- the scorer --------------------------------------------------------------------------------

class QualityScorer:
    """Stateless apart from the embedder it loads on first use; safe to share.

    `relevance=False` skips the embedding check (the only part that costs milliseconds), e.g. for
    bulk re-scoring where only grounding, effort, refusals and toxicity matter.
    """

    def __init__(self, relevance: bool = True):
        self.use_relevance = relevance

    def score(self, answer: str, request: str = "", tool_results: Sequence[Any] | None = None) -> QualityResult:
        answer = answer or ""
        ev = collect_evidence(tool_results or [])
        reasons: list[str] = []
        caps: list[tuple[float, str]] = []
        checks: dict[str, float] = {}

        if not answer.strip():
            return QualityResult(0.0, "bad", ["empty answer"], {"effort": 0.0}, "lazy")

        tox, tox_reasons = toxicity(answer)
        checks["toxicity"] = tox
        if tox_reasons:
            reasons += tox_reasons
            caps.append((0.1, "toxic"))

        g = check_grounding(answer, request, ev)
        checks["grounding"] = g.score
        reasons += g.hard + g.detail + g.soft
        if g.hard:
            caps.append((HARD_FAIL_CAP, "ungrounded"))
        if g.detail:
            caps.append((0.35, "ungrounded_detail"))
        elif g.soft and g.score < 0.5:
            caps.append((0.45, "ungrounded"))

        refused = bool(_REFUSAL.search(answer))
        checks["refusal"] = 1.0
        if refused and ev.has_content:
            checks["refusal"] = 0.0
            reasons.append("refuses although the tool results had what was needed")
            caps.append((0.35, "refusal"))

        effort = 1.0
        lazy = _LAZY.search(answer)
        if lazy:
            effort = 0.2
            reasons.append(f"evasive: '{lazy.group(0)}'")
        concrete = _mentions_evidence(answer, ev)
        vague = False
        if ev.has_content and not refused:
            if len(answer.strip()) < 40 and not concrete:
                effort = min(effort, 0.3)
                reasons.append("one-line answer although the tools returned what was needed")
            elif not concrete:
                effort = min(effort, 0.5)
                vague = True
                reasons.append("mentions nothing the tools returned (no product, price or detail)")
        checks["effort"] = effort
        if effort <= 0.3:
            caps.append((0.45, "lazy"))

        rel, cos_req = relevance(answer, request, ev) if self.use_relevance else (None, 0.0)
        if rel is not None:
            checks["relevance"] = rel
            if rel < 0.25:
                reasons.append(f"off topic: similarity to the request {cos_req:.2f}")
                caps.append((0.3, "off_topic"))
        if vague:
            # Nothing from the tool results made it into the answer: off topic, or just vague.
            caps.append((0.35, "off_topic") if rel is None or rel < 0.6 else (0.6, "lazy"))

        total_w = sum(_WEIGHTS[k] for k in checks)
        score = sum(_WEIGHTS[k] * v for k, v in checks.items()) / total_w
        label = "ok"
        if caps:
            score = min(score, min(cap for cap, _ in caps))
            # The most specific explanation names the problem: a lazy one-liner is also "off topic".
            label = min((lbl for _, lbl in caps), key=_LABEL_PRIORITY.index).replace("_detail", "")
        verdict: Verdict = "good" if score >= GOOD else "warn" if score >= WARN else "bad"
        if label == "ok" and verdict != "good":
            label = min(checks, key=checks.get)
            label = {"grounding": "ungrounded", "relevance": "off_topic", "effort": "lazy"}.get(label, label)
        return QualityResult(round(score, 4), verdict, reasons, checks, label)


_scorer: QualityScorer | None = None


def score_answer(answer: str, request: str = "", tool_results: Sequence[Any] | None = None) -> QualityResult:
    global _scorer
    if _scorer is None:
        _scorer = QualityScorer()
    return _scorer.score(answer, request, tool_results)
