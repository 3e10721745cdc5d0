"""The nudge engine turn by turn, on a copy of the seeded shop catalog with its own records and clock.

Turns are `TurnResult`s shaped like the runtime's (tool calls, tool payloads, products shown), so
each moment, limit and measurement is checked exactly, with trends seeded through `CartStore` and
the `SearchLog`. The same behaviour through the real app is in test_nudges_conversations.py.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from support.clock import FakeClock

from godseye.nudges import NudgeEngine, NudgeLedger, NudgeSettings
from godseye.nudges.picks import OCCASION_LOOK, look_for
from godseye.nudges.preferences import command
from godseye.runtime import TurnResult
from mcp_servers.cart.store import CartStore
from mcp_servers.cart.trends import TrendSource
from mcp_servers.catalog.outfits import LOOKS
from mcp_servers.catalog.search_log import SearchLog
from mcp_servers.catalog.store import CatalogStore


@pytest.fixture(scope="module")
def catalog_dir(shop_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the seeded catalog: tests here may sell things out without touching others."""
    target = tmp_path_factory.mktemp("nudge_catalog") / "catalog.lance"
    shutil.copytree(shop_home / "catalog.lance", target)
    return target


@pytest.fixture(scope="module")
def catalog(catalog_dir: Path) -> CatalogStore:
    return CatalogStore(catalog_dir)


@pytest.fixture(scope="module")
def rows(catalog: CatalogStore) -> list[dict[str, Any]]:
    return catalog.table.to_lance().to_table(
        columns=["id", "name", "price", "stock", "subcategory", "sizes", "gender", "occasions", "seasons"]).to_pylist()


@pytest.fixture
def shop(tmp_path: Path, catalog: CatalogStore):
    clock = FakeClock(time.time())  # the engine's and the trends' clock: cart events carry real times
    cart = CartStore(tmp_path / "cart.sqlite", products=catalog)
    searches = SearchLog(tmp_path / "searches.sqlite")
    trends = TrendSource(cart.path, catalog=catalog, searches=searches, clock=clock)

    def engine(**settings: Any) -> NudgeEngine:
        return NudgeEngine(NudgeSettings(**settings), ledger=NudgeLedger(tmp_path / "nudges.sqlite"),
                           catalog=catalog, cart=cart, trends=trends, clock=clock)

    yield engine, clock, cart, searches
    cart.close()
    searches.close()


def turn(text: str = "hello", *, session: str = "s1", user: str = "u1", **fields: Any) -> TurnResult:
    return TurnResult(session=session, user=user, text=text, reply="ok", **fields)


def view(product_id: str, catalog: CatalogStore, **kw: Any) -> TurnResult:
    """A turn where the shopper asked about one product (get_product)."""
    product = catalog.get(product_id).model_dump()
    return turn(f"tell me about {product_id}", tool_calls=[{"name": "get_product", "args": {"product_id": product_id}}],
                tool_results=[{"name": "get_product", "payload": product}], products=[product], **kw)


def browse(products: list[dict], text: str = "show me more") -> TurnResult:
    return turn(text, tool_calls=[{"name": "search_products", "args": {"query": text}}],
                tool_results=[{"name": "search_products", "payload": {"products": products}}], products=products)


def added(product_id: str, user: str = "u1", **kw: Any) -> TurnResult:
    lines = [{"product_id": product_id, "quantity": 1}]
    return turn("add it", user=user, tool_calls=[{"name": "add_to_cart", "args": {"product_id": product_id}}],
                tool_results=[{"name": "add_to_cart", "payload": {"lines": lines, "total": 1.0}}], **kw)


def assert_real(nudges: list[dict], catalog: CatalogStore) -> None:
    """Every nudged product exists, is in stock and is shown with its catalog name and price."""
    for nudge in nudges:
        assert set(nudge) == {"kind", "text", "products", "agent"} and nudge["agent"] == "stylist"
        assert nudge["products"], nudge
        for item in nudge["products"]:
            product = catalog.get(item["id"])
            assert product is not None and product.stock > 0, item
            assert (item["name"], item["price"]) == (product.name, product.price)
            assert product.name in nudge["text"]


