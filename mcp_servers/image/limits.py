"""The limits one validation runs under, and the verdict it returns.

`Limits` is a frozen value so a caller (the CLI, a test, the benchmark) can tighten one limit for one
call without touching process-wide state. `Verdict` is what every caller gets back: it never
raises, it always says `ok` or names a `kind`, and its `message` is written for the shopper.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from mcp_servers.image.settings import get_image_settings

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")

# Every rejection kind, in the spelling the `tryon.security.violation` metric and the monitors use.
KINDS = (
    "bomb",
    "pixel_flood",
    "bad_format",
    "truncated",
    "text_chunk_bomb",
    "animation",
    "oversize",
    "polyglot",
    "aspect_ratio",
    "corrupt",
)
BLOCKED = "blocked"  # not a property of the file: the uploader is on the block list


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000
    decode_budget_pixels: int = 16_000_000
    max_side: int = 12_000
    max_aspect_ratio: float = 8.0
    max_frames: int = 1
    max_metadata_bytes: int = 1024 * 1024
    max_icc_bytes: int = 1024 * 1024
    working_size: int = 1024
    output_format: str = "JPEG"
    # Structural caps that keep the header walk itself cheap (a million empty chunks is an attack).
    max_chunks: int = 16_384
    max_metadata_chunks: int = 256
    max_jpeg_scans: int = 64
    max_appended_images: int = 4
    # Declared raw size / file size at or above which an over-limit image is called a bomb rather
    # than merely too big: real photos compress about 10:1, bombs 1000:1.
    bomb_ratio: float = 100.0
    allowed_formats: tuple[str, ...] = ALLOWED_FORMATS

    @classmethod
    def from_settings(cls) -> Limits:
        s = get_image_settings()
        return cls(
            max_bytes=s.max_bytes,
            max_pixels=s.max_pixels,
            decode_budget_pixels=s.decode_budget_pixels,
            max_side=s.max_side,
            max_aspect_ratio=s.max_aspect_ratio,
            max_frames=s.max_frames,
            max_metadata_bytes=s.max_metadata_bytes,
            max_icc_bytes=s.max_icc_bytes,
            working_size=s.working_size,
            output_format=s.output_format.upper(),
        )

    def replace(self, **changes: Any) -> Limits:
        return replace(self, **changes)


@dataclass
class Verdict:
    """The outcome of validating one upload.

    `width/height/format` describe the upload as declared by its header (filled in as far as the
    check got); `image*` describe the sanitised copy produced for accepted uploads.
    """

    ok: bool
    kind: str | None = None
    message: str = ""
    width: int | None = None
    height: int | None = None
    format: str | None = None
    bytes: int = 0
    ms: float = 0.0
    detail: str = ""  # technical reason for logs and tests, never shown to shoppers
    entropy: float | None = None
    decoded_pixels: int | None = None  # what Pillow actually decoded (audits the pixel budget)
    image: bytes | None = field(default=None, repr=False)
    image_format: str | None = None
    image_width: int | None = None
    image_height: int | None = None
    user_blocked: bool = False  # this rejection tipped the uploader over the block threshold

    @property
    def pixels(self) -> int | None:
        if self.width is None or self.height is None:
            return None
        return self.width * self.height

    def to_dict(self, *, include_detail: bool = True) -> dict[str, Any]:
        out = asdict(self)
        out.pop("image")
        out["ms"] = round(self.ms, 3)
        if self.entropy is not None:
            out["entropy"] = round(self.entropy, 4)
        if not include_detail:
            out.pop("detail")
        return out
