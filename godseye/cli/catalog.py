"""`godseye catalog` commands: seed the demo catalog, import a shop's own, search it from a terminal."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from godseye.netguard import install_if_requested

app = typer.Typer(help="Seed, import and search the product catalog.", no_args_is_help=True)


def _fail(err: Exception | str) -> None:
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(1)


def _progress_bar():  # type: ignore[no-untyped-def]
    """A rich progress bar with one task per stage, fed by the library's progress callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), transient=False)
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return progress, update


@app.command("seed")
def seed(
    size: Annotated[int | None, typer.Option("--size", min=1, max=1_000_000,
                                             help="Number of products (default: GODSEYE_CATALOG_SEED_SIZE).")] = None,
    seed_value: Annotated[int | None, typer.Option("--seed", help="RNG seed (default: GODSEYE_CATALOG_SEED).")] = None,
    uri: Annotated[Path | None, typer.Option("--uri", help="Catalog folder (default: <GODSEYE_HOME>/catalog.lance).")]
    = None,
) -> None:
    """Build the deterministic demo catalog (replacing the current one): products, cut-outs, vectors."""
    install_if_requested()
    from godseye.config import get_settings
    from mcp_servers.catalog.models import CatalogError
    from mcp_servers.catalog.seed import seed_catalog

    settings = get_settings()
    size = settings.catalog_seed_size if size is None else size
    seed_value = settings.catalog_seed if seed_value is None else seed_value
    progress, update = _progress_bar()
    start = time.perf_counter()
    try:
        with progress:
            store = seed_catalog(uri, size=size, seed=seed_value, progress=update)
    except (CatalogError, OSError) as err:
        _fail(err)
    elapsed = time.perf_counter() - start
    overview = store.overview()
    summary = {
        "catalog": str(store.uri),
        "images": str(store.media_root / "catalog_images"),
        "products": overview.total_products,
        "seed": seed_value,
        "seconds": round(elapsed, 1),
        "products_per_second": round(overview.total_products / elapsed, 1),
        "categories": {c.name: c.count for c in overview.categories},
        "price_range": [overview.price_min, overview.price_max],
    }
    typer.echo(json.dumps(summary, indent=2))


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV, JSON Lines, or Online Boutique products.json.")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv | jsonl | online-boutique "
                                            "(default: from the file extension).")] = None,
    mode: Annotated[str, typer.Option("--mode", help="replace the catalog, or append (upsert by id).")] = "replace",
    default_stock: Annotated[int, typer.Option("--default-stock", min=0,
                                               help="Stock for rows that give none.")] = 10,
    uri: Annotated[Path | None, typer.Option("--uri", help="Catalog folder (default: settings).")] = None,
) -> None:
    """Import a shop's catalog. Every row is checked first; with any problem nothing is written."""
    install_if_requested()
    from mcp_servers.catalog.importers import import_file
    from mcp_servers.catalog.models import CatalogError

    if fmt is not None and fmt not in ("csv", "jsonl", "online-boutique"):
        _fail(f"unknown format {fmt!r}: use csv, jsonl or online-boutique")
    if mode not in ("replace", "append"):
        _fail(f"unknown mode {mode!r}: use replace or append")
    try:
        report = import_file(file, fmt, uri=uri, mode=mode, default_stock=default_stock)  # type: ignore[arg-type]
    except (CatalogError, OSError) as err:
        _fail(err)
    typer.echo(json.dumps(report.__dict__, indent=2))


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What to look for; '' browses by filters.")],
    min_price: Annotated[float | None, typer.Option("--min-price", min=0)] = None,
    max_price: Annotated[float | None, typer.Option("--max-price", min=0)] = None,
    category: Annotated[str | None, typer.Option("--category", help="e.g. shoes, dresses.")] = None,
    colour: Annotated[str | None, typer.Option("--colour", "--color")] = None,
    size: Annotated[str | None, typer.Option("--size")] = None,
    gender: Annotated[str | None, typer.Option("--gender", help="women or men")] = None,
    include_sold_out: Annotated[bool, typer.Option("--include-sold-out", help="Also list sold-out items.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=50)] = 5,
    mode: Annotated[str, typer.Option("--mode", help="hybrid | vector | fts")] = "hybrid",
    uri: Annotated[Path | None, typer.Option("--uri", help="Catalog folder (default: settings).")] = None,
) -> None:
    """Search the catalog and print the matching products as JSON."""
    install_if_requested()
    from mcp_servers.catalog.models import CatalogError
    from mcp_servers.catalog.store import CatalogStore

    try:
        products = CatalogStore(uri).search(
            query, min_price=min_price, max_price=max_price, category=category, colour=colour, size=size,
            gender=gender, in_stock=not include_sold_out, limit=limit, mode=mode)  # type: ignore[arg-type]
    except CatalogError as err:
        _fail(err)
    typer.echo(json.dumps([p.model_dump() for p in products], indent=2))


@app.command("get")
def get(
    product_id: Annotated[str, typer.Argument(help="A product id, e.g. P000042.")],
    uri: Annotated[Path | None, typer.Option("--uri", help="Catalog folder (default: settings).")] = None,
) -> None:
    """Print one product as JSON."""
    install_if_requested()
    from mcp_servers.catalog.models import CatalogError
    from mcp_servers.catalog.store import CatalogStore

    try:
        product = CatalogStore(uri).require(product_id)
    except CatalogError as err:
        _fail(err)
    typer.echo(product.model_dump_json(indent=2))


@app.command("categories")
def categories(
    uri: Annotated[Path | None, typer.Option("--uri", help="Catalog folder (default: settings).")] = None,
) -> None:
    """Print categories, colours, sizes and the price range as JSON."""
    install_if_requested()
    from mcp_servers.catalog.models import CatalogError
    from mcp_servers.catalog.store import CatalogStore

    try:
        overview = CatalogStore(uri).overview()
    except CatalogError as err:
        _fail(err)
    typer.echo(overview.model_dump_json(indent=2))
