"""Per-user carts, checkout and orders in SQLite.

Why SQLite in WAL mode: the cart is written by the MCP server, read by the UI and the CLI, and must
survive any of them restarting; WAL lets readers proceed while one writer holds the lock, and every
write runs in a short `BEGIN IMMEDIATE` transaction so two processes (or threads) adding at once
serialise instead of losing an update.

Product facts (name, price, stock, sizes, colours) are not copied into the cart as truth: they are
read from a `ProductSource` (the catalog) whenever a cart is shown or quoted, so a price change or a
sold-out item is visible before the shopper pays. The cart keeps a snapshot of name and price only
so a line whose product left the catalog can still be shown and removed.

Checkout is two-phase because buying needs the shopper's explicit yes: `quote_checkout` returns the
summary and a short confirmation code bound to the exact cart contents (products, variants,
quantities, prices); `confirm_checkout` places the order only for that code. Confirming is
idempotent (the same code returns the same order) and all-or-nothing on stock: every line is
checked before anything is decremented, and a decrement that still fails (a concurrent buyer in
another process) restores the ones already made.

Every add, remove, quantity change and ordered line is kept in `cart_events` with a timestamp; the
trend feature reads them through `events()` and `totals_by_product()`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Protocol

from godseye.config import get_settings
from godseye.sqlite import connect, write_transaction
from mcp_servers.cart.models import (
    CartEvent,
    CartLine,
    CartView,
    CheckoutQuote,
    EventKind,
    Order,
    OrderLine,
    OrderList,
)

log = logging.getLogger(__name__)

MAX_QUANTITY = 20
"""Most units of one product variant in one cart; more is a typo or abuse, not a shopping intent."""
QUOTE_TTL_S = 15 * 60
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read aloud and typed
CODE_LENGTH = 6
_CENT = Decimal("0.01")


# --- what the cart needs from the catalog -------------------------------------------------------


class ProductFacts(Protocol):
    """The product fields the cart reads (the catalog's `Product` model has these and more)."""

    id: str
    name: str
    price: float
    currency: str
    stock: int
    sizes: list[str]
    colours: list[str]


class ProductSource(Protocol):
    """Where product facts come from: `mcp_servers.catalog.store.CatalogStore` in production.

    `decrement_stock` raises when the product is unknown or the stock is short. A source may also
    offer `increment_stock(product_id, qty)` (or `restock`), used only to undo the decrements of a
    checkout that failed half-way.
    """

    def get(self, product_id: str) -> ProductFacts | None: ...

    def decrement_stock(self, product_id: str, qty: int) -> Any: ...


def default_product_source() -> ProductSource:
    from mcp_servers.catalog.store import CatalogStore

    return CatalogStore()


# --- errors: plain messages a shopper (and a model) can act on -----------------------------------


class CartError(Exception):
    """Base class: bad input or a state the shopper must resolve. `str(err)` is the user message."""


class InvalidInput(CartError):
    """A missing or malformed user id or product id."""


class ProductNotFound(CartError):
    """The product id is not (or no longer) in the catalog."""


class InvalidOption(CartError):
    """A size or colour the product does not come in, or one that must be chosen."""


class InvalidQuantity(CartError):
    """Zero, negative, fractional or absurd quantities."""


class NotEnoughStock(CartError):
    """The catalog has fewer units than the cart asks for."""


class NotInCart(CartError):
    """Removing or changing a product that is not in the cart."""


class AmbiguousLine(CartError):
    """The product is in the cart in several variants and the request does not say which."""


class EmptyCart(CartError):
    """Checkout with nothing in the cart."""


class CurrencyMismatch(CartError):
    """One order is paid in one currency."""


class InvalidConfirmation(CartError):
    """A confirmation code that is unknown for this user or has expired."""


class CartChanged(CartError):
    """The cart no longer matches the quote the confirmation code was issued for."""


# --- storage ------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cart_lines (
    user_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    size TEXT NOT NULL DEFAULT '',
    colour TEXT NOT NULL DEFAULT '',
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    name TEXT NOT NULL,
    unit_price TEXT NOT NULL,
    currency TEXT NOT NULL,
    added_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (user_id, product_id, size, colour)
);
CREATE TABLE IF NOT EXISTS quotes (
    user_id TEXT NOT NULL,
    code TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    total TEXT NOT NULL,
    currency TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    order_id TEXT,
    PRIMARY KEY (user_id, code)
);
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL,
    total TEXT NOT NULL,
    currency TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (user_id, code)
);
CREATE INDEX IF NOT EXISTS orders_by_user ON orders(user_id, created_at);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id TEXT NOT NULL REFERENCES orders(order_id),
    line_no INTEGER NOT NULL,
    product_id TEXT NOT NULL,
    name TEXT NOT NULL,
    size TEXT NOT NULL,
    colour TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price TEXT NOT NULL,
    line_total TEXT NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE IF NOT EXISTS cart_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('add', 'remove', 'update', 'order')),
    user_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    size TEXT NOT NULL DEFAULT '',
    colour TEXT NOT NULL DEFAULT '',
    order_id TEXT
);
CREATE INDEX IF NOT EXISTS cart_events_by_time ON cart_events(at, kind);
"""


def _money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _opt(value: str) -> str | None:
    return value or None


@dataclass
class _Line:
    """A stored cart line joined with the product's current facts (None when it left the catalog)."""

    product_id: str
    size: str
    colour: str
    quantity: int
    name: str
    unit_price: Decimal
    currency: str
    product: ProductFacts | None

    @property
    def line_total(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(_CENT)

    def model(self) -> CartLine:
        return CartLine(
            product_id=self.product_id,
            name=self.name,
            size=_opt(self.size),
            colour=_opt(self.colour),
            quantity=self.quantity,
            unit_price=float(self.unit_price),
            line_total=float(self.line_total),
            currency=self.currency,
            available=self.product is not None,
        )


class CartStore:
    """The cart and order book. Safe to share between threads; open one per process."""

    def __init__(
        self,
        path: Path | str | None = None,
        products: ProductSource | None = None,
        *,
        quote_ttl_s: float = QUOTE_TTL_S,
    ):
        self.path = Path(path) if path else get_settings().cart_db
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._products = products
        self._products_lock = threading.Lock()
        self.quote_ttl_s = quote_ttl_s
        self._local = threading.local()
        self._all_conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._conn().executescript(_SCHEMA)

    @property
    def products(self) -> ProductSource:
        """The catalog, opened on first use so a cart view of an empty cart never loads LanceDB."""
        if self._products is None:
            with self._products_lock:
                if self._products is None:
                    self._products = default_product_source()
        return self._products

    # -- connections and transactions

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, synchronous="FULL")  # an order, once confirmed, survives a crash
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._conns_lock:
                self._all_conns.append(conn)
        return conn

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction that takes the database write lock up front (no upgrade deadlocks)."""
        return write_transaction(self._conn())

    def close(self) -> None:
        with self._conns_lock:
            for conn in self._all_conns:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all_conns.clear()
        self._local = threading.local()

    # -- validation

    @staticmethod
    def _user(user_id: object) -> str:
        if not isinstance(user_id, str) or not user_id.strip():
            raise InvalidInput("A user id is required.")
        if len(user_id) > 200:
            raise InvalidInput("That user id is too long.")
        return user_id.strip()

    @staticmethod
    def _product_id(product_id: object) -> str:
        if not isinstance(product_id, str) or not product_id.strip():
            raise InvalidInput("A product id is required (search the catalog to find it).")
        if len(product_id) > 200:
            raise InvalidInput("That product id is too long.")
        return product_id.strip()

    @staticmethod
    def _quantity(quantity: object, *, allow_zero: bool = False) -> int:
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidQuantity("The quantity must be a whole number, like 1 or 2.")
        lowest = 0 if allow_zero else 1
        if quantity < lowest:
            raise InvalidQuantity(f"The quantity must be at least {lowest}.")
        if quantity > MAX_QUANTITY:
            raise InvalidQuantity(f"At most {MAX_QUANTITY} of one item can be ordered at a time.")
        return quantity

    def _product(self, product_id: str) -> ProductFacts:
        product = self.products.get(product_id)
        if product is None:
            raise ProductNotFound(
                f"There is no product with id '{product_id}'. Search the catalog for the right id."
            )
        return product

    @staticmethod
    def _option(kind: str, value: str | None, options: Sequence[str] | None, product_name: str) -> str:
        """Resolve a size or colour against what the product comes in ('' when it has none)."""
        choices = [str(o) for o in (options or []) if str(o).strip()]
        wanted = (value or "").strip()
        if not wanted:
            if not choices:
                return ""
            if len(choices) == 1:
                return choices[0]
            raise InvalidOption(
                f"{product_name} comes in {kind}s {', '.join(choices)}. Which {kind} would you like?"
            )
        if not choices:
            raise InvalidOption(f"{product_name} has no {kind} options; leave the {kind} out.")
        for choice in choices:
            if choice.casefold() == wanted.casefold():
                return choice
        raise InvalidOption(
            f"{product_name} is not available in {kind} '{wanted}'. Available {kind}s: {', '.join(choices)}."
        )

    # -- reading

    def _lines(self, conn: sqlite3.Connection, user_id: str) -> list[_Line]:
        rows = conn.execute(
            "SELECT product_id, size, colour, quantity, name, unit_price, currency FROM cart_lines "
            "WHERE user_id=? ORDER BY added_at, product_id, size, colour",
            (user_id,),
        ).fetchall()
        lines = []
        facts: dict[str, ProductFacts | None] = {}
        for product_id, size, colour, quantity, name, price, currency in rows:
            if product_id not in facts:
                facts[product_id] = self.products.get(product_id)
            product = facts[product_id]
            if product is not None:  # current catalog facts win over the snapshot taken at add time
                name, price, currency = product.name, product.price, product.currency
            lines.append(_Line(product_id, size, colour, quantity, name, _money(price), currency, product))
        return lines

    @staticmethod
    def _view(user_id: str, lines: list[_Line], message: str = "") -> CartView:
        if not lines:
            return CartView(user_id=user_id, message=message or "The cart is empty.")
        total = sum((line.line_total for line in lines if line.product is not None), Decimal("0"))
        unavailable = [line.name for line in lines if line.product is None]
        if unavailable:
            note = f" No longer sold (not counted in the total; remove them): {', '.join(unavailable)}."
            message = (message + note).strip()
        return CartView(
            user_id=user_id,
            lines=[line.model() for line in lines],
            item_count=sum(line.quantity for line in lines),
            total=float(total.quantize(_CENT)),
            currency=lines[0].currency,
            message=message,
        )

    def view(self, user_id: str) -> CartView:
        user_id = self._user(user_id)
        conn = self._conn()
        if conn.execute("SELECT 1 FROM cart_lines WHERE user_id=? LIMIT 1", (user_id,)).fetchone() is None:
            return self._view(user_id, [])
        return self._view(user_id, self._lines(conn, user_id))

    # -- changing the cart

    @staticmethod
    def _event(
        conn: sqlite3.Connection,
        kind: EventKind,
        user_id: str,
        product_id: str,
        quantity: int,
        size: str = "",
        colour: str = "",
        order_id: str | None = None,
        at: float | None = None,
    ) -> None:
        conn.execute(
            "INSERT INTO cart_events(at, kind, user_id, product_id, quantity, size, colour, order_id) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (at or time.time(), kind, user_id, product_id, quantity, size, colour, order_id),
        )

    @staticmethod
    def _stock_error(product: ProductFacts, wanted: int, in_cart: int = 0) -> NotEnoughStock:
        if product.stock <= 0:
            return NotEnoughStock(f"{product.name} is out of stock.")
        have = f" (you already have {in_cart} in your cart)" if in_cart else ""
        return NotEnoughStock(
            f"Only {product.stock} of {product.name} left in stock{have}; {wanted} in total is too many."
        )

    def add(
        self,
        user_id: str,
        product_id: str,
        quantity: int = 1,
        size: str | None = None,
        colour: str | None = None,
    ) -> CartView:
        """Add units of one product variant; adding the same variant again raises its quantity."""
        user_id = self._user(user_id)
        product_id = self._product_id(product_id)
        quantity = self._quantity(quantity)
        product = self._product(product_id)
        size_value = self._option("size", size, product.sizes, product.name)
        colour_value = self._option("colour", colour, product.colours, product.name)
        now = time.time()
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT product_id, size, colour, quantity, currency FROM cart_lines WHERE user_id=?",
                (user_id,),
            ).fetchall()
            other_currency = {r[4] for r in rows if r[0] != product_id} - {product.currency}
            if other_currency:
                raise CurrencyMismatch(
                    f"{product.name} is priced in {product.currency} but your cart is in "
                    f"{other_currency.pop()}; one order uses one currency."
                )
            same_product = sum(r[3] for r in rows if r[0] == product_id)
            variant = next(
                (r[3] for r in rows if r[0] == product_id and r[1] == size_value and r[2] == colour_value), 0
            )
            if variant + quantity > MAX_QUANTITY:
                raise InvalidQuantity(
                    f"At most {MAX_QUANTITY} of one item can be ordered at a time; you already have "
                    f"{variant} of {product.name} in your cart."
                )
            if same_product + quantity > product.stock:
                raise self._stock_error(product, same_product + quantity, same_product)
            conn.execute(
                "INSERT INTO cart_lines(user_id, product_id, size, colour, quantity, name, unit_price, currency,"
                " added_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(user_id, product_id, size, colour) DO UPDATE SET "
                "quantity = quantity + excluded.quantity, name = excluded.name, "
                "unit_price = excluded.unit_price, currency = excluded.currency, updated_at = excluded.updated_at",
                (user_id, product_id, size_value, colour_value, quantity, product.name,
                 str(_money(product.price)), product.currency, now, now),
            )
            self._event(conn, "add", user_id, product_id, quantity, size_value, colour_value, at=now)
        variant_text = ", ".join(v for v in (size_value, colour_value) if v)
        detail = f" ({variant_text})" if variant_text else ""
        return self._view(user_id, self._lines(self._conn(), user_id),
                          f"Added {quantity} x {product.name}{detail}.")

    @staticmethod
    def _matching(
        rows: Iterable[tuple], product_id: str, size: str | None, colour: str | None
    ) -> list[tuple]:
        size_key = (size or "").strip().casefold()
        colour_key = (colour or "").strip().casefold()
        return [
            r for r in rows
            if r[0] == product_id
            and (not size_key or r[1].casefold() == size_key)
            and (not colour_key or r[2].casefold() == colour_key)
        ]

    def _not_in_cart(self, product_id: str, size: str | None, colour: str | None) -> NotInCart:
        variant = ", ".join(v for v in (size, colour) if v)
        detail = f" in {variant}" if variant else ""
        return NotInCart(f"Product '{product_id}'{detail} is not in your cart.")

    def remove(
        self, user_id: str, product_id: str, size: str | None = None, colour: str | None = None
    ) -> CartView:
        """Remove a product; with no size/colour every variant of it goes."""
        user_id = self._user(user_id)
        product_id = self._product_id(product_id)
        now = time.time()
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT product_id, size, colour, quantity, name FROM cart_lines WHERE user_id=? AND product_id=?",
                (user_id, product_id),
            ).fetchall()
            matched = self._matching(rows, product_id, size, colour)
            if not matched:
                raise self._not_in_cart(product_id, size, colour)
            for pid, size_value, colour_value, quantity, _name in matched:
                conn.execute(
                    "DELETE FROM cart_lines WHERE user_id=? AND product_id=? AND size=? AND colour=?",
                    (user_id, pid, size_value, colour_value),
                )
                self._event(conn, "remove", user_id, pid, quantity, size_value, colour_value, at=now)
        return self._view(user_id, self._lines(self._conn(), user_id), f"Removed {matched[0][4]}.")

    def update_quantity(
        self,
        user_id: str,
        product_id: str,
        quantity: int,
        size: str | None = None,
        colour: str | None = None,
    ) -> CartView:
        """Set the quantity of a line already in the cart; 0 removes it."""
        user_id = self._user(user_id)
        product_id = self._product_id(product_id)
        quantity = self._quantity(quantity, allow_zero=True)
        if quantity == 0:
            return self.remove(user_id, product_id, size, colour)
        product = self.products.get(product_id)
        now = time.time()
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT product_id, size, colour, quantity, name FROM cart_lines WHERE user_id=? AND product_id=?",
                (user_id, product_id),
            ).fetchall()
            matched = self._matching(rows, product_id, size, colour)
            if not matched:
                raise self._not_in_cart(product_id, size, colour)
            if len(matched) > 1:
                variants = "; ".join(", ".join(v for v in (r[1], r[2]) if v) or "no variant" for r in matched)
                raise AmbiguousLine(
                    f"{matched[0][4]} is in your cart more than once ({variants}); say which size or colour."
                )
            _pid, size_value, colour_value, old_quantity, name = matched[0]
            if product is None:
                raise ProductNotFound(f"{name} is no longer sold; remove it from your cart instead.")
            others = sum(r[3] for r in rows) - old_quantity
            if others + quantity > product.stock:
                raise self._stock_error(product, others + quantity, others)
            conn.execute(
                "UPDATE cart_lines SET quantity=?, updated_at=? "
                "WHERE user_id=? AND product_id=? AND size=? AND colour=?",
                (quantity, now, user_id, product_id, size_value, colour_value),
            )
            self._event(conn, "update", user_id, product_id, quantity, size_value, colour_value, at=now)
        return self._view(user_id, self._lines(self._conn(), user_id),
                          f"{product.name}: quantity is now {quantity}.")

    # -- checkout

    @staticmethod
    def _fingerprint(lines: list[_Line]) -> str:
        key = sorted((ln.product_id, ln.size, ln.colour, ln.quantity, str(ln.unit_price), ln.currency)
                     for ln in lines)
        return hashlib.sha256(json.dumps(key).encode()).hexdigest()

    def _checkable(self, lines: list[_Line]) -> dict[str, int]:
        """Units needed per product; raises if the cart cannot be bought as it stands."""
        if not lines:
            raise EmptyCart("Your cart is empty; add something before checking out.")
        gone = [line.name for line in lines if line.product is None]
        if gone:
            raise ProductNotFound(f"No longer sold: {', '.join(gone)}. Remove it from your cart first.")
        needed: dict[str, int] = {}
        for line in lines:
            needed[line.product_id] = needed.get(line.product_id, 0) + line.quantity
        for line in lines:
            assert line.product is not None
            if needed[line.product_id] > line.product.stock:
                raise self._stock_error(line.product, needed[line.product_id])
        return needed

    @staticmethod
    def _normalise_code(code: object) -> str:
        if not isinstance(code, str):
            return ""
        return "".join(ch for ch in code.upper() if ch.isalnum())

    def quote_checkout(self, user_id: str) -> CheckoutQuote:
        """Summarise the cart and issue a confirmation code bound to exactly these contents."""
        user_id = self._user(user_id)
        lines = self._lines(self._conn(), user_id)
        self._checkable(lines)
        fingerprint = self._fingerprint(lines)
        total = sum((line.line_total for line in lines), Decimal("0")).quantize(_CENT)
        currency = lines[0].currency
        now = time.time()
        with self._tx() as conn:
            row = conn.execute(
                "SELECT code, expires_at FROM quotes WHERE user_id=? AND fingerprint=? AND order_id IS NULL "
                "AND expires_at > ? ORDER BY created_at DESC LIMIT 1",
                (user_id, fingerprint, now + 60),
            ).fetchone()
            if row:
                code, expires_at = row
            else:
                expires_at = now + self.quote_ttl_s
                for _ in range(20):
                    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                    taken = conn.execute(
                        "SELECT 1 FROM quotes WHERE user_id=? AND code=?", (user_id, code)
                    ).fetchone()
                    if not taken:
                        break
                conn.execute(
                    "INSERT INTO quotes(user_id, code, fingerprint, total, currency, created_at, expires_at) "
                    "VALUES (?,?,?,?,?,?,?)",
                    (user_id, code, fingerprint, str(total), currency, now, expires_at),
                )
        minutes = max(1, round((expires_at - now) / 60))
        return CheckoutQuote(
            user_id=user_id,
            confirmation_code=code,
            expires_at=_ts(expires_at),
            lines=[line.model() for line in lines],
            item_count=sum(line.quantity for line in lines),
            total=float(total),
            currency=currency,
            message=(
                f"Order summary: {sum(ln.quantity for ln in lines)} item(s), total {total} {currency}. "
                f"Show this to the shopper and ask them to confirm. Place the order only after they "
                f"explicitly agree, with confirmation code {code} (valid {minutes} minutes, for this "
                f"exact cart)."
            ),
        )

    def confirm_checkout(self, user_id: str, confirmation_code: str) -> Order:
        """Place the order for a quoted cart. The same code again returns the same order."""
        user_id = self._user(user_id)
        code = self._normalise_code(confirmation_code)
        if not code:
            raise InvalidConfirmation("A confirmation code is required; get one with quote_checkout.")
        decremented: list[tuple[str, int]] = []
        try:
            with self._tx() as conn:
                quote = conn.execute(
                    "SELECT fingerprint, expires_at, order_id FROM quotes WHERE user_id=? AND code=?",
                    (user_id, code),
                ).fetchone()
                if quote is None:
                    raise InvalidConfirmation(
                        f"Confirmation code {code} is not valid for this shopper. Ask for a new quote."
                    )
                fingerprint, expires_at, order_id = quote
                if order_id:
                    order = self._order(conn, order_id)
                    order.message = f"Order {order_id} was already placed with this code; no second order made."
                    return order
                now = time.time()
                if expires_at <= now:
                    raise InvalidConfirmation(f"Confirmation code {code} has expired. Ask for a new quote.")
                lines = self._lines(conn, user_id)
                if not lines:
                    raise CartChanged("Your cart is empty now, so there is nothing to order.")
                if self._fingerprint(lines) != fingerprint:
                    raise CartChanged(
                        "Your cart (items, quantities or prices) changed since this quote, so code "
                        f"{code} no longer applies. Ask for a new quote and confirm that one."
                    )
                needed = self._checkable(lines)
                by_id = {line.product_id: line for line in lines}
                for product_id, qty in needed.items():
                    try:
                        self.products.decrement_stock(product_id, qty)
                    except Exception as exc:  # any catalog refusal: undo (below) and name the product
                        log.info("stock decrement refused for %s x%d: %s", product_id, qty, exc)
                        raise NotEnoughStock(
                            f"{by_id[product_id].name} is no longer available in the quantity you asked "
                            f"for ({qty}); nothing was ordered. Please adjust your cart."
                        ) from exc
                    decremented.append((product_id, qty))
                order_id = self._new_order_id(conn)
                total = sum((line.line_total for line in lines), Decimal("0")).quantize(_CENT)
                conn.execute(
                    "INSERT INTO orders(order_id, user_id, code, status, total, currency, created_at) "
                    "VALUES (?,?,?,?,?,?,?)",
                    (order_id, user_id, code, "placed", str(total), lines[0].currency, now),
                )
                for no, line in enumerate(lines):
                    conn.execute(
                        "INSERT INTO order_lines(order_id, line_no, product_id, name, size, colour, quantity,"
                        " unit_price, line_total) VALUES (?,?,?,?,?,?,?,?,?)",
                        (order_id, no, line.product_id, line.name, line.size, line.colour, line.quantity,
                         str(line.unit_price), str(line.line_total)),
                    )
                    self._event(conn, "order", user_id, line.product_id, line.quantity, line.size,
                                line.colour, order_id, at=now)
                conn.execute("DELETE FROM cart_lines WHERE user_id=?", (user_id,))
                conn.execute("UPDATE quotes SET order_id=? WHERE user_id=? AND code=?", (order_id, user_id, code))
                order = self._order(conn, order_id)
        except BaseException:
            self._restock(decremented)
            raise
        order.message = f"Order {order_id} placed: {order.item_count} item(s), total {order.total} {order.currency}."
        return order

    def _restock(self, decremented: list[tuple[str, int]]) -> None:
        """Undo stock decrements of a checkout that did not complete."""
        if not decremented:
            return
        undo = getattr(self.products, "increment_stock", None) or getattr(self.products, "restock", None)
        for product_id, qty in decremented:
            if undo is None:
                log.error("cannot restore %d units of %s: the product source has no increment_stock",
                          qty, product_id)
                continue
            try:
                undo(product_id, qty)
            except Exception:
                log.exception("restoring %d units of %s failed", qty, product_id)

    @staticmethod
    def _new_order_id(conn: sqlite3.Connection) -> str:
        day = time.strftime("%Y%m%d", time.gmtime())
        while True:
            order_id = f"ORD-{day}-{secrets.token_hex(4).upper()}"
            if conn.execute("SELECT 1 FROM orders WHERE order_id=?", (order_id,)).fetchone() is None:
                return order_id

    # -- orders

    @staticmethod
    def _order(conn: sqlite3.Connection, order_id: str) -> Order:
        head = conn.execute(
            "SELECT order_id, user_id, code, status, total, currency, created_at FROM orders WHERE order_id=?",
            (order_id,),
        ).fetchone()
        rows = conn.execute(
            "SELECT product_id, name, size, colour, quantity, unit_price, line_total FROM order_lines "
            "WHERE order_id=? ORDER BY line_no",
            (order_id,),
        ).fetchall()
        lines = [
            OrderLine(product_id=r[0], name=r[1], size=_opt(r[2]), colour=_opt(r[3]), quantity=r[4],
                      unit_price=float(r[5]), line_total=float(r[6]))
            for r in rows
        ]
        return Order(
            order_id=head[0], user_id=head[1], confirmation_code=head[2], status=head[3],
            total=float(head[4]), currency=head[5], created_at=_ts(head[6]), lines=lines,
            item_count=sum(line.quantity for line in lines),
        )

    def list_orders(self, user_id: str) -> OrderList:
        """The user's orders, newest first."""
        user_id = self._user(user_id)
        conn = self._conn()
        ids = conn.execute(
            "SELECT order_id FROM orders WHERE user_id=? ORDER BY created_at DESC, rowid DESC", (user_id,)
        ).fetchall()
        return OrderList(user_id=user_id, orders=[self._order(conn, i) for (i,) in ids])

    # -- history for trends

    def events(
        self,
        since: float | datetime | None = None,
        kinds: Iterable[EventKind] | None = None,
        user_id: str | None = None,
    ) -> list[CartEvent]:
        """Recorded cart actions in time order, optionally since a time (epoch or datetime)."""
        sql = "SELECT kind, user_id, product_id, quantity, size, colour, order_id, at FROM cart_events WHERE 1=1"
        params: list[Any] = []
        if since is not None:
            sql += " AND at >= ?"
            params.append(since.timestamp() if isinstance(since, datetime) else float(since))
        kind_list = list(kinds or [])
        if kind_list:
            sql += f" AND kind IN ({','.join('?' * len(kind_list))})"
            params.extend(kind_list)
        if user_id is not None:
            sql += " AND user_id = ?"
            params.append(user_id)
        rows = self._conn().execute(sql + " ORDER BY at, id", params).fetchall()
        return [
            CartEvent(kind=r[0], user_id=r[1], product_id=r[2], quantity=r[3], size=_opt(r[4]),
                      colour=_opt(r[5]), order_id=r[6], at=_ts(r[7]))
            for r in rows
        ]

    def totals_by_product(self, kind: EventKind, since: float | datetime | None = None) -> dict[str, int]:
        """Units per product for one kind of event ('add' = put in carts, 'order' = bought), most first."""
        sql = "SELECT product_id, SUM(quantity) AS n FROM cart_events WHERE kind=?"
        params: list[Any] = [kind]
        if since is not None:
            sql += " AND at >= ?"
            params.append(since.timestamp() if isinstance(since, datetime) else float(since))
        rows = self._conn().execute(sql + " GROUP BY product_id ORDER BY n DESC, product_id", params).fetchall()
        return {pid: int(n) for pid, n in rows}
