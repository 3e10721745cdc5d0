"""Upload validation: generated hostile files, the shared Pillow fixtures, and benign photos."""

from __future__ import annotations

import io
import struct
import threading
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from mcp_servers.image import fixtures as fx
from mcp_servers.image.limits import KINDS, Limits
from mcp_servers.image.validator import inspect

LIMITS = Limits()

# The 8-bit 100 MP bomb takes half a second to build; the 1-bit one is the same attack, built in 30 ms.
FAST_OVERRIDES = {"png_bomb_100mp": lambda: fx.png_bomb(10_000, bit_depth=1)}


@pytest.fixture
def decode_spy(monkeypatch):
    """Record the size of every image Pillow actually decodes."""
    sizes: list[tuple[int, int]] = []
    original = ImageFile.ImageFile.load

    def load(self):  # type: ignore[no-untyped-def]
        sizes.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return sizes


@pytest.mark.parametrize("name", sorted(fx.HOSTILE))
def test_hostile_file_is_rejected_with_its_kind(name, decode_spy):
    make, kind = fx.HOSTILE[name]
    data = FAST_OVERRIDES.get(name, make)()
    verdict = inspect(data, LIMITS)
    assert not verdict.ok
    assert verdict.kind == kind, verdict.detail
    assert verdict.message and "Traceback" not in verdict.message and "Error" not in verdict.message
    assert verdict.image is None
    assert not verdict.detail.startswith("unexpected"), verdict.detail
    if name in fx.BOMBS:
        assert decode_spy == [], f"{name} reached the decoder"
        assert verdict.ms < 50, f"{name} took {verdict.ms:.1f} ms"  # the benchmark holds the 5 ms target


def test_pillow_alone_would_decode_the_100mp_bomb():
    """Why the validator exists: at default limits Pillow only warns about 100 MP and opens it."""
    data = fx.png_bomb(10_000, bit_depth=1)
    with pytest.warns(Image.DecompressionBombWarning):
        im = Image.open(io.BytesIO(data))
    assert im.size == (10_000, 10_000)
    assert inspect(data, LIMITS).kind == "bomb"


def test_declared_dimensions_in_every_format_are_caught_before_decoding(decode_spy):
    cases = {
        "PNG": fx.png_huge_declared(40_000, 40_000),
        "GIF": fx.gif_huge_screen(40_000, 40_000),
        "WEBP": fx.webp_huge_declared(16_000, 16_000),
        "JPEG": fx.jpeg_huge_declared(40_000, 40_000),
    }
    for fmt, data in cases.items():
        verdict = inspect(data, LIMITS)
        assert verdict.kind == "bomb", (fmt, verdict.detail)
        assert (verdict.format, verdict.width, verdict.height)[0] == fmt
        assert verdict.width * verdict.height >= 16_000 * 16_000
    assert decode_spy == []


def test_pixel_flood_without_bomb_ratio_is_called_a_flood():
    """A big but honestly compressed picture is 'too big', not an attack."""
    rng = np.random.default_rng(0)
    # 17.6 MP declared with 600 KB of (incompressible) data: a 90:1 ratio, like a real big photo
    data = fx.make_png(4200, 4200, idat=rng.bytes(600_000))
    verdict = inspect(data, LIMITS)
    assert verdict.kind == "pixel_flood", verdict.detail
    assert "megapixels" in verdict.message


def test_metadata_bombs_are_bounded_and_named():
    for data in (fx.ztxt_bomb(), fx.iccp_bomb(), fx.itxt_bomb(), fx.text_chunk_flood(chunks=8)):
        verdict = inspect(data, LIMITS)
        assert verdict.kind == "text_chunk_bomb", verdict.detail
        assert "inflates more than 256:1" in verdict.detail  # caught by the probe, not the full budget
    # a bomb of merely compressible data still stops at the budget
    dense = np.random.default_rng(2).bytes(700_000).hex().encode()  # 1.4 MB, compresses ~2:1
    chunk = fx.png_chunk(b"zTXt", b"k\x00\x00" + zlib.compress(dense))
    verdict = inspect(fx.make_png(8, 8, before_idat=(chunk,)), LIMITS)
    assert verdict.kind == "text_chunk_bomb" and "budget" in verdict.detail
    # a small, honest text chunk is fine
    note = fx.png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"taken on holiday"))
    assert inspect(fx.make_png(32, 32, before_idat=(note,)), LIMITS).ok


