"""Upload validation: decide before decoding, decode within a pixel budget, hand back a clean copy.

Order of checks (cheapest and most decisive first, so bombs cost microseconds):
 1. byte-size cap (`oversize`), empty file (`truncated`);
 2. format by magic bytes only (`bad_format`; the name and declared MIME type are ignored);
 3. a header walk of our own (`headers.py`): declared dimensions against the pixel, side and
    aspect caps (`bomb`, `pixel_flood`, `aspect_ratio`), text/ICC chunks inflated with a bounded
    budget (`text_chunk_bomb`), frame counts (`animation`), structure, CRCs and end markers
    (`corrupt`, `truncated`);
 4. trailing data and second personalities (`polyglot`);
 5. only then Pillow, restricted to the sniffed format, with DecompressionBombWarning raised as an
    error, Pillow's own pixel limit tightened to our budget for the call, JPEGs decoded reduced
    (`Image.draft`) so a 48 MP photo costs what a 3 MP one does, and the decoded size checked
    against what the header said (a parser disagreement is `corrupt`);
 6. EXIF orientation applied, metadata dropped (a fresh image is built from the pixels), the
    copy shrunk to the working size and re-encoded.

`inspect()` is pure (no metrics, no block list) so tests, the fuzzer and the benchmark can call it
in a loop; `validate_upload()` adds the per-user attribution and blocking on top.
"""

from __future__ import annotations

import io
import struct
import threading
import time
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageFile, ImageOps

from mcp_servers.image.headers import (
    FRIENDLY_NAMES,
    PARSERS,
    PNG_SIGNATURE,
    HeaderInfo,
    Rejection,
    corrupt_message,
    sniff,
)
from mcp_servers.image.limits import ALLOWED_FORMATS, Limits, Verdict
from mcp_servers.image.polyglot import find_polyglot

if TYPE_CHECKING:
    from mcp_servers.image.attribution import Attribution

# Pillow's pixel limit and the warnings filters are process-wide. Every decode here holds this lock
# while it tightens them, and restores them after, so concurrent validations never see each
# other's values and the global is only ever made stricter, briefly.
_PILLOW_LOCK = threading.Lock()
# Progressive JPEGs from cameras and encoders use 6..20 scans; the work is pixels x scans.
PROGRESSIVE_SCAN_FACTOR = 16


@contextmanager
def pillow_budget(max_pixels: int) -> Iterator[None]:
    """Run Pillow with `max_pixels` as its bomb limit and its bomb warning raised as an error."""
    with _PILLOW_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pillow's notes on malformed metadata: not our log's business
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous_pixels = Image.MAX_IMAGE_PIXELS
        previous_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
        Image.MAX_IMAGE_PIXELS = max_pixels if previous_pixels is None else min(previous_pixels, max_pixels)
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = previous_pixels
            ImageFile.LOAD_TRUNCATED_IMAGES = previous_truncated


def _size(nbytes: int) -> str:
    if nbytes < 1024:
        return f"{nbytes}-byte"
    if nbytes < 1024 * 1024:
        return f"{nbytes / 1024:.0f} KB"
    return f"{nbytes / 1024 / 1024:.1f} MB"


def _mb(n: float) -> str:
    return f"{n / 1e6:.0f}" if n >= 10e6 else f"{n / 1e6:.1f}"


def declared_pixel_cap(fmt: str, progressive: bool, limits: Limits) -> int:
    """Most pixels a header may declare. Baseline JPEGs decode reduced (1/2..1/8), so they may
    declare up to max_pixels; everything else decodes at full size, and progressive JPEG decoders
    keep full-size coefficient buffers, so those may declare no more than the decode budget."""
    if fmt == "JPEG" and not progressive:
        return limits.max_pixels
    return min(limits.max_pixels, limits.decode_budget_pixels)


class _Probe:
    """What the header walk has learnt so far, so a rejection can still report it."""

    def __init__(self, data: bytes, limits: Limits):
        self.data = data
        self.limits = limits
        self.format: str | None = None
        self.width: int | None = None
        self.height: int | None = None

    def check_dims(self, fmt: str, w: int, h: int, progressive: bool) -> None:
        limits = self.limits
        self.width, self.height = w, h
        if w <= 0 or h <= 0:
            raise Rejection(
                "corrupt",
                f"This file says the picture is {w}×{h} pixels, which is not a real picture. Please try another photo.",
                "zero dimension",
            )
        pixels = w * h
        cap = declared_pixel_cap(fmt, progressive, limits)
        if pixels > cap:
            raw = pixels * 3
            ratio = raw / max(len(self.data), 1)
            if ratio >= limits.bomb_ratio:
                raise Rejection(
                    "bomb",
                    f"This {_size(len(self.data))} file claims to be {w}×{h} pixels "
                    f"({_mb(pixels)} megapixels, about {_mb(raw)} MB once opened). That is how decompression "
                    "bombs work, so it was not opened.",
                    f"{pixels} px > {cap}, expansion {ratio:.0f}:1",
                )
            raise Rejection(
                "pixel_flood",
                f"This picture is {w}×{h} pixels ({_mb(pixels)} megapixels); the most we accept is "
                f"{_mb(cap)} megapixels. Please send a smaller photo.",
                f"{pixels} px > {cap}",
            )
        aspect = max(w, h) / min(w, h)
        if aspect > limits.max_aspect_ratio:
            raise Rejection(
                "aspect_ratio",
                f"This picture is {w}×{h} pixels, far too long and thin to be a photo of a person "
                f"(we accept up to {limits.max_aspect_ratio:g}:1). Please send a normal photo.",
                f"aspect {aspect:.1f} > {limits.max_aspect_ratio}",
            )
        if max(w, h) > limits.max_side:
            raise Rejection(
                "pixel_flood",
                f"This picture is {w}×{h} pixels; the longest side we accept is {limits.max_side} pixels. "
                "Please send a smaller photo.",
                f"side {max(w, h)} > {limits.max_side}",
            )


