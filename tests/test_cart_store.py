"""CartStore: cart operations, validation, two-phase checkout, stock, persistence and concurrency."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from support.products import FakeProduct, InMemoryProducts, sample_products

from mcp_servers.cart.store import (
    MAX_QUANTITY,
    AmbiguousLine,
    CartChanged,
    CartStore,
    CurrencyMismatch,
    EmptyCart,
    InvalidConfirmation,
    InvalidInput,
    InvalidOption,
    InvalidQuantity,
    NotEnoughStock,
    NotInCart,
    ProductNotFound,
)


@pytest.fixture
def products() -> InMemoryProducts:
    return sample_products()


@pytest.fixture
def store(tmp_path, products) -> CartStore:
    s = CartStore(tmp_path / "cart.sqlite", products=products)
    yield s
    s.close()


# --- adding and viewing ---------------------------------------------------------------------------


def test_add_and_view_compute_lines_and_totals(store):
    store.add("ana", "p-dress", 2, size="m", colour="Sage")
    view = store.add("ana", "p-scarf")
    assert [(ln.product_id, ln.size, ln.colour, ln.quantity) for ln in view.lines] == [
        ("p-dress", "M", "sage", 2),  # normalised to the catalog's spelling
        ("p-scarf", None, "red", 1),  # the only colour is chosen for the shopper
    ]
    dress = view.lines[0]
    assert dress.name == "Linen Summer Dress" and dress.unit_price == 59.9 and dress.line_total == 119.8
    assert view.total == pytest.approx(144.3) and view.item_count == 3 and view.currency == "EUR"
    assert store.view("ana") == view.model_copy(update={"message": ""})
    assert store.view("bob").lines == [] and store.view("bob").total == 0


def test_adding_same_variant_raises_quantity_other_variant_is_its_own_line(store):
    store.add("ana", "p-dress", 1, size="M", colour="white")
    store.add("ana", "p-dress", 1, size="M", colour="white")
    view = store.add("ana", "p-dress", 1, size="L", colour="white")
    assert sorted((ln.size, ln.quantity) for ln in view.lines) == [("L", 1), ("M", 2)]


def test_view_uses_current_catalog_price(store, products):
    store.add("ana", "p-bag")
    products.set("p-bag", price=9.5)
    assert store.view("ana").lines[0].unit_price == 9.5


@pytest.mark.parametrize(
    ("kwargs", "error", "needle"),
    [
        ({"product_id": "nope"}, ProductNotFound, "no product with id 'nope'"),
        ({"product_id": ""}, InvalidInput, "product id is required"),
        ({"product_id": "p-dress", "colour": "white"}, InvalidOption, "sizes S, M, L"),
        ({"product_id": "p-dress", "size": "XXL", "colour": "white"}, InvalidOption, "not available in size 'XXL'"),
        ({"product_id": "p-dress", "size": "M", "colour": "blue"}, InvalidOption, "Available colours: white, sage"),
        ({"product_id": "p-bag", "size": "M"}, InvalidOption, "has no size options"),
        ({"product_id": "p-bag", "quantity": 0}, InvalidQuantity, "at least 1"),
        ({"product_id": "p-bag", "quantity": -3}, InvalidQuantity, "at least 1"),
        ({"product_id": "p-bag", "quantity": MAX_QUANTITY + 1}, InvalidQuantity, f"At most {MAX_QUANTITY}"),
        ({"product_id": "p-bag", "quantity": 1.5}, InvalidQuantity, "whole number"),
        ({"product_id": "p-bag", "quantity": True}, InvalidQuantity, "whole number"),
        ({"product_id": "p-none"}, NotEnoughStock, "Sold Out Cap is out of stock"),
        ({"product_id": "p-bag", "quantity": 2}, NotEnoughStock, "Only 1 of Canvas Tote left"),
    ],
)
def test_add_rejects_bad_input_with_plain_message(store, kwargs, error, needle):
    with pytest.raises(error, match=needle):
        store.add("ana", **kwargs)
    assert store.view("ana").lines == []
    assert store.events() == []


def test_add_counts_what_is_already_in_the_cart_against_stock(store):
    store.add("ana", "p-dress", 3, size="S", colour="white")
    with pytest.raises(NotEnoughStock, match="you already have 3 in your cart"):
        store.add("ana", "p-dress", 3, size="M", colour="white")


def test_missing_user_id_is_rejected(store):
    with pytest.raises(InvalidInput, match="user id"):
        store.view("  ")


def test_one_cart_one_currency(store):
    store.add("ana", "p-bag")
    with pytest.raises(CurrencyMismatch, match="USD"):
        store.add("ana", "p-usd")


# --- removing and changing quantities -------------------------------------------------------------


def test_remove_variant_or_all_variants(store):
    store.add("ana", "p-dress", size="S", colour="white")
    store.add("ana", "p-dress", size="M", colour="white")
    store.add("ana", "p-scarf")
    view = store.remove("ana", "p-dress", size="s")
    assert [(ln.product_id, ln.size) for ln in view.lines] == [("p-dress", "M"), ("p-scarf", None)]
    view = store.remove("ana", "p-dress")
    assert [ln.product_id for ln in view.lines] == ["p-scarf"]
    with pytest.raises(NotInCart, match="'p-dress' is not in your cart"):
        store.remove("ana", "p-dress")


def test_update_quantity(store):
    store.add("ana", "p-dress", size="S", colour="white")
    view = store.update_quantity("ana", "p-dress", 4)
    assert view.lines[0].quantity == 4 and view.total == pytest.approx(239.6)
    with pytest.raises(NotEnoughStock, match="Only 5 of Linen Summer Dress"):
        store.update_quantity("ana", "p-dress", 6)
    with pytest.raises(InvalidQuantity):
        store.update_quantity("ana", "p-dress", -1)
    with pytest.raises(NotInCart):
        store.update_quantity("ana", "p-scarf", 2)
    store.add("ana", "p-dress", size="M", colour="white")
    with pytest.raises(AmbiguousLine, match="say which size or colour"):
        store.update_quantity("ana", "p-dress", 1)
    assert store.update_quantity("ana", "p-dress", 1, size="S").lines[0].quantity == 1
    view = store.update_quantity("ana", "p-dress", 0, size="M")
    assert [(ln.size, ln.quantity) for ln in view.lines] == [("S", 1)]


def test_line_whose_product_left_the_catalog_is_shown_but_not_counted(store, products):
    store.add("ana", "p-bag")
    store.add("ana", "p-scarf")
    products.delete("p-bag")
    view = store.view("ana")
    bag = next(ln for ln in view.lines if ln.product_id == "p-bag")
    assert bag.available is False and bag.name == "Canvas Tote"
    assert view.total == 24.5 and "No longer sold" in view.message
    with pytest.raises(ProductNotFound, match="Canvas Tote"):
        store.quote_checkout("ana")
    assert store.remove("ana", "p-bag").total == 24.5


# --- checkout ---------------------------------------------------------------------------------------


def test_two_phase_checkout_places_one_order(store, products):
    store.add("ana", "p-dress", 2, size="M", colour="white")
    store.add("ana", "p-scarf")
    quote = store.quote_checkout("ana")
    assert len(quote.confirmation_code) == 6 and quote.total == pytest.approx(144.3)
    assert quote.confirmation_code in quote.message and "explicitly" in quote.message
    assert store.quote_checkout("ana").confirmation_code == quote.confirmation_code  # same cart, same code
    assert products.get("p-dress").stock == 5  # quoting reserves nothing

    order = store.confirm_checkout("ana", quote.confirmation_code.lower())
    assert order.order_id.startswith("ORD-") and order.total == pytest.approx(144.3) and order.item_count == 3
    assert [(ln.product_id, ln.quantity, ln.size) for ln in order.lines] == [("p-dress", 2, "M"), ("p-scarf", 1, None)]
    assert products.get("p-dress").stock == 3 and products.get("p-scarf").stock == 2
    assert store.view("ana").lines == []

    again = store.confirm_checkout("ana", quote.confirmation_code)
    assert again.order_id == order.order_id and "already placed" in again.message
    assert products.get("p-dress").stock == 3  # no second decrement
    assert [o.order_id for o in store.list_orders("ana").orders] == [order.order_id]
    assert store.list_orders("bob").orders == []


def test_confirm_rejects_unknown_foreign_and_expired_codes(tmp_path, products):
    store = CartStore(tmp_path / "c.sqlite", products=products, quote_ttl_s=0.2)
    store.add("ana", "p-bag")
    store.add("bob", "p-scarf")
    code = store.quote_checkout("ana").confirmation_code
    with pytest.raises(InvalidConfirmation, match="not valid for this shopper"):
        store.confirm_checkout("bob", code)
    with pytest.raises(InvalidConfirmation, match="required"):
        store.confirm_checkout("ana", "")
    time.sleep(0.25)
    with pytest.raises(InvalidConfirmation, match="expired"):
        store.confirm_checkout("ana", code)
    assert store.list_orders("ana").orders == [] and len(store.view("ana").lines) == 1


def test_code_for_a_changed_cart_is_rejected(store, products):
    store.add("ana", "p-dress", size="M", colour="white")
    code = store.quote_checkout("ana").confirmation_code
    store.add("ana", "p-scarf")
    with pytest.raises(CartChanged, match="changed since this quote"):
        store.confirm_checkout("ana", code)
    store.remove("ana", "p-scarf")
    products.set("p-dress", price=49.0)  # a price change also invalidates the quote
    with pytest.raises(CartChanged):
        store.confirm_checkout("ana", code)
    new_code = store.quote_checkout("ana").confirmation_code
    assert new_code != code
    assert store.confirm_checkout("ana", new_code).total == 49.0


def test_quote_of_empty_cart(store):
    with pytest.raises(EmptyCart, match="empty"):
        store.quote_checkout("ana")


def test_checkout_is_all_or_nothing_when_stock_ran_out_after_the_quote(store, products):
    store.add("ana", "p-dress", 2, size="M", colour="white")
    store.add("ana", "p-scarf", 2)
    code = store.quote_checkout("ana").confirmation_code
    products.set("p-scarf", stock=1)  # someone else bought scarves meanwhile
    with pytest.raises(NotEnoughStock, match="Silk Scarf"):
        store.confirm_checkout("ana", code)
    assert products.decrements == []
    assert products.get("p-dress").stock == 5
    assert store.view("ana").item_count == 4 and store.list_orders("ana").orders == []


def test_checkout_restores_stock_when_a_later_decrement_fails(store, products):
    store.add("ana", "p-dress", 2, size="M", colour="white")
    store.add("ana", "p-scarf", 1)
    code = store.quote_checkout("ana").confirmation_code
    products.fail_decrement_for = {"p-scarf"}  # a concurrent buyer in another process wins the race
    with pytest.raises(NotEnoughStock, match="Silk Scarf.*nothing was ordered"):
        store.confirm_checkout("ana", code)
    assert products.decrements == [("p-dress", 2)]
    assert products.get("p-dress").stock == 5  # undone
    assert store.view("ana").item_count == 3 and store.list_orders("ana").orders == []
    products.fail_decrement_for = set()
    assert store.confirm_checkout("ana", code).item_count == 3  # the same code works once possible


# --- history, persistence, concurrency ---------------------------------------------------------------


def test_events_record_adds_removes_updates_and_orders(store):
    t0 = time.time()
    store.add("ana", "p-dress", 2, size="M", colour="white")
    store.add("ana", "p-scarf")
    store.update_quantity("ana", "p-scarf", 2)
    store.remove("ana", "p-scarf")
    store.add("bob", "p-dress", 1, size="S", colour="sage")
    store.confirm_checkout("ana", store.quote_checkout("ana").confirmation_code)
    kinds = [(e.kind, e.user_id, e.product_id, e.quantity) for e in store.events()]
    assert kinds == [
        ("add", "ana", "p-dress", 2), ("add", "ana", "p-scarf", 1), ("update", "ana", "p-scarf", 2),
        ("remove", "ana", "p-scarf", 2), ("add", "bob", "p-dress", 1), ("order", "ana", "p-dress", 2),
    ]
    assert all(e.at.timestamp() >= t0 - 1 for e in store.events())
    assert store.events(kinds=["order"])[0].order_id.startswith("ORD-")
    assert store.totals_by_product("add") == {"p-dress": 3, "p-scarf": 1}
    assert store.totals_by_product("order", since=t0) == {"p-dress": 2}
    assert store.totals_by_product("order", since=time.time() + 60) == {}
    assert [e.kind for e in store.events(user_id="bob")] == ["add"]


def test_cart_quote_and_orders_survive_a_restart(tmp_path, products):
    path = tmp_path / "cart.sqlite"
    first = CartStore(path, products=products)
    first.add("ana", "p-dress", size="L", colour="sage")
    first.add("ana", "p-scarf")
    code = first.quote_checkout("ana").confirmation_code
    first.close()

    second = CartStore(path, products=products)
    assert [ln.product_id for ln in second.view("ana").lines] == ["p-dress", "p-scarf"]
    order = second.confirm_checkout("ana", code)
    second.close()

    third = CartStore(path, products=products)
    assert third.list_orders("ana").orders[0] == order.model_copy(update={"message": ""})
    assert third.confirm_checkout("ana", code).order_id == order.order_id
    assert len(third.events()) == 4
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    third.close()


def test_concurrent_adds_from_two_threads_lose_nothing(tmp_path):
    products = InMemoryProducts([FakeProduct(id="p-sock", name="Socks", price=3.0, stock=1000)])
    path = tmp_path / "cart.sqlite"
    stores = [CartStore(path, products=products), CartStore(path, products=products)]  # like two processes
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def shopper(store: CartStore) -> None:
        try:
            start.wait()
            for _ in range(10):
                store.add("ana", "p-sock", 1)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=shopper, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert stores[0].view("ana").lines[0].quantity == 20
    assert len(stores[1].events(kinds=["add"])) == 20
    for s in stores:
        s.close()


def test_concurrent_adds_never_exceed_stock(tmp_path):
    products = InMemoryProducts([FakeProduct(id="p-last", name="Last Ones", price=3.0, stock=5)])
    store = CartStore(tmp_path / "cart.sqlite", products=products)
    results: list[str] = []

    def shopper() -> None:
        for _ in range(5):
            try:
                store.add("ana", "p-last", 1)
                results.append("ok")
            except NotEnoughStock:
                results.append("short")

    threads = [threading.Thread(target=shopper) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 5 and results.count("short") == 5
    assert store.view("ana").item_count == 5
    store.close()
