"""The product catalog on LanceDB: hybrid (vector + full-text) search with filters that always hold.

Design choices, and why:
- One table, `products`, with a 384-d `vector` column from the local MiniLM embedder. The model id is
  written into the table's schema metadata and the vector field's metadata, and checked on open, so
  vectors of two models can never be compared (re-seed or re-import after changing models).
- Full-text search uses LanceDB's native inverted index (BM25, English stemming) over one
  `search_text` column that holds name, kind, colours, materials, occasions and description.
- Hybrid search fuses a vector ranking and a BM25 ranking by reciprocal rank fusion. Every constraint
  (price, category, colour, size, stock) is a prefilter on both sides (a SQL WHERE for LanceDB's
  full-text search, the same `Filters` as a mask for the vectors), so a returned product satisfies
  it by construction, not by post-filtering a top-k.
- Vectors are compared exactly, in memory (see `snapshot.py` for why and the measurements): the
  table's vectors and filter columns are cached per content generation, so a 100k catalog answers a
  filtered vector query in a few ms with no ANN index to train or keep fresh.
- Stock changes are a conditional SQL update (`stock >= qty`) in one commit, so two checkouts can't
  sell the same last unit; readers see other processes' writes (read consistency 0 s).
"""

from __future__ import annotations

import math
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa

from godseye.config import get_settings
from mcp_servers.catalog import vocab
from mcp_servers.catalog.models import (
    CatalogMissing,
    CatalogOverview,
    CategoryCount,
    EmbeddingModelMismatch,
    InvalidQuery,
    OutOfStock,
    Product,
    SubcategoryCount,
    UnknownProduct,
)
from mcp_servers.catalog.query_understanding import implied_subcategory
from mcp_servers.catalog.snapshot import SNAPSHOT_COLUMNS, Filters, Snapshot, sql_str
from telemetry.llmobs import retrieval

# LanceDB's Rust logger warns on every new table ("No existing dataset ..."): keep stderr for errors.
os.environ.setdefault("LANCEDB_LOG", "error")

# Re-exported: callers (the cart server) catch these from here.
__all__ = ["CatalogStore", "Product", "UnknownProduct", "OutOfStock", "InvalidQuery", "CatalogMissing",
           "EmbeddingModelMismatch", "embedding_text", "search_text"]

TABLE = "products"
VECTOR = "vector"
TEXT = "search_text"
MODEL_KEY = b"embedding_model"
GENERATION_KEY = b"generation"  # changes when products are (re)written, not when stock changes
RRF_K = 60  # the usual reciprocal-rank-fusion constant
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="catalog-fts")
MAX_LIMIT = 50
SearchMode = Literal["hybrid", "vector", "fts"]
LIST_FIELDS = ("colours", "sizes", "materials", "occasions", "seasons")
PRODUCT_COLUMNS = list(Product.model_fields)
GENDER_TERMS = {"women": "women womens ladies", "men": "men mens", "unisex": "unisex women men"}


def _model_id() -> str:
    from godseye.embedding import MODEL_ID

    return MODEL_ID


def embedding_text(p: Product | dict) -> str:
    """The compact text a product's vector is computed from (short: embedding cost grows with length)."""
    d = p.model_dump() if isinstance(p, Product) else p
    parts = [
        d["name"],
        f"{d.get('gender') or 'unisex'} {d['subcategory']}",
        " ".join(d.get("colours") or []),
        " ".join(d.get("materials") or []),
        " ".join(d.get("occasions") or []),
        " ".join(d.get("seasons") or []),
    ]
    return ". ".join(x for x in parts if x)


def search_text(p: Product | dict) -> str:
    """What the full-text index sees: everything a shopper might type, name first."""
    d = p.model_dump() if isinstance(p, Product) else p
    # The name and the kind appear twice: they matter more to BM25 than words of the description.
    return " | ".join(x for x in (
        d["name"],
        d["name"],
        d["subcategory"],
        d["category"],
        d["subcategory"],
        GENDER_TERMS.get(d.get("gender") or "", d.get("gender") or ""),
        " ".join(d.get("colours") or []),
        " ".join(d.get("materials") or []),
        " ".join(d.get("occasions") or []),
        " ".join(d.get("seasons") or []),
        d.get("description") or "",
    ) if x)


