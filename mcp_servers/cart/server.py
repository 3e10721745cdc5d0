"""FastMCP server "cart": the shopper's cart, checkout with confirmation, and order history.

Thin on purpose: every rule lives in `mcp_servers.cart.store.CartStore`; the tools validate types
(through their signatures), call the store, and turn its `CartError`s into `ToolError`s whose plain
messages reach the model as `isError` results it can relay to the shopper.

`user_id` is a parameter of every tool only because MCP has no per-call identity: the agent runtime
overwrites it from the session before the call, so a model can never read or change another
shopper's cart. The docstrings say "filled in by the shop" so the model does not ask for it.

Each call is counted as `mcp.tool.calls`, `mcp.tool.errors` and `mcp.tool.latency` (milliseconds),
tagged `server:cart` and `tool:<name>`, by the middleware the catalog server shares.

Run: `python -m mcp_servers.cart` (stdio) or `python -m mcp_servers.cart --http 8766`
(streamable HTTP on 127.0.0.1, path /mcp).
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError
from pydantic import Field

from godseye.netguard import install_if_requested
from mcp_servers.cart.models import CartView, CheckoutQuote, Order, OrderList
from mcp_servers.cart.store import MAX_QUANTITY, CartError, CartStore
from mcp_servers.cart.trends import Trends, TrendSource
from mcp_servers.catalog import vocab
from mcp_servers.catalog.models import CatalogError
from telemetry.mcp_instrumentation import TelemetryMiddleware

log = logging.getLogger(__name__)

SERVER_NAME = "cart"
T = TypeVar("T")

UserId = Annotated[str, Field(description="The shopper's id. Filled in by the shop: the value passed is replaced.")]
ProductId = Annotated[str, Field(description="The catalog product id, as returned by the catalog search.")]
Size = Annotated[str | None, Field(description="Size such as 'M' or '38', one the product comes in.")]
Colour = Annotated[str | None, Field(description="Colour, one the product comes in.")]

_store: CartStore | None = None
_store_lock = threading.Lock()


def get_store() -> CartStore:
    """The process's one CartStore (opened on first call so importing the server stays cheap)."""
    global _store
    if _store is None:
        with _store_lock:
            if _store is None:
                _store = CartStore()
    return _store


def set_store(store: CartStore | None) -> None:
    """Use another store (tests, embedding the server in-process)."""
    global _store
    _store = store


def _run(action: Callable[..., T], *args: Any) -> T:
    """Call the store; shopper-facing failures (cart rules, catalog errors) become plain ToolErrors."""
    try:
        return action(*args)
    except (CartError, CatalogError) as err:
        raise ToolError(str(err)) from None


mcp = FastMCP(
    SERVER_NAME,
    instructions=(
        "The shopper's cart. Add, change and remove products by catalog product id. Buying takes two "
        "steps: quote_checkout shows the order summary and a confirmation code; call confirm_checkout "
        "only after the shopper has explicitly said yes to that summary. user_id is filled in by the shop."
    ),
    middleware=[TelemetryMiddleware(SERVER_NAME)],
)


@mcp.tool
def view_cart(user_id: UserId) -> CartView:
    """Show the shopper's cart: each line with name, size, colour, unit price, quantity and line total,
    plus the item count and cart total. Prices are the catalog's current prices.

    Typical requests: "what's in my cart?", "show my basket", "how much is my cart?".
    """
    return _run(get_store().view, user_id)


@mcp.tool
def add_to_cart(
    user_id: UserId,
    product_id: ProductId,
    quantity: Annotated[int, Field(description=f"How many, 1 to {MAX_QUANTITY}.")] = 1,
    size: Size = None,
    colour: Colour = None,
) -> CartView:
    """Put a product in the shopper's cart (adding the same size and colour again raises the quantity).
    If the product comes in several sizes or colours, pass the one the shopper chose; an error lists
    the available ones. Fails with a plain message when the product is unknown or out of stock.
    Returns the updated cart.

    Typical requests: "add the second one to my cart", "put two of those in my basket", "I'll take it in M".
    """
    return _run(get_store().add, user_id, product_id, quantity, size, colour)


@mcp.tool
def remove_from_cart(
    user_id: UserId,
    product_id: ProductId,
    size: Annotated[str | None, Field(description="Only this size (default: every size of it).")] = None,
    colour: Annotated[str | None, Field(description="Only this colour (default: every colour).")] = None,
) -> CartView:
    """Take a product out of the shopper's cart. Returns the updated cart.

    Typical requests: "remove the dress from my cart", "take that out", "I don't want the shoes anymore".
    """
    return _run(get_store().remove, user_id, product_id, size, colour)


