"""Search filters, and the in-memory copy of the catalog's vectors and filter columns.

Why an in-memory copy: LanceDB's flat (exact) vector search decodes the whole vector column from disk
on every query, which measured 0.3-2 s per query at 100k products on this 2-core machine, and the ANN
indexes we tried were either slow to build (IVF_HNSW_SQ: minutes) or returned too few rows under
selective prefilters. Holding the vectors (N x 384 float32: 150 MB at 100k, 2 MB for the demo
catalog) and the few filter columns in numpy makes exact, filtered vector search a single matrix-
vector product: a few ms at 100k. LanceDB stays the store of record: the copy is rebuilt when the
table's content generation changes (a seed, an import) and only its stock column is refreshed when
a checkout changes stock.

`Filters` is the one normalised form of the search constraints; it renders both the SQL prefilter
(for LanceDB full-text search) and the boolean mask (for vectors), so both sides of a hybrid search
apply exactly the same constraints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SNAPSHOT_COLUMNS = ["id", "category", "subcategory", "gender", "colours", "sizes", "price", "currency",
                    "stock", "rating"]


def sql_str(value: str) -> str:
    """A SQL string literal (the only escaping the filter grammar needs)."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Filters:
    """Normalised, validated search constraints (None means "any")."""

    min_price: float | None = None
    max_price: float | None = None
    category: str | None = None  # matches category OR subcategory
    subcategory: str | None = None
    colour: str | None = None
    size: str | None = None
    gender: str | None = None  # keeps unisex too
    in_stock: bool = False
    exclude_id: str | None = None

    def sql(self) -> str:
        clauses: list[str] = []
        if self.min_price is not None:
            clauses.append(f"price >= {self.min_price!r}")
        if self.max_price is not None:
            clauses.append(f"price <= {self.max_price!r}")
        if self.category:
            clauses.append(f"(category = {sql_str(self.category)} OR subcategory = {sql_str(self.category)})")
        if self.subcategory:
            clauses.append(f"subcategory = {sql_str(self.subcategory)}")
        if self.colour:
            clauses.append(f"array_has_any(colours, [{sql_str(self.colour)}])")
        if self.size:
            clauses.append(f"array_has_any(sizes, [{sql_str(self.size)}])")
        if self.gender:
            clauses.append(f"gender IN ({sql_str(self.gender)}, 'unisex')")
        if self.in_stock:
            clauses.append("stock > 0")
        if self.exclude_id:
            clauses.append(f"id != {sql_str(self.exclude_id)}")
        return " AND ".join(clauses)

    @property
    def empty(self) -> bool:
        return not self.sql()


class _Codes:
    """A string column as integer codes, for fast equality masks."""

    def __init__(self, column: pa.ChunkedArray):
        encoded = column.combine_chunks().dictionary_encode()
        self.codes = encoded.indices.to_numpy(zero_copy_only=False)
        self.values = encoded.dictionary.to_pylist()
        self.index = {v: i for i, v in enumerate(self.values)}

    def equals(self, value: str) -> np.ndarray:
        code = self.index.get(value)
        if code is None:
            return np.zeros(len(self.codes), dtype=bool)
        return self.codes == code


class _Membership:
    """A list column (colours, sizes) with cached per-value membership masks."""

    def __init__(self, column: pa.ChunkedArray, n: int):
        lists = column.combine_chunks()
        self.n = n
        self.flat = pc.list_flatten(lists)
        self.parent = pc.list_parent_indices(lists).to_numpy()
        self.values = set(self.flat.to_pylist())
        self._masks: dict[str, np.ndarray] = {}

    def contains(self, value: str) -> np.ndarray:
        mask = self._masks.get(value)
        if mask is None:
            mask = np.zeros(self.n, dtype=bool)
            hits = pc.equal(self.flat, value).to_numpy(zero_copy_only=False)
            mask[self.parent[hits]] = True
            self._masks[value] = mask
        return mask


