"""Polyglot and trailing-data checks: a file that is a valid image AND a zip, a web page or a script.

Why it matters even though we re-encode every accepted photo: the original bytes can still reach a
log, a support ticket, a CDN or a colleague's download folder, where a PHP interpreter, a browser
sniffing content or `unzip` reads the other personality. Decoders stop at the image's end marker;
these tools do not.

False positives are the design constraint: a 5 MB photo is 5 million random-looking bytes, so
markers searched across the whole file are long enough (>= 5 distinctive bytes) that chance matches
are below one in ten thousand photos, and short markers are only searched where text lives
(metadata segments, the first kilobyte, data after the end marker).
"""

from __future__ import annotations

import re
import struct

from mcp_servers.image.headers import HeaderInfo

# One literal first byte ("<") lets the regex engine skip ahead: ~1 ms per MB instead of ~30.
_ANYWHERE = re.compile(rb"<(?:\?php|script|iframe|html)", re.I)
# Searched in lower-cased text regions with bytes.find (memchr speed; a case-insensitive regex
# alternation costs ~100 ms per MB). Attribute handlers need a following "=", checked separately.
_TEXT_MARKERS = (b"<?php", b"<script", b"<iframe", b"<html", b"javascript:", b"<svg", b"<body", b"<object",
                 b"<embed", b"eval(")
_HANDLERS = (b"onerror", b"onload")
_HANDLER_TAIL = re.compile(rb"\s*=")
_MAX_HANDLER_HITS = 256
_MAX_ZIP_CANDIDATES = 32
_TAIL_SCAN = 64 * 1024
_ZIP_METHODS = {0, 1, 6, 8, 9, 12, 14, 93, 95, 98, 99}


def find_text_marker(region: bytes) -> tuple[int, bytes] | None:
    """(offset, marker) of the first script/markup marker in a text-bearing region, else None."""
    lower = region.lower()
    hits = [(at, m) for m in _TEXT_MARKERS if (at := lower.find(m)) >= 0]
    for handler in _HANDLERS:
        at, seen = lower.find(handler), 0
        while at >= 0 and seen < _MAX_HANDLER_HITS:
            if _HANDLER_TAIL.match(lower, at + len(handler)):
                hits.append((at, handler + b"="))
                break
            at, seen = lower.find(handler, at + 1), seen + 1
    return min(hits) if hits else None


def _label(match: bytes) -> str:
    text = match.lower()
    if text.startswith(b"<?php"):
        return "a PHP script"
    if text.startswith((b"<script", b"javascript:", b"on", b"eval")):
        return "JavaScript"
    if text.startswith(b"<svg"):
        return "an SVG document"
    return "an HTML page"


def find_zip(data: bytes) -> str | None:
    """Describe a zip personality (local file header or end-of-central-directory), else None."""
    n = len(data)
    # End of central directory: what unzip and Java's jar reader look for, within the last 64 KiB.
    eocd = data.rfind(b"PK\x05\x06", max(0, n - 65_557))
    if eocd >= 0 and eocd + 22 <= n:
        cd_size, cd_offset, comment_len = struct.unpack_from("<IIH", data, eocd + 12)
        if eocd + 22 + comment_len <= n + 16 and cd_size <= eocd:
            return f"a ZIP archive (directory record at byte {eocd})"
    pos = data.find(b"PK\x03\x04")
    checked = 0
    while pos >= 0 and pos + 30 <= n:
        checked += 1
        if checked > _MAX_ZIP_CANDIDATES:  # no photo holds dozens of zip signatures by chance
            return f"a ZIP archive ({checked - 1}+ file headers)"
        version, _flags, method = struct.unpack_from("<HHH", data, pos + 4)
        name_len, extra_len = struct.unpack_from("<HH", data, pos + 26)
        name = data[pos + 30 : pos + 30 + name_len]
        if (
            version <= 63
            and method in _ZIP_METHODS
            and 0 < name_len <= 1024
            and extra_len <= 4096
            and len(name) == name_len
            and all(32 <= b < 127 for b in name)
        ):
            return f"a ZIP archive (file {name.decode('ascii')!r} at byte {pos})"
        pos = data.find(b"PK\x03\x04", pos + 4)
    return None


def is_padding(tail: bytes) -> bool:
    """Zero, 0xFF or whitespace filler that some cameras and tools leave after the end marker."""
    n = len(tail)
    return tail.count(b"\x00") == n or tail.count(b"\xff") == n or (tail[:1].isspace() and not tail.strip())


def find_polyglot(data: bytes, info: HeaderInfo, *, scan_metadata: bool = True) -> tuple[str, str] | None:
    """(what was found, technical detail) for a file with a second personality, else None.

    `scan_metadata=False` skips the metadata text scan for formats refused anyway (a GIF comment
    can be 20 MB; only naming a zip or trailing payload adds anything there)."""
    tail = data[info.end :] if info.end else b""
    if tail and not is_padding(tail):
        zipped = find_zip(tail)
        if zipped:
            return zipped, f"zip after the image end at {info.end}"
        found = find_text_marker(tail[:_TAIL_SCAN])  # it is a polyglot either way; this only names it
        if found:
            return _label(found[1]), f"{found[1]!r} after the image end at {info.end}"
        if tail.lstrip().startswith(b"#!"):
            return "a script", f"shebang after the image end at {info.end}"
        return "extra data after the end of the picture", f"{len(tail)} trailing bytes after {info.end}"
    zipped = find_zip(data)
    if zipped:
        return zipped, "zip structure inside the image"
    found = _ANYWHERE.search(data)
    if found:
        return _label(found.group()), f"{found.group()!r} at byte {found.start()}"
    if not scan_metadata:
        return None
    regions = [data[a:b] for a, b in info.metadata] + list(info.texts) + [data[:1024]]
    for region in regions:
        found = find_text_marker(region)
        if found:
            return _label(found[1]), f"{found[1]!r} in image metadata"
    return None
