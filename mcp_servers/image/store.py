"""Where validated uploads and try-on results live, addressed by opaque ids.

Only sanitised copies are ever written (the original bytes of an upload are never stored), so
nothing an attacker smuggled into metadata or after the end marker reaches disk. Ids are random
and checked against a strict pattern before they become paths (no traversal), and every upload
records its owner: a shopper can only try on their own photo.

Layout: `<uploads_dir>/<upload_id>.<ext>` + `.json` sidecar; `<uploads_dir>/tryon/<result_id>.png`
+ `.json`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from godseye.config import get_settings
from mcp_servers.image.limits import Limits, Verdict
from mcp_servers.image.validator import validate_upload

UPLOAD_ID = re.compile(r"^up_[0-9a-f]{16}$")
RESULT_ID = re.compile(r"^to_[0-9a-f]{16}$")


class UploadNotFound(LookupError):
    """No such upload for this user (an unknown id and someone else's id look the same on purpose)."""


@dataclass
class UploadResult:
    ok: bool
    verdict: Verdict
    upload_id: str | None = None
    path: Path | None = None

    @property
    def message(self) -> str:
        return self.verdict.message

    def to_dict(self) -> dict[str, Any]:
        out = self.verdict.to_dict(include_detail=False)
        out.update(upload_id=self.upload_id, path=str(self.path) if self.path else None)
        return out


def uploads_dir() -> Path:
    path = get_settings().uploads_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


def tryon_dir() -> Path:
    path = uploads_dir() / "tryon"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def store_upload(data: bytes, user_id: str, *, limits: Limits | None = None) -> UploadResult:
    """Validate `data` for `user_id` and, when accepted, store the sanitised copy under a new id."""
    verdict = validate_upload(data, user_id=user_id, limits=limits)
    if not verdict.ok or verdict.image is None:
        return UploadResult(ok=False, verdict=verdict)
    upload_id = f"up_{secrets.token_hex(8)}"
    ext = "png" if verdict.image_format == "PNG" else "jpg"
    folder = uploads_dir()
    path = folder / f"{upload_id}.{ext}"
    _write_atomic(path, verdict.image)
    meta = {"upload_id": upload_id, "user_id": user_id, "file": path.name, "created_at": time.time(),
            "verdict": verdict.to_dict()}
    _write_atomic(folder / f"{upload_id}.json", json.dumps(meta, indent=1).encode())
    return UploadResult(ok=True, verdict=verdict, upload_id=upload_id, path=path)


def upload_meta(upload_id: str, user_id: str | None = None) -> dict[str, Any]:
    if not isinstance(upload_id, str) or not UPLOAD_ID.match(upload_id):
        raise UploadNotFound(f"No photo with id {upload_id!r}.")
    meta_path = uploads_dir() / f"{upload_id}.json"
    if not meta_path.is_file():
        raise UploadNotFound(f"No photo with id {upload_id!r}.")
    meta = json.loads(meta_path.read_text())
    if user_id is not None and meta.get("user_id") != user_id:
        raise UploadNotFound(f"No photo with id {upload_id!r}.")
    return meta


def load_upload(upload_id: str, user_id: str | None = None) -> bytes:
    """The sanitised photo bytes, if `upload_id` exists and (when given) belongs to `user_id`."""
    meta = upload_meta(upload_id, user_id)
    return (uploads_dir() / meta["file"]).read_bytes()


def save_result(image: bytes, meta: dict[str, Any]) -> tuple[str, Path]:
    result_id = f"to_{secrets.token_hex(8)}"
    folder = tryon_dir()
    path = folder / f"{result_id}.png"
    _write_atomic(path, image)
    _write_atomic(folder / f"{result_id}.json", json.dumps({"result_id": result_id, **meta}, indent=1).encode())
    return result_id, path


def result_path(result_id: str) -> Path:
    """Path of a stored try-on image (the UI reads it to show the preview)."""
    if not isinstance(result_id, str) or not RESULT_ID.match(result_id):
        raise UploadNotFound(f"No try-on result with id {result_id!r}.")
    path = tryon_dir() / f"{result_id}.png"
    if not path.is_file():
        raise UploadNotFound(f"No try-on result with id {result_id!r}.")
    return path
