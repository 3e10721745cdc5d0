"""The `godseye` command: one Typer app, one module per command group."""