def test_text_budget_is_a_setting():
    text = np.random.default_rng(1).bytes(100_000).hex().encode()  # 200 KB of honest-looking text
    payload = zlib.compress(text)
    data = fx.make_png(8, 8, before_idat=(fx.png_chunk(b"zTXt", b"k\x00\x00" + payload),))
    assert inspect(data, LIMITS).ok
    assert inspect(data, LIMITS.replace(max_metadata_bytes=100_000)).kind == "text_chunk_bomb"


def test_animation_and_frame_caps():
    assert inspect(fx.apng_many_frames(2), LIMITS).kind == "animation"
    assert inspect(fx.gif_many_frames(3), LIMITS).kind == "animation"
    assert inspect(fx.webp_animated(3), LIMITS).kind == "animation"
    verdict = inspect(fx.apng_many_frames(1_000), LIMITS)
    assert "1000 frames" in verdict.message
    # with animations allowed up to 4 frames, a 3-frame APNG passes (its first frame is used)
    assert inspect(fx.apng_many_frames(3), LIMITS.replace(max_frames=4)).ok


def test_truncated_and_corrupt_files():
    for data in (fx.truncated(fx.valid_png(), 0.5), fx.truncated(fx.valid_jpeg(), 0.5),
                 fx.truncated(fx.valid_webp(), 0.5), fx.valid_png()[:-12], b"\x89PNG\r\n\x1a\n"):
        assert inspect(data, LIMITS).kind == "truncated"
    for data in (fx.png_bad_crc(), fx.png_corrupt_idat(), fx.png_zero_width(), fx.jpeg_zero_width()):
        assert inspect(data, LIMITS).kind == "corrupt"
    # IDAT that stops early but is framed correctly: only the decoder notices, and it says so
    idat = zlib.compress(bytes(33 * 16))[:-6]
    verdict = inspect(fx.make_png(32, 32, color_type=0, idat=idat), LIMITS)
    assert verdict.kind in {"truncated", "corrupt"}


def test_polyglots_inside_and_after_the_image():
    cases = {
        "png+zip": fx.png_plus_zip(),
        "zip in chunk": fx.png_zip_in_chunk(),
        "jpeg+html": fx.jpeg_plus_html(),
        "script after IEND": fx.png_script_after_iend(),
        "shebang after IEND": fx.png_shebang_after_iend(),
        "php in JPEG comment": fx.jpeg_php_in_comment(),
        "php in PNG text": fx.make_png(8, 8, before_idat=(fx.png_chunk(b"tEXt", b"c\x00<?php eval($_POST[1]);"),)),
        "svg onload in EXIF-ish text": fx.make_png(8, 8, before_idat=(fx.png_chunk(b"tEXt", b"c\x00<svg onload=alert(1)>"),)),
        "webp+html": fx.valid_webp() + b"<html><script>x()</script>",
        "gifar": fx.gifar(),
    }
    for name, data in cases.items():
        verdict = inspect(data, LIMITS)
        assert verdict.kind == "polyglot", (name, verdict.kind, verdict.detail)
        assert "hidden inside" in verdict.message


def test_benign_trailers_are_not_polyglots():
    # zero padding after EOI (some cameras), and an appended MPF image (phone HDR gain maps)
    assert inspect(fx.valid_jpeg() + bytes(512), LIMITS).ok
    assert inspect(fx.valid_jpeg() + fx.valid_jpeg(32, 24), LIMITS).ok
    # arbitrary bytes after the end are not
    assert inspect(fx.valid_jpeg() + b"\x13\x37" * 40, LIMITS).kind == "polyglot"


def test_aspect_ratio_extremes():
    assert inspect(fx.png_aspect(20_000, 1), LIMITS).kind == "aspect_ratio"
    assert inspect(fx.png_aspect(1, 20_000), LIMITS).kind == "aspect_ratio"
    assert inspect(fx.png_aspect(900, 100), LIMITS).kind == "aspect_ratio"
    assert inspect(fx.png_aspect(700, 100), LIMITS).ok  # 7:1 is within the default 8:1


def test_format_comes_from_magic_bytes_not_names():
    html = fx.html_named_like_a_photo()
    assert inspect(html, LIMITS).kind == "bad_format"
    bmp = fx.encode(fx.small_photo(), "BMP")
    tiff = fx.encode(fx.small_photo(), "TIFF")
    for data, word in ((bmp, "BMP"), (tiff, "TIFF"), (fx.encode(fx.small_photo(), "GIF"), "GIF"),
                       (b"%PDF-1.7\n...", "PDF"), (fx.zip_bytes(), "ZIP"), (b"\x00\x00\x00\x18ftypheic" + bytes(20), "HEIC")):
        verdict = inspect(data, LIMITS)
        assert verdict.kind == "bad_format", word
        assert word in verdict.message
    # a PNG is a PNG whatever it is called; allowed formats are a limit
    assert inspect(fx.valid_png(), LIMITS).format == "PNG"
    assert inspect(fx.valid_png(), LIMITS.replace(allowed_formats=("JPEG",))).kind == "bad_format"


