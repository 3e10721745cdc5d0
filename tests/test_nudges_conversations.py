"""Nudges through the real app: orchestrator, agents, MCP servers over stdio, the local model.

Scripted sessions check that the stylist speaks first at the right moments (a while without an add,
right after an add, a low-stock or pricier-than-needed product viewed, a return after a pause), not
more often than the limits, never after the shopper said stop, and only about products that exist
and are in stock. The last test drives `godseye chat --json` as a separate process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from godseye.config import get_settings
from godseye.runtime import BackgroundLoop, ShopRuntime, TurnResult
from mcp_servers.catalog.store import CatalogStore

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shop(shop_home):
    os.environ["GODSEYE_HOME"] = str(shop_home)
    get_settings.cache_clear()
    loop = BackgroundLoop()
    runtime = ShopRuntime()
    yield loop, runtime
    loop.run(runtime.close(), timeout=30)
    loop.stop()


@pytest.fixture(scope="module")
def catalog(shop_home) -> CatalogStore:
    return CatalogStore(shop_home / "catalog.lance")


@pytest.fixture(scope="module")
def rows(catalog) -> list[dict[str, Any]]:
    columns = ["id", "name", "price", "stock", "subcategory", "sizes", "colours", "occasions", "gender"]
    return sorted(catalog.table.to_lance().to_table(columns=columns).to_pylist(), key=lambda r: r["id"])


class Session:
    def __init__(self, shop) -> None:
        self.loop, self.runtime = shop
        self.id, self.user = f"n-{uuid.uuid4().hex[:8]}", f"nu-{uuid.uuid4().hex[:8]}"
        self.results: list[TurnResult] = []

    def say(self, text: str) -> TurnResult:
        result = self.loop.run(self.runtime.turn(session_id=self.id, user_id=self.user, text=text), timeout=180)
        assert result.error is None and result.reply.strip(), result
        assert isinstance(result.to_json()["nudges"], list)
        self.results.append(result)
        return result

    def where(self) -> str:
        return "; ".join(f"{r.text!r} -> {[c['name'] for c in r.tool_calls]} nudges={[n['kind'] for n in r.nudges]}"
                         for r in self.results)


def assert_real(nudges: list[dict], catalog: CatalogStore) -> None:
    """Every nudged product exists in the catalog, is in stock, and is named with its real price."""
    for nudge in nudges:
        assert nudge["agent"] == "stylist" and nudge["text"] and nudge["products"], nudge
        for item in nudge["products"]:
            product = catalog.get(item["id"])
            assert product is not None and product.stock > 0, item
            assert item["name"] == product.name and item["price"] == product.price
            assert product.name in nudge["text"]


def low_stock(rows: list[dict], n: int) -> list[dict]:
    """Products with 2-3 units and one colour (a later add needs no colour choice)."""
    return [r for r in rows if 2 <= r["stock"] <= 3 and len(r["colours"]) == 1][:n]


def test_idle_shopper_gets_a_nudge_on_the_fourth_turn_without_an_add(shop, catalog):
    s = Session(shop)
    for text in ("show me linen shirts", "do you have sneakers?", "show me a navy blazer for work"):
        result = s.say(text)
        assert result.nudges == [], s.where()
        assert not {c["name"] for c in result.tool_calls} & {"get_product", "add_to_cart"}, s.where()
    (nudge,) = s.say("show me black leather boots").nudges
    assert nudge["kind"] == "idle", s.where()
    assert_real([nudge], catalog)
    assert s.say("show me wool scarves").nudges == []  # one nudge per three turns


def test_complete_the_look_right_after_an_add(shop, catalog, rows):
    dress = next(r for r in rows if r["subcategory"] == "dresses" and r["stock"] >= 5 and "M" in r["sizes"]
                 and len(r["colours"]) == 1)
    s = Session(shop)
    result = s.say(f"add product {dress['id']} in size M to my cart")
    assert [c["name"] for c in result.tool_calls] == ["add_to_cart"], s.where()
    (nudge,) = result.nudges
    assert nudge["kind"] == "complete_look" and dress["name"] in nudge["text"], nudge
    assert_real([nudge], catalog)
    ids = [p["id"] for p in nudge["products"]]
    assert dress["id"] not in ids and len(ids) >= 2
    assert all(catalog.get(pid).subcategory != "dresses" for pid in ids)


def test_low_stock_nudge_then_click_and_conversion_are_counted(shop, catalog, rows, monkeypatch):
    from telemetry.metrics import metrics

    counted: list[tuple[str, dict]] = []
    real_increment = metrics.increment

    def spy(name: str, value: float = 1, tags: Any = None) -> None:
        if name.startswith("nudge."):
            counted.append((name, dict(tags or {})))
        real_increment(name, value, tags=tags)

    monkeypatch.setattr(metrics, "increment", spy)
    item = low_stock(rows, 1)[0]
    s = Session(shop)
    (nudge,) = s.say(f"show me product {item['id']}").nudges
    assert nudge["kind"] == "low_stock" and nudge["products"][0]["id"] == item["id"], nudge
    assert_real([nudge], catalog)
    size = item["sizes"][len(item["sizes"]) // 2]
    result = s.say(f"add product {item['id']} in size {size} to my cart")
    assert "add_to_cart" in [c["name"] for c in result.tool_calls], s.where()
    assert counted == [("nudge.shown", {"kind": "low_stock"}), ("nudge.converted", {"kind": "low_stock"}),
                       ("nudge.clicked", {"kind": "low_stock"})], counted


def test_cheaper_close_match_of_a_viewed_product(shop, catalog, rows):
    pricey = None
    for row in sorted(rows, key=lambda r: -r["price"]):
        if row["stock"] > 5 and any(m.subcategory == row["subcategory"] and m.price <= 0.9 * row["price"]
                                    for m in catalog.similar(row["id"], limit=10)):
            pricey = row
            break
    assert pricey is not None
    s = Session(shop)
    (nudge,) = s.say(f"show me product {pricey['id']}").nudges
    assert nudge["kind"] == "cheaper_match", nudge
    assert_real([nudge], catalog)
    match = catalog.get(nudge["products"][0]["id"])
    assert match.subcategory == pricey["subcategory"] and match.price <= 0.9 * pricey["price"]


def _pause(shop_home: Path, session_id: str, seconds: float) -> None:
    """Make ADK's session look last active `seconds` ago (what a real pause leaves behind)."""
    with sqlite3.connect(get_settings().sessions_db) as db:
        changed = db.execute("UPDATE sessions SET update_time = ? WHERE id = ?",
                             (time.time() - seconds, session_id)).rowcount
    assert changed == 1