def _schema(model_id: str, extra_metadata: dict[str, str] | None = None) -> pa.Schema:
    strings = pa.list_(pa.string())
    meta = {MODEL_KEY: model_id.encode(), b"embedding_dim": b"384", GENERATION_KEY: uuid.uuid4().hex.encode()}
    meta.update({k.encode(): v.encode() for k, v in (extra_metadata or {}).items()})
    return pa.schema([
        pa.field("id", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("description", pa.string()),
        pa.field("category", pa.string()),
        pa.field("subcategory", pa.string()),
        pa.field("gender", pa.string()),
        *(pa.field(f, strings) for f in LIST_FIELDS),
        pa.field("price", pa.float64()),
        pa.field("currency", pa.string()),
        pa.field("stock", pa.int64()),
        pa.field("rating", pa.float64()),
        pa.field("image", pa.string()),
        pa.field("photo", pa.string()),
        pa.field(TEXT, pa.string()),
        pa.field(VECTOR, pa.list_(pa.float32(), 384), metadata={MODEL_KEY: model_id.encode()}),
    ], metadata=meta)


class CatalogStore:
    """All catalog reads and writes. Cheap to construct; the table opens on first use."""

    def __init__(self, uri: str | Path | None = None, *, read_consistency_s: float = 0.0):
        self.uri = Path(uri) if uri is not None else get_settings().catalog_uri
        # Relative image paths in the table resolve against the folder that holds the catalog.
        self.media_root = self.uri.parent
        self._consistency = timedelta(seconds=read_consistency_s)
        self._db = None
        self._table = None
        self._lock = threading.RLock()
        self._snapshot: Snapshot | None = None
        self._writes_since_optimize = 0

    # --- connection --------------------------------------------------------------------------------

    @property
    def db(self):  # type: ignore[no-untyped-def]
        if self._db is None:
            import lancedb

            self.uri.mkdir(parents=True, exist_ok=True)
            self._db = lancedb.connect(str(self.uri), read_consistency_interval=self._consistency)
        return self._db

    def exists(self) -> bool:
        """True when the product table is there (it may still be empty)."""
        if not self.uri.exists():
            return False
        return TABLE in self.db.list_tables().tables

    @property
    def table(self):  # type: ignore[no-untyped-def]
        if self._table is None:
            with self._lock:
                if self._table is None:
                    if not self.exists():
                        raise CatalogMissing(
                            f"no catalog at {self.uri}: run `godseye catalog seed` or `godseye catalog import`"
                        )
                    table = self.db.open_table(TABLE)
                    stored = (table.schema.metadata or {}).get(MODEL_KEY, b"").decode()
                    if stored != _model_id():
                        raise EmbeddingModelMismatch(
                            f"catalog vectors were made with {stored or 'an unknown model'!r}, the embedder is "
                            f"{_model_id()!r}: re-seed or re-import the catalog"
                        )
                    self._table = table
        return self._table

    @property
    def metadata(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in (self.table.schema.metadata or {}).items()}

    def count(self) -> int:
        return self.table.count_rows()

    # --- writes ------------------------------------------------------------------------------------

    def create(self, products: Sequence[dict | Product], *, vectors: np.ndarray | None = None,
               progress: Callable[[str, int, int], None] | None = None,
               metadata: dict[str, str] | None = None) -> int:
        """Replace the catalog with `products` (validated), embedding them unless `vectors` is given.

        Identical embedding texts are embedded once. Returns the number of products written.
        """
        validated = [p if isinstance(p, Product) else Product.model_validate(p) for p in products]
        if not validated:
            raise InvalidQuery("refusing to create an empty catalog")
        data = self._arrow(validated, vectors, progress, metadata)
        with self._lock:
            self._table = None
            self._snapshot = None
            table = self.db.create_table(TABLE, data, mode="overwrite")
            self._index(table)
            self._table = None
        return len(validated)

    def upsert(self, products: Sequence[dict | Product], *,
               progress: Callable[[str, int, int], None] | None = None) -> int:
        """Insert or replace products by id in one commit (other products stay as they are)."""
        validated = [p if isinstance(p, Product) else Product.model_validate(p) for p in products]
        if not validated:
            return 0
        keep = {k: v for k, v in self.metadata.items() if k not in ("embedding_model", "embedding_dim", "generation")}
        data = self._arrow(validated, None, progress, keep)
        with self._lock:
            (self.table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all()
             .execute(data))
            self.table.optimize()  # folds the new rows into the full-text index
            # A new generation tells every process holding a snapshot to reload vectors.
            self.table.to_lance().update_schema_metadata({"generation": uuid.uuid4().hex})
            self._snapshot = None
        return len(validated)

    def _arrow(self, products: list[Product], vectors: np.ndarray | None,
               progress: Callable[[str, int, int], None] | None,
               metadata: dict[str, str] | None) -> pa.Table:
        if vectors is None:
            vectors = self.embed_products(products, progress)
        if vectors.shape != (len(products), 384):
            raise ValueError(f"expected vectors of shape ({len(products)}, 384), got {vectors.shape}")
        ids = [p.id for p in products]
        if len(set(ids)) != len(ids):
            raise InvalidQuery("product ids must be unique")
        rows = [p.model_dump() for p in products]
        columns: dict[str, list] = {c: [r[c] for r in rows] for c in PRODUCT_COLUMNS}
        columns[TEXT] = [search_text(r) for r in rows]
        vec = np.ascontiguousarray(vectors, dtype=np.float32)
        columns[VECTOR] = pa.FixedSizeListArray.from_arrays(pa.array(vec.ravel()), 384)
        schema = _schema(_model_id(), metadata)
        return pa.table({f.name: columns[f.name] for f in schema}, schema=schema)

    @staticmethod
    def embed_products(products: Sequence[dict | Product],
                       progress: Callable[[str, int, int], None] | None = None) -> np.ndarray:
        """Vectors for products, embedding each distinct text once (variants share a vector)."""
        from godseye.embedding import get_embedder

        texts = [embedding_text(p) for p in products]
        unique = list(dict.fromkeys(texts))
        embedder = get_embedder()
        out = np.empty((len(unique), 384), dtype=np.float32)
        step = 256
        for start in range(0, len(unique), step):
            out[start:start + step] = embedder.embed(unique[start:start + step])
            if progress:
                progress("embeddings", min(start + step, len(unique)), len(unique))
        index = {t: i for i, t in enumerate(unique)}
        return out[[index[t] for t in texts]]

    @staticmethod
    def _index(table) -> None:  # type: ignore[no-untyped-def]
        """Full-text index, and scalar indexes so the filters of a full-text query are index lookups
        rather than scans (at 100k products: ~12 ms instead of 50-100 ms per filtered query)."""
        from lancedb.index import FTS, Bitmap, BTree, LabelList

        table.create_index(TEXT, config=FTS(stem=True, remove_stop_words=True, ascii_folding=True), replace=True)
        for column, config in (("id", BTree()), ("price", BTree()), ("stock", BTree()),
                               ("category", Bitmap()), ("subcategory", Bitmap()), ("gender", Bitmap()),
                               ("colours", LabelList()), ("sizes", LabelList())):
            table.create_index(column, config=config, replace=True)

    def decrement_stock(self, product_id: str, qty: int = 1) -> int:
        """Take `qty` units of a product; returns the stock left.

        Raises `UnknownProduct` or `OutOfStock` (nothing changes then). The check and the write are one
        conditional update, so concurrent checkouts never oversell.
        """
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
            raise InvalidQuery(f"quantity must be a whole number of at least 1, got {qty!r}")
        result = self._update_with_retry(f"id = {sql_str(product_id)} AND stock >= {qty}",
                                         {"stock": f"stock - {qty}"})
        if result.rows_updated == 0:
            current = self._row(product_id)
            if current is None:
                raise UnknownProduct(product_id)
            raise OutOfStock(product_id, qty, current.stock)
        self._after_write()
        after = self._row(product_id)
        return after.stock if after else 0

    def increment_stock(self, product_id: str, qty: int = 1) -> int:
        """Put `qty` units back (a failed checkout's undo, or a restock); returns the new stock."""
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
            raise InvalidQuery(f"quantity must be a whole number of at least 1, got {qty!r}")
        result = self._update_with_retry(f"id = {sql_str(product_id)}", {"stock": f"stock + {qty}"})
        if result.rows_updated == 0:
            raise UnknownProduct(product_id)
        self._after_write()
        return self.require(product_id).stock

    def _update_with_retry(self, where: str, values_sql: dict[str, str]):  # type: ignore[no-untyped-def]
        for attempt in range(5):  # a concurrent writer can make the commit conflict: retry
            try:
                return self.table.update(where=where, values_sql=values_sql)
            except (OSError, RuntimeError) as exc:
                if attempt == 4 or "conflict" not in str(exc).lower():
                    raise
        raise AssertionError("unreachable")

    def _after_write(self) -> None:
        self._writes_since_optimize += 1
        if self._writes_since_optimize >= 100:
            self._writes_since_optimize = 0
            threading.Thread(target=self.optimize, name="catalog-optimize", daemon=True).start()

    def optimize(self) -> None:
        """Compact small fragments left by stock updates and fold them into the indexes."""
        with self._lock:
            self.table.optimize()

    # --- reads -------------------------------------------------------------------------------------

    def _to_products(self, table: pa.Table) -> list[Product]:
        out = []
        for row in table.select([c for c in PRODUCT_COLUMNS if c in table.column_names]).to_pylist():
            for f in LIST_FIELDS:
                row[f] = row[f] or []
            row["image"] = self._media(row.get("image"))
            row["photo"] = self._media(row.get("photo")) if row.get("photo") else None
            out.append(Product.model_validate(row))
        return out

    def _media(self, path: str | None) -> str:
        if not path:
            return ""
        if "://" in path or Path(path).is_absolute():
            return path
        return str(self.media_root / path)

    def _row(self, product_id: str) -> Product | None:
        rows = (self.table.search().where(f"id = {sql_str(product_id)}").select(PRODUCT_COLUMNS).limit(1)
                .to_arrow())
        found = self._to_products(rows)
        return found[0] if found else None

    def get(self, product_id: str) -> Product | None:
        """The product with this id, or None (the cart's product-source protocol)."""
        return self._row(product_id)

    def require(self, product_id: str) -> Product:
        """The product with this id, or `UnknownProduct`."""
        product = self._row(product_id)
        if product is None:
            raise UnknownProduct(product_id)
        return product

    def get_many(self, product_ids: Sequence[str]) -> list[Product]:
        """Products for these ids, in the given order; unknown ids are skipped."""
        if not product_ids:
            return []
        rows = (self.table.search().where(f"id IN ({', '.join(sql_str(i) for i in product_ids)})")
                .select(PRODUCT_COLUMNS).limit(len(product_ids)).to_arrow())
        by_id = {p.id: p for p in self._to_products(rows)}
        return [by_id[i] for i in product_ids if i in by_id]

    @retrieval("lancedb.similar", query_arg="product_id")
    def similar(self, product_id: str, limit: int = 5, *, in_stock: bool = True) -> list[Product]:
        """Nearest products by meaning (same vector space as search), excluding the product itself."""
        limit = self._check_limit(limit)
        snap = self.snapshot()
        pos = snap.position.get(product_id)
        if pos is None:
            raise UnknownProduct(product_id)
        mask = snap.mask(Filters(in_stock=in_stock, exclude_id=product_id))
        return self._found(snap, snap.nearest(snap.vectors[pos], mask, limit))

    @retrieval("lancedb.search")
    def search(self, query: str = "", *, min_price: float | None = None, max_price: float | None = None,
               category: str | None = None, subcategory: str | None = None, colour: str | None = None,
               size: str | None = None, gender: str | None = None, in_stock: bool = True,
               limit: int = 5, mode: SearchMode = "hybrid") -> list[Product]:
        """Products matching `query`, best first, every one satisfying every given filter.

        `category` matches a category or a subcategory ("shoes", "dresses", "dress"); `colour` and
        `size` accept shades and spellings ("ivory", "medium"); `gender` keeps unisex items too.
        An empty query browses the filtered catalog by rating.
        """
        limit = self._check_limit(limit)
        if query and not category and not subcategory:
            snap = self.snapshot()
            subcategory = implied_subcategory(query, set(snap.subcategory.values), set(snap.category.values))
        if mode not in ("hybrid", "vector", "fts"):
            raise InvalidQuery(f"unknown search mode {mode!r}; use hybrid, vector or fts")
        query = (query or "").strip()
        if len(query) > 500:
            raise InvalidQuery("query is too long (500 characters at most)")
        filters = self.filters(min_price=min_price, max_price=max_price, category=category,
                               subcategory=subcategory, colour=colour, size=size, gender=gender,
                               in_stock=in_stock)
        snap = self.snapshot()
        mask = snap.mask(filters)
        if not query:
            return self._found(snap, snap.best_rated(mask, limit))
        if mode == "fts":
            return self._found(snap, self._fts_ids(query, filters, limit))
        from godseye.embedding import get_embedder

        if mode == "vector":
            return self._found(snap, snap.nearest(get_embedder().embed_one(query), mask, limit))
        # Full-text search (LanceDB, Rust) and embedding + scoring (onnxruntime, BLAS) both release the
        # GIL: run them side by side, so hybrid costs about the slower of the two rather than their sum.
        depth = self._depth(limit)
        fts = _POOL.submit(self._fts_ids, query, filters, depth)
        vector_ids = snap.nearest(get_embedder().embed_one(query), mask, depth)
        fused = _rrf([vector_ids, fts.result()])
        return self._found(snap, fused[:limit])

    def _found(self, snap: Snapshot, ids: list[str]) -> list[Product]:
        """Search results from the snapshot's rows (no second query), with current stock."""
        return self._to_products(snap.take(ids))

    @staticmethod
    def _depth(limit: int) -> int:
        """How deep each ranking goes before fusion: RRF needs overlap between the lists to help."""
        return max(limit * 3, 15)

    def _fts_ids(self, query: str, filters: Filters, k: int) -> list[str]:
        builder = self.table.search(query, query_type="fts", fts_columns=TEXT)
        where = filters.sql()
        if where:
            builder = builder.where(where, prefilter=True)
        rows = builder.select(["id"]).limit(k).to_arrow()
        return rows["id"].to_pylist()

    # --- the in-memory snapshot ---------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The current snapshot: reloaded on a new content generation, stock refreshed on a new version."""
        table = self.table
        version = table.version
        snap = self._snapshot
        if snap is not None and snap.version == version:
            return snap
        with self._lock:
            snap = self._snapshot
            generation = (table.schema.metadata or {}).get(GENERATION_KEY, b"").decode()
            dataset = table.to_lance()
            if snap is not None and snap.generation == generation and generation:
                snap.refresh_stock(dataset.to_table(columns=["id", "stock"]), version)
                return snap
            rows = dataset.to_table(columns=[*dict.fromkeys([*SNAPSHOT_COLUMNS, *PRODUCT_COLUMNS]), VECTOR])
            vectors = rows[VECTOR].combine_chunks().flatten().to_numpy().reshape(-1, 384)
            self._snapshot = Snapshot(rows.drop_columns([VECTOR]), vectors, version=version,
                                      generation=generation)
            return self._snapshot

    # --- filters -----------------------------------------------------------------------------------

    @staticmethod
    def _check_limit(limit: int) -> int:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}, got {limit!r}")
        return limit

    def filters(self, *, min_price: float | None = None, max_price: float | None = None,
                category: str | None = None, subcategory: str | None = None, colour: str | None = None,
                size: str | None = None, gender: str | None = None, in_stock: bool = False) -> Filters:
        """Normalise and check search constraints against what the catalog holds.

        Unknown values are errors that list what exists, so a model can correct itself.
        """
        for label, bound in (("min_price", min_price), ("max_price", max_price)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)
                                      or not math.isfinite(bound) or bound < 0):
                raise InvalidQuery(f"{label} must be a non-negative number, got {bound!r}")
        if min_price is not None and max_price is not None and min_price > max_price:
            raise InvalidQuery(f"min_price ({min_price}) is above max_price ({max_price})")
        snap = self.snapshot()
        categories, subcategories = set(snap.category.values), set(snap.subcategory.values)
        cat = sub = col = siz = gen = None
        if category:
            cat = vocab.normalise_category(category)
            if cat not in categories and cat not in subcategories:
                raise InvalidQuery(f"unknown category {category!r}; categories: {', '.join(sorted(categories))}; "
                                   f"kinds: {', '.join(sorted(subcategories))}")
        if subcategory:
            sub = vocab.normalise_category(subcategory)
            if sub not in subcategories:
                raise InvalidQuery(f"unknown subcategory {subcategory!r}; kinds: {', '.join(sorted(subcategories))}")
        if colour:
            col = vocab.normalise_colour(colour)
            if col not in snap.colours.values:
                raise InvalidQuery(f"no products in colour {colour!r}; colours: {', '.join(sorted(snap.colours.values))}")
        if size:
            siz = vocab.normalise_size(str(size))
            if siz not in snap.sizes.values:
                raise InvalidQuery(f"unknown size {size!r}; sizes: {', '.join(_size_order(snap.sizes.values))}")
        if gender:
            gen = vocab.normalise_gender(gender)
            if gen not in ("women", "men", "unisex"):
                raise InvalidQuery(f"gender must be women, men or unisex, got {gender!r}")
        return Filters(min_price=None if min_price is None else float(min_price),
                       max_price=None if max_price is None else float(max_price),
                       category=cat, subcategory=sub, colour=col, size=siz, gender=gen, in_stock=in_stock)

    def where_clause(self, **constraints) -> str:  # type: ignore[no-untyped-def]
        """The SQL prefilter for these constraints (see `filters`)."""
        return self.filters(**constraints).sql()

    def categories(self) -> list[CategoryCount]:
        """Categories with their subcategories and product counts, largest first."""
        snap = self.snapshot()
        counts: dict[str, dict[str, int]] = {}
        cats, subs = snap.category, snap.subcategory
        pairs, n = np.unique(np.stack([cats.codes, subs.codes]), axis=1, return_counts=True)
        for (c, s), k in zip(pairs.T.tolist(), n.tolist(), strict=True):
            counts.setdefault(cats.values[c], {})[subs.values[s]] = k
        out = [CategoryCount(name=cat, count=sum(subs_.values()),
                             subcategories=[SubcategoryCount(name=s, count=k) for s, k in
                                            sorted(subs_.items(), key=lambda kv: (-kv[1], kv[0]))])
               for cat, subs_ in counts.items()]
        return sorted(out, key=lambda c: (-c.count, c.name))

    def overview(self) -> CatalogOverview:
        """Everything a shopper can filter by, for `list_categories`."""
        snap = self.snapshot()
        currencies = snap.currencies
        return CatalogOverview(
            total_products=snap.n,
            categories=self.categories(),
            colours=sorted(snap.colours.values),
            sizes=_size_order(snap.sizes.values),
            price_min=float(snap.price.min()) if snap.n else None,
            price_max=float(snap.price.max()) if snap.n else None,
            currency=next(iter(currencies)) if len(currencies) == 1 else "mixed",
        )


def _rrf(rankings: Sequence[list[str]], k: int = RRF_K) -> list[str]:
    """Reciprocal rank fusion: sum of 1/(k + rank) over the rankings; ties keep first-seen order."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, pid in enumerate(ranking, 1):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda pid: -scores[pid])


def _size_order(sizes: Iterable[str]) -> list[str]:
    """XS..XXL first in their natural order, then numeric sizes ascending, then anything else."""
    def key(s: str) -> tuple[int, float, str]:
        if s in vocab.APPAREL_SIZES:
            return (0, vocab.APPAREL_SIZES.index(s), s)
        try:
            return (1, float(s), s)
        except ValueError:
            return (2, 0.0, s)
    return sorted(set(sizes), key=key)
