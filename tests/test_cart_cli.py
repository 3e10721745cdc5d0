"""`godseye cart show|orders`: thin views over the cart store."""

from __future__ import annotations

import json

import pytest
from support.products import sample_products
from typer.testing import CliRunner

from godseye.cli import cart as cart_cli
from godseye.cli.main import app
from mcp_servers.cart.store import CartStore


@pytest.fixture
def store(tmp_path, monkeypatch):
    s = CartStore(tmp_path / "cart.sqlite", products=sample_products())
    monkeypatch.setattr(cart_cli, "_store", lambda: s)
    yield s
    s.close()


def test_show_and_orders(store):
    runner = CliRunner()
    store.add("ana", "p-dress", 2, size="M", colour="white")
    shown = runner.invoke(app, ["cart", "show", "ana"])
    assert shown.exit_code == 0, shown.output
    assert "Linen Summer Dress" in shown.output and "119.80" in shown.output

    order = store.confirm_checkout("ana", store.quote_checkout("ana").confirmation_code)
    listed = runner.invoke(app, ["cart", "orders", "ana", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [o["order_id"] for o in json.loads(listed.output)["orders"]] == [order.order_id]
    assert json.loads(runner.invoke(app, ["cart", "show", "ana", "--json"]).output)["lines"] == []
    assert order.order_id in runner.invoke(app, ["cart", "orders", "ana"]).output


def test_bad_user_is_a_clean_error(store):
    result = CliRunner().invoke(app, ["cart", "show", " "])
    assert result.exit_code == 1 and "user id is required" in result.output
    assert "Traceback" not in result.output


def test_missing_catalog_is_a_clean_error(tmp_path, monkeypatch):
    from mcp_servers.catalog.store import CatalogStore

    seeded = CartStore(tmp_path / "cart.sqlite", products=sample_products())
    seeded.add("ana", "p-bag")
    orphan = CartStore(tmp_path / "cart.sqlite", products=CatalogStore(tmp_path / "no-catalog.lance"))
    monkeypatch.setattr(cart_cli, "_store", lambda: orphan)
    result = CliRunner().invoke(app, ["cart", "show", "ana"])
    assert result.exit_code == 1 and "no catalog at" in result.output and "Traceback" not in result.output
    seeded.close()
    orphan.close()
