"""Reading `datadog/`: every JSON file, its kind, its stable id, and deploy-time placeholders.

Deploy-specific values (the public URL of the self-healing endpoint, the shared secret) cannot live
in git, so string values may contain `${env:NAME}` or `${env:NAME:-default}`; they are resolved from
the environment when assets are applied or evaluated locally, never when they are validated.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from godseye.datadog_assets.kinds import ID_TAG_KEY, KIND_BY_NAME, KINDS, Kind
from godseye.datadog_assets.problems import Problem

PLACEHOLDER = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class Asset:
    kind: Kind
    path: Path
    rel: str  # shown in problems, e.g. datadog/monitors/prompt_injection.json
    data: Any  # parsed JSON; None when the file is malformed

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def godseye_id(self) -> str:
        return self.stem


@dataclass
class AssetSet:
    root: Path
    assets: list[Asset]
    problems: list[Problem]

    def of(self, kind: str) -> list[Asset]:
        return [a for a in self.assets if a.kind.name == kind and a.data is not None]

    def by_stem(self, kind: str) -> dict[str, Asset]:
        return {a.stem: a for a in self.of(kind)}


def _rel(root: Path, path: Path) -> str:
    try:
        return str(Path(root.name) / path.relative_to(root))
    except ValueError:
        return str(path)


def load_assets(root: Path | str) -> AssetSet:
    """Every asset under `root`; malformed JSON and misplaced files become problems, not exceptions."""
    root = Path(root)
    problems: list[Problem] = []
    assets: list[Asset] = []
    if not root.is_dir():
        return AssetSet(root, [], [Problem(str(root), "$", "assets folder not found")])
    kind_dirs = {(root / k.folder).resolve(): k for k in KINDS}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        rel = _rel(root, path)
        if path.suffix == ".py" or path.name == "__init__.py":
            problems.append(Problem(rel, "$", "datadog/ holds JSON assets only: a Python file here would shadow "
                                               "the `datadog` library; move it"))
            continue
        if path.suffix != ".json":
            continue  # Markdown docs and the like
        kind = kind_dirs.get(path.parent.resolve())
        if kind is None:
            folders = ", ".join(k.folder + "/" for k in KINDS)
            problems.append(Problem(rel, "$", f"JSON file outside the known folders ({folders}); its kind is unknown"))
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            problems.append(Problem(rel, "$", f"not UTF-8 text: {exc}"))
            data = None
        except json.JSONDecodeError as exc:
            problems.append(Problem(rel, "$", f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"))
            data = None
        assets.append(Asset(kind, path, rel, data))
    return AssetSet(root, assets, problems)


def stable_id_tag(stem: str) -> str:
    return f"{ID_TAG_KEY}:{stem}"


def id_from_tags(tags: list[str] | None) -> str | None:
    for tag in tags or []:
        key, _, value = tag.partition(":")
        if key == ID_TAG_KEY and value:
            return value
    return None


def find_placeholders(value: Any) -> list[tuple[str, str | None]]:
    """(NAME, default) of every `${env:...}` in a JSON value."""
    found: list[tuple[str, str | None]] = []
    if isinstance(value, str):
        found += [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(value)]
    elif isinstance(value, list):
        for item in value:
            found += find_placeholders(item)
    elif isinstance(value, dict):
        for item in value.values():
            found += find_placeholders(item)
    return found


class MissingSetting(LookupError):
    """A `${env:NAME}` without a default and without a value in the environment."""


def resolve_placeholders(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """A copy of `value` with every `${env:...}` replaced; raises MissingSetting when one is unset."""
    env = os.environ if environ is None else environ

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if env.get(name):
            return env[name]
        if default is not None:
            return default
        raise MissingSetting(f"environment variable {name} is not set (needed by ${{env:{name}}})")

    if isinstance(value, str):
        return PLACEHOLDER.sub(sub, value)
    if isinstance(value, list):
        return [resolve_placeholders(v, env) for v in value]
    if isinstance(value, dict):
        return {k: resolve_placeholders(v, env) for k, v in value.items()}
    return value


def kind(name: str) -> Kind:
    return KIND_BY_NAME[name]
