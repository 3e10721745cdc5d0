"""What is trending in the shop: computed from its own searches, cart adds and orders, never invented.

Signals, over the last `days` days:
- searched: how often a product came back from `search_products` (the catalog's search log), each
  appearance weighted by 1/(rank+1) so a first result counts more than a fifth;
- added: units put in carts (`cart_events` kind 'add');
- bought: units ordered (`cart_events` kind 'order').
Each signal is weighted by recency (exponential decay, half-life = half the window) and by intent
(a purchase says more than an add, an add more than a search hit), summed into one score. Products
are then joined with the catalog's current facts: only products in stock now are returned, and the
season / occasion / category filters are the catalog's own product fields.

Why the cart events are read with one SQL aggregate rather than `CartStore.events()`: that builds
a model per event (about 250 ms for 10k events on this machine), while SQLite sums the decayed
weights itself and returns one row per product and kind. The table belongs to this package
(`mcp_servers.cart.store` defines it).
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from godseye.config import get_settings
from mcp_servers.catalog import vocab
from mcp_servers.catalog.models import InvalidQuery, Product
from mcp_servers.catalog.search_log import SearchLog, ensure_exp, get_search_log

DAY_S = 86_400.0
MAX_DAYS = 365
MAX_LIMIT = 50
# How much one unit of each signal says about demand (a purchase > an add > a search hit).
WEIGHT_SEARCH = 1.0
WEIGHT_ADD = 3.0
WEIGHT_ORDER = 5.0
TOP_TERMS = 5
TERM_MATCH_DEPTH = 3  # with filters, a search counts when one of its first results fits them
SEASON_ALIASES = {"fall": "autumn"}
FACT_FIELDS = ("id", "name", "price", "currency", "category", "subcategory", "colours", "seasons", "occasions",
               "stock")


class TrendsError(InvalidQuery):
    """A trends request that cannot be answered as given (bad window, unknown season...)."""


class TrendingProduct(BaseModel):
    id: str
    name: str
    price: float
    currency: str = "USD"
    category: str
    subcategory: str
    colours: list[str] = Field(default_factory=list)
    seasons: list[str] = Field(default_factory=list)
    occasions: list[str] = Field(default_factory=list)
    stock: int = Field(description="units available now (always > 0 here)")
    score: float = Field(description="recency- and intent-weighted popularity; higher is hotter")
    searched: int = Field(description="searches that returned it in the window")
    added: int = Field(description="units added to carts in the window")
    bought: int = Field(description="units ordered in the window")


class SearchTerm(BaseModel):
    term: str
    searches: int


class Trends(BaseModel):
    """Trending in-stock products (hottest first) and the most searched terms over a window."""

    days: float
    # Plain text on purpose: the guardrails' injection classifier mistakes ISO timestamps ("...T20:42:42Z")
    # in tool results for injected tokens and rewrites them.
    since: str = Field(description="start of the window, 'YYYY-MM-DD HH:MM UTC'")
    season: str | None = None
    occasion: str | None = None
    category: str | None = None
    products: list[TrendingProduct] = Field(default_factory=list)
    top_searches: list[SearchTerm] = Field(default_factory=list)
    activity: dict[str, int] = Field(default_factory=dict, description="searches, adds and orders counted")
    message: str = ""


class ProductFacts(Protocol):
    """The catalog reads trends need (`CatalogStore` has them)."""

    def get_many(self, product_ids: Sequence[str]) -> list[Product]: ...


class _Signal:
    __slots__ = ("score", "searched", "added", "bought")

    def __init__(self) -> None:
        self.score = 0.0
        self.searched = 0
        self.added = 0
        self.bought = 0


def _catalog() -> ProductFacts:
    from mcp_servers.catalog.store import CatalogStore

    return CatalogStore()


class TrendSource:
    """Computes `Trends` from a cart database, a search log and the catalog. Cheap to construct."""

    def __init__(
        self,
        cart_db: Path | str | None = None,
        catalog: ProductFacts | None = None,
        searches: SearchLog | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ):
        self.cart_db = Path(cart_db) if cart_db else get_settings().cart_db
        self._catalog = catalog
        self._searches = searches
        self.clock = clock
        self._local = threading.local()

    @property
    def catalog(self) -> ProductFacts:
        if self._catalog is None:
            self._catalog = _catalog()
        return self._catalog

    @property
    def searches(self) -> SearchLog:
        return self._searches or get_search_log()

    # --- reading the records ---------------------------------------------------------------------

    def _cart_conn(self) -> sqlite3.Connection | None:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if not self.cart_db.exists():
                return None  # no cart activity recorded yet
            conn = sqlite3.connect(self.cart_db, timeout=5, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=5000")
            ensure_exp(conn)
            self._local.conn = conn
        return conn

    def _cart_signals(self, since: float, until: float, decay: float) -> list[tuple[str, str, int, float]]:
        """(product_id, kind, units, recency-weighted units) of adds and orders in [since, until]."""
        conn = self._cart_conn()
        if conn is None:
            return []
        try:
            return conn.execute(
                "SELECT product_id, kind, SUM(quantity), SUM(quantity * exp(-? * (? - at))) FROM cart_events "
                "WHERE at >= ? AND at <= ? AND kind IN ('add', 'order') GROUP BY product_id, kind",
                (decay, until, since, until),
            ).fetchall()
        except sqlite3.OperationalError as exc:  # a cart database from before events were kept
            if "no such table" in str(exc):
                return []
            raise

    # --- the computation -------------------------------------------------------------------------

    def trending(
        self,
        days: float = 7,
        season: str | None = None,
        occasion: str | None = None,
        category: str | None = None,
        limit: int = 5,
        *,
        exclude: Iterable[str] = (),
        now: float | None = None,
    ) -> Trends:
        """Hottest in-stock products (and top search terms) of the last `days` days, optionally for one
        season, occasion or category/kind; products in `exclude` are left out."""
        days = _check_days(days)
        limit = _check_limit(limit)
        season_key = _season(season)
        occasion_key = _occasion(occasion)
        category_key = vocab.normalise_category(category) if category and category.strip() else None
        now = self.clock() if now is None else float(now)
        since = now - days * DAY_S
        decay = math.log(2) / (max(days / 2, 0.5) * DAY_S)  # per second: half-life is half the window

        signals: dict[str, _Signal] = {}
        for pid, n, weighted in self.searches.hit_signals(since, now, decay):
            sig = signals.setdefault(pid, _Signal())
            sig.searched += int(n)
            sig.score += WEIGHT_SEARCH * float(weighted)
        for pid, kind, units, weighted in self._cart_signals(since, now, decay):
            sig = signals.setdefault(pid, _Signal())
            if kind == "add":
                sig.added += int(units or 0)
                sig.score += WEIGHT_ADD * float(weighted or 0)
            else:
                sig.bought += int(units or 0)
                sig.score += WEIGHT_ORDER * float(weighted or 0)

        excluded = set(exclude)
        ranked = sorted((pid for pid in signals if pid not in excluded),
                        key=lambda pid: (-signals[pid].score, pid))
        facts = self._facts(list(signals))
        filters_given = bool(season_key or occasion_key or category_key)

        def fits(product: dict) -> bool:
            return ((season_key is None or season_key in (product["seasons"] or []))
                    and (occasion_key is None or occasion_key in [o.casefold() for o in product["occasions"] or []])
                    and (category_key is None or category_key in (product["category"], product["subcategory"])))

        activity = {"searches": 0, "adds": 0, "orders": 0}
        for pid, sig in signals.items():
            if not filters_given or (pid in facts and fits(facts[pid])):
                activity["adds"] += sig.added
                activity["orders"] += sig.bought
        products: list[TrendingProduct] = []
        for pid in ranked:
            product = facts.get(pid)
            if product is None or product["stock"] <= 0 or not fits(product):
                continue
            sig = signals[pid]
            products.append(TrendingProduct(
                **{f: product[f] for f in FACT_FIELDS if product.get(f) is not None},
                score=round(sig.score, 4), searched=sig.searched, added=sig.added, bought=sig.bought,
            ))
            if len(products) >= limit:
                break

        # Search terms: with filters, a search counts when one of its first results fits them.
        matching = {pid for pid, p in facts.items() if fits(p)} if filters_given else None
        terms = self.searches.term_signals(since, now, decay, products=matching, depth=TERM_MATCH_DEPTH)
        activity["searches"] = sum(int(n) for _, n, _ in terms)
        top = sorted(terms, key=lambda row: (-row[2], row[0]))[:TOP_TERMS]
        result = Trends(
            days=days, since=datetime.fromtimestamp(since, tz=UTC).strftime("%Y-%m-%d %H:%M UTC"), season=season_key, occasion=occasion_key,
            category=category_key, products=products,
            top_searches=[SearchTerm(term=term, searches=int(n)) for term, n, _ in top], activity=activity,
        )
        result.message = _message(result)
        return result

    def _facts(self, product_ids: list[str]) -> dict[str, dict]:
        """Current catalog facts (stock included) for these ids.

        From the catalog's in-memory snapshot when it has one (`CatalogStore.snapshot()` reloads on a
        new table version, so stock is as of now; a few ms for thousands of ids), else `get_many`.
        """
        if not product_ids:
            return {}
        snapshot = getattr(self.catalog, "snapshot", None)
        if snapshot is not None:
            rows = snapshot().take(product_ids)
            return {row["id"]: row for row in rows.select(list(FACT_FIELDS)).to_pylist()}
        out: dict[str, dict] = {}
        for start in range(0, len(product_ids), 500):
            for product in self.catalog.get_many(product_ids[start:start + 500]):
                out[product.id] = product.model_dump(include=set(FACT_FIELDS))
        return out


def _check_days(days: object) -> float:
    if isinstance(days, bool) or not isinstance(days, int | float) or not math.isfinite(days):
        raise TrendsError(f"days must be a number of days between 1 and {MAX_DAYS}, got {days!r}")
    if not 0 < days <= MAX_DAYS:
        raise TrendsError(f"days must be more than 0 and at most {MAX_DAYS}, got {days!r}")
    return float(days)


def _check_limit(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise TrendsError(f"limit must be a whole number between 1 and {MAX_LIMIT}, got {limit!r}")
    return limit


def _season(season: str | None) -> str | None:
    if season is None or not season.strip():
        return None
    key = season.strip().casefold()
    key = SEASON_ALIASES.get(key, key)
    if key not in vocab.SEASONS:
        raise TrendsError(f"unknown season {season!r}; seasons: {', '.join(vocab.SEASONS)}")
    return key


def _occasion(occasion: str | None) -> str | None:
    if occasion is None or not occasion.strip():
        return None
    return " ".join(occasion.casefold().split())


def _message(trends: Trends) -> str:
    window = f"{trends.days:g} day" + ("" if trends.days == 1 else "s")
    scope = " ".join(x for x in (trends.season, trends.occasion, trends.category) if x)
    scope = f" for {scope}" if scope else ""
    a = trends.activity
    basis = f"{a['searches']} searches, {a['adds']} items added to carts and {a['orders']} items ordered"
    if not trends.products:
        if not any(a.values()):
            return f"No shopping activity recorded in the last {window}{scope}; nothing is trending yet."
        return f"Nothing in stock is trending{scope} in the last {window} (based on {basis})."
    return f"Trending{scope} over the last {window}, based on {basis} in this shop."


_default: TrendSource | None = None
_default_lock = threading.Lock()


def get_trend_source() -> TrendSource:
    """The process's TrendSource over GODSEYE_HOME (rebuilt if GODSEYE_HOME changed)."""
    global _default
    cart_db = get_settings().cart_db
    if _default is None or _default.cart_db != cart_db:
        with _default_lock:
            if _default is None or _default.cart_db != cart_db:
                _default = TrendSource(cart_db)
    return _default


def trending(
    days: float = 7,
    season: str | None = None,
    occasion: str | None = None,
    category: str | None = None,
    limit: int = 5,
) -> Trends:
    """`TrendSource.trending` on the shop's own records (GODSEYE_HOME)."""
    return get_trend_source().trending(days=days, season=season, occasion=occasion, category=category, limit=limit)


__all__ = ["TrendSource", "Trends", "TrendingProduct", "SearchTerm", "TrendsError", "trending", "get_trend_source"]