def inspect(data: bytes, limits: Limits | None = None, *, keep_alpha: bool = False) -> Verdict:
    """Validate one upload without side effects. Never raises; see the module docstring for order.

    `keep_alpha` keeps transparency and re-encodes as PNG (product cut-outs); shopper photos are
    flattened onto white and re-encoded in `limits.output_format`.
    """
    limits = limits or Limits.from_settings()
    start = time.perf_counter()
    probe = _Probe(data, limits)
    try:
        verdict = _inspect(data, limits, probe, keep_alpha)
    except Rejection as rej:
        verdict = Verdict(ok=False, kind=rej.kind, message=rej.message, detail=rej.detail)
    except MemoryError:
        verdict = Verdict(
            ok=False, kind="bomb", message="This file needs far too much memory to open, so it was refused.",
            detail="MemoryError",
        )
    except Exception as exc:  # the last line of defence: a shopper never sees a traceback
        verdict = Verdict(ok=False, kind="corrupt", message=corrupt_message(probe.format),
                          detail=f"unexpected: {type(exc).__name__}: {exc}")
    verdict.bytes = len(data)
    verdict.format = verdict.format or probe.format
    if verdict.width is None:
        verdict.width, verdict.height = probe.width, probe.height
    verdict.ms = (time.perf_counter() - start) * 1000
    return verdict


def _inspect(data: bytes, limits: Limits, probe: _Probe, keep_alpha: bool) -> Verdict:
    if not data:
        raise Rejection("truncated", "The file is empty. Please try uploading the photo again.", "0 bytes")
    if len(data) > limits.max_bytes:
        raise Rejection(
            "oversize",
            f"This file is {len(data) / 1e6:.1f} MB; photos up to {limits.max_bytes / 1e6:.0f} MB are accepted. "
            "Please send a smaller photo.",
            f"{len(data)} bytes > {limits.max_bytes}",
        )
    fmt = sniff(data)
    probe.format = fmt
    allowed = [f for f in limits.allowed_formats if f in ALLOWED_FORMATS]
    parser = PARSERS.get(fmt or "")
    if parser is None and _cut_inside_signature(data):
        raise Rejection("truncated", "The file ends before the picture even starts. Please try uploading it again.",
                        f"{len(data)} bytes: a cut-off image signature")
    if parser is None:
        what = FRIENDLY_NAMES.get(fmt or "")
        raise Rejection("bad_format", _bad_format_message(what, allowed), f"magic bytes say {fmt or 'unknown'}")
    try:
        info = parser(data, limits, probe.check_dims)
    except struct.error as exc:  # a fixed-size read past the end of the file
        raise Rejection("truncated", corrupt_message(fmt), f"header read past the end: {exc}") from None
    probe.width, probe.height = info.width, info.height
    if info.progressive and info.width * info.height * info.scans > limits.decode_budget_pixels * PROGRESSIVE_SCAN_FACTOR:
        # libjpeg walks the whole image once per progressive scan: many scans of a big image is a CPU bomb
        raise Rejection(
            "bomb",
            "This JPEG is built to make decoding extremely slow (too many passes for its size), so it was not opened.",
            f"{info.scans} progressive scans over {info.width * info.height} px",
        )
    found = find_polyglot(data, info, scan_metadata=fmt in allowed)
    if found:
        what, detail = found
        raise Rejection(
            "polyglot",
            f"This file is a picture with {what} hidden inside it. For safety it was not accepted; "
            "please upload a plain photo.",
            detail,
        )
    if fmt not in allowed:
        raise Rejection("bad_format", _bad_format_message(FRIENDLY_NAMES.get(fmt, fmt), allowed), f"{fmt} not allowed")
    return _decode(data, info, limits, keep_alpha)


def _cut_inside_signature(data: bytes) -> bool:
    """A file shorter than the signature of a format we accept, and a prefix of it."""
    return (
        (len(data) < 3 and b"\xff\xd8\xff".startswith(data))
        or (len(data) < 8 and PNG_SIGNATURE.startswith(data))
        or (len(data) < 12 and (data[:4] == b"RIFF" or b"RIFF".startswith(data)) and b"WEBP".startswith(data[8:12]))
    )


