"""What the cart returns: pydantic models shared by the store, the MCP tools and the CLI.

They are the structured results the model reads, so field names are plain English and every amount
is already computed (line totals, cart total): the model should never have to do arithmetic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

EventKind = Literal["add", "remove", "update", "order"]


class CartLine(BaseModel):
    product_id: str
    name: str
    size: str | None = None
    colour: str | None = None
    quantity: int
    unit_price: float
    line_total: float
    currency: str
    available: bool = Field(
        default=True, description="False when the product has left the catalog; it cannot be bought."
    )


class CartView(BaseModel):
    user_id: str
    lines: list[CartLine] = Field(default_factory=list)
    item_count: int = Field(0, description="Number of items (sum of quantities).")
    total: float = 0.0
    currency: str | None = None
    message: str = ""


class CheckoutQuote(BaseModel):
    user_id: str
    confirmation_code: str = Field(description="Show it to the shopper; confirm only after they say yes.")
    expires_at: datetime
    lines: list[CartLine]
    item_count: int
    total: float
    currency: str
    message: str


class OrderLine(BaseModel):
    product_id: str
    name: str
    size: str | None = None
    colour: str | None = None
    quantity: int
    unit_price: float
    line_total: float


class Order(BaseModel):
    order_id: str
    user_id: str
    status: str = "placed"
    created_at: datetime
    lines: list[OrderLine]
    item_count: int
    total: float
    currency: str
    confirmation_code: str
    message: str = ""


class OrderList(BaseModel):
    user_id: str
    orders: list[Order] = Field(default_factory=list)


class CartEvent(BaseModel):
    """One recorded cart action; trends ("what is added and bought lately") are computed from these."""

    kind: EventKind
    user_id: str
    product_id: str
    quantity: int
    size: str | None = None
    colour: str | None = None
    order_id: str | None = None
    at: datetime
