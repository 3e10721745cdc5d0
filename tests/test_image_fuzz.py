"""Mutation fuzzing of the validator: valid images with bits flipped, bytes cut, chunks spliced and
header fields changed. Zero crashes, zero hangs, zero unhandled exceptions, and the pixel budget
holds for every file that is accepted.

Seeded, so a failure reproduces: the failing case's index, mutation and bytes are in the message.
"""

from __future__ import annotations

import io
import random
import time
from collections import Counter

import pytest
from PIL import Image, ImageFile, PngImagePlugin

from mcp_servers.image import fixtures as fx
from mcp_servers.image.limits import KINDS, Limits
from mcp_servers.image.validator import inspect

CASES = 2_400
SEED = 20_261_126
PER_CASE_BUDGET_S = 1.0  # typical case: about a millisecond; anything near a second is a hang
LIMITS = Limits(decode_budget_pixels=2_000_000, max_pixels=8_000_000, working_size=256)


def _seeds() -> list[bytes]:
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Comment", "seed with text")
    meta.add_text("Note", "compressed text", zip=True)
    photo = fx.small_photo(40, 30)
    return [
        fx.valid_png(40, 30),
        fx.encode(photo, "PNG", pnginfo=meta, icc_profile=b"\x00" * 128),
        fx.encode(photo.convert("P"), "PNG", transparency=3),
        fx.encode(photo.convert("RGBA"), "PNG"),
        fx.apng_many_frames(2, side=8),
        fx.valid_jpeg(40, 30),
        fx.encode(photo, "JPEG", quality=70, progressive=True, exif=fx._exif_with_orientation(6)),
        fx.encode(photo.convert("L"), "JPEG", quality=60),
        fx.valid_webp(40, 30),
        fx.valid_webp(40, 30, lossless=True),
        fx.encode(photo.convert("RGBA"), "WEBP", quality=70),
        fx.webp_animated(2),
        fx.encode(photo, "GIF"),
    ]


def test_mutated_images_never_crash_hang_or_overspend(monkeypatch):
    decoded: list[int] = []
    original_load = ImageFile.ImageFile.load

    def spying_load(self):  # type: ignore[no-untyped-def]
        decoded.append(self.size[0] * self.size[1])
        return original_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spying_load)
    seeds = _seeds()
    for seed in seeds[:-2]:  # the animated WebP and the GIF are refused by design
        assert inspect(seed, LIMITS.replace(max_frames=2)).ok, "a seed must be valid to begin with"
    rng = random.Random(SEED)
    outcomes: Counter[str] = Counter()
    slowest = 0.0
    for case in range(CASES):
        op, data = fx.mutate(rng.choice(seeds), rng, seeds)
        start = time.perf_counter()
        verdict = inspect(data, LIMITS)
        elapsed = time.perf_counter() - start
        slowest = max(slowest, elapsed)
        where = f"case {case} ({op}, {len(data)} bytes, head {data[:24].hex()})"
        assert elapsed < PER_CASE_BUDGET_S, f"{where} took {elapsed:.2f} s"
        assert not verdict.detail.startswith("unexpected"), f"{where}: {verdict.detail}"
        assert verdict.message, where
        if verdict.ok:
            outcomes["ok"] += 1
            assert verdict.image is not None
            out = Image.open(io.BytesIO(verdict.image))
            assert max(out.size) <= LIMITS.working_size, where
            assert verdict.decoded_pixels is not None and verdict.decoded_pixels <= LIMITS.decode_budget_pixels
        else:
            assert verdict.kind in KINDS, f"{where}: {verdict.kind}"
            outcomes[verdict.kind] += 1
    assert max(decoded) <= LIMITS.decode_budget_pixels
    # The mutations must exercise both sides and several rejection paths, or the fuzzer is blind.
    assert outcomes["ok"] > CASES * 0.05, outcomes
    assert len(set(outcomes) - {"ok"}) >= 5, outcomes
    assert slowest < PER_CASE_BUDGET_S
    print(f"fuzz outcomes over {CASES} cases: {dict(outcomes)}; slowest {slowest * 1000:.1f} ms")


@pytest.mark.parametrize("keep", range(1, 60, 3))
def test_every_truncation_of_a_jpeg_and_a_png(keep):
    for data in (fx.valid_jpeg(40, 30), fx.valid_png(40, 30), fx.valid_webp(40, 30)):
        cut = data[: len(data) * keep // 60]
        verdict = inspect(cut, LIMITS)
        assert not verdict.ok and verdict.kind in {"truncated", "corrupt"}, (keep, verdict.kind, verdict.detail)
