"""Header-only structure checks: what an upload claims to be, read without decoding a pixel.

Why hand-written walkers rather than `Image.open`: the questions that matter for safety (how many
pixels does it declare, how much does its metadata inflate to, how many frames, where does the
image really end) can be answered from a few hundred header bytes in microseconds, and answering
them ourselves means Pillow is only ever handed files that already passed. Every walker is bounded:
it never inflates more than the configured metadata budget (zlib `max_length`), never loops more
than `max_chunks` times, and treats reading past the end as truncation, never as an exception.

The walkers raise `Rejection(kind, message)`; the validator turns that into a `Verdict`.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from mcp_servers.image.limits import Limits

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Rejection(Exception):
    """An upload refused for a named reason (one of `limits.KINDS`)."""

    def __init__(self, kind: str, message: str, detail: str = ""):
        super().__init__(f"{kind}: {detail or message}")
        self.kind = kind
        self.message = message
        self.detail = detail or message


@dataclass
class HeaderInfo:
    format: str
    width: int = 0
    height: int = 0
    frames: int = 1
    end: int = 0  # offset just past the image's own end marker; anything after it is trailing data
    progressive: bool = False
    scans: int = 0
    appended_images: int = 0  # complete JPEGs after the primary one (MPF gain maps, depth maps)
    metadata: list[tuple[int, int]] = field(default_factory=list)  # byte ranges of metadata
    texts: list[bytes] = field(default_factory=list)  # inflated metadata text, scanned for payloads


DimsCheck = Callable[[str, int, int, bool], None]


# --------------------------------------------------------------------------------------------
# Sniffing: the first bytes decide the format; the file name and declared MIME type never do.

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "JPEG"),
    (PNG_SIGNATURE, 0, "PNG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"BM", 0, "BMP"),
    (b"\x00\x00\x01\x00", 0, "ICO"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"%PDF", 0, "PDF"),
    (b"PK\x03\x04", 0, "ZIP"),
    (b"PK\x05\x06", 0, "ZIP"),
    (b"8BPS", 0, "PSD"),
    (b"\xff\x0a", 0, "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", 0, "JPEG XL"),
    (b"\x00\x00\x00\x0cjP  ", 0, "JPEG 2000"),
    (b"qoif", 0, "QOI"),
    (b"\x7fELF", 0, "executable"),
    (b"MZ", 0, "executable"),
)
_TEXT_KINDS = (
    (re.compile(rb"^\s*<\?php", re.I), "PHP script"),
    (re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<script)", re.I), "HTML page"),
    (re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<svg", re.I | re.S), "SVG drawing"),
    (re.compile(rb"^#!"), "script"),
)
FRIENDLY_NAMES = {
    "JPEG": "a JPEG image", "PNG": "a PNG image", "WEBP": "a WebP image", "GIF": "a GIF image",
    "BMP": "a BMP image", "ICO": "an icon file", "TIFF": "a TIFF image", "PDF": "a PDF document",
    "ZIP": "a ZIP archive (or an Office document)", "PSD": "a Photoshop document",
    "JPEG XL": "a JPEG XL image", "JPEG 2000": "a JPEG 2000 image", "QOI": "a QOI image",
    "HEIF": "a HEIC/HEIF photo", "AVIF": "an AVIF image", "video": "a video", "executable": "a program",
    "PHP script": "a PHP script", "HTML page": "an HTML page", "SVG drawing": "an SVG drawing",
    "script": "a script",
}


def sniff(data: bytes) -> str | None:
    """The container format named by the magic bytes, or None when it is none we know."""
    for magic, offset, name in _SIGNATURES:
        if data.startswith(magic, offset):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return "HEIF"
        return "video"
    head = data[:1024]
    for pattern, name in _TEXT_KINDS:
        if pattern.search(head):
            return name
    return None


# --------------------------------------------------------------------------------------------
# Small helpers


def _need(data: bytes, end: int, what: str) -> None:
    if end > len(data):
        raise Rejection("truncated", _TRUNCATED, f"file ends inside {what} (needs {end}, has {len(data)})")


def _corrupt(fmt: str, detail: str) -> Rejection:
    return Rejection("corrupt", corrupt_message(fmt), detail)


_TRUNCATED = "This photo seems to be cut off: the file ends before the image does. Please try uploading it again."


def corrupt_message(fmt: str | None) -> str:
    name = FRIENDLY_NAMES.get(fmt or "", "an image")
    return f"This file is damaged or is not a valid {name.split(' ', 1)[1]}, so it was not opened. Please try another photo."


def _metadata_bomb(what: str, detail: str) -> Rejection:
    return Rejection(
        "text_chunk_bomb",
        f"This file hides an oversized block of {what} inside the picture (a known way to exhaust servers), "
        "so it was not opened. Please upload a plain photo.",
        detail,
    )


_FRIENDLY_META = {"zTXt": "text", "iTXt": "text", "iCCP": "colour-profile data"}


# Inflating is cheap per byte but a bomb would make us inflate the whole budget. Real text, XMP
# and ICC data compress well under 20:1; zero-filled bombs compress about 1000:1. So the first 64 KiB
# are inflated as a probe, and a stream that produced them at more than 256:1 is a bomb already.
_PROBE_BYTES = 64 * 1024
_MAX_PROBE_RATIO = 256


def bounded_inflate(payload: bytes | memoryview, budget: int, what: str) -> bytes:
    """Inflate at most `budget` bytes; more than that (or a bomb's ratio) is a metadata bomb."""
    label = _FRIENDLY_META.get(what, what)
    budget = max(budget, 0)
    inflater = zlib.decompressobj()
    try:
        # max_length must stay positive: 0 means "unlimited" to zlib
        head = inflater.decompress(payload, min(_PROBE_BYTES, budget + 1))
        consumed = len(payload) - len(inflater.unconsumed_tail)
        if not inflater.eof and len(head) >= _PROBE_BYTES and len(head) > _MAX_PROBE_RATIO * max(consumed, 1):
            raise _metadata_bomb(label, f"{what} inflates more than {_MAX_PROBE_RATIO}:1 ({len(head)} from {consumed})")
        out = head
        while not inflater.eof and len(out) <= budget:
            more = inflater.decompress(inflater.unconsumed_tail, budget + 1 - len(out))
            if not more:
                break
            out += more
    except zlib.error as exc:
        raise Rejection("corrupt", corrupt_message(None), f"{what}: bad zlib stream ({exc})") from None
    if len(out) > budget:
        raise _metadata_bomb(label, f"{what} inflates past the remaining budget of {budget} bytes")
    return out


# --------------------------------------------------------------------------------------------
# PNG (and APNG)

_PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
_PNG_CRITICAL = {b"IHDR", b"PLTE", b"IDAT", b"IEND"}


def parse_png(data: bytes, limits: Limits, check_dims: DimsCheck) -> HeaderInfo:
    info = HeaderInfo("PNG")
    view = memoryview(data)
    pos = len(PNG_SIGNATURE)
    chunks = meta_chunks = 0
    meta_raw = text_total = icc_total = 0
    seen_idat = False
    fctl = 0
    while True:
        _need(data, pos + 8, "a PNG chunk header")
        length, ctype = struct.unpack_from(">I4s", data, pos)
        if length > 0x7FFFFFFF:
            raise _corrupt("PNG", f"chunk length {length} at {pos}")
        body, body_end = pos + 8, pos + 8 + length
        if not ctype.isalpha():
            raise _corrupt("PNG", f"bad chunk type {ctype!r} at {pos}")
        _need(data, body_end + 4, f"PNG chunk {ctype!r}")
        chunks += 1
        if chunks > limits.max_chunks:
            raise _corrupt("PNG", f"more than {limits.max_chunks} chunks")
        (crc,) = struct.unpack_from(">I", data, body_end)
        if zlib.crc32(view[pos + 4 : body_end]) != crc:
            raise _corrupt("PNG", f"CRC mismatch in {ctype!r} at {pos}")
        if chunks == 1:
            if ctype != b"IHDR" or length != 13:
                raise _corrupt("PNG", "first chunk is not a 13-byte IHDR")
            w, h, depth, color, comp, filt, interlace = struct.unpack_from(">IIBBBBB", data, body)
            if color not in _PNG_DEPTHS or depth not in _PNG_DEPTHS[color] or comp or filt or interlace > 1:
                raise _corrupt("PNG", f"invalid IHDR fields depth={depth} color={color}")
            info.width, info.height = w, h
            check_dims("PNG", w, h, False)
        elif ctype == b"IHDR":
            raise _corrupt("PNG", "second IHDR")
        elif ctype == b"IDAT":
            seen_idat = True
        elif ctype == b"IEND":
            info.end = body_end + 4
            break
        elif ctype == b"PLTE":
            pass
        elif ctype[0:1].isupper():
            raise _corrupt("PNG", f"unknown critical chunk {ctype!r}")
        elif ctype == b"fdAT":
            pass  # frame data of an APNG; frame count comes from acTL/fcTL
        else:
            meta_chunks += 1
            meta_raw += length
            if meta_chunks > limits.max_metadata_chunks:
                raise _metadata_bomb("metadata", f"more than {limits.max_metadata_chunks} metadata chunks")
            if meta_raw > limits.max_metadata_bytes + limits.max_icc_bytes:
                raise _metadata_bomb("metadata", f"{meta_raw} bytes of ancillary chunks")
            info.metadata.append((body, body_end))
            chunk = view[body:body_end]
            if ctype == b"acTL":
                if length != 8:
                    raise _corrupt("PNG", "acTL length")
                frames = struct.unpack_from(">I", data, body)[0]
                if frames == 0:
                    raise _corrupt("PNG", "acTL declares zero frames")
                info.frames = max(info.frames, frames)
                if frames > limits.max_frames:
                    raise animation_rejection(frames, limits)
            elif ctype == b"fcTL":
                if length != 26:
                    raise _corrupt("PNG", "fcTL length")
                fctl += 1
                fw, fh, fx, fy = struct.unpack_from(">IIII", data, body + 4)
                if fw == 0 or fh == 0 or fx + fw > info.width or fy + fh > info.height:
                    raise _corrupt("PNG", f"APNG frame {fw}x{fh}+{fx}+{fy} outside the canvas")
                info.frames = max(info.frames, fctl)
                if fctl > limits.max_frames:
                    raise animation_rejection(fctl, limits, counted=False)
            elif ctype == b"tEXt":
                text_total += length
                if text_total > limits.max_metadata_bytes:
                    raise _metadata_bomb("text", f"{text_total} bytes of tEXt")
            elif ctype == b"zTXt":
                text = _png_compressed_field(chunk, 1, limits.max_metadata_bytes - text_total, "zTXt")
                text_total += len(text)
                info.texts.append(text)
            elif ctype == b"iTXt":
                text = _png_itxt(chunk, limits.max_metadata_bytes - text_total)
                text_total += len(text)
                info.texts.append(text)
            elif ctype == b"iCCP":
                profile = _png_compressed_field(chunk, 1, limits.max_icc_bytes - icc_total, "iCCP")
                icc_total += len(profile)
            elif ctype == b"eXIf":
                text_total += length
                if text_total > limits.max_metadata_bytes:
                    raise _metadata_bomb("metadata", f"{text_total} bytes of text and EXIF")
        pos = body_end + 4
    if not seen_idat:
        raise _corrupt("PNG", "no IDAT chunk")
    return info


def animation_rejection(frames: int, limits: Limits, *, counted: bool = True) -> Rejection:
    """`counted=False`: the walk stopped at the first frame over the cap, so `frames` is a floor."""
    allowed = "a single still photo" if limits.max_frames <= 1 else f"at most {limits.max_frames} frames"
    if counted:
        how_many = f"{frames} frames"
    else:
        how_many = "more than one frame" if frames == 2 else f"at least {frames} frames"
    return Rejection(
        "animation",
        f"This is an animated image ({how_many}). Please upload {allowed}.",
        f"{frames} frames > {limits.max_frames}",
    )


def _png_compressed_field(chunk: memoryview, skip_after_nul: int, budget: int, what: str) -> bytes:
    """zTXt and iCCP: keyword NUL method compressed-bytes."""
    raw = chunk[:80].tobytes()
    nul = raw.find(b"\x00")
    if nul < 1:
        raise _corrupt("PNG", f"{what} without a keyword")
    start = nul + 1 + skip_after_nul
    if start > len(chunk) or chunk[nul + 1] != 0:
        raise _corrupt("PNG", f"{what} with an unknown compression method")
    return bounded_inflate(chunk[start:], budget, what)


def _png_itxt(chunk: memoryview, budget: int) -> bytes:
    raw = chunk[:80].tobytes()
    nul = raw.find(b"\x00")
    if nul < 1 or nul + 3 > len(chunk):
        raise _corrupt("PNG", "iTXt without a keyword")
    flag, method = chunk[nul + 1], chunk[nul + 2]
    rest = chunk[nul + 3 :].tobytes() if not flag else None
    if flag:
        # language tag and translated keyword are NUL-terminated and short; find them in a bounded window
        head = chunk[nul + 3 : nul + 3 + 1024].tobytes()
        lang_end = head.find(b"\x00")
        key_end = head.find(b"\x00", lang_end + 1) if lang_end >= 0 else -1
        if key_end < 0 or method != 0:
            raise _corrupt("PNG", "malformed compressed iTXt")
        return bounded_inflate(chunk[nul + 3 + key_end + 1 :], budget, "iTXt")
    assert rest is not None
    if len(rest) > budget:
        raise _metadata_bomb("text", f"iTXt of {len(rest)} bytes")
    return rest


# --------------------------------------------------------------------------------------------
# JPEG

_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}
# In entropy-coded data 0xFF is followed by 0x00 (stuffing) or a restart marker; anything else
# ends the scan. A 0xFF 0xFF run is fill: the regex then matches at the last 0xFF of the run.
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_MAX_JPEG_MARKERS = 4096
_MAX_FILL = 64 * 1024  # 0xFF fill bytes allowed before a marker (encoders use a handful)


