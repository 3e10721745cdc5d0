"""`godseye chat` and `godseye up`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add chat commands to the top-level app."""
