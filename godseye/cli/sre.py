"""`godseye sre` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="sre commands", no_args_is_help=True)