def parse_jpeg(data: bytes, limits: Limits, check_dims: DimsCheck) -> HeaderInfo:
    info = _walk_jpeg(data, 0, limits, check_dims)
    # Phones append more complete JPEGs after the first EOI (MPF: HDR gain maps, depth maps).
    # They are never decoded; anything else after EOI is left for the trailing-data check.
    while data.startswith(b"\xff\xd8\xff", info.end) and info.appended_images < limits.max_appended_images:
        extra = _walk_jpeg(data, info.end, limits, None)
        info.metadata.extend(extra.metadata)
        info.end = extra.end
        info.appended_images += 1
    return info


def _walk_jpeg(data: bytes, start: int, limits: Limits, check_dims: DimsCheck | None) -> HeaderInfo:
    info = HeaderInfo("JPEG")
    pos = start + 2
    markers = 0
    meta_total = 0
    seen_sof = False
    while True:
        _need(data, pos + 2, "a JPEG marker")
        if data[pos] != 0xFF:
            raise _corrupt("JPEG", f"expected a marker at {pos}, found {data[pos]:#04x}")
        window = data[pos : pos + _MAX_FILL]
        fill = len(window) - len(window.lstrip(b"\xff"))
        if fill == _MAX_FILL:
            raise _corrupt("JPEG", f"{_MAX_FILL}+ fill bytes at {pos}")
        pos += fill
        _need(data, pos + 1, "a JPEG marker")
        marker = data[pos]
        pos += 1
        markers += 1
        if markers > _MAX_JPEG_MARKERS:
            raise _corrupt("JPEG", f"more than {_MAX_JPEG_MARKERS} markers")
        if marker == 0xD9:
            if not info.scans:
                raise _corrupt("JPEG", "end of image before any image data")
            info.end = pos
            return info
        if marker == 0xD8:
            raise _corrupt("JPEG", "nested start-of-image marker")
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        _need(data, pos + 2, "a JPEG segment length")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2:
            raise _corrupt("JPEG", f"segment length {length}")
        seg, seg_end = pos + 2, pos + length
        _need(data, seg_end, f"JPEG segment {marker:#04x}")
        if marker in _SOF_MARKERS:
            if seen_sof:
                raise _corrupt("JPEG", "more than one frame header")
            seen_sof = True
            if length < 8:
                raise _corrupt("JPEG", "short frame header")
            _precision, h, w, comps = struct.unpack_from(">BHHB", data, seg)
            if comps not in (1, 3, 4) or length < 8 + 3 * comps:
                raise _corrupt("JPEG", f"{comps} colour components")
            if h == 0:
                raise _corrupt("JPEG", "height given later by a DNL marker (unsupported)")
            info.width, info.height = w, h
            info.progressive = marker in _PROGRESSIVE
            if check_dims is not None:
                check_dims("JPEG", w, h, info.progressive)
        elif 0xE0 <= marker <= 0xEF or marker == 0xFE:
            meta_total += length - 2
            if meta_total > limits.max_metadata_bytes + limits.max_icc_bytes:
                raise _metadata_bomb("metadata", f"{meta_total} bytes of APPn/COM segments")
            info.metadata.append((seg, seg_end))
        elif marker == 0xDA:
            if not seen_sof:
                raise _corrupt("JPEG", "scan before the frame header")
            info.scans += 1
            if info.scans > limits.max_jpeg_scans:
                raise Rejection(
                    "bomb",
                    "This JPEG is built to make decoding extremely slow (hundreds of scans), so it was not opened.",
                    f"more than {limits.max_jpeg_scans} scans",
                )
            found = _SCAN_END.search(data, seg_end)
            if found is None:
                raise Rejection("truncated", _TRUNCATED, "scan data runs to the end of the file (no EOI)")
            pos = found.start()
            continue
        pos = seg_end


