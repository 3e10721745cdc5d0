"""Time per nudge decision and per trends query, at realistic sizes of the shop's activity logs.

Setup (not timed): a temporary GODSEYE_HOME with the seeded 1,200-product catalog (real
embeddings, so outfit searches and close matches behave as in the shop), then activity logs of
1k, 10k and 50k events over the last 30 days: 60% searches (5 results each, in `searches.sqlite`),
30% cart adds and 10% ordered lines (in the cart's `cart_events`). Logs are bulk-inserted with SQL
in one transaction each, which is what makes setup fast; the code under test reads them exactly
as in production.

Timed, per log size:
- `trending()` over 7 days: unfiltered, by season, by category (p50 / p95 of N calls);
- `NudgeEngine.after_turn()` for each moment, every sample in a fresh session so no limit skips the
  work: bookkeeping only (a turn with no moment), a viewed product (low stock / cheaper match),
  complete-the-look after an add (catalog searches per outfit role + trends), idle (trends in the
  browsed kind), returning after a pause;
- `SearchLog.record()`: the cost a search pays for being logged.

    .venv/bin/python -m benchmarks.bench_nudges [--quick] [--samples N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("GODSEYE_METRICS_FLUSH_S", "60")  # metrics are not what is measured here

from godseye.nudges import NudgeEngine, NudgeLedger, NudgeSettings  # noqa: E402
from godseye.runtime import TurnResult  # noqa: E402
from mcp_servers.cart.store import CartStore  # noqa: E402
from mcp_servers.cart.trends import TrendSource  # noqa: E402
from mcp_servers.catalog import vocab  # noqa: E402
from mcp_servers.catalog.search_log import SearchLog, normalise_term  # noqa: E402
from mcp_servers.catalog.seed import generate_products  # noqa: E402
from mcp_servers.catalog.store import CatalogStore  # noqa: E402

DAY = 86_400.0
TERMS = [f"{adj} {noun}" for adj in ("linen", "black", "summer", "wool", "red", "leather", "white", "navy")
         for noun in ("dress", "shirt", "boots", "sneakers", "bag", "coat", "jeans", "sandals")]


def fill_logs(cart: CartStore, searches: SearchLog, ids: list[str], events: int, rng: random.Random,
              now: float) -> None:
    """`events` activity records over the last 30 days; popularity is skewed (a few items sell a lot)."""
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(ids))]
    popular = rng.sample(ids, len(ids))
    n_search, n_add = int(events * 0.6), int(events * 0.3)
    n_order = events - n_search - n_add
    conn = searches._conn()
    conn.execute("BEGIN")
    for _ in range(n_search):
        at = now - rng.random() * 30 * DAY
        query = rng.choice(TERMS)
        cur = conn.execute("INSERT INTO searches(at, query, term, filters, result_count) VALUES (?,?,?,?,5)",
                           (at, query, normalise_term(query), json.dumps({"in_stock": True})))
        hits = rng.choices(popular, weights=weights, k=5)
        conn.executemany("INSERT INTO search_hits(search_id, at, rank, product_id) VALUES (?,?,?,?)",
                         [(cur.lastrowid, at, r, pid) for r, pid in enumerate(hits)])
    conn.execute("COMMIT")
    rows = []
    for kind, n in (("add", n_add), ("order", n_order)):
        for pid in rng.choices(popular, weights=weights, k=n):
            rows.append((now - rng.random() * 30 * DAY, kind, f"user-{rng.randrange(2000)}", pid, 1))
    with cart._tx() as tx:
        tx.executemany("INSERT INTO cart_events(at, kind, user_id, product_id, quantity) VALUES (?,?,?,?,?)", rows)


def clear_logs(cart: CartStore, searches: SearchLog) -> None:
    with cart._tx() as tx:
        tx.execute("DELETE FROM cart_events")
    conn = searches._conn()
    conn.execute("DELETE FROM search_hits")
    conn.execute("DELETE FROM searches")


def timed(fn: Callable[[], object], samples: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    fn()  # warm-up: caches, lazy imports, first snapshot load
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 products; 1k and 10k events")
    parser.add_argument("--samples", type=int, default=20, help="timed calls per measurement (default 20)")
    args = parser.parse_args(argv)
    print(f"load average at start: {', '.join(f'{v:.1f}' for v in os.getloadavg())}", file=sys.stderr)
    size = 300 if args.quick else 1200
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 50_000]
    rng = random.Random(2026)
    home = Path(tempfile.mkdtemp(prefix="bench-nudges-"))
    started = time.perf_counter()
    products = generate_products(size, 7)
    catalog = CatalogStore(home / "catalog.lance")
    catalog.create(products)
    print(f"catalog of {size} built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    ids = [p["id"] for p in products]
    by_id = {p["id"]: p for p in products}
    cart = CartStore(home / "cart.sqlite", products=catalog)
    searches = SearchLog(home / "searches.sqlite")
    clock_now = [time.time()]
    trends = TrendSource(cart.path, catalog=catalog, searches=searches, clock=lambda: clock_now[0])

    def engine(**settings: object) -> NudgeEngine:
        return NudgeEngine(NudgeSettings(**settings), ledger=NudgeLedger(home / "nudges.sqlite"), catalog=catalog,
                           cart=cart, trends=trends, clock=lambda: clock_now[0])

    plain, idle_at_once = engine(), engine(idle_turns=1)
    in_stock = [p for p in products if p["stock"] > 0]
    low = [p for p in in_stock if p["stock"] <= 3] or in_stock
    addable = [p for p in in_stock if p["stock"] > 3]
    counter = [0]

    def session() -> str:
        counter[0] += 1
        return f"bench-{counter[0]}"

    def browse_turn(sid: str) -> TurnResult:
        shown = [by_id[i] for i in rng.sample(ids, 5)]
        return TurnResult(session=sid, user=f"u-{sid}", text="show me more", products=shown,
                          tool_calls=[{"name": "search_products", "args": {"query": "x"}}],
                          tool_results=[{"name": "search_products", "payload": {"products": shown}}])

    def view_turn(sid: str) -> TurnResult:
        product = rng.choice(low if rng.random() < 0.5 else addable)
        return TurnResult(session=sid, user=f"u-{sid}", text=f"show me product {product['id']}", products=[product],
                          tool_calls=[{"name": "get_product", "args": {"product_id": product["id"]}}],
                          tool_results=[{"name": "get_product", "payload": product}])

    def add_turn(sid: str) -> TurnResult:
        pid = rng.choice(addable)["id"]
        return TurnResult(session=sid, user=f"u-{sid}", text="add it",
                          tool_calls=[{"name": "add_to_cart", "args": {"product_id": pid}}],
                          tool_results=[{"name": "add_to_cart", "payload": {"lines": [{"product_id": pid}]}}])

    def returning(times: list[float]) -> None:
        """A first turn, an hour's pause (the engine's clock), then the timed returning turn."""
        sid = session()
        plain.after_turn(browse_turn(sid))
        clock_now[0] += 3600
        start = time.perf_counter()
        plain.after_turn(browse_turn(sid))
        times.append((time.perf_counter() - start) * 1000)

    record_ms = timed(lambda: searches.record("linen shirt", {"in_stock": True}, ids[:5]), args.samples * 5)
    clear_logs(cart, searches)
    rows: list[tuple[str, ...]] = []
    for events in sizes:
        clear_logs(cart, searches)
        fill_logs(cart, searches, ids, events, rng, clock_now[0])
        season, category = rng.choice(vocab.SEASONS), "dresses"
        n = args.samples
        for label, fn in (
            ("trends: all", lambda: trends.trending(days=7)),
            (f"trends: season={season}", lambda s=season: trends.trending(days=7, season=s)),
            (f"trends: category={category}", lambda c=category: trends.trending(days=7, category=c)),
            ("nudge: no moment (bookkeeping)", lambda: plain.after_turn(browse_turn(session()))),
            ("nudge: viewed (low stock / cheaper)", lambda: plain.after_turn(view_turn(session()))),
            ("nudge: complete the look", lambda: plain.after_turn(add_turn(session()))),
            ("nudge: idle (trends in kind)", lambda: idle_at_once.after_turn(browse_turn(session()))),
        ):
            p50, p95 = timed(fn, n)
            rows.append((f"{events:,}", label, f"{p50:.1f}", f"{p95:.1f}"))
        returning_times: list[float] = []
        for _ in range(n):
            returning(returning_times)
        returning_times.sort()
        rows.append((f"{events:,}", "nudge: returning after a pause", f"{statistics.median(returning_times):.1f}",
                     f"{returning_times[int(round(0.95 * (len(returning_times) - 1)))]:.1f}"))
    print(f"\n### Nudges and trends ({size} products, {args.samples} samples per row, "
          f"load {os.getloadavg()[0]:.1f})\n")
    print("| events in logs | operation | p50 ms | p95 ms |")
    print("|---:|---|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"| - | search log: record one search | {record_ms[0]:.2f} | {record_ms[1]:.2f} |")
    cart.close()
    searches.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
