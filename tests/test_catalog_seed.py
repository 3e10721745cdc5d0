"""The demo catalog generator and its cut-out images: deterministic, realistic, try-on ready."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from mcp_servers.catalog import vocab
from mcp_servers.catalog.models import Product
from mcp_servers.catalog.seed import generate, generate_products, render_item


@pytest.fixture(scope="module")
def catalog() -> list[dict]:
    return generate_products(1200, 7)


def test_same_seed_gives_identical_catalog_and_different_seed_does_not():
    a, b = generate_products(400, 11), generate_products(400, 11)
    assert a == b
    assert generate_products(400, 12) != a


def test_same_seed_draws_byte_identical_images(tmp_path):
    items = generate(60, 5)
    picked = {it.product["subcategory"]: it for it in items}.values()  # one of each kind present
    first = {it.product["id"]: render_item(it, tmp_path / "a").read_bytes() for it in picked}
    second = {it.product["id"]: render_item(it, tmp_path / "b").read_bytes() for it in picked}
    assert first == second
    assert len({hashlib.sha256(v).hexdigest() for v in first.values()}) == len(first)  # all different


def test_every_product_is_valid_and_unique(catalog):
    ids = [p["id"] for p in catalog]
    assert len(set(ids)) == len(ids) == 1200
    names = [p["name"] for p in catalog]
    assert len(set(names)) > 0.98 * len(names)
    for p in catalog:
        product = Product.model_validate(p)
        sub = vocab.SUBCATEGORY_BY_NAME[product.subcategory]
        assert product.category == sub.category
        assert sub.price[0] <= product.price <= sub.price[1]
        assert set(product.colours) <= set(vocab.COLOUR_FAMILIES)
        assert set(product.occasions) <= set(vocab.OCCASIONS) and product.occasions
        assert set(product.seasons) <= set(vocab.SEASONS) and product.seasons
        assert product.image == f"catalog_images/{product.id}.png"
        assert 0 <= product.rating <= 5
        if sub.sizing == "apparel":
            assert set(product.sizes) <= set(vocab.APPAREL_SIZES) and "M" in product.sizes
        elif sub.sizing == "shoes":
            assert all(s.isdigit() and 35 <= int(s) <= 46 for s in product.sizes)
        else:
            assert product.sizes == [vocab.ONE_SIZE]


def test_catalog_covers_every_kind_and_common_requests(catalog):
    kinds = Counter(p["subcategory"] for p in catalog)
    assert set(kinds) == set(vocab.SUBCATEGORY_BY_NAME)
    assert kinds["dresses"] >= 100
    stock = [p["stock"] for p in catalog]
    assert any(s == 0 for s in stock) and sum(1 <= s <= 3 for s in stock) > 50

    def matching(sub: str, colour: str, max_price: float, size: str) -> list[dict]:
        return [p for p in catalog if p["subcategory"] == sub and colour in p["colours"]
                and p["price"] <= max_price and size in p["sizes"] and p["stock"] > 0]

    assert len(matching("dresses", "red", 80, "M")) >= 3
    for sub in ("shirts", "t-shirts", "jeans", "knitwear"):
        for colour in ("black", "white", "navy", "blue"):
            assert matching(sub, colour, 1e9, "M"), (sub, colour)
    # Each price band of each kind is populated: budget, mid and premium.
    for sub in vocab.SUBCATEGORIES:
        prices = sorted(p["price"] for p in catalog if p["subcategory"] == sub.name)
        lo, hi = np.log(sub.price)
        thirds = np.exp([lo + (hi - lo) / 3, lo + 2 * (hi - lo) / 3])
        assert prices[0] < thirds[0] < prices[-1] and prices[-1] > thirds[1], sub.name


def test_names_and_descriptions_read_like_a_shop(catalog):
    dress = next(p for p in catalog if p["subcategory"] == "dresses")
    assert dress["name"].endswith("Dress") and dress["name"][0].isupper()
    for p in catalog[:200]:
        assert p["description"].endswith(".") and len(p["description"]) > 60
        shade = p["name"].split()[0].lower()
        assert shade in p["description"].lower()


def test_cutouts_are_transparent_cropped_and_in_the_product_colour(tmp_path):
    items = generate(200, 9)
    seen: set[str] = set()
    for item in items:
        if item.shape in seen or item.pattern:
            continue
        seen.add(item.shape)
        img = Image.open(render_item(item, tmp_path))
        assert img.mode == "RGBA" and img.width <= 384 and img.height <= 512
        alpha = np.asarray(img.getchannel("A"))
        rgb = np.asarray(img.convert("RGB")).reshape(-1, 3)
        opaque = alpha.reshape(-1) == 255
        # Clean alpha: fully transparent background, a solid garment, few partial (anti-aliased) pixels.
        assert alpha[0, 0] == alpha[0, -1] == alpha[-1, 0] == alpha[-1, -1] == 0 or item.shape in {"sandal"}
        thin = item.shape in {"necklace", "sunglasses", "sandal"}  # chains, frames and straps
        assert opaque.mean() > (0.05 if thin else 0.2), item.shape
        assert ((alpha > 0) & (alpha < 255)).mean() < 0.08, item.shape
        # Cropped to the garment: the opaque area touches (within the padding) every side.
        ys, xs = np.nonzero(alpha)
        assert xs.min() <= 3 and ys.min() <= 3 and xs.max() >= img.width - 4 and ys.max() >= img.height - 4
        # Mostly the garment's own colour (details, shading, soles and tinted lenses aside).
        near = (np.abs(rgb[opaque].astype(int) - np.array(item.rgb)).max(axis=1) < 50).mean()
        low = {"sunglasses": 0.1, "watch": 0.1, "sneaker": 0.35, "boot": 0.35, "loafer": 0.35, "heel": 0.35,
               "sandal": 0.3}
        assert near > low.get(item.shape, 0.5), (item.shape, near)
    assert len(seen) >= 10
