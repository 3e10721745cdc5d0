"""Try-on: the garment must land on the upper body (pixel checks), the Gemini path must send both
images and bring a validated picture back, and failures must fall back to the offline preview."""

from __future__ import annotations

import base64
import io
import time

import numpy as np
import pytest
from PIL import Image
from support.gemini_stub import GeminiStub, candidate_response, http_error

from mcp_servers.image import fixtures as fx
from mcp_servers.image import tryon as tryon_module
from mcp_servers.image.service import load_garment
from mcp_servers.image.tryon import composite, find_upper_body, try_on
from mcp_servers.image.validator import inspect


def _garment_like(pixels: np.ndarray) -> np.ndarray:
    """Pixels that look like the red test garment (either stripe shade), after shading."""
    r, g, b = (pixels[..., i].astype(int) for i in range(3))
    return (r > 140) & (g < 90) & (b < 90)


def _fraction(mask: np.ndarray, box: tuple[int, int, int, int]) -> float:
    x0, y0, x1, y1 = box
    return float(mask[y0:y1, x0:x1].mean())


@pytest.mark.parametrize(
    "variant",
    [{}, {"center_x": 0.35}, {"center_x": 0.65, "scale": 0.8}, {"scale": 1.2}, {"width": 800, "height": 600}],
    ids=["centred", "left", "right-small", "large", "landscape"],
)
def test_garment_lands_on_the_upper_body(variant):
    person, truth = fx.person_photo(**{"width": 480, "height": 640, **variant})
    result = composite(person, fx.garment_cutout())
    out = np.asarray(Image.open(io.BytesIO(result.image)).convert("RGB"))
    before = np.asarray(person)
    red = _garment_like(out)
    assert not _garment_like(before).any()
    tx0, ty0, tx1, ty1 = truth["torso"]
    # the chest (middle of the torso) is covered by the garment
    chest = (tx0 + (tx1 - tx0) // 4, ty0 + (ty1 - ty0) // 8, tx1 - (tx1 - tx0) // 4, ty0 + (ty1 - ty0) * 3 // 4)
    assert _fraction(red, chest) > 0.9, (variant, result.box, truth)
    # the face is left alone
    hx0, hy0, hx1, hy1 = truth["head"]
    face = (hx0, hy0, hx1, hy1 - (hy1 - hy0) // 6)
    changed = np.abs(out.astype(int) - before.astype(int)).sum(axis=2) > 30
    assert _fraction(changed, face) < 0.05
    # nothing lands far from the person: the top corners and the legs stay as they were
    h, w = red.shape
    assert not red[: h // 8].any()
    assert _fraction(red, (0, ty1 + (h - ty1) // 2, w, h)) < 0.01
    # the garment's box sits on the shoulders, centred on the person
    x0, y0, x1, y1 = result.box
    assert abs((x0 + x1) / 2 - (tx0 + tx1) / 2) < (tx1 - tx0) * 0.15
    assert abs(y0 - ty0) < (ty1 - ty0) * 0.2
    assert result.body is not None and result.body.method == "face"


def test_shading_follows_the_light_across_the_photo():
    person, truth = fx.person_photo()
    arr = np.asarray(person).astype(float)
    ramp = np.linspace(1.25, 0.6, arr.shape[1])[None, :, None]  # light from the left
    lit = Image.fromarray(np.clip(arr * ramp, 0, 255).astype(np.uint8))
    flat = Image.new("RGBA", (300, 360), (0, 0, 0, 0))
    flat.paste((200, 40, 40, 255), (10, 10, 290, 350))  # a uniformly red cut-out
    result = composite(lit, flat)
    out = np.asarray(Image.open(io.BytesIO(result.image)).convert("RGB")).astype(int)
    tx0, ty0, tx1, ty1 = truth["torso"]
    mid = (ty0 + ty1) // 2
    left, right = out[mid, tx0 + 20, 0], out[mid, tx1 - 20, 0]
    assert left > right + 10  # the uniformly red cut-out is brighter on the lit side


def test_soft_edges():
    person, _ = fx.person_photo()
    result = composite(person, fx.garment_cutout())
    out = np.asarray(Image.open(io.BytesIO(result.image)).convert("RGB")).astype(int)
    x0, y0, x1, y1 = result.box
    row = out[(y0 + y1) // 2, max(0, x0 - 10) : x1 + 10, 0]
    # somewhere along the row's edges there are in-between values, not a hard cut
    background_r, garment_r = int(row[0]), int(row.max())
    between = ((row > background_r + 5) & (row < garment_r - 5)).sum()
    assert between >= 2


def test_opaque_product_shot_is_keyed_out():
    shirt = fx.garment_cutout()
    opaque = Image.new("RGB", shirt.size, (250, 250, 250))
    opaque.paste(shirt, mask=shirt.getchannel("A"))
    person, truth = fx.person_photo()
    result = composite(person, opaque)
    out = np.asarray(Image.open(io.BytesIO(result.image)).convert("RGB"))
    x0, y0, x1, _ = result.box
    # the white studio backdrop did not come along: the area beside the neckline is not white
    assert not (out[y0 + 5 : y0 + 15, max(0, x0) : x0 + 10] > 245).all()
    assert _fraction(_garment_like(out), truth["torso"]) > 0.6


def test_no_person_falls_back_to_a_centred_box():
    blank = Image.new("RGB", (600, 800), (128, 128, 128))
    body = find_upper_body(blank)
    assert body.method == "centre"
    result = composite(blank, fx.garment_cutout())
    assert "could not find a person" in result.describe()


def test_phone_photo_to_preview_in_under_two_seconds():
    data = fx.phone_photo()
    garment = fx.encode(fx.garment_cutout(), "PNG")
    start = time.perf_counter()
    verdict = inspect(data)
    result = try_on(verdict.image, load_garment(garment), backend="compositor")
    elapsed = time.perf_counter() - start
    assert verdict.ok and result.backend == "compositor"
    assert Image.open(io.BytesIO(result.image)).size == (768, 1024)
    assert elapsed < 2.0, elapsed


def test_invalid_product_image_is_refused():
    from mcp_servers.image.tryon import TryOnError

    with pytest.raises(TryOnError):
        load_garment(fx.png_huge_declared())
    with pytest.raises(TryOnError):
        load_garment(fx.encode(Image.new("RGBA", (50, 50), (0, 0, 0, 0)), "PNG"))  # fully transparent
        composite(Image.new("RGB", (100, 100)), Image.new("RGBA", (50, 50), (0, 0, 0, 0)))


# --- Gemini ----------------------------------------------------------------------------------------


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _image_reply(data: bytes, mime: str = "image/png"):
    def respond(request):  # type: ignore[no-untyped-def]
        return candidate_response([{"text": "Here you go."},
                                   {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}])

    return respond


class _Latency:
    def __init__(self):
        self.points = []

    def distribution(self, name, value, tags=None):  # type: ignore[no-untyped-def]
        self.points.append((name, value, tags))


@pytest.fixture
def latency(monkeypatch):
    rec = _Latency()
    monkeypatch.setattr(tryon_module, "metrics", rec)
    return rec


def test_gemini_receives_both_images_and_its_picture_comes_back(latency):
    person, _ = fx.person_photo(width=384, height=512)
    generated = fx.encode(person.transpose(Image.Transpose.FLIP_LEFT_RIGHT), "PNG")
    photo = inspect(fx.encode(person, "JPEG")).image
    garment = load_garment(fx.encode(fx.garment_cutout(), "PNG"))
    with GeminiStub(_image_reply(generated)) as stub:
        result = try_on(photo, garment, gemini_client=stub.genai_client())
        request = stub.requests[0]
    assert result.backend == "gemini" and result.note == ""
    assert request.model == "gemini-2.5-flash-image"
    parts = list(request.parts())
    assert "try-on" in parts[0]["text"].lower()
    images = [p["inlineData"] for p in parts if "inlineData" in p]
    assert [i.get("mimeType") or i.get("mime_type") for i in images] == ["image/png", "image/jpeg"]
    assert _b64(images[0]["data"]) == garment and _b64(images[1]["data"]) == photo
    back = np.asarray(Image.open(io.BytesIO(result.image)).convert("RGB")).astype(int)
    assert back.shape == (512, 384, 3)
    flipped = np.asarray(person.transpose(Image.Transpose.FLIP_LEFT_RIGHT)).astype(int)
    assert np.abs(back - flipped).mean() < 3  # the generated picture, re-encoded losslessly
    assert [p[2] for p in latency.points] == [{"backend": "gemini"}]


@pytest.mark.parametrize(
    "responder",
    [http_error(429, "quota"), _image_reply(fx.png_huge_declared()), lambda r: candidate_response([{"text": "no"}])],
    ids=["http-429", "bomb-returned", "text-only"],
)
def test_gemini_failure_falls_back_to_the_compositor(responder, latency):
    person, _ = fx.person_photo(width=384, height=512)
    photo = inspect(fx.encode(person, "JPEG")).image
    garment = load_garment(fx.encode(fx.garment_cutout(), "PNG"))
    with GeminiStub(responder) as stub:
        result = try_on(photo, garment, gemini_client=stub.genai_client())
    assert result.backend == "compositor"
    assert "offline preview" in result.note
    assert [p[2] for p in latency.points] == [{"backend": "compositor"}]


def test_without_a_key_the_compositor_is_used(latency, monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    person, _ = fx.person_photo(width=384, height=512)
    result = try_on(inspect(fx.encode(person, "JPEG")).image, load_garment(fx.encode(fx.garment_cutout(), "PNG")))
    assert result.backend == "compositor" and result.note == ""
    assert latency.points[0][0] == "tryon.generation.latency" and latency.points[0][1] > 0
