"""CatalogStore on a real (temporary) LanceDB catalog: filters always hold, ranking, stock, errors."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_servers.catalog import vocab
from mcp_servers.catalog.models import (
    CatalogMissing,
    EmbeddingModelMismatch,
    InvalidQuery,
    OutOfStock,
    Product,
    UnknownProduct,
)
from mcp_servers.catalog.seed import seed_catalog
from mcp_servers.catalog.store import VECTOR, CatalogStore

SIZE = 360


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> CatalogStore:
    uri = tmp_path_factory.mktemp("catalog") / "catalog.lance"
    return seed_catalog(uri, size=SIZE, seed=7, images=False)  # images: see test_seeding_draws_every_image


@pytest.fixture()
def scratch(tmp_path) -> CatalogStore:
    """A small catalog a test may change (stock, imports) without touching the shared one."""
    return seed_catalog(tmp_path / "catalog.lance", size=48, seed=3, images=False)


def satisfies(p: Product, f: dict) -> bool:
    if f.get("min_price") is not None and p.price < f["min_price"]:
        return False
    if f.get("max_price") is not None and p.price > f["max_price"]:
        return False
    if f.get("category") and vocab.normalise_category(f["category"]) not in (p.category, p.subcategory):
        return False
    if f.get("colour") and vocab.normalise_colour(f["colour"]) not in p.colours:
        return False
    if f.get("size") and vocab.normalise_size(f["size"]) not in p.sizes:
        return False
    if f.get("gender") and p.gender not in (vocab.normalise_gender(f["gender"]), "unisex"):
        return False
    return not (f.get("in_stock", True) and p.stock <= 0)


def test_seeded_table_records_the_embedding_model_and_seed(store):
    from godseye.embedding import MODEL_ID

    meta = store.metadata
    assert meta["embedding_model"] == MODEL_ID and meta["seed"] == "7" and meta["seed_size"] == str(SIZE)
    assert store.table.schema.field(VECTOR).metadata[b"embedding_model"] == MODEL_ID.encode()
    assert store.count() == SIZE


def test_seeding_draws_every_image_next_to_the_catalog(tmp_path):
    seeded = seed_catalog(tmp_path / "home" / "catalog.lance", size=30, seed=1)
    images = sorted((tmp_path / "home" / "catalog_images").glob("*.png"))
    assert len(images) == 30
    product = seeded.require("P000001")
    assert Path(product.image) == tmp_path / "home" / "catalog_images" / "P000001.png"
    seed_catalog(tmp_path / "home" / "catalog.lance", size=12, seed=1)  # re-seeding smaller drops stale cut-outs
    assert len(list((tmp_path / "home" / "catalog_images").glob("*.png"))) == 12


FILTERS = st.fixed_dictionaries({}, optional={
    "min_price": st.sampled_from([0, 10, 25.5, 50, 120]),
    "max_price": st.sampled_from([30, 80, 99.99, 200, 1000]),
    "category": st.sampled_from(["clothing", "shoes", "accessories", "dresses", "dress", "jeans", "Sneakers",
                                 "bags", "knitwear", "footwear"]),
    "colour": st.sampled_from(["red", "Navy", "black", "white", "ivory", "beige", "green", "gray", "pink"]),
    "size": st.sampled_from(["M", "s", "XL", "medium", "38", "EU 41", "One Size"]),
    "gender": st.sampled_from(["women", "men", "Women's"]),
    "in_stock": st.booleans(),
})
QUERIES = st.sampled_from(["red dress", "linen shirt for a beach wedding", "black leather boots", "warm winter coat",
                           "something for the office", "gold jewellery", "", "zzzz nothing", "sneakers",
                           "silk scarf for a party", "it's \"quoted\" (odd) AND query:"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=QUERIES, filters=FILTERS, mode=st.sampled_from(["hybrid", "vector", "fts"]),
       limit=st.integers(1, 12))
def test_every_result_satisfies_every_filter(store, query, filters, mode, limit):
    if filters.get("min_price") is not None and filters.get("max_price") is not None \
            and filters["min_price"] > filters["max_price"]:
        with pytest.raises(InvalidQuery):
            store.search(query, mode=mode, limit=limit, **filters)
        return
    results = store.search(query, mode=mode, limit=limit, **filters)
    assert len(results) <= limit
    assert len({p.id for p in results}) == len(results)
    for p in results:
        assert satisfies(p, filters), (p, filters)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters=FILTERS)
def test_filter_mask_matches_lancedb_sql_and_vector_search_is_exact(store, filters):
    """The in-memory mask and the SQL prefilter are the same constraint; vector ranking equals LanceDB's."""
    if (filters.get("min_price") or 0) > filters.get("max_price", 1e9):
        return
    f = store.filters(**filters)
    snap = store.snapshot()
    mask = snap.mask(f)
    expected = store.table.count_rows(f.sql()) if f.sql() else SIZE
    assert (SIZE if mask is None else int(mask.sum())) == expected
    if not expected:
        return
    query = snap.vectors[7]
    builder = store.table.search(query, vector_column_name=VECTOR).distance_type("cosine")
    if f.sql():
        builder = builder.where(f.sql(), prefilter=True)
    reference = builder.select(["id", "_distance"]).limit(8).to_arrow()
    ours = snap.nearest(query, mask, 8)
    # Same ranking, allowing ties in distance to be ordered differently.
    ref_dist = dict(zip(reference["id"].to_pylist(), reference["_distance"].to_pylist(), strict=True))
    assert len(ours) == len(ref_dist)
    ours_dist = [1 - float(snap.vectors[snap.position[i]] @ query) for i in ours]
    np.testing.assert_allclose(sorted(ours_dist), sorted(ref_dist.values()), atol=1e-4)


