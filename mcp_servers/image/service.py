"""The try-on use case as the agent sees it: a user, a product id and a stored photo id in, a
stored preview out. Shared by the MCP server, the CLI and the UI so they behave the same.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from godseye.config import get_settings
from mcp_servers.image.limits import Limits
from mcp_servers.image.store import load_upload, save_result, upload_meta
from mcp_servers.image.tryon import TryOnError, TryOnResult, try_on
from mcp_servers.image.validator import inspect

PRODUCT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_PRODUCT_EXTENSIONS = (".png", ".webp", ".jpg", ".jpeg")
# Catalog cut-outs are ours, but they are files on disk that other tools write: same checks, and
# transparency kept.
PRODUCT_LIMITS = Limits(working_size=1024, max_frames=1)


def catalog_images_dir() -> Path:
    return get_settings().home / "catalog_images"


def product_image_path(product_id: str) -> Path:
    if not isinstance(product_id, str) or not PRODUCT_ID.match(product_id) or ".." in product_id:
        raise TryOnError(f"Unknown product id {product_id!r}.")
    folder = catalog_images_dir()
    for ext in _PRODUCT_EXTENSIONS:
        path = folder / f"{product_id}{ext}"
        if path.is_file():
            return path
    raise TryOnError(f"There is no picture of product {product_id} to try on.")


def load_garment(data: bytes) -> bytes:
    """Validate a product cut-out and return it as a clean RGBA PNG."""
    verdict = inspect(data, PRODUCT_LIMITS, keep_alpha=True)
    if not verdict.ok or verdict.image is None:
        raise TryOnError(f"The product picture could not be used ({verdict.kind}).")
    return verdict.image


def render(photo: bytes, garment_file: bytes, *, backend: str = "auto") -> TryOnResult:
    return try_on(photo, load_garment(garment_file), backend=backend)


def try_on_product(user_id: str, product_id: str, photo_id: str, *, backend: str = "auto") -> dict[str, Any]:
    """Render `product_id` on the user's stored photo `photo_id`; store and describe the result."""
    photo = load_upload(photo_id, user_id)  # raises UploadNotFound for unknown or foreign ids
    garment_path = product_image_path(product_id)
    result = render(photo, garment_path.read_bytes(), backend=backend)
    meta = {"user_id": user_id, "product_id": product_id, "photo_id": photo_id, **result.summary()}
    result_id, path = save_result(result.image, meta)
    return {
        "ok": True,
        "result_id": result_id,
        "path": str(path),
        "description": result.describe() + (f" {result.note}" if result.note else ""),
        **result.summary(),
        "photo": {k: upload_meta(photo_id, user_id)["verdict"].get(k) for k in ("width", "height", "format")},
    }