@mcp.tool
def update_quantity(
    user_id: UserId,
    product_id: ProductId,
    quantity: Annotated[int, Field(description=f"The new quantity, 0 to {MAX_QUANTITY}; 0 removes it.")],
    size: Annotated[str | None, Field(description="Which size, if the product is in the cart twice.")] = None,
    colour: Annotated[str | None, Field(description="Which colour, if in the cart twice.")] = None,
) -> CartView:
    """Set how many of a product already in the cart the shopper wants. Returns the updated cart.

    Typical requests: "make it three", "change the quantity of the shirt to 2".
    """
    return _run(get_store().update_quantity, user_id, product_id, quantity, size, colour)


@mcp.tool
def quote_checkout(user_id: UserId) -> CheckoutQuote:
    """Step 1 of buying: check the cart can be bought (stock, availability) and return the order
    summary with a short confirmation code. Show the summary and total to the shopper and ask them
    to confirm. Do NOT call confirm_checkout until the shopper explicitly agrees. The code is valid
    for a limited time and only for the cart exactly as quoted.

    Typical requests: "check out", "I want to buy these", "place my order", "let's pay".
    """
    return _run(get_store().quote_checkout, user_id)


@mcp.tool
def confirm_checkout(
    user_id: UserId,
    confirmation_code: Annotated[str, Field(description="The code from quote_checkout.")],
) -> Order:
    """Step 2 of buying, only after the shopper explicitly confirmed the quoted summary: place the
    order, reserve the stock and empty the cart. Calling it again with the same code returns the
    same order (never a second one). If the cart changed since the quote, it fails: quote again.

    Typical requests (after a summary was shown): "yes, confirm", "go ahead and place it".
    """
    return _run(get_store().confirm_checkout, user_id, confirmation_code)


@mcp.tool
def list_orders(user_id: UserId) -> OrderList:
    """The shopper's past orders, newest first, with their lines and totals.

    Typical requests: "my previous orders", "what did I buy last time?", "where is my order?".
    """
    return _run(get_store().list_orders, user_id)


_trends: tuple[CartStore, TrendSource] | None = None
# The catalog's own vocabularies (imports map onto them too), so a model can only pass values that exist;
# plain enums with an explicit "any" (not optional ones) so every client sees the choices directly.
ANY = "any"
Season = Literal[(*vocab.SEASONS, ANY)]  # type: ignore[valid-type]
Occasion = Literal[(*vocab.OCCASIONS, ANY)]  # type: ignore[valid-type]


def get_trends() -> TrendSource:
    """Trends over this server's cart database and catalog (follows `set_store`)."""
    global _trends
    store = get_store()
    if _trends is None or _trends[0] is not store:
        _trends = (store, TrendSource(store.path, catalog=store.products))
    return _trends[1]


@mcp.tool(annotations={"readOnlyHint": True})
def trending_products(
    days: Annotated[int, Field(ge=1, le=365, description="Look back this many days (default 7).")] = 7,
    season: Annotated[Season, Field(description="Only products for this season ('any' for all).")] = ANY,
    occasion: Annotated[Occasion, Field(description="Only products for this occasion ('any' for all).")] = ANY,
    category: Annotated[str | None, Field(description="Only this category (clothing, shoes, accessories) or kind "
                                          "(dresses, sneakers, bags...).")] = None,
    limit: Annotated[int, Field(ge=1, le=50, description="How many products (1-50).")] = 5,
) -> Trends:
    """What is popular in this shop right now: the in-stock products shoppers have searched for, added
    to their carts and bought most over the last days (recent activity counts more), each with its
    counts, plus the most searched terms. Computed from the shop's own records, not guessed.

    Typical requests: "what's trending?", "what are people buying for summer?", "what's popular for
    weddings?", "best sellers this week", "which sneakers are hot right now?".
    """
    return _run(get_trends().trending, days, None if season == ANY else season,
                None if occasion == ANY else occasion, category, limit)


def _warm() -> None:
    try:
        get_store().products.get("warm-up")
    except Exception:  # a missing catalog is reported by the first real call, not here
        log.debug("cart warm-up failed", exc_info=True)


def main(argv: list[str] | None = None) -> None:
    install_if_requested()
    parser = argparse.ArgumentParser(prog="python -m mcp_servers.cart", description=__doc__.splitlines()[0])
    parser.add_argument("--http", type=int, metavar="PORT", help="serve streamable HTTP on 127.0.0.1:PORT")
    args = parser.parse_args(argv)
    # Open the catalog while the client connects, so the first add_to_cart does not pay for it.
    threading.Thread(target=_warm, name="cart-warm-up", daemon=True).start()
    if args.http:
        mcp.run(transport="http", host="127.0.0.1", port=args.http, show_banner=False)
    else:
        mcp.run(show_banner=False)


if __name__ == "__main__":
    main()
