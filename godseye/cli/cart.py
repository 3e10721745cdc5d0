"""`godseye cart` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="cart commands", no_args_is_help=True)
