"""`godseye cart` commands: look at a shopper's cart and orders (operators, support, demos)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from godseye.netguard import install_if_requested

app = typer.Typer(help="Look at a shopper's cart and orders.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _store():  # imported late: `godseye --help` should not open databases
    from mcp_servers.cart.store import CartStore

    return CartStore()


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors with plain messages for the operator (bad input, missing catalog), not tracebacks."""
    from mcp_servers.cart.store import CartError
    from mcp_servers.catalog.models import CatalogError

    return (CartError, CatalogError)


def _fail(err: Exception) -> None:
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(1)


@app.command("show")
def show(user: Annotated[str, typer.Argument(help="The shopper's user id.")], as_json: JsonFlag = False) -> None:
    """Show USER's cart with current prices and the total."""
    install_if_requested()
    try:
        view = _store().view(user)
    except _user_errors() as err:
        _fail(err)
    if as_json:
        typer.echo(view.model_dump_json(indent=2))
        return
    if not view.lines:
        typer.echo(view.message)
        return
    table = Table(title=f"Cart of {view.user_id}")
    for column in ("product", "name", "size", "colour", "qty", "unit", "total"):
        table.add_column(column, justify="right" if column in {"qty", "unit", "total"} else "left",
                         no_wrap=column == "product")
    for line in view.lines:
        name = line.name if line.available else f"{line.name} (no longer sold)"
        table.add_row(line.product_id, name, line.size or "", line.colour or "", str(line.quantity),
                      f"{line.unit_price:.2f}", f"{line.line_total:.2f}")
    console = Console()
    console.print(table)
    console.print(f"{view.item_count} item(s), total {view.total:.2f} {view.currency or ''}".rstrip())


@app.command("orders")
def orders(user: Annotated[str, typer.Argument(help="The shopper's user id.")], as_json: JsonFlag = False) -> None:
    """List USER's orders, newest first."""
    install_if_requested()
    try:
        result = _store().list_orders(user)
    except _user_errors() as err:
        _fail(err)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    if not result.orders:
        typer.echo("No orders yet.")
        return
    table = Table(title=f"Orders of {result.user_id}")
    table.add_column("order", no_wrap=True)
    for column in ("placed (UTC)", "items", "total", "lines"):
        table.add_column(column)
    for order in result.orders:
        lines = "; ".join(f"{ln.quantity} x {ln.name}" for ln in order.lines)
        table.add_row(order.order_id, order.created_at.strftime("%Y-%m-%d %H:%M"), str(order.item_count),
                      f"{order.total:.2f} {order.currency}", lines)
    Console().print(table)