def test_hybrid_puts_red_dresses_first(store):
    results = store.search("red dress", limit=5)
    assert all(p.subcategory == "dresses" and "red" in p.colours for p in results[:3]), results
    cheap = store.search("red dress", max_price=80, size="M", limit=5)
    assert cheap and all(p.subcategory == "dresses" and "red" in p.colours for p in cheap[:2])
    boots = store.search("black leather boots", limit=3)
    assert boots[0].subcategory == "boots" and "black" in boots[0].colours


def test_each_mode_finds_the_product_by_its_own_name(store):
    product = store.require("P000042")
    for mode in ("hybrid", "vector", "fts"):
        found = store.search(product.name, mode=mode, in_stock=False, limit=5)
        assert product.id in [p.id for p in found], mode


def test_empty_query_browses_by_rating(store):
    results = store.search("", category="shoes", limit=10)
    assert [p.rating for p in results] == sorted((p.rating for p in results), reverse=True)
    assert all(p.category == "shoes" and p.stock > 0 for p in results)


def test_get_similar_and_unknown_ids(store):
    product = store.require("P000010")
    assert store.get("P000010") == product
    assert store.get("nope") is None
    with pytest.raises(UnknownProduct, match="nope"):
        store.require("nope")
    assert [p.id for p in store.get_many(["P000003", "missing", "P000001"])] == ["P000003", "P000001"]
    similar = store.similar(product.id, limit=5)
    assert len(similar) == 5 and product.id not in [p.id for p in similar]
    assert all(p.stock > 0 for p in similar)
    assert sum(p.subcategory == product.subcategory for p in similar) >= 3
    with pytest.raises(UnknownProduct):
        store.similar("nope")


@pytest.mark.parametrize("kwargs, message", [
    ({"colour": "teal-ish"}, "colours: "),
    ({"size": "XXXXL"}, "sizes: XS, S, M"),
    ({"category": "spaceships"}, "categories: "),
    ({"min_price": 50, "max_price": 10}, "above max_price"),
    ({"max_price": -1}, "non-negative"),
    ({"max_price": float("nan")}, "non-negative"),
    ({"limit": 0}, "limit"),
    ({"limit": 51}, "limit"),
    ({"mode": "magic"}, "mode"),
    ({"gender": "robots"}, "gender"),
])
def test_bad_search_arguments_are_clear_errors(store, kwargs, message):
    with pytest.raises(InvalidQuery, match=message):
        store.search("dress", **kwargs)
    with pytest.raises(InvalidQuery, match="too long"):
        store.search("x" * 501)