# --------------------------------------------------------------------------------------------
# WebP


def parse_webp(data: bytes, limits: Limits, check_dims: DimsCheck) -> HeaderInfo:
    info = HeaderInfo("WEBP")
    _need(data, 20, "the WebP header")
    (riff_len,) = struct.unpack_from("<I", data, 4)
    if riff_len < 4 + 8:
        raise _corrupt("WEBP", f"RIFF size {riff_len}")
    riff_end = 8 + riff_len
    _need(data, riff_end, "the RIFF container")
    info.end = riff_end + (riff_len & 1 if riff_end < len(data) else 0)
    pos = 12
    chunks = 0
    first = True
    animated = False
    anmf = 0
    meta_total = 0
    bitstream_dims: tuple[int, int] | None = None
    while pos < riff_end:
        _need(data, pos + 8, "a WebP chunk header")
        fourcc, size = struct.unpack_from("<4sI", data, pos)
        body, body_end = pos + 8, pos + 8 + size
        if body_end > riff_end:
            raise Rejection("truncated", _TRUNCATED, f"WebP chunk {fourcc!r} overruns the container")
        chunks += 1
        if chunks > limits.max_chunks:
            raise _corrupt("WEBP", "too many chunks")
        if first:
            first = False
            if fourcc == b"VP8X":
                if size < 10:
                    raise _corrupt("WEBP", "short VP8X")
                flags = data[body]
                animated = bool(flags & 0x02)
                w = int.from_bytes(data[body + 4 : body + 7], "little") + 1
                h = int.from_bytes(data[body + 7 : body + 10], "little") + 1
                info.width, info.height = w, h
                check_dims("WEBP", w, h, False)
            elif fourcc in (b"VP8 ", b"VP8L"):
                w, h = _webp_bitstream_dims(data, fourcc, body, size)
                info.width, info.height = w, h
                check_dims("WEBP", w, h, False)
            else:
                raise _corrupt("WEBP", f"first chunk {fourcc!r}")
        elif fourcc == b"ANMF":
            anmf += 1
            if size < 16:
                raise _corrupt("WEBP", "short ANMF")
            fx = int.from_bytes(data[body : body + 3], "little") * 2
            fy = int.from_bytes(data[body + 3 : body + 6], "little") * 2
            fw = int.from_bytes(data[body + 6 : body + 9], "little") + 1
            fh = int.from_bytes(data[body + 9 : body + 12], "little") + 1
            if fx + fw > info.width or fy + fh > info.height:
                raise _corrupt("WEBP", f"frame {fw}x{fh}+{fx}+{fy} outside the canvas")
            info.frames = max(info.frames, anmf)
            if anmf > limits.max_frames:
                raise animation_rejection(anmf, limits, counted=False)
        elif fourcc in (b"VP8 ", b"VP8L"):
            if bitstream_dims is not None:
                raise _corrupt("WEBP", "two image bitstreams in a still WebP")
            bitstream_dims = _webp_bitstream_dims(data, fourcc, body, size)
        elif fourcc in (b"ICCP", b"EXIF", b"XMP "):
            meta_total += size
            if meta_total > limits.max_metadata_bytes + limits.max_icc_bytes:
                raise _metadata_bomb("metadata", f"{meta_total} bytes of WebP metadata")
            info.metadata.append((body, body_end))
        elif fourcc not in (b"ALPH", b"ANIM"):
            meta_total += size
            if meta_total > limits.max_metadata_bytes + limits.max_icc_bytes:
                raise _metadata_bomb("metadata", f"{meta_total} bytes of unknown WebP chunks")
            info.metadata.append((body, body_end))
        pos = body_end + (size & 1)
    if animated and anmf == 0:
        raise _corrupt("WEBP", "animation flag without frames")
    if not animated:
        if bitstream_dims is None and info.width and not _first_is_bitstream(data):
            raise _corrupt("WEBP", "no image bitstream")
        if bitstream_dims is not None and bitstream_dims != (info.width, info.height):
            raise _corrupt("WEBP", f"bitstream {bitstream_dims} disagrees with canvas")
    return info