def test_returning_after_a_pause_and_not_without_one(shop, catalog, shop_home):
    back, stayed = Session(shop), Session(shop)
    for s in (back, stayed):
        assert s.say("show me linen shirts").nudges == []
    _pause(shop_home, back.id, 2 * 3600)
    (nudge,) = back.say("do you have sneakers?").nudges
    assert nudge["kind"] == "returning" and nudge["text"].startswith("Welcome back"), nudge
    assert_real([nudge], catalog)
    assert stayed.say("do you have sneakers?").nudges == []


def test_off_switch_in_chat_is_honoured_and_can_be_undone(shop, catalog, rows):
    item = low_stock(rows, 1)[0]
    s = Session(shop)
    off = s.say("no more tips please")
    assert off.agent == "stylist" and off.tool_calls == [] and "stop suggesting" in off.reply.lower()
    for text in (f"show me product {item['id']}", "show me linen shirts", "do you have sneakers?",
                 "show me black leather boots", f"show me product {item['id']}"):
        assert s.say(text).nudges == [], s.where()  # would have been low stock, then idle
    on = s.say("turn suggestions back on")
    assert on.agent == "stylist" and "back on" in on.reply
    (nudge,) = s.say(f"show me product {item['id']}").nudges
    assert nudge["kind"] == "low_stock"


def test_rate_limit_over_a_long_session(shop, catalog, rows):
    items = low_stock(rows, 5)
    s = Session(shop)
    shown_at = []
    for n in range(1, 11):  # every turn views a low-stock product: a moment each time
        result = s.say(f"show me product {items[n % len(items)]['id']}")
        assert len(result.nudges) <= 1
        assert_real(result.nudges, catalog)
        if result.nudges:
            shown_at.append(n)
    assert shown_at == [1, 4, 7, 10], s.where()


def test_chat_json_has_a_nudges_field(shop_home, rows, catalog):
    item = low_stock(rows, 1)[0]
    env = dict(os.environ, GODSEYE_HOME=str(shop_home), GODSEYE_NETWORK_GUARD="1")
    lines = [{"session": f"j-{uuid.uuid4().hex[:8]}", "user": "json-user", "text": text}
             for text in ("hello", f"show me product {item['id']}")]
    proc = subprocess.run(
        [sys.executable, "-m", "godseye.cli.main", "chat", "--json"],
        input="\n".join(json.dumps(line) for line in lines) + "\n",
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    hello, viewed = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert hello["nudges"] == []
    (nudge,) = viewed["nudges"]
    assert nudge["kind"] == "low_stock" and nudge["products"][0]["id"] == item["id"]
    assert set(nudge) == {"kind", "text", "products", "agent"}
    assert_real([nudge], catalog)
