"""Prompt-injection detector: normalisation, structural rules and a learned layer, in ~1 ms.

    from guardrails.injection import score_text
    score_text("Ignore all previous instructions").verdict   # "block"

Layers (each explained in its module):
1. `guardrails.normalize` undoes obfuscation into views (homoglyphs, zero-width, leetspeak,
   spaced letters, base64/hex/rot13/percent payloads, HTML comments and markdown titles);
2. `guardrails.injection_rules` matches attack shapes on every view, each with a weight and a
   reason; hits in hidden views weigh more;
3. `guardrails.injection_model` is a linear classifier on the local embedder's distilled token
   vectors, scored over sliding windows (so long texts are not averaged away).

Combination: score = 1 - (1 - rules) * (1 - learned), a noisy-OR of two independent pieces of
evidence. When the rules alone already reach the block threshold the learned layer is skipped.

Calibration of the thresholds. The scale is fixed, `WARN` = 0.5 and `BLOCK` = 0.8, and both
layers are calibrated onto it rather than the other way round:
- rule weights are set by what a rule means (see `injection_rules`): an unambiguous attack shape
  weighs >= 0.85 and blocks alone, a suspicious one 0.55-0.75 and warns alone, context 0.2-0.45;
- the learned layer's probability is mapped piecewise-linearly so that the probability exceeded
  by 5% of the benign calibration rows (out-of-fold, 5-fold CV; deepset's benign rows and the
  written shopping queries) lands on 0.5 and the one exceeded by 2% lands on 0.8 (`guardrails.train.anchors`).
  Alone, the learned layer therefore blocks about 2% of benign traffic like deepset's questions
  (0.8% of the written shopping queries in CV: they are shorter and plainer), and a warn-level
  rule plus a warn-level model score block together. 2% rather than 1% bought 0.5 points of
  deepset and 1.5 of jackhhao recall in CV and no held-out shopping or trigger-word false positive.
- evidence floor: a bag of token weights reads little into two or three words ("hello",
  "declared", "max_injection_score"), so the learned score alone is capped below WARN for texts
  of fewer than MIN_WORDS_TO_WARN content words and below BLOCK for fewer than
  MIN_WORDS_TO_BLOCK. A short attack still blocks through the rules ("ignore your rules" is three
  words), and a capped learned score still adds to a rule's through the noisy-OR.
The benchmark (`benchmarks/bench_injection.py`) reports recall and false positives at these
thresholds on data the detector was not built on.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from guardrails.injection_model import ModelUnavailable, TokenClassifier, get_model
from guardrails.injection_rules import RuleHit, match_rules, rule_score
from guardrails.normalize import obfuscation_signals, views

Verdict = Literal["allow", "warn", "block"]
WARN = 0.5
BLOCK = 0.8
# Budget for long messages. The rules read the plain text of the first MAX_SCAN_CHARS characters
# (a longer paste is cut, and says so: callers should not pass on what was not scanned, see
# `scanned_text`). The de-obfuscation views (leetspeak, spaced letters, decoded payloads, markup)
# are derived from the head and tail only (SCAN_HEAD + SCAN_TAIL): they cost ~0.5 µs a character
# in Python, and obfuscated jailbreaks are short. The learned layer reads the first 1000 characters.
# `indirect.py` scans documents in full, sentence by sentence.
MAX_SCAN_CHARS = 10000
SCAN_HEAD, SCAN_TAIL = 1200, 400
# Content words (not trigger words, punctuation or numbers) the learned layer needs before it may
# warn / block on its own (see "evidence floor" above).
MIN_WORDS_TO_WARN, MIN_WORDS_TO_BLOCK = 4, 6


def scanned_text(text: str) -> str:
    """The part of a message the rules read (all of it up to MAX_SCAN_CHARS)."""
    return text[:MAX_SCAN_CHARS]


def _head_tail(text: str) -> str | None:
    if len(text) <= SCAN_HEAD + SCAN_TAIL:
        return None
    return text[:SCAN_HEAD] + "\n" + text[-SCAN_TAIL:]


@dataclass(frozen=True)
class InjectionResult:
    score: float
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)
    rule_score: float = 0.0
    model_score: float | None = None  # None when the learned layer was skipped (rules decisive)
    categories: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        return self.verdict == "block"

    @property
    def reason_tag(self) -> str:
        """A low-cardinality label for metrics (`llm.security.blocked{reason:...}`)."""
        if self.categories:
            return self.categories[0].replace(" / ", "_").replace(" ", "_").replace("-", "_")
        return "learned_classifier" if self.verdict != "allow" else "none"

    def as_dict(self) -> dict:
        return {"score": round(self.score, 4), "verdict": self.verdict, "reasons": list(self.reasons)}


def verdict_for(score: float) -> Verdict:
    return "block" if score >= BLOCK else "warn" if score >= WARN else "allow"


class InjectionDetector:
    """Thread-safe scorer with a small result cache (the same message is often scored twice)."""

    def __init__(self, model: TokenClassifier | None = None, *, use_model: bool = True, cache_size: int = 2048):
        self._model = model
        self._use_model = use_model
        self._cache: OrderedDict[tuple[str, bool, bool], InjectionResult] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @property
    def model(self) -> TokenClassifier | None:
        if self._model is None and self._use_model:
            try:
                self._model = get_model()
            except ModelUnavailable:
                self._use_model = False
        return self._model

    def score(self, text: str, *, indirect: bool = False, learned: bool = True) -> InjectionResult:
        """Score one message. `indirect=True` adds the rules for instructions hidden in data.

        `learned=False` applies the rules only (`indirect.py` does so for identifiers and other
        strings too short for word statistics to mean anything).
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, not {type(text).__name__}")
        if self._cache_size <= 0:
            return self._score(text, indirect, learned)
        key = (text, indirect, learned)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        result = self._score(text, indirect, learned)
        with self._lock:
            self._cache[key] = result
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result

    def _score(self, text: str, indirect: bool, learned: bool = True) -> InjectionResult:
        if not text.strip():
            return InjectionResult(0.0, "allow")
        reasons: list[str] = []
        if len(text) > MAX_SCAN_CHARS:
            reasons.append(f"long message: only the first {MAX_SCAN_CHARS} of {len(text)} characters were scanned")
            text = scanned_text(text)
        vs = views(text, max_chars=MAX_SCAN_CHARS, decode_from=_head_tail(text))
        hits: list[RuleHit] = match_rules(vs, text, indirect=indirect)
        r = rule_score(hits)
        reasons.extend(h.describe() for h in hits)
        m: float | None = None
        model = self.model if learned else None
        if r < BLOCK and model is not None:
            # The learned layer reads the plain view and every decoded payload; the worst counts.
            scored = [(model.score(v.text), v) for v in vs if v.name in ("text", "base64", "hex", "rot13",
                                                                          "url-encoding", "markup")]
            best, view = max(scored, key=lambda sv: _floored(sv[0].score, sv[0].words))
            m = _floored(best.score, best.words)
            if m >= 0.3:
                tokens = ", ".join(model.top_tokens(view.text))
                where = "" if view.name == "text" else f" in {view.name} payload"
                reasons.append(f"learned classifier: injection-like wording{where} ({m:.2f}; tokens: {tokens})")
        score = 1.0 - (1.0 - r) * (1.0 - (m or 0.0))
        signals = obfuscation_signals(text) if hits or (m or 0) >= WARN else []
        reasons.extend(f"obfuscation: {s}" for s in signals)
        categories = tuple(dict.fromkeys(h.rule.category for h in hits if h.weight >= 0.45))
        return InjectionResult(round(score, 4), verdict_for(score), reasons, round(r, 4),
                               None if m is None else round(m, 4), categories)


def _floored(score: float, words: int) -> float:
    """The learned score, capped when it rests on too few content words (the evidence floor)."""
    if words < MIN_WORDS_TO_WARN:
        return min(score, WARN - 0.01)
    if words < MIN_WORDS_TO_BLOCK:
        return min(score, BLOCK - 0.01)
    return score


@lru_cache(maxsize=1)
def get_detector() -> InjectionDetector:
    """The process-wide detector (the model file is loaded once, on first use)."""
    return InjectionDetector()


def score_text(text: str, *, indirect: bool = False) -> InjectionResult:
    """Score one text with the shared detector."""
    return get_detector().score(text, indirect=indirect)
