"""The catalog's data shapes and errors: what the store returns and the MCP tools put in structuredContent.

Kept free of LanceDB imports so the cart server, the agents and the UI can use `Product` and the
error types without loading the vector database.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class Product(BaseModel):
    """One product as shoppers and agents see it (no vector, no internal search text)."""

    id: str
    name: str
    description: str = ""
    category: str = Field(description="clothing, shoes, accessories, or a shop's own top-level category")
    subcategory: str = Field(description="e.g. dresses, sneakers, bags")
    gender: str = Field(default="unisex", description="women, men or unisex")
    colours: list[str] = Field(default_factory=list, description="plain colour names, main colour first")
    sizes: list[str] = Field(default_factory=list, description="XS..XXL, EU shoe sizes, or 'One Size'")
    materials: list[str] = Field(default_factory=list)
    occasions: list[str] = Field(default_factory=list)
    seasons: list[str] = Field(default_factory=list)
    price: float = Field(description="unit price in `currency`")
    currency: str = "USD"
    stock: int = Field(description="units available; 0 means sold out")
    rating: float | None = Field(default=None, description="average review score 0..5, if known")
    image: str = Field(default="", description="path of the transparent PNG cut-out used for try-on")
    photo: str | None = Field(default=None, description="path or URL of the shop's own product photo")


class SubcategoryCount(BaseModel):
    name: str
    count: int


class CategoryCount(BaseModel):
    name: str
    count: int
    subcategories: list[SubcategoryCount]


class CatalogOverview(BaseModel):
    """What a shopper can filter by: categories with counts, colours, sizes and the price range."""

    total_products: int
    categories: list[CategoryCount]
    colours: list[str]
    sizes: list[str]
    price_min: float | None
    price_max: float | None
    currency: str = "USD"


class CatalogError(Exception):
    """Base class: every catalog failure has a plain, user-readable message."""


class CatalogMissing(CatalogError):
    """The catalog table does not exist yet: seed or import one."""


class UnknownProduct(CatalogError, LookupError):
    def __init__(self, product_id: str):
        self.product_id = product_id
        super().__init__(f"no product with id {product_id!r}")


class OutOfStock(CatalogError):
    def __init__(self, product_id: str, requested: int, available: int):
        self.product_id = product_id
        self.requested = requested
        self.available = available
        super().__init__(
            f"product {product_id!r} has {available} in stock; {requested} requested"
            if available
            else f"product {product_id!r} is sold out"
        )


class InvalidQuery(CatalogError, ValueError):
    """A search argument that cannot be satisfied as given (bad price range, unknown colour, ...)."""


class EmbeddingModelMismatch(CatalogError):
    """The table's vectors came from another embedding model: never compare vectors across models."""