def test_oversize_and_empty():
    assert inspect(fx.valid_jpeg(), LIMITS.replace(max_bytes=500)).kind == "oversize"
    assert inspect(b"", LIMITS).kind == "truncated"


@pytest.mark.parametrize(
    "make",
    [
        lambda: fx.valid_png(),
        lambda: fx.valid_jpeg(),
        lambda: fx.valid_jpeg(progressive=True),
        lambda: fx.valid_webp(),
        lambda: fx.valid_webp(lossless=True),
        lambda: fx.encode(fx.small_photo().convert("CMYK"), "JPEG"),
        lambda: fx.encode(fx.small_photo().convert("L"), "PNG"),
        lambda: fx.encode(fx.small_photo().convert("RGBA"), "PNG"),
        lambda: fx.encode(fx.small_photo().convert("RGBA"), "WEBP"),
        lambda: fx.encode(fx.small_photo().convert("P"), "PNG", transparency=0),
        lambda: fx.encode(Image.fromarray(np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 20), "PNG"),
    ],
    ids=["png", "jpeg", "progressive", "webp", "webp-lossless", "cmyk", "grey", "rgba", "webp-alpha", "palette",
         "16-bit"],
)
def test_benign_images_are_accepted_and_re_encoded(make):
    verdict = inspect(make(), LIMITS)
    assert verdict.ok, (verdict.kind, verdict.detail)
    out = Image.open(io.BytesIO(verdict.image))
    assert out.format == "JPEG" and out.mode == "RGB"
    assert out.size == (verdict.image_width, verdict.image_height)
    assert 0 < verdict.entropy <= 8


def test_phone_photo_is_transposed_stripped_and_downscaled(decode_spy):
    data = fx.phone_photo()  # 4000x3000 stored, EXIF orientation 6 (display portrait)
    start = time.perf_counter()
    verdict = inspect(data, LIMITS)
    elapsed = time.perf_counter() - start
    assert verdict.ok, verdict.detail
    assert (verdict.width, verdict.height) == (4000, 3000)
    assert (verdict.image_width, verdict.image_height) == (768, 1024)  # portrait after EXIF transpose
    out = Image.open(io.BytesIO(verdict.image))
    assert not out.getexif() and "icc_profile" not in out.info and "exif" not in out.info
    # decoded reduced: JPEG draft at 1/2 scale, never the full 12 MP
    assert max(w * h for w, h in decode_spy) <= 2000 * 1500
    assert verdict.decoded_pixels == 2000 * 1500
    assert elapsed < 2.0


def test_metadata_is_stripped_from_png():
    im = fx.small_photo()
    info = __import__("PIL.PngImagePlugin", fromlist=["PngInfo"]).PngInfo()
    info.add_text("Author", "someone")
    info.add_text("GPS", "51.5,-0.1", zip=True)
    data = fx.encode(im, "PNG", pnginfo=info, icc_profile=b"\x00" * 200)
    verdict = inspect(data, LIMITS.replace(output_format="PNG"))
    assert verdict.ok and verdict.image_format == "PNG"
    out = Image.open(io.BytesIO(verdict.image))
    assert out.info == {} or set(out.info) <= {"dpi"}
    assert b"someone" not in verdict.image and b"tEXt" not in verdict.image and b"iCCP" not in verdict.image


def test_pixel_budget_holds_for_accepted_pngs(decode_spy):
    data = fx.encode(fx.small_photo(1200, 900), "PNG", compress_level=1)
    assert inspect(data, LIMITS.replace(decode_budget_pixels=1_100_000)).ok
    verdict = inspect(data, LIMITS.replace(decode_budget_pixels=1_000_000))
    assert verdict.kind in {"pixel_flood", "bomb"}
    assert max(w * h for w, h in decode_spy) <= 1_100_000


def test_jpeg_above_the_budget_is_decoded_reduced(decode_spy):
    data = fx.encode(Image.new("RGB", (3000, 2000), (120, 80, 40)), "JPEG", quality=70)  # 6 MP
    verdict = inspect(data, LIMITS.replace(decode_budget_pixels=2_000_000, working_size=800))
    assert verdict.ok, verdict.detail
    assert max(w * h for w, h in decode_spy) <= 2_000_000


