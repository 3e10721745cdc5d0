"""The metric catalog, read from the README's metric table (the one source of truth).

Monitors and dashboards depend on metric names and tags; the README documents them for people. Parsing
the same table for the linter means a renamed metric or a dropped tag breaks `godseye datadog
validate` instead of a monitor silently evaluating nothing in production.

Accepted table shape: a Markdown table whose header has a column containing "metric" (first) and
optionally "type" and "tag" columns. Cells may hold several metrics sharing a prefix, e.g.
`mcp.tool.calls / .errors / .latency` with types `count / count / distribution`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# Unified service tagging plus the host tag DogStatsD adds: valid on every metric.
UNIVERSAL_TAGS = frozenset({"env", "service", "version", "host"})
METRIC_TYPES = frozenset({"count", "gauge", "rate", "distribution", "histogram", "set", "timing"})
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class MetricSpec:
    name: str
    type: str
    tags: frozenset[str]

    def has_tag(self, key: str) -> bool:
        return key in self.tags or key in UNIVERSAL_TAGS


@dataclass
class MetricCatalog:
    metrics: dict[str, MetricSpec] = field(default_factory=dict)
    source: str = ""

    def get(self, name: str) -> MetricSpec | None:
        return self.metrics.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.metrics

    def __len__(self) -> int:
        return len(self.metrics)


class CatalogError(ValueError):
    """The README has no usable metric table."""


def _cells(line: str) -> list[str]:
    inner = line.strip()
    if inner.startswith("|"):
        inner = inner[1:]
    if inner.endswith("|"):
        inner = inner[:-1]
    return [c.strip() for c in inner.split("|")]


def _is_separator(line: str) -> bool:
    return bool(re.fullmatch(r"\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*", line))


def _expand_names(cell: str) -> list[str]:
    """`a.b.c / .d / .e` -> [a.b.c, a.b.d, a.b.e]; backticks and extra text are stripped."""
    names: list[str] = []
    first_prefix = ""
    for raw in cell.split("/"):
        part = raw.strip().strip("`").strip()
        part = part.split()[0] if part else part
        part = part.strip("`")
        if not part:
            continue
        if part.startswith(".") and first_prefix:
            part = first_prefix + part
        elif "." in part:
            first_prefix = part.rsplit(".", 1)[0]
        if _NAME.match(part):
            names.append(part)
    return names


def _expand_types(cell: str, n: int) -> list[str]:
    parts = [p.strip().strip("`").lower() for p in cell.split("/")] if cell else []
    parts = [p for p in parts if p]
    if not parts:
        return ["unknown"] * n
    if len(parts) == 1:
        return parts * n
    return (parts + [parts[-1]] * n)[:n]


def _parse_tags(cell: str) -> frozenset[str]:
    cell = re.sub(r"\([^)]*\)", "", cell)  # "direction (input/output)" -> "direction"
    tags = set()
    for raw in re.split(r"[,;]", cell):
        tag = raw.strip().strip("`").strip()
        if tag and re.fullmatch(r"[A-Za-z][A-Za-z0-9_.\-]*", tag) and tag.lower() not in {"none", "n/a"}:
            tags.add(tag)
    return frozenset(tags)


def parse_metric_tables(markdown: str, source: str = "") -> MetricCatalog:
    """Every metric row from every metric table in `markdown`."""
    catalog = MetricCatalog(source=source)
    lines = markdown.splitlines()
    i = 0
    while i < len(lines) - 1:
        header, sep = lines[i], lines[i + 1]
        if "|" in header and _is_separator(sep):
            cols = [c.lower() for c in _cells(header)]
            if cols and "metric" in cols[0]:
                type_col = next((j for j, c in enumerate(cols) if c.startswith("type")), None)
                tag_col = next((j for j, c in enumerate(cols) if "tag" in c), None)
                i += 2
                while i < len(lines) and lines[i].strip().startswith("|"):
                    cells = _cells(lines[i])
                    names = _expand_names(cells[0]) if cells else []
                    types = _expand_types(cells[type_col] if type_col is not None and type_col < len(cells)
                                          else "", len(names))
                    tags = _parse_tags(cells[tag_col]) if tag_col is not None and tag_col < len(cells) else frozenset()
                    for name, mtype in zip(names, types, strict=True):
                        catalog.metrics[name] = MetricSpec(name=name, type=mtype, tags=tags)
                    i += 1
                continue
        i += 1
    return catalog


def load_catalog(readme: Path) -> MetricCatalog:
    """The catalog from a README file; raises CatalogError when it is missing or has no metric table."""
    if not readme.is_file():
        raise CatalogError(f"{readme} not found: the metric table in the README is the catalog queries are linted against")
    catalog = parse_metric_tables(readme.read_text(encoding="utf-8"), source=str(readme))
    if not catalog.metrics:
        raise CatalogError(f"{readme} has no metric table (a Markdown table whose first column header says 'metric')")
    return catalog
