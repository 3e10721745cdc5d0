"""The cart against the real catalog (LanceDB): in-process, and the real server over stdio.

A three-product catalog is built once per module in a temporary GODSEYE_HOME; the stdio test starts
`python -m mcp_servers.cart` as a child process pointed at that home, exactly as an agent would.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from mcp_servers.cart.store import CartStore, NotEnoughStock
from mcp_servers.catalog.store import CatalogStore

REPO = Path(__file__).resolve().parents[1]
PRODUCTS = [
    {"id": "t-coat", "name": "Wool Coat", "category": "clothing", "subcategory": "coats", "price": 180.0,
     "stock": 3, "sizes": ["S", "M", "L"], "colours": ["black", "camel"], "description": "Warm wool coat."},
    {"id": "t-boot", "name": "Chelsea Boots", "category": "shoes", "subcategory": "boots", "price": 95.5,
     "stock": 2, "sizes": ["40", "41", "42"], "colours": ["brown"], "description": "Leather boots."},
    {"id": "t-hat", "name": "Beanie", "category": "accessories", "subcategory": "hats", "price": 12.0,
     "stock": 10, "sizes": ["One Size"], "colours": ["grey"], "description": "Knitted beanie."},
]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("cart_home")
    CatalogStore(home / "catalog.lance").create(PRODUCTS)
    return home


@pytest.fixture
def catalog(home) -> CatalogStore:
    """A fresh catalog copy per test (stock changes must not leak between tests)."""
    store = CatalogStore(home / "catalog.lance")
    store.upsert(PRODUCTS)
    return store


def test_checkout_decrements_real_catalog_stock_all_or_nothing(catalog, tmp_path):
    cart = CartStore(tmp_path / "cart.sqlite", products=catalog)
    view = cart.add("ana", "t-coat", 2, size="m", colour="camel")
    cart.add("ana", "t-boot", 2, size="41")
    cart.add("ana", "t-hat")  # the only size, "One Size", is chosen for the shopper
    assert view.lines[0].name == "Wool Coat" and view.currency == "USD"
    with pytest.raises(NotEnoughStock, match="Only 2 of Chelsea Boots"):
        cart.add("ana", "t-boot", 1, size="42")

    code = cart.quote_checkout("ana").confirmation_code
    other_process = CatalogStore(catalog.uri)
    other_process.decrement_stock("t-boot", 1)  # someone else bought one of the boots meanwhile
    with pytest.raises(NotEnoughStock, match="Chelsea Boots"):
        cart.confirm_checkout("ana", code)
    assert [catalog.get(p).stock for p in ("t-coat", "t-boot", "t-hat")] == [3, 1, 10]  # nothing taken

    cart.update_quantity("ana", "t-boot", 1)
    order = cart.confirm_checkout("ana", cart.quote_checkout("ana").confirmation_code)
    assert order.total == pytest.approx(2 * 180.0 + 95.5 + 12.0)
    fresh = CatalogStore(catalog.uri)
    assert [fresh.get(p).stock for p in ("t-coat", "t-boot", "t-hat")] == [1, 0, 9]
    cart.close()


async def test_real_server_over_stdio(home, catalog):
    env = {
        "GODSEYE_HOME": str(home),
        "GODSEYE_NETWORK_GUARD": "1",
        "HF_HUB_OFFLINE": "1",
        "DD_TRACE_ENABLED": "false",
        "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(REPO),
    }
    transport = StdioTransport(command=sys.executable, args=["-m", "mcp_servers.cart"], env=env, cwd=str(REPO),
                               keep_alive=False)
    async with Client(transport, timeout=60) as client:
        assert {t.name for t in await client.list_tools()} >= {"add_to_cart", "confirm_checkout"}
        added = await client.call_tool("add_to_cart", {"user_id": "zoe", "product_id": "t-coat", "size": "L",
                                                       "colour": "black"})
        assert added.structured_content["lines"][0]["line_total"] == 180.0
        refused = await client.call_tool("add_to_cart", {"user_id": "zoe", "product_id": "t-coat",
                                                         "size": "XXL", "colour": "black"}, raise_on_error=False)
        assert refused.is_error and "Available sizes: S, M, L" in refused.content[0].text
        quote = (await client.call_tool("quote_checkout", {"user_id": "zoe"})).structured_content
        order = (await client.call_tool("confirm_checkout", {"user_id": "zoe",
                                                             "confirmation_code": quote["confirmation_code"]}))
        order_id = order.structured_content["order_id"]

    # What the server process wrote is on disk for every other process.
    assert CatalogStore(catalog.uri).get("t-coat").stock == 2
    cart = CartStore(home / "cart.sqlite", products=catalog)
    assert [o.order_id for o in cart.list_orders("zoe").orders] == [order_id]
    assert [e.kind for e in cart.events(user_id="zoe")] == ["add", "order"]
    cart.close()