def _bad_format_message(what: str | None, allowed: list[str]) -> str:
    names = ["WebP" if f == "WEBP" else f for f in allowed]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    if what is None:
        return f"This file is not an image we recognise. Please upload a {listed} photo."
    return f"This file is {what}, not a photo we can use. Please upload a {listed} photo."


def _decode(data: bytes, info: HeaderInfo, limits: Limits, keep_alpha: bool) -> Verdict:
    budget = limits.decode_budget_pixels
    fmt = info.format
    # Pillow checks the declared size when it opens the file, before `draft` can reduce a JPEG, so
    # its limit is the declared-size cap; the decode budget is enforced on the reduced size below.
    declared_cap = declared_pixel_cap(fmt, info.progressive, limits)
    with pillow_budget(declared_cap):
        try:
            im = Image.open(io.BytesIO(data), formats=[fmt])
            if im.size != (info.width, info.height):
                raise Rejection("corrupt", corrupt_message(fmt), f"Pillow reads {im.size}, header says "
                                f"{(info.width, info.height)}")
            if fmt == "JPEG":
                im.draft(None, (limits.working_size, limits.working_size))
            decoded = im.width * im.height
            if decoded > budget:
                raise Rejection("pixel_flood", f"This picture is too large to open ({_mb(decoded)} megapixels).",
                                f"decode would be {decoded} px > budget {budget}")
            im.load()
        except Rejection:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise Rejection("bomb", "This file is built to exhaust memory when opened, so it was refused.",
                            f"Pillow: {exc}") from None
        except OSError as exc:  # includes UnidentifiedImageError
            kind = "truncated" if "truncated" in str(exc).lower() else "corrupt"
            message = (
                "This photo seems to be cut off: the file ends before the image does. Please try uploading it again."
                if kind == "truncated"
                else corrupt_message(fmt)
            )
            raise Rejection(kind, message, f"Pillow: {type(exc).__name__}: {exc}") from None
        except (SyntaxError, ValueError, EOFError, struct.error, zlib.error) as exc:
            raise Rejection("corrupt", corrupt_message(fmt), f"Pillow: {type(exc).__name__}: {exc}") from None
    return _sanitise(im, info, limits, keep_alpha, decoded)


def _sanitise(im: Image.Image, info: HeaderInfo, limits: Limits, keep_alpha: bool, decoded: int) -> Verdict:
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # a broken EXIF block costs the orientation, not the upload
        pass
    im = _normalise_mode(im, keep_alpha)
    if max(im.size) > limits.working_size:
        im.thumbnail((limits.working_size, limits.working_size), Image.Resampling.BICUBIC, reducing_gap=2.0)
    entropy = im.convert("L").entropy()
    # A brand-new image from the raw pixels: no EXIF, ICC, XMP, text chunks or comments survive.
    clean = Image.frombytes(im.mode, im.size, im.tobytes())
    out = io.BytesIO()
    out_format = "PNG" if keep_alpha else limits.output_format.upper()
    if out_format == "JPEG":
        clean.save(out, "JPEG", quality=90)
    else:
        out_format = "PNG"
        clean.save(out, "PNG", compress_level=6)
    return Verdict(
        ok=True,
        message="The photo looks good.",
        width=info.width,
        height=info.height,
        format=info.format,
        entropy=float(entropy),
        decoded_pixels=decoded,
        image=out.getvalue(),
        image_format=out_format,
        image_width=clean.width,
        image_height=clean.height,
    )


def _normalise_mode(im: Image.Image, keep_alpha: bool) -> Image.Image:
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.uint32)
        im = Image.fromarray((arr >> 8).clip(0, 255).astype(np.uint8), "L") if im.mode.startswith("I;16") else \
            Image.fromarray(arr.clip(0, 255).astype(np.uint8), "L")
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info)
    if keep_alpha:
        return im.convert("RGBA")
    if has_alpha:
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im.convert("RGB")


def validate_upload(
    data: bytes,
    *,
    user_id: str | None = None,
    limits: Limits | None = None,
    attribution: Attribution | None = None,
    keep_alpha: bool = False,
) -> Verdict:
    """Validate an upload for `user_id`: refuse blocked users, inspect, report metrics, maybe block.

    Rejections emit `tryon.security.violation{user_id,kind}`; accepted uploads emit
    `tryon.image.bytes|pixels|entropy{format}`. Repeated hostile uploads block the user (settings
    `GODSEYE_IMAGE_BLOCK_*`), after which the verdict kind is "blocked" until the block is lifted.
    """
    from mcp_servers.image.attribution import default_attribution

    attribution = attribution or default_attribution()
    entry = attribution.blocked(user_id)
    if entry is not None:
        return attribution.refuse_blocked(entry, len(data))
    verdict = inspect(data, limits, keep_alpha=keep_alpha)
    return attribution.report(verdict, user_id, data)