def low_stock_ids(rows: list[dict], n: int) -> list[str]:
    return [r["id"] for r in sorted(rows, key=lambda r: r["id"]) if 1 <= r["stock"] <= 3][:n]


def test_preference_commands():
    for text in ("stop suggestions", "no more tips", "No more tips, thanks!", "turn off suggestions",
                 "please stop recommending things", "I don't want recommendations"):
        assert command(text) == "off", text
    for text in ("turn suggestions back on", "suggestions on", "tips on again", "enable tips"):
        assert command(text) == "on", text
    for text in ("suggest something for a wedding", "any tips for a beach wedding?", "what do you recommend?",
                 "no thanks", "stop", "any suggestions on shoes?", "don't recommend anything red, show me blue dresses",
                 "give me some ideas for a party"):
        assert command(text) is None, text


def test_rate_limits_over_a_long_session(shop, catalog, rows):
    engine_for, clock, *_ = shop
    engine = engine_for()
    low = low_stock_ids(rows, 4)
    shown_at = []
    for n in range(1, 41):  # every turn is a moment: a low-stock product viewed
        clock.now += 60
        decision = engine.after_turn(view(low[n % len(low)], catalog))
        assert len(decision.nudges) <= 1
        assert_real(decision.nudges, catalog)
        if decision.nudges:
            shown_at.append(n)
    assert shown_at == [1, 4, 7, 10, 13]  # one per 3 turns, five per session

    tight = engine_for(every_turns=2, max_per_session=3)
    shown_at = []
    for n in range(1, 21):
        clock.now += 60
        if tight.after_turn(view(low[0], catalog, session="s2")).nudges:
            shown_at.append(n)
    assert shown_at == [1, 3, 5]


def test_low_stock_and_cheaper_match(shop, catalog, rows):
    engine_for, clock, *_ = shop
    engine = engine_for()
    low = low_stock_ids(rows, 1)[0]
    (nudge,) = engine.after_turn(view(low, catalog, session="low")).nudges
    assert nudge["kind"] == "low_stock" and nudge["products"][0]["id"] == low
    assert f"only {catalog.get(low).stock} unit" in nudge["text"]
    assert_real([nudge], catalog)

    # A well-stocked product with a close, cheaper match of the same kind.
    for row in sorted(rows, key=lambda r: -r["price"]):
        if row["stock"] > 3:
            decision = engine.after_turn(view(row["id"], catalog, session=f"cheap-{row['id']}"))
            if decision.nudges:
                break
    (nudge,) = decision.nudges
    match = catalog.get(nudge["products"][0]["id"])
    assert nudge["kind"] == "cheaper_match"
    assert match.subcategory == row["subcategory"] and match.price <= 0.9 * row["price"] and match.id != row["id"]
    assert_real([nudge], catalog)


def test_complete_the_look_names_other_pieces_in_stock(shop, catalog, rows):
    engine_for, *_ = shop
    engine = engine_for()
    dress = next(r for r in sorted(rows, key=lambda r: r["id"])
                 if r["subcategory"] == "dresses" and r["stock"] > 5 and "wedding" in r["occasions"])
    (nudge,) = engine.after_turn(added(dress["id"])).nudges
    assert nudge["kind"] == "complete_look" and dress["name"] in nudge["text"]
    assert_real([nudge], catalog)
    look = look_for(catalog.get(dress["id"]))
    assert look.name in {OCCASION_LOOK[o] for o in dress["occasions"]}
    role_kinds = {sub for _, subs in look.roles for sub in subs}
    kinds = [catalog.get(p["id"]).subcategory for p in nudge["products"]]
    assert dress["id"] not in [p["id"] for p in nudge["products"]]
    assert "dresses" not in kinds and set(kinds) <= role_kinds and len(set(kinds)) == len(kinds) >= 2


def test_every_kind_of_product_gets_a_look(catalog, rows):
    for sub in sorted({r["subcategory"] for r in rows}):
        product = catalog.get(next(r["id"] for r in rows if r["subcategory"] == sub))
        assert look_for(product) in LOOKS


