"""Prompts live as Markdown beside this file so they can be edited without touching code."""

from pathlib import Path

_HERE = Path(__file__).parent


def load(name: str) -> str:
    return (_HERE / f"{name}.md").read_text(encoding="utf-8").strip()
