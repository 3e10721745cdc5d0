"""`validate(dir)`: every asset checked against Datadog's models, then linted; a list of problems.

Problems, not exceptions: a reviewer wants every mistake in one run, each with a file and JSON path.
"""

from __future__ import annotations

from pathlib import Path

from godseye.datadog_assets.catalog import CatalogError, MetricCatalog, load_catalog
from godseye.datadog_assets.lint import LINTERS, LintContext, duplicate_ids
from godseye.datadog_assets.loader import load_assets
from godseye.datadog_assets.problems import Problem
from godseye.datadog_assets.schema import check


def find_readme(root: Path) -> Path:
    """The README next to the assets folder (the repository root), else the project's own."""
    candidate = root.resolve().parent / "README.md"
    if candidate.is_file():
        return candidate
    from godseye.config import PROJECT_ROOT

    return PROJECT_ROOT / "README.md"


def validate(root: Path | str, readme: Path | str | None = None,
             catalog: MetricCatalog | None = None) -> list[Problem]:
    """All problems in the assets under `root`, sorted by file and path; empty means valid."""
    root = Path(root)
    assets = load_assets(root)
    problems = list(assets.problems)
    if catalog is None:
        readme_path = Path(readme) if readme else find_readme(root)
        try:
            catalog = load_catalog(readme_path)
        except CatalogError as exc:
            problems.append(Problem(str(readme_path), "$", str(exc)))
    for asset in assets.assets:
        if asset.data is None:
            continue
        for path, message in check(asset.data, asset.kind.spec):
            problems.append(Problem(asset.rel, path, message))
    ctx = LintContext.build(assets, catalog)
    for asset in assets.assets:
        if asset.data is not None:
            problems += LINTERS[asset.kind.name](asset, ctx)
    problems += duplicate_ids(assets)
    return sorted(set(problems))