def test_idle_nudge_draws_on_trends_in_the_kind_being_browsed(shop, catalog, rows):
    engine_for, clock, cart, searches = shop
    engine = engine_for()
    sneakers = [r for r in sorted(rows, key=lambda r: r["id"]) if r["subcategory"] == "sneakers" and r["stock"] > 3]
    hot, warm = sneakers[0]["id"], sneakers[1]["id"]
    facts = catalog.get(hot)
    for user in ("a", "b", "c"):
        cart.add(user, hot, size=facts.sizes[0], colour=facts.colours[0])
    clock.now = time.time() + 1  # the adds happened just now
    searches.record("white sneakers", {}, [warm, hot], at=clock.now - 3600)
    shown = [p.model_dump() for p in catalog.get_many([s["id"] for s in sneakers[2:7]])]
    decisions = [engine.after_turn(browse(shown, "sneakers")) for _ in range(4)]
    assert [d.nudges for d in decisions[:3]] == [[], [], []]
    (nudge,) = decisions[3].nudges
    assert nudge["kind"] == "idle" and "sneakers" in nudge["text"]
    assert [p["id"] for p in nudge["products"]] == [hot, warm]  # trend order: 3 adds beat one search
    assert_real([nudge], catalog)
    assert engine.after_turn(browse(shown)).nudges == []  # spacing


def test_idle_without_any_trend_falls_back_to_top_rated_in_stock(shop, catalog, rows):
    engine_for, *_ = shop
    engine = engine_for(idle_turns=2)
    bags = [p.model_dump() for p in catalog.search("", category="bags", limit=3)]
    assert engine.after_turn(browse(bags, "bags")).nudges == []
    (nudge,) = engine.after_turn(browse(bags, "bags")).nudges
    assert nudge["kind"] == "idle" and "top-rated bags" in nudge["text"]
    assert all(catalog.get(p["id"]).subcategory == "bags" for p in nudge["products"])
    assert_real([nudge], catalog)


def test_an_add_resets_the_idle_count(shop, catalog, rows):
    engine_for, *_ = shop
    engine = engine_for(every_turns=1)
    bags = [p.model_dump() for p in catalog.search("", category="bags", limit=3)]
    item = next(r for r in rows if r["subcategory"] == "hats" and r["stock"] > 5)
    kinds = []
    for t in (browse(bags), browse(bags), added(item["id"], user="u-reset"), browse(bags), browse(bags),
              browse(bags), browse(bags)):
        kinds.append([n["kind"] for n in engine.after_turn(t).nudges])
    assert kinds[:2] == [[], []] and kinds[2] == ["complete_look"]
    assert kinds[3:6] == [[], [], []] and kinds[6] == ["idle"]  # four turns after the add


def test_returning_after_a_pause(shop, catalog, rows):
    engine_for, clock, cart, _ = shop
    engine = engine_for()
    bags = [p.model_dump() for p in catalog.search("", category="bags", limit=3)]
    assert engine.after_turn(browse(bags), last_activity=None).nudges == []
    clock.now += 10 * 60
    assert engine.after_turn(browse(bags)).nudges == []  # ten minutes is not a return
    clock.now += 31 * 60
    (nudge,) = engine.after_turn(browse(bags)).nudges
    assert nudge["kind"] == "returning" and nudge["text"].startswith("Welcome back")
    assert_real([nudge], catalog)

    # With something in the cart, the cart is what a returning shopper hears about.
    hat = next(r for r in rows if r["subcategory"] == "hats" and r["stock"] > 5)
    cart.add("u-back", hat["id"])
    assert engine.after_turn(turn(session="s-back", user="u-back")).nudges == []
    clock.now += 60
    # The session's own last activity (ADK's update time) says two hours ago: that is what counts.
    (nudge,) = engine.after_turn(turn(session="s-back", user="u-back"), last_activity=clock.now - 7200).nudges
    assert nudge["kind"] == "returning" and nudge["products"][0]["id"] == hat["id"] and "cart" in nudge["text"]


