"""One finding of the asset checks, printed as `file: $.json.path: message`.

A plain value object so the validator, the CLI and the tests agree on what a problem is and how it
reads; the JSON path points at the exact key a reviewer has to fix.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


def join_path(base: str, key: str | int) -> str:
    """`$.a` + `b` -> `$.a.b`; `$.a` + 0 -> `$.a[0]`; keys that are not identifiers are quoted."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    if key.replace("_", "").replace("-", "").isalnum():
        return f"{base}.{key}"
    return f"{base}[{key!r}]"
