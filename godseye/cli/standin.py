"""`godseye standin ...`: the local Datadog stand-in (registered by the telemetry work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add stand-in commands to the top-level app."""
