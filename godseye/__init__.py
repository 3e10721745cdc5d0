"""Godseye core: settings, the local embedder, the embedded model, the runtime and the CLI."""

__version__ = "0.1.0"