def test_overview_counts_add_up(store):
    overview = store.overview()
    assert overview.total_products == SIZE
    assert sum(c.count for c in overview.categories) == SIZE
    for c in overview.categories:
        assert sum(s.count for s in c.subcategories) == c.count
    assert overview.sizes[:6] == list(vocab.APPAREL_SIZES)
    assert "red" in overview.colours and overview.currency == "USD"
    assert 0 < overview.price_min < overview.price_max


def test_decrement_stock_and_its_errors(scratch):
    product = next(p for p in scratch.search("", in_stock=True, limit=50) if p.stock >= 3)
    assert scratch.decrement_stock(product.id, 2) == product.stock - 2
    with pytest.raises(OutOfStock, match=f"has {product.stock - 2} in stock"):
        scratch.decrement_stock(product.id, product.stock)
    assert scratch.require(product.id).stock == product.stock - 2  # unchanged by the failure
    with pytest.raises(UnknownProduct):
        scratch.decrement_stock("nope", 1)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidQuery):
            scratch.decrement_stock(product.id, bad)
    assert scratch.increment_stock(product.id, 2) == product.stock
    sold_out = scratch.decrement_stock(product.id, product.stock)
    assert sold_out == 0
    with pytest.raises(OutOfStock, match="sold out"):
        scratch.decrement_stock(product.id, 1)
    # Another process's view (a second store) sees it sold out and stops offering it.
    other = CatalogStore(scratch.uri)
    assert other.require(product.id).stock == 0
    assert product.id not in [p.id for p in other.search(product.name, limit=20)]
    assert product.id in [p.id for p in other.search(product.name, in_stock=False, limit=20)]


def test_concurrent_checkouts_never_oversell(scratch):
    product = next(p for p in scratch.search("", limit=50) if p.stock >= 4)
    scratch.increment_stock(product.id, 10 - product.stock) if product.stock < 10 else None
    start = scratch.require(product.id).stock
    sold, refused = [], []

    def buyer() -> None:
        store = CatalogStore(scratch.uri)  # like the cart server: its own connection
        for _ in range(4):
            try:
                store.decrement_stock(product.id, 1)
                sold.append(1)
            except OutOfStock:
                refused.append(1)

    threads = [threading.Thread(target=buyer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sold) == min(start, 16) and len(sold) + len(refused) == 16
    assert scratch.require(product.id).stock == start - len(sold)


def test_missing_catalog_and_model_mismatch(tmp_path, scratch, monkeypatch):
    with pytest.raises(CatalogMissing, match="godseye catalog seed"):
        CatalogStore(tmp_path / "empty" / "catalog.lance").search("dress")
    import godseye.embedding

    monkeypatch.setattr(godseye.embedding, "MODEL_ID", "some-other-model")
    with pytest.raises(EmbeddingModelMismatch, match="re-seed"):
        CatalogStore(scratch.uri).search("dress")


def test_other_processes_writes_reach_a_cached_snapshot(scratch):
    """Stock changes refresh only stock; new products (a new generation) reload the vectors."""
    reader = CatalogStore(scratch.uri)
    before = reader.snapshot()
    product = next(p for p in reader.search("", limit=50) if p.stock >= 2)
    scratch.decrement_stock(product.id, 1)
    after = reader.snapshot()
    assert after is before and after.stock[after.position[product.id]] == product.stock - 1
    new = product.model_copy(update={"id": "NEW-1", "name": "Emerald Velvet Opera Cape", "stock": 4})
    scratch.upsert([new])
    assert reader.snapshot() is not before and reader.count() == 49
    assert reader.search("emerald velvet opera cape", mode="vector", limit=1)[0].id == "NEW-1"