def _first_is_bitstream(data: bytes) -> bool:
    return data[12:16] in (b"VP8 ", b"VP8L")


def _webp_bitstream_dims(data: bytes, fourcc: bytes, body: int, size: int) -> tuple[int, int]:
    if fourcc == b"VP8 ":
        if size < 10:
            raise _corrupt("WEBP", "short VP8 frame")
        if data[body] & 1 or data[body + 3 : body + 6] != b"\x9d\x01\x2a":
            raise _corrupt("WEBP", "VP8 frame is not a key frame")
        w = struct.unpack_from("<H", data, body + 6)[0] & 0x3FFF
        h = struct.unpack_from("<H", data, body + 8)[0] & 0x3FFF
        return w, h
    if size < 5 or data[body] != 0x2F:
        raise _corrupt("WEBP", "bad VP8L signature")
    (bits,) = struct.unpack_from("<I", data, body + 1)
    if bits >> 29:
        raise _corrupt("WEBP", "unknown VP8L version")
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1


# --------------------------------------------------------------------------------------------
# Formats we refuse, parsed only far enough to name the attack (a GIF bomb is not just "a GIF").


def parse_gif(data: bytes, limits: Limits, check_dims: DimsCheck) -> HeaderInfo:
    info = HeaderInfo("GIF")
    _need(data, 13, "the GIF header")
    w, h, flags = struct.unpack_from("<HHB", data, 6)
    info.width, info.height = w, h
    check_dims("GIF", w, h, False)
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    steps = frames = 0
    while True:
        _need(data, pos + 1, "a GIF block")
        steps += 1
        if steps > limits.max_chunks:
            raise _corrupt("GIF", "too many blocks")
        block = data[pos]
        if block == 0x3B:
            info.end = pos + 1
            return info
        if block == 0x21:
            _need(data, pos + 2, "a GIF extension")
            label = data[pos + 1]
            start = pos + 2
            pos = _skip_sub_blocks(data, start)
            if label == 0xFE:
                info.metadata.append((start, pos))
        elif block == 0x2C:
            _need(data, pos + 10, "a GIF image descriptor")
            fx, fy, fw, fh, fflags = struct.unpack_from("<HHHHB", data, pos + 1)
            frames += 1
            info.frames = frames
            # Pillow grows the canvas to fit a frame: a 100x100 GIF with a 65535x65535 frame is a bomb.
            check_dims("GIF", max(w, fx + fw), max(h, fy + fh), False)
            if info.frames > limits.max_frames:
                raise animation_rejection(info.frames, limits, counted=False)
            pos += 10 + (3 << ((fflags & 7) + 1) if fflags & 0x80 else 0)
            _need(data, pos + 1, "GIF image data")
            pos = _skip_sub_blocks(data, pos + 1)
        else:
            raise _corrupt("GIF", f"unknown block {block:#04x} at {pos}")


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    n = len(data)
    while True:
        if pos >= n:
            raise Rejection("truncated", _TRUNCATED, "GIF sub-blocks run past the end")
        size = data[pos]
        pos += 1
        if size == 0:
            return pos
        pos += size


def parse_bmp(data: bytes, limits: Limits, check_dims: DimsCheck) -> HeaderInfo:
    info = HeaderInfo("BMP")
    _need(data, 26, "the BMP header")
    (header_size,) = struct.unpack_from("<I", data, 14)
    if header_size == 12:
        w, h = struct.unpack_from("<HH", data, 18)
    else:
        w, h = struct.unpack_from("<ii", data, 18)
    info.width, info.height = abs(w), abs(h)
    check_dims("BMP", abs(w), abs(h), False)
    info.end = len(data)
    return info


PARSERS: dict[str, Callable[[bytes, Limits, DimsCheck], HeaderInfo]] = {
    "PNG": parse_png,
    "JPEG": parse_jpeg,
    "WEBP": parse_webp,
    "GIF": parse_gif,
    "BMP": parse_bmp,
}
