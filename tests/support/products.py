"""A tiny in-memory product source with the catalog's interface, for cart tests that need no LanceDB."""

from __future__ import annotations

import threading

from pydantic import BaseModel, Field


class FakeProduct(BaseModel):
    id: str
    name: str
    price: float
    currency: str = "EUR"
    stock: int = 10
    sizes: list[str] = Field(default_factory=list)
    colours: list[str] = Field(default_factory=list)


class StockError(RuntimeError):
    """Raised like the catalog's UnknownProduct / OutOfStock."""


class InMemoryProducts:
    """`get` / `decrement_stock` / `increment_stock`, thread-safe, with a hook to fail a decrement."""

    def __init__(self, products: list[FakeProduct]):
        self._items = {p.id: p for p in products}
        self._lock = threading.Lock()
        self.fail_decrement_for: set[str] = set()
        self.decrements: list[tuple[str, int]] = []

    def get(self, product_id: str) -> FakeProduct | None:
        with self._lock:
            item = self._items.get(product_id)
            return item.model_copy() if item else None

    def decrement_stock(self, product_id: str, qty: int) -> int:
        with self._lock:
            item = self._items.get(product_id)
            if item is None:
                raise StockError(f"unknown product {product_id}")
            if product_id in self.fail_decrement_for or item.stock < qty:
                raise StockError(f"out of stock: {product_id}")
            item.stock -= qty
            self.decrements.append((product_id, qty))
            return item.stock

    def increment_stock(self, product_id: str, qty: int) -> int:
        with self._lock:
            self._items[product_id].stock += qty
            return self._items[product_id].stock

    def set(self, product_id: str, **changes: object) -> None:
        with self._lock:
            self._items[product_id] = self._items[product_id].model_copy(update=changes)

    def delete(self, product_id: str) -> None:
        with self._lock:
            del self._items[product_id]


def sample_products() -> InMemoryProducts:
    return InMemoryProducts([
        FakeProduct(id="p-dress", name="Linen Summer Dress", price=59.9, stock=5,
                    sizes=["S", "M", "L"], colours=["white", "sage"]),
        FakeProduct(id="p-scarf", name="Silk Scarf", price=24.5, stock=3, colours=["red"]),
        FakeProduct(id="p-bag", name="Canvas Tote", price=19.99, stock=1),
        FakeProduct(id="p-none", name="Sold Out Cap", price=15.0, stock=0),
        FakeProduct(id="p-usd", name="Imported Sneakers", price=120.0, currency="USD", stock=4,
                    sizes=["42"]),
    ])
