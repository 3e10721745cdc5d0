"""The catalog MCP server: typed tools with structured results, plain errors, and a real stdio process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from typer.testing import CliRunner

from godseye.config import get_settings
from mcp_servers.catalog import server
from mcp_servers.catalog.seed import seed_catalog

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:  # everything the server writes (search log...) stays in tmp
        mp.setenv("GODSEYE_HOME", str(home))
        get_settings.cache_clear()
        store = seed_catalog(home / "catalog.lance", size=150, seed=7, images=False)
        server.set_store(store)
        yield store
        server.set_store(None)
    get_settings.cache_clear()


async def test_tools_are_listed_with_schemas_for_a_model(seeded):
    async with Client(server.mcp) as client:
        tools = {t.name: t for t in await client.list_tools()}
    assert set(tools) >= {"search_products", "get_product", "similar_products", "list_categories"}
    search = tools["search_products"]
    props = search.input_schema["properties"]
    assert {"query", "min_price", "max_price", "category", "colour", "size", "in_stock", "limit"} <= set(props)
    assert "under $80" in props["max_price"]["description"]
    assert search.output_schema and "products" in search.output_schema["properties"]
    assert "filter" in search.description.lower()


async def test_search_returns_structured_products_that_respect_filters(seeded):
    async with Client(server.mcp) as client:
        result = await client.call_tool("search_products", {"query": "red dress", "max_price": 120, "size": "M"})
    data = result.structured_content
    assert data["count"] == len(data["products"]) > 0
    assert data["filters"] == {"max_price": 120.0, "size": "M", "in_stock": True}
    for p in data["products"]:
        assert p["price"] <= 120 and "M" in p["sizes"] and p["stock"] > 0
    assert data["products"][0]["subcategory"] == "dresses"


async def test_get_similar_and_categories(seeded):
    async with Client(server.mcp) as client:
        product = (await client.call_tool("get_product", {"product_id": "P000005"})).structured_content
        similar = (await client.call_tool("similar_products", {"product_id": "P000005", "limit": 3}))
        overview = (await client.call_tool("list_categories", {})).structured_content
    assert product["id"] == "P000005" and product["name"]
    assert similar.structured_content["count"] == 3
    assert "P000005" not in [p["id"] for p in similar.structured_content["products"]]
    assert overview["total_products"] == 150
    assert {c["name"] for c in overview["categories"]} == {"clothing", "shoes", "accessories"}


@pytest.mark.parametrize("tool, args, message", [
    ("get_product", {"product_id": "NOPE"}, "no product with id 'NOPE'"),
    ("similar_products", {"product_id": "NOPE"}, "no product with id 'NOPE'"),
    ("search_products", {"query": "dress", "colour": "teal-ish"}, "colours: "),
    ("search_products", {"query": "dress", "min_price": 90, "max_price": 10}, "above max_price"),
    ("search_products", {"query": "dress", "limit": 500}, "limit"),
    ("search_products", {"query": "dress", "category": "spaceships"}, "unknown category"),
])
async def test_bad_input_is_a_plain_tool_error(seeded, tool, args, message):
    async with Client(server.mcp) as client:
        result = await client.call_tool(tool, args, raise_on_error=False)
    assert result.is_error
    text = result.content[0].text
    assert message in text and "Traceback" not in text


async def test_no_match_says_so(seeded):
    async with Client(server.mcp) as client:
        result = await client.call_tool("search_products", {"query": "dress", "category": "dresses",
                                                            "max_price": 1})
    assert result.structured_content["count"] == 0 and "relax" in result.structured_content["note"]


async def test_real_stdio_server_seeds_a_fresh_home_and_answers(tmp_path):
    """`python -m mcp_servers.catalog` on a fresh clone: seeds itself, then searches over stdio."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "GODSEYE_HOME": str(tmp_path / "home"),
        "GODSEYE_CATALOG_SEED_SIZE": "60",
        "GODSEYE_NETWORK_GUARD": "1",
        "LANCEDB_LOG": "error",
    }
    transport = StdioTransport(sys.executable, ["-m", "mcp_servers.catalog"], env=env, cwd=str(ROOT),
                               keep_alive=False)
    async with Client(transport, timeout=120) as client:
        result = await client.call_tool("search_products", {"query": "black jeans", "limit": 3})
        again = await client.call_tool("search_products", {"query": "sneakers", "category": "shoes"})
    data = result.structured_content
    assert data["count"] == 3 and all(p["stock"] > 0 for p in data["products"])
    assert data["products"][0]["subcategory"] == "jeans"
    assert all(p["category"] == "shoes" for p in again.structured_content["products"])
    assert (tmp_path / "home" / "catalog.lance").is_dir()
    assert len(list((tmp_path / "home" / "catalog_images").glob("*.png"))) == 60


def test_cli_seed_search_and_import_errors(tmp_path, monkeypatch):
    from godseye.cli.main import app

    monkeypatch.setenv("GODSEYE_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        seeded = runner.invoke(app, ["catalog", "seed", "--size", "40", "--seed", "2"])
        assert seeded.exit_code == 0, seeded.output
        assert '"products": 40' in seeded.output
        found = runner.invoke(app, ["catalog", "search", "shirt", "--max-price", "500", "--limit", "2"])
        assert found.exit_code == 0 and found.output.strip().startswith("[")
        bad = runner.invoke(app, ["catalog", "search", "shirt", "--colour", "teal-ish"])
        assert bad.exit_code == 1 and "error: no products in colour" in bad.output
        csv = tmp_path / "bad.csv"
        csv.write_text("id,name,category,price\nA,,shirts,-1\n")
        failed = runner.invoke(app, ["catalog", "import", str(csv)])
        assert failed.exit_code == 1 and "row 2, field 'price'" in failed.output
    finally:
        get_settings.cache_clear()


async def test_shoe_size_may_be_a_number(seeded):
    async with Client(server.mcp) as client:
        result = await client.call_tool("search_products", {"query": "boots", "category": "shoes", "size": 41})
    products = result.structured_content["products"]
    assert products and all("41" in p["sizes"] and p["category"] == "shoes" for p in products)
