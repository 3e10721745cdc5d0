"""`godseye datadog` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="datadog commands", no_args_is_help=True)