def test_header_and_decoder_disagreement_is_corrupt():
    """Two frame headers: a parser differential an attacker could use to smuggle dimensions."""
    data = bytearray(fx.valid_jpeg())
    sof = data.find(b"\xff\xc0")
    length = struct.unpack_from(">H", data, sof + 2)[0]
    segment = data[sof : sof + 2 + length]
    data[sof:sof] = segment
    assert inspect(bytes(data), LIMITS).kind == "corrupt"


def test_pillow_global_state_is_restored_and_threads_agree():
    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
    files = [(fx.valid_png(), True), (fx.png_bomb(5000, 1), False), (fx.valid_jpeg(), True), (fx.ztxt_bomb(), False)]
    results: list[bool] = []

    def work():
        for data, ok in files * 5:
            results.append(inspect(data, LIMITS).ok == ok)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results) and len(results) == 80
    assert before == (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)


def test_every_kind_is_reachable():
    seen = {kind for make, kind in fx.HOSTILE.values()}
    seen.add("pixel_flood")  # covered by test_pixel_flood_without_bomb_ratio_is_called_a_flood
    seen.add("oversize")
    assert seen == set(KINDS)


# --- the reference fixtures in ../shared/data/images ------------------------------------------------

SHARED_EXPECTED = {
    "pillow/decompression_bomb.gif": {"bomb"},
    "pillow/decompression_bomb.ico": {"bad_format"},
    "pillow/decompression_bomb_extents.gif": {"bomb"},
    "pillow/reallybig.bmp": {"bomb"},
    "pillow/png_decompression_dos.png": {"text_chunk_bomb"},
    "pillow/broken.png": {"corrupt"},
    "pillow/truncated_image.png": {"truncated"},
    "pillow/truncated_end_chunk.png": {"truncated"},
    "pillow/zero_width.gif": {"corrupt", "bad_format"},
    "v_commerce_studio/test_bomb_60m.png": {"bomb", "pixel_flood"},
    "v_commerce_studio/test_invalid.png": {"corrupt", "truncated"},
    "pillow/hopper.png": {None},
    "pillow/hopper.jpg": {None},
}


@pytest.mark.shared_data
@pytest.mark.parametrize("relpath", sorted(SHARED_EXPECTED))
def test_shared_reference_images(shared_data, relpath, decode_spy):
    path = shared_data / "images" / relpath
    if not path.is_file():
        pytest.skip(f"{relpath} not present")
    verdict = inspect(path.read_bytes(), LIMITS)
    assert verdict.kind in SHARED_EXPECTED[relpath], verdict.detail
    if verdict.kind is not None:
        assert decode_spy == [] or verdict.kind in {"corrupt", "truncated"}
    assert not verdict.detail.startswith("unexpected")


def test_progressive_scan_work_is_capped_by_size():
    data = fx.jpeg_many_scans(40)  # within the 64-scan cap
    tight = LIMITS.replace(decode_budget_pixels=64 * 64 * 2)  # 40 scans x 4096 px > 16 x 8192
    verdict = inspect(data, tight)
    assert verdict.kind == "bomb" and "scans" in verdict.detail
    assert inspect(data, LIMITS).kind != "bomb"


def test_structural_floods_stay_cheap():
    """Files built to make the checks themselves slow: long fill runs, many chunks, zip-signature
    spam, megabytes of trailing junk. Each must be decided quickly (generous bound for shared CI)."""
    floods = {
        "jpeg fill run": (b"\xff\xd8" + b"\xff" * 3_000_000 + b"\xd9", "corrupt"),
        "png 200k tEXt chunks": (fx.PNG_SIGNATURE + fx.ihdr(8, 8) + fx.png_chunk(b"tEXt", b"a\x00b") * 200_000,
                                 "text_chunk_bomb"),
        "zip signature spam": (fx.make_png(8, 8, before_idat=(fx.png_chunk(b"zzZz", b"PK\x03\x04" * 100_000),)),
                               "polyglot"),
        "3 MB junk tail": (fx.valid_png() + b"ab" * 1_500_000, "polyglot"),
        "webp chunk flood": (
            (lambda body: b"RIFF" + len(body).to_bytes(4, "little") + body)(
                b"WEBP" + fx.valid_webp()[12:] + b"XYZW\x00\x00\x00\x00" * 100_000
            ),
            "corrupt",
        ),
    }
    for name, (data, kind) in floods.items():
        start = time.perf_counter()
        verdict = inspect(data, LIMITS)
        elapsed = time.perf_counter() - start
        assert verdict.kind == kind, (name, verdict.detail)
        assert elapsed < 0.5, f"{name} took {elapsed:.2f} s"
