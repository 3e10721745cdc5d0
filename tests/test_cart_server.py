"""The cart MCP server: tool schemas, structured results and ToolErrors, in-process and over stdio."""

from __future__ import annotations

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from support.products import sample_products

from mcp_servers.cart import server
from mcp_servers.cart.store import CartStore

TOOLS = {"view_cart", "add_to_cart", "remove_from_cart", "update_quantity", "quote_checkout",
         "confirm_checkout", "list_orders", "trending_products"}


@pytest.fixture
def products():
    return sample_products()


@pytest.fixture
def client(tmp_path, products):
    store = CartStore(tmp_path / "cart.sqlite", products=products)
    server.set_store(store)
    yield Client(server.mcp)
    server.set_store(None)
    store.close()


async def test_tools_are_typed_and_documented(client):
    async with client:
        tools = {t.name: t for t in await client.list_tools()}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and tool.outputSchema, tool.name
        if "user_id" in tool.inputSchema["properties"]:
            assert "filled in by the shop" in tool.inputSchema["properties"]["user_id"]["description"].lower()
    add = tools["add_to_cart"].inputSchema
    assert add["required"] == ["user_id", "product_id"]
    assert add["properties"]["quantity"]["type"] == "integer"
    assert "explicitly" in tools["confirm_checkout"].description


async def test_shopping_round_trip_through_the_tools(client, products):
    async with client:
        added = await client.call_tool("add_to_cart", {"user_id": "ana", "product_id": "p-dress", "quantity": 2,
                                                       "size": "M", "colour": "white"})
        assert added.structured_content["total"] == pytest.approx(119.8)
        await client.call_tool("add_to_cart", {"user_id": "ana", "product_id": "p-scarf"})
        await client.call_tool("update_quantity", {"user_id": "ana", "product_id": "p-scarf", "quantity": 2})
        view = (await client.call_tool("view_cart", {"user_id": "ana"})).structured_content
        assert [(ln["product_id"], ln["quantity"]) for ln in view["lines"]] == [("p-dress", 2), ("p-scarf", 2)]
        removed = await client.call_tool("remove_from_cart", {"user_id": "ana", "product_id": "p-scarf"})
        assert removed.structured_content["item_count"] == 2

        quote = (await client.call_tool("quote_checkout", {"user_id": "ana"})).structured_content
        args = {"user_id": "ana", "confirmation_code": quote["confirmation_code"]}
        order = (await client.call_tool("confirm_checkout", args)).structured_content
        again = (await client.call_tool("confirm_checkout", args)).structured_content
        assert again["order_id"] == order["order_id"]
        orders = (await client.call_tool("list_orders", {"user_id": "ana"})).structured_content["orders"]
        assert [o["order_id"] for o in orders] == [order["order_id"]]
    assert products.get("p-dress").stock == 3


@pytest.mark.parametrize(
    ("tool", "args", "needle"),
    [
        ("add_to_cart", {"product_id": "ghost"}, "no product with id 'ghost'"),
        ("add_to_cart", {"product_id": "p-dress", "colour": "white"}, "sizes S, M, L"),
        ("add_to_cart", {"product_id": "p-bag", "quantity": 0}, "at least 1"),
        ("add_to_cart", {"product_id": "p-none"}, "out of stock"),
        ("remove_from_cart", {"product_id": "p-bag"}, "not in your cart"),
        ("quote_checkout", {}, "cart is empty"),
        ("confirm_checkout", {"confirmation_code": "ZZZZZZ"}, "not valid"),
    ],
)
async def test_bad_input_is_a_plain_tool_error(client, tool, args, needle):
    async with client:
        with pytest.raises(ToolError, match=needle) as info:
            await client.call_tool(tool, {"user_id": "ana", **args})
        result = await client.call_tool(tool, {"user_id": "ana", **args}, raise_on_error=False)
    assert result.is_error and "Traceback" not in str(info.value)


async def test_wrongly_typed_argument_is_rejected_before_the_store(client):
    async with client:
        result = await client.call_tool(
            "add_to_cart", {"user_id": "ana", "product_id": "p-bag", "quantity": "lots"}, raise_on_error=False
        )
        assert result.is_error
        assert (await client.call_tool("view_cart", {"user_id": "ana"})).structured_content["lines"] == []


async def test_each_call_is_counted_for_mcp_health(client, monkeypatch):
    from telemetry.metrics import metrics

    seen: list[tuple[str, dict]] = []
    monkeypatch.setattr(metrics, "increment", lambda name, *a, tags=None, **k: seen.append((name, tags)))
    monkeypatch.setattr(metrics, "distribution", lambda name, value, tags=None, **k: seen.append((name, tags)))
    async with client:
        await client.call_tool("view_cart", {"user_id": "ana"})
        await client.call_tool("add_to_cart", {"user_id": "ana", "product_id": "ghost"}, raise_on_error=False)
    names = sorted((name, tags["tool"]) for name, tags in seen)
    assert names == sorted([
        ("mcp.tool.calls", "view_cart"), ("mcp.tool.latency", "view_cart"),
        ("mcp.tool.calls", "add_to_cart"), ("mcp.tool.errors", "add_to_cart"), ("mcp.tool.latency", "add_to_cart"),
    ])
    assert all(tags["server"] == "cart" for _, tags in seen)