class Snapshot:
    """One content generation of the catalog, held in memory for filtering and vector scoring."""

    def __init__(self, rows: pa.Table, vectors: np.ndarray, *, version: int, generation: str):
        self.version = version
        self.generation = generation
        self.n = rows.num_rows
        self.ids: list[str] = rows["id"].to_pylist()
        self.position = {pid: i for i, pid in enumerate(self.ids)}
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.price = rows["price"].to_numpy()
        self.stock = rows["stock"].to_numpy().copy()
        self.rating = np.nan_to_num(rows["rating"].to_numpy(zero_copy_only=False).astype(np.float64), nan=0.0)
        self.category = _Codes(rows["category"])
        self.subcategory = _Codes(rows["subcategory"])
        self.gender = _Codes(rows["gender"])
        self.colours = _Membership(rows["colours"], self.n)
        self.sizes = _Membership(rows["sizes"], self.n)
        self.currencies = set(rows["currency"].to_pylist())
        self.rows = rows.combine_chunks()  # every product column (no vectors): search results come from here

    def take(self, ids: list[str]) -> pa.Table:
        """The rows of these ids, in order, with the current stock (unknown ids are skipped)."""
        positions = [self.position[i] for i in ids if i in self.position]
        rows = self.rows.take(pa.array(positions, type=pa.int64()))
        stock_index = rows.schema.get_field_index("stock")
        return rows.set_column(stock_index, "stock", pa.array(self.stock[positions], type=pa.int64()))

    def refresh_stock(self, rows: pa.Table, version: int) -> None:
        """Apply the current stock (rows with id and stock, in any order) without reloading vectors."""
        stock = np.zeros(self.n, dtype=np.int64)
        for pid, units in zip(rows["id"].to_pylist(), rows["stock"].to_pylist(), strict=True):
            pos = self.position.get(pid)
            if pos is not None:
                stock[pos] = units
        self.stock = stock
        self.version = version

    def mask(self, f: Filters) -> np.ndarray | None:
        """Rows satisfying every constraint (None when there are no constraints)."""
        if f.empty:
            return None
        m = np.ones(self.n, dtype=bool)
        if f.min_price is not None:
            m &= self.price >= f.min_price
        if f.max_price is not None:
            m &= self.price <= f.max_price
        if f.category:
            m &= self.category.equals(f.category) | self.subcategory.equals(f.category)
        if f.subcategory:
            m &= self.subcategory.equals(f.subcategory)
        if f.colour:
            m &= self.colours.contains(f.colour)
        if f.size:
            m &= self.sizes.contains(f.size)
        if f.gender:
            m &= self.gender.equals(f.gender) | self.gender.equals("unisex")
        if f.in_stock:
            m &= self.stock > 0
        if f.exclude_id is not None and f.exclude_id in self.position:
            m[self.position[f.exclude_id]] = False
        return m

    def nearest(self, query: np.ndarray, mask: np.ndarray | None, k: int) -> list[str]:
        """Ids of the k allowed rows most similar to `query` (cosine: the vectors are unit length)."""
        query = query.astype(np.float32, copy=False)
        if mask is None:
            rows, scores = None, self.vectors @ query
        elif mask.sum() * 5 < self.n:  # selective filter: score only the allowed rows
            rows = np.flatnonzero(mask)
            scores = self.vectors[rows] @ query
        else:  # broad filter: copying the allowed rows costs more than scoring them all
            rows = np.flatnonzero(mask)
            scores = (self.vectors @ query)[rows]
        if scores.size == 0:
            return []
        k = min(k, scores.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]  # best first; ties by table order, so results are stable
        picked = top if rows is None else rows[top]
        return [self.ids[i] for i in picked]

    def best_rated(self, mask: np.ndarray | None, k: int) -> list[str]:
        """Browsing without a query: highest rated first, ties by id."""
        rows = np.flatnonzero(mask) if mask is not None else np.arange(self.n)
        order = rows[np.lexsort((rows, -self.rating[rows]))][:k]  # ties: table order
        return [self.ids[i] for i in order]
