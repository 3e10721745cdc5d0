"""Image MCP server: upload validation (bombs out before they cost anything) and virtual try-on.

Python API for the UI and other callers:
- `validate_upload(data, user_id=...) -> Verdict` (metrics, per-user block) and the pure `inspect()`;
- `store_upload(data, user_id) -> UploadResult` stores the sanitised copy and returns its id;
- `try_on_product(user_id, product_id, photo_id)` renders, stores and describes a try-on;
- `result_path(result_id)` locates a stored preview.
Imports are lazy so `python -m mcp_servers.image` and the CLI start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp_servers.image.limits import Limits, Verdict
    from mcp_servers.image.service import try_on_product
    from mcp_servers.image.store import UploadResult, load_upload, result_path, store_upload
    from mcp_servers.image.validator import inspect, validate_upload

_EXPORTS = {
    "Limits": "limits",
    "Verdict": "limits",
    "inspect": "validator",
    "validate_upload": "validator",
    "UploadResult": "store",
    "store_upload": "store",
    "load_upload": "store",
    "result_path": "store",
    "try_on_product": "service",
}
__all__ = [
    "Limits",
    "UploadResult",
    "Verdict",
    "inspect",
    "load_upload",
    "result_path",
    "store_upload",
    "try_on_product",
    "validate_upload",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f"mcp_servers.image.{_EXPORTS[name]}"), name)
    raise AttributeError(name)
