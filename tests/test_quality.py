"""Answer quality: the guarantees (an ungrounded price or discount is never good) and each check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guardrails.quality import QualityResult, QualityScorer, collect_evidence, score_answer

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data"
PRODUCTS = [
    {"id": "d1", "name": "Linen Summer Dress", "price": 49.99, "stock": 3, "colours": ["red"]},
    {"id": "d2", "name": "Red Wrap Dress", "price": 39.5, "stock": 12, "colours": ["red"]},
]
TOOLS = [{"content": [{"type": "text", "text": json.dumps({"products": PRODUCTS})}], "isError": False}]
REQUEST = "show me red dresses under 50 dollars"
GOOD = "Two red dresses under $50: **Linen Summer Dress** at $49.99 (only 3 left) and **Red Wrap Dress** at $39.50."


@pytest.fixture(scope="module")
def scorer() -> QualityScorer:
    return QualityScorer()


def test_grounded_answer_is_good(scorer):
    result = scorer.score(GOOD, REQUEST, TOOLS)
    assert isinstance(result, QualityResult)
    assert result.verdict == "good" and result.label == "ok" and result.score >= 0.7
    assert set(result.checks) >= {"grounding", "relevance", "effort", "refusal", "toxicity"}
    assert set(result.as_dict()) == {"score", "verdict", "reasons", "checks", "label"}


@pytest.mark.parametrize("answer", [
    "The **Red Wrap Dress** is 99% off today!",
    "Good news: everything is 20% off with code SUMMER.",
    "The **Linen Summer Dress** costs $29.99.",
    "The **Red Wrap Dress** is on sale for €19.",
    "Both dresses are discounted, and shipping is free next-day delivery.",
    "Use the coupon code RED10 for a discount.",
    "The Linen Summer Dress is just 12,50 € this week.",
    "Only 1 left of the Red Wrap Dress, so hurry!",
    "We offer a 365-day return policy on these dresses.",
    "Buy the Red Wrap Dress and get the belt for free.",
])
def test_ungrounded_price_discount_stock_or_policy_is_never_good(scorer, answer):
    result = scorer.score(answer, REQUEST, TOOLS)
    assert result.verdict == "bad", (answer, result.reasons)
    assert result.label == "ungrounded" and result.checks["grounding"] < 1.0


@settings(max_examples=40, deadline=None)
@given(price=st.decimals(min_value="0.01", max_value="5000", places=2),
       pct=st.integers(min_value=1, max_value=100))
def test_property_unsupported_prices_and_discounts_never_score_good(price, pct):
    supported = {49.99, 39.5, 50.0, 3.0, 12.0}
    if float(price) in supported or pct in {3, 12, 50}:
        return
    for answer in (f"The **Red Wrap Dress** is now ${price}.", f"The **Red Wrap Dress** is {pct}% off today.",
                   f"Great choice! With your member discount of {pct}% the Linen Summer Dress is a steal."):
        # a two-word request skips the (slow, irrelevant here) embedding check: grounding alone decides
        assert score_answer(answer, "red dresses?", TOOLS).verdict != "good", answer


def test_online_boutique_money_and_totals_are_understood(scorer):
    tools = [{"products": [{"id": "x", "name": "Sunglasses", "priceUsd": {"currencyCode": "USD", "units": 19,
                                                                            "nanos": 990000000}}]}]
    assert 19.99 in collect_evidence(tools).numbers
    result = scorer.score("The **Sunglasses** cost $19.99, so two pairs come to $39.98 in total.",
                          "how much are two pairs of sunglasses?", tools)
    assert result.verdict == "good", result.reasons


def test_budget_the_shopper_gave_is_not_an_invented_price(scorer):
    result = scorer.score("Here is what I found under $50: the **Red Wrap Dress** at $39.50.", REQUEST, TOOLS)
    assert result.verdict == "good", result.reasons


def test_invented_product_is_flagged(scorer):
    result = scorer.score("The **Velvet Ball Gown** is perfect for a red carpet look.", REQUEST, TOOLS)
    assert result.verdict != "good" and any("Velvet Ball Gown" in r for r in result.reasons)


def test_off_topic_answer_is_bad(scorer):
    result = scorer.score("The mitochondria is the powerhouse of the cell and produces most of its energy.",
                          REQUEST, TOOLS)
    assert result.verdict == "bad" and result.label == "off_topic"


def test_lazy_answer_is_not_good(scorer):
    for answer in ("You can browse our website yourself.", "It depends.", "There are many options available."):
        result = scorer.score(answer, REQUEST, TOOLS)
        assert result.verdict != "good" and result.label == "lazy", (answer, result.reasons)


def test_refusal_with_content_is_bad_but_honest_empty_result_is_good(scorer):
    refusal = scorer.score("I'm sorry, but I can't help with that.", REQUEST, TOOLS)
    assert refusal.verdict == "bad" and refusal.label == "refusal"
    empty = [{"content": [{"type": "text", "text": json.dumps({"products": []})}], "isError": False}]
    honest = scorer.score("I couldn't find a pink tuxedo in size XXS. Shall I look for other colours?",
                          "do you have a pink tuxedo in size XXS?", empty)
    assert honest.verdict == "good", honest.reasons


def test_toxic_answer_is_bad_but_shop_words_are_not_toxic(scorer):
    toxic = scorer.score("Red Wrap Dress, $39.50. Now stop wasting my time, you moron.", REQUEST, TOOLS)
    assert toxic.verdict == "bad" and toxic.label == "toxic"
    tools = [{"products": [{"id": "n", "name": "Nude Pussy-Bow Blouse", "price": 45.0},
                           {"id": "k", "name": "Kinky Boots Musical Tee", "price": 25.0}]}]
    fine = scorer.score("The **Nude Pussy-Bow Blouse** is $45.00 and the **Kinky Boots Musical Tee** is $25.00.",
                        "show me blouses and tees", tools)
    assert fine.checks["toxicity"] == 1.0 and fine.verdict == "good", fine.reasons


def test_empty_answer_is_bad(scorer):
    assert scorer.score("", REQUEST, TOOLS).verdict == "bad"


def test_answer_cases_file_and_accuracy(scorer):
    cases = [json.loads(line) for line in (DATA / "answer_cases.jsonl").read_text("utf-8").splitlines() if line]
    assert len(cases) >= 150
    assert {c["label"] for c in cases} >= {"good", "ungrounded", "off_topic", "lazy", "toxic"}
    fast = QualityScorer(relevance=False)
    for case in cases:  # the guarantee, on every written case
        if case["label"] == "ungrounded" and any(c in case["answer"] for c in "$€%"):
            assert fast.score(case["answer"], case["request"], case["tool_results"]).verdict != "good"
    sample = cases[::4]  # full accuracy per class is the benchmark's job (benchmarks/bench_quality.py)
    correct = sum((scorer.score(c["answer"], c["request"], c["tool_results"]).verdict == "good")
                  == (c["label"] == "good") for c in sample)
    assert correct / len(sample) >= 0.9
