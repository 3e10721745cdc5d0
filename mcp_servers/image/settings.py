"""Settings of the image server, read from `GODSEYE_IMAGE_*` environment variables.

Kept apart from `godseye.config.Settings` so the upload limits can be tuned per deployment (a
kiosk camera, a phone app) without touching the settings every other process shares. Every limit
here is a security decision: raising one widens what an attacker can make the server decode.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Rejection kinds that count towards the per-user block. A shopper who uploads a HEIC photo, a
# file that is too big, a half-sent file or an animated picture is making a mistake, not an attack,
# so those kinds are reported (tryon.security.violation) but do not lock anyone out.
DEFAULT_BLOCK_KINDS = "bomb,pixel_flood,text_chunk_bomb,polyglot,corrupt,aspect_ratio"


class ImageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GODSEYE_IMAGE_", env_file=".env", extra="ignore")

    max_bytes: int = Field(default=20 * 1024 * 1024, description="Largest upload accepted, in bytes.")
    max_pixels: int = Field(
        default=50_000_000,
        description="Largest declared width*height. JPEGs above the decode budget are decoded reduced "
        "(1/2, 1/4, 1/8) so they still cost at most decode_budget_pixels.",
    )
    decode_budget_pixels: int = Field(
        default=16_000_000, description="Most pixels Pillow is ever allowed to decode for one upload."
    )
    max_side: int = Field(default=12_000, description="Longest side accepted, in pixels.")
    max_aspect_ratio: float = Field(default=8.0, description="Longest side / shortest side.")
    max_frames: int = Field(default=1, description="Frames allowed (1 = stills only).")
    max_metadata_bytes: int = Field(
        default=1024 * 1024, description="Decompressed text/XMP/EXIF metadata allowed in total."
    )
    max_icc_bytes: int = Field(default=1024 * 1024, description="Decompressed ICC profile size allowed.")
    working_size: int = Field(default=1024, description="Longest side of the sanitised working copy.")
    output_format: str = Field(default="JPEG", description="Re-encoding of accepted photos: JPEG or PNG.")
    block_threshold: int = Field(default=3, description="Violations within the window that block a user.")
    block_window_s: float = Field(default=600.0, description="Sliding window for counting violations.")
    block_ttl_s: float = Field(default=24 * 3600.0, description="How long a user block lasts.")
    block_kinds: str = Field(default=DEFAULT_BLOCK_KINDS, description="Comma-separated kinds that count.")
    gemini_image_model: str = Field(default="gemini-2.5-flash-image", description="Gemini try-on model.")

    @property
    def block_kind_set(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.block_kinds.split(",") if k.strip())


@lru_cache(maxsize=1)
def get_image_settings() -> ImageSettings:
    return ImageSettings()