def test_off_switch_by_command_and_by_toggle(shop, catalog, rows):
    engine_for, *_ = shop
    engine = engine_for()
    low = low_stock_ids(rows, 1)[0]
    assert engine.preference("s-off", "u1", "no more tips please") is not None
    assert engine.after_turn(turn("no more tips please", session="s-off")).reason == "preference_off"
    for _ in range(6):
        assert engine.after_turn(view(low, catalog, session="s-off")).nudges == []
    assert engine.preference("s-off", "u1", "suggest a dress") is None
    assert engine.preference("s-off", "u1", "turn suggestions back on") is not None
    engine.after_turn(turn("turn suggestions back on", session="s-off"))
    assert engine.after_turn(view(low, catalog, session="s-off")).nudges
    assert engine.preference("s-off", "u1", "tips on") is None  # already on: let the agents answer

    engine.set_enabled("s-ui", False)  # the shop page's toggle
    assert all(not engine.after_turn(view(low, catalog, session="s-ui")).nudges for _ in range(3))
    engine.set_enabled("s-ui", True)
    assert engine.after_turn(view(low, catalog, session="s-ui")).nudges


def test_refused_or_failed_turns_never_nudge_nor_use_up_the_limit(shop, catalog, rows):
    engine_for, *_ = shop
    engine = engine_for()
    low = low_stock_ids(rows, 1)[0]
    assert engine.after_turn(view(low, catalog, session="r", blocked=True)).reason == "refused"
    assert engine.after_turn(view(low, catalog, session="r", error="boom")).reason == "refused"
    attack = view(low, catalog, session="r", scores={"injection": {"verdict": "block", "score": 0.99}})
    assert engine.after_turn(attack).nudges == []
    assert engine.after_turn(view(low, catalog, session="r")).nudges  # the next honest turn still can


def test_sold_out_before_showing_is_never_named(shop, catalog, rows, catalog_dir):
    engine_for, *_ = shop
    engine = engine_for()
    low = next(r for r in sorted(rows, key=lambda r: r["id"], reverse=True) if r["stock"] == 1)
    other_process = CatalogStore(catalog_dir)  # someone else buys the last unit just before the nudge

    real_fresh = engine._finalise

    def sell_then_finalise(draft):  # type: ignore[no-untyped-def]
        if low["id"] in draft.product_ids and catalog.get(low["id"]).stock > 0:
            other_process.decrement_stock(low["id"], 1)
        return real_fresh(draft)

    engine._finalise = sell_then_finalise  # type: ignore[method-assign]
    decision = engine.after_turn(view(low["id"], catalog, session="gone"))
    assert decision.nudges == [] and decision.reason == "nothing_to_suggest"
    assert catalog.get(low["id"]).stock == 0
    other_process.increment_stock(low["id"], 1)


def test_clicks_and_conversions_are_measured_once(shop, catalog, rows, monkeypatch):
    from telemetry.metrics import metrics

    seen: list[tuple[str, dict]] = []
    monkeypatch.setattr(metrics, "increment", lambda name, value=1, tags=None: seen.append((name, dict(tags or {}))))
    engine_for, clock, cart, _ = shop
    engine = engine_for(every_turns=10)
    low = low_stock_ids(rows, 1)[0]
    name = catalog.get(low).name
    (nudge,) = engine.after_turn(view(low, catalog, session="m")).nudges
    engine.after_turn(turn(f"what colours does the {name} come in?", session="m"))  # named: clicked
    engine.after_turn(turn(f"is the {name} washable?", session="m"))  # again: still one click
    engine.after_turn(added(low, session="m"))
    engine.after_turn(added(low, session="m"))
    nudge_metrics = [m for m in seen if m[0].startswith("nudge.")]
    assert nudge_metrics == [("nudge.shown", {"kind": "low_stock"}), ("nudge.clicked", {"kind": "low_stock"}),
                             ("nudge.converted", {"kind": "low_stock"})]
    assert engine.ledger.outcome_counts()["low_stock"] == {"shown": 1, "clicked": 1, "converted": 1}


def test_shop_wide_switch(shop, catalog, rows):
    engine_for, *_ = shop
    engine = engine_for(enabled=False)
    low = low_stock_ids(rows, 1)[0]
    assert engine.after_turn(view(low, catalog, session="x")).reason == "disabled"
