"""Draws each product as a garment cut-out: a flat-shaded RGBA silhouette on a transparent background.

Try-on pastes these onto a shopper's photo, so the alpha channel is what matters: it is drawn at twice
the size and box-reduced, which gives anti-aliased edges and exactly 0 alpha everywhere else, and the
colour layer under the whole silhouette is the garment's own colour (no dark fringe when composited).
The PNG is cropped to the garment so it fills its canvas. Everything is a pure function of its
arguments, so the same product always gives byte-identical files (about 3-6 ms each on one core).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

W, H = 384, 512
SS = 2  # supersampling factor of the alpha mask
RGB = tuple[int, int, int]
Point = tuple[float, float]


def _shade(rgb: RGB, factor: float) -> RGB:
    """Darker (<1) or lighter (>1) version of a colour, for seams, soles and buttons."""
    if factor >= 1:
        return tuple(int(c + (255 - c) * (factor - 1)) for c in rgb)  # type: ignore[return-value]
    return tuple(int(c * factor) for c in rgb)  # type: ignore[return-value]


def _contrast(rgb: RGB) -> RGB:
    """A detail colour that stays visible on both light and dark garments."""
    luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return _shade(rgb, 0.62) if luma > 90 else _shade(rgb, 1.45)


@lru_cache(maxsize=1)
def _lighting() -> Image.Image:
    """A soft top-left light (multiplied into the colour layer) so flat shapes read as fabric."""
    light = Image.linear_gradient("L").resize((W, H)).point(lambda v: 255 - int(v * 0.16))
    side = Image.linear_gradient("L").rotate(90, expand=True).resize((W, H)).point(lambda v: 235 + int(v * 0.078))
    return ImageChops.multiply(light, side).convert("RGB")


class _Canvas:
    """Paired drawing surfaces: the supersampled alpha mask and the 1x colour layer."""

    def __init__(self, rgb: RGB):
        self.rgb = rgb
        self.mask = Image.new("L", (W * SS, H * SS), 0)
        self.colour = Image.new("RGB", (W, H), rgb)
        self.m = ImageDraw.Draw(self.mask)
        self.c = ImageDraw.Draw(self.colour)

    @staticmethod
    def _s(points: Sequence[Point]) -> list[Point]:
        return [(x * SS, y * SS) for x, y in points]

    def poly(self, points: Sequence[Point], outline: RGB | None = None, fill: RGB | None = None,
             mirror: bool = False) -> None:
        shapes = [points, [(W - x, y) for x, y in points]] if mirror else [points]
        for pts in shapes:
            self.m.polygon(self._s(pts), fill=255)
            if fill is not None:
                self.c.polygon(list(pts), fill=fill)
            if outline is not None:
                self.c.polygon(list(pts), outline=outline, width=2)

    def erase(self, points: Sequence[Point]) -> None:
        self.m.polygon(self._s(points), fill=0)

    def erase_ellipse(self, box: tuple[float, float, float, float]) -> None:
        self.m.ellipse([v * SS for v in box], fill=0)

    def ellipse(self, box: tuple[float, float, float, float], fill: RGB | None = None,
                outline: RGB | None = None, width: int = 0) -> None:
        if width:
            self.m.ellipse([v * SS for v in box], outline=255, width=width * SS)
            self.c.ellipse(box, outline=fill or self.rgb, width=width)
        else:
            self.m.ellipse([v * SS for v in box], fill=255)
            if fill is not None:
                self.c.ellipse(box, fill=fill)
        if outline is not None:
            self.c.ellipse(box, outline=outline, width=2)

    def rect(self, box: tuple[float, float, float, float], fill: RGB | None = None, radius: int = 0,
             outline: RGB | None = None) -> None:
        self.m.rounded_rectangle([v * SS for v in box], radius=radius * SS, fill=255)
        if fill is not None or outline is not None:
            self.c.rounded_rectangle(box, radius=radius, fill=fill, outline=outline, width=2 if outline else 0)

    def arc(self, box: tuple[float, float, float, float], start: float, end: float, width: int,
            fill: RGB | None = None) -> None:
        self.m.arc([v * SS for v in box], start, end, fill=255, width=width * SS)
        self.c.arc(box, start, end, fill=fill or self.rgb, width=width)

    def line(self, points: Sequence[Point], fill: RGB, width: int = 2, solid: bool = False) -> None:
        """A detail line on the colour layer; `solid` also adds it to the silhouette (straps, chains)."""
        self.c.line(list(points), fill=fill, width=width)
        if solid:
            self.m.line(self._s(points), fill=255, width=width * SS)

    def dot(self, x: float, y: float, r: float, fill: RGB, solid: bool = False) -> None:
        self.c.ellipse((x - r, y - r, x + r, y + r), fill=fill)
        if solid:
            self.m.ellipse(((x - r) * SS, (y - r) * SS, (x + r) * SS, (y + r) * SS), fill=255)


# --- patterns (drawn on the colour layer only; the silhouette clips them) -----------------------------

def _pattern(cv: _Canvas, pattern: str | None, second: RGB, rng: random.Random) -> None:
    d = cv.c
    if pattern == "Striped":
        for y in range(0, H, 30):
            d.rectangle((0, y, W, y + 11), fill=second)
    elif pattern == "Checked":
        for v in range(0, max(W, H), 36):
            d.rectangle((v, 0, v + 9, H), fill=second)
            d.rectangle((0, v, W, v + 9), fill=second)
    elif pattern == "Polka Dot":
        for row, y in enumerate(range(12, H, 34)):
            for x in range(12 + (row % 2) * 17, W, 34):
                d.ellipse((x - 6, y - 6, x + 6, y + 6), fill=second)
    elif pattern == "Floral":
        for _ in range(60):
            x, y = rng.uniform(0, W), rng.uniform(0, H)
            for dx, dy in ((0, -7), (7, 0), (0, 7), (-7, 0)):
                d.ellipse((x + dx - 5, y + dy - 5, x + dx + 5, y + dy + 5), fill=second)
            d.ellipse((x - 3, y - 3, x + 3, y + 3), fill=_contrast(second))
    elif pattern == "Colour-Block":
        d.rectangle((0, H * 0.55, W, H), fill=second)


# --- garment shapes ----------------------------------------------------------------------------------

def _top(cv: _Canvas, style: str, hem: float, sleeves: str, rng: random.Random) -> None:
    rgb, edge = cv.rgb, _contrast(cv.rgb)
    s = style.lower()
    if sleeves == "none":
        cv.poly([(150, 36), (174, 36), (192, 86), (210, 36), (234, 36), (262, 160), (270, hem), (114, hem),
                 (122, 160)], outline=edge)
        return
    body = [(146, 36), (94, 60), (104, 196), (108, hem), (276, hem), (280, 196), (290, 60), (238, 36)]
    if sleeves == "long":
        sleeve = [(94, 60), (58, 130), (22, hem - 34), (64, hem - 24), (94, 250), (104, 196)]
    else:
        sleeve = [(94, 60), (40, 176), (84, 204), (104, 158)]
    cv.poly(sleeve, outline=edge, mirror=True)
    cv.poly(body, outline=edge)
    if "v-neck" in s or "cardigan" in s or "wrap" in s:
        cv.erase([(150, 30), (192, 132), (234, 30)])
    elif "hoodie" in s:
        cv.poly([(140, 40), (150, 2), (234, 2), (244, 40), (192, 80)], outline=edge)
    else:
        cv.erase_ellipse((152, 14, 232, 72))
    if any(k in s for k in ("shirt", "oxford", "overshirt", "button")) and "t-shirt" not in s:
        cv.poly([(150, 30), (190, 76), (170, 96), (138, 52)], outline=edge, fill=_shade(rgb, 1.08))
        cv.poly([(234, 30), (194, 76), (214, 96), (246, 52)], outline=edge, fill=_shade(rgb, 1.08))
        cv.line([(192, 78), (192, hem)], fill=edge)
        for y in range(110, int(hem) - 10, 48):
            cv.dot(200, y, 4, _shade(rgb, 1.3))
    if "pocket" in s or rng.random() < 0.3:
        cv.c.rectangle((214, 120, 252, 162), outline=edge, width=2)
    if any(k in s for k in ("jumper", "sweater", "cardigan", "hoodie", "knit")):
        for x in range(112, 274, 7):
            cv.line([(x, hem - 26), (x, hem - 2)], fill=edge, width=1)
        if "cable" in s:
            for x in (150, 192, 234):
                for y in range(90, int(hem) - 40, 24):
                    cv.c.arc((x - 12, y, x + 12, y + 24), 90, 270, fill=edge, width=3)
    if "half-zip" in s or "track" in s:
        cv.line([(192, 60), (192, 190 if "half" in s else hem)], fill=_shade(rgb, 1.5), width=3)


def _jacket(cv: _Canvas, style: str, hem: float, rng: random.Random) -> None:
    rgb, edge = cv.rgb, _contrast(cv.rgb)
    s = style.lower()
    sleeve = [(92, 58), (54, 130), (20, hem - 40 if hem < 480 else 440), (62, hem - 30 if hem < 480 else 452),
              (92, 250), (102, 190)]
    cv.poly(sleeve, outline=edge, mirror=True)
    cv.poly([(144, 30), (92, 58), (102, 190), (104, hem), (280, hem), (282, 190), (292, 58), (240, 30)], outline=edge)
    cv.erase([(150, 26), (192, 150), (234, 26)])
    cv.poly([(146, 30), (192, 152), (176, 176), (130, 70)], outline=edge, fill=_shade(rgb, 0.9))
    cv.poly([(238, 30), (192, 152), (208, 176), (254, 70)], outline=edge, fill=_shade(rgb, 0.9))
    if "puffer" in s or "quilted" in s or "parka" in s:
        for y in range(80, int(hem), 46):
            cv.line([(20, y), (364, y)], fill=edge, width=3)
    else:
        for y in range(190, int(hem) - 30, 70):
            cv.dot(206, y, 5, _shade(rgb, 1.35))
    if "trench" in s or "wrap" in s:
        cv.c.rectangle((104, 262, 280, 284), fill=_shade(rgb, 0.82))
    cv.c.line([(122, hem - 140), (166, hem - 140)], fill=edge, width=3)
    cv.c.line([(218, hem - 140), (262, hem - 140)], fill=edge, width=3)


def _dress(cv: _Canvas, style: str, rng: random.Random) -> None:
    rgb, edge = cv.rgb, _contrast(cv.rgb)
    s = style.lower()
    hem = 330 if "mini" in s else 508 if "maxi" in s else 440
    flare = 26 if "bodycon" in s or "slip" in s else 70 if "tiered" in s or "a-line" in s else 52
    bodice = [(140, 38), (164, 38), (192, 92), (220, 38), (244, 38), (252, 130), (240, 212), (144, 212), (132, 130)]
    if "shirt" in s or "tea" in s or "smock" in s:
        cv.poly([(140, 40), (96, 66), (86, 150), (124, 156), (134, 120)], outline=edge, mirror=True)
    cv.poly(bodice, outline=edge)
    cv.poly([(144, 208), (240, 208), (240 + flare + 40, hem), (144 - flare - 40, hem)], outline=edge)
    if "wrap" in s or "cocktail" in s:
        cv.c.rectangle((140, 204, 244, 220), fill=_shade(rgb, 0.8))
    if "tiered" in s:
        for frac in (0.42, 0.72):
            y = 208 + (hem - 208) * frac
            cv.line([(80, y), (304, y)], fill=edge, width=2)
    if "pleated" in s:
        for x in range(150, 236, 14):
            cv.line([(x, 222), (192 + (x - 192) * 2.2, hem - 4)], fill=edge, width=1)


def _trousers(cv: _Canvas, style: str, short: bool, rng: random.Random) -> None:
    rgb, edge = cv.rgb, _contrast(cv.rgb)
    s = style.lower()
    hem = 262 if short else 508
    wide = 40 if ("wide" in s or "bootcut" in s or short or "relaxed" in s or "cargo" in s) else 8
    cv.rect((100, 10, 284, 44), fill=_shade(rgb, 0.92), outline=edge)
    cv.poly([(100, 40), (284, 40), (290 + wide, hem), (204, hem), (192, 176), (180, hem), (94 - wide, hem)],
            outline=edge)
    stitch = (206, 150, 64) if "jean" in s or "denim" in s else edge
    cv.line([(192, 44), (192, 150)], fill=stitch)
    cv.c.arc((86, 34, 160, 104), 0, 90, fill=stitch, width=2)
    cv.c.arc((224, 34, 298, 104), 90, 180, fill=stitch, width=2)
    for x in (126, 176, 208, 258):
        cv.c.rectangle((x, 8, x + 6, 46), fill=_shade(rgb, 0.8))
    if "cargo" in s:
        for x0 in (86, 236):
            cv.c.rectangle((x0 - 4 if x0 < 192 else x0 + 2, 250, x0 + 58, 318), outline=edge, width=2)


def _skirt(cv: _Canvas, style: str, rng: random.Random) -> None:
    rgb, edge = cv.rgb, _contrast(cv.rgb)
    s = style.lower()
    hem = 300 if "mini" in s else 460
    flare = 12 if "pencil" in s or "slip" in s else 80 if "pleated" in s or "a-line" in s else 56
    cv.rect((118, 20, 266, 52), fill=_shade(rgb, 0.9), outline=edge)
    cv.poly([(118, 48), (266, 48), (266 + flare, hem), (118 - flare, hem)], outline=edge)
    if "pleated" in s:
        for x in range(126, 262, 12):
            cv.line([(x, 56), (192 + (x - 192) * (1 + flare / 80), hem - 2)], fill=edge, width=1)
    if "wrap" in s:
        cv.line([(230, 52), (170, hem)], fill=edge, width=2)


def _swimsuit(cv: _Canvas, style: str, rng: random.Random) -> None:
    s = style.lower()
    if "shorts" in s:
        _trousers(cv, style, True, rng)
        return
    if "rash" in s:
        _top(cv, style, 380, "long", rng)
        return
    edge = _contrast(cv.rgb)
    if "bikini" in s:
        cv.poly([(110, 60), (184, 60), (150, 170), (96, 170)], outline=edge)
        cv.poly([(200, 60), (274, 60), (288, 170), (234, 170)], outline=edge)
        cv.line([(96, 150), (288, 150)], fill=edge, width=6, solid=True)
        cv.poly([(100, 300), (284, 300), (250, 350), (206, 420), (178, 420), (134, 350)], outline=edge)
        return
    leg = 300 if "high-leg" in s else 336
    cv.poly([(150, 40), (166, 40), (192, 112), (218, 40), (234, 40), (256, 170), (242, 262), (268, leg),
             (214, 440), (170, 440), (116, leg), (142, 262), (128, 170)], outline=edge)


def _shoe(cv: _Canvas, kind: str, style: str, second: RGB, rng: random.Random) -> None:
    rgb, edge = cv.rgb, _contrast(cv.rgb)
    s = style.lower()
    sole = (244, 244, 240) if kind == "sneaker" else _shade(rgb, 0.6)
    if kind == "sneaker":
        top = 120 if "high-top" in s else 230
        cv.poly([(36, 330), (70, 262), (170, 246), (232, top), (320, top), (334, 300), (360, 330)], outline=edge)
        cv.rect((18, 320, 370, 372), fill=sole, radius=20)
        for i in range(5):
            x = 196 + i * 14
            cv.line([(x - 14, 262 - i * 6), (x + 4, 276 - i * 6)], fill=_contrast(rgb), width=3)
        cv.c.arc((120, 250, 300, 340), 200, 330, fill=second, width=6)
    elif kind == "boot":
        top = 20 if "knee" in s else 96
        cv.poly([(190, top), (318, top), (320, 300), (364, 326), (368, 372), (22, 372), (28, 322), (126, 296),
                 (184, 258)], outline=edge)
        cv.rect((18, 360, 372, 392), fill=sole, radius=6)
        if "chelsea" in s:
            cv.c.polygon([(230, 170), (276, 170), (286, 290), (222, 290)], fill=_shade(rgb, 0.7))
        if "heel" in s or "western" in s or "knee" in s:
            cv.rect((282, 380, 336, 440), fill=sole)
    elif kind == "loafer":
        cv.poly([(30, 344), (60, 276), (180, 246), (300, 240), (350, 270), (366, 344)], outline=edge)
        cv.rect((20, 338, 372, 356), fill=sole, radius=8)
        cv.rect((300, 350, 350, 366), fill=sole)
        cv.c.rectangle((120, 272, 220, 290), fill=_shade(rgb, 0.75))
        if "horsebit" in s:
            cv.c.rectangle((146, 274, 196, 286), fill=(214, 178, 80))
    elif kind == "heel":
        cv.poly([(16, 384), (40, 360), (140, 340), (250, 290), (320, 240), (360, 244), (362, 290), (300, 300),
                 (180, 380), (40, 394)], outline=edge)
        cv.poly([(326, 284), (358, 284), (350, 470), (340, 470)], fill=_shade(rgb, 0.6))
        if "slingback" in s or "sandal" in s or "ankle" in s:
            cv.line([(250, 290), (330, 200), (360, 244)], fill=rgb, width=8, solid=True)
    else:  # sandal
        cv.rect((14, 380, 372, 408), fill=_shade(rgb, 0.9) if "espadrille" not in s else (206, 180, 130),
                radius=12)
        for x0 in (70, 160, 250):
            cv.arc((x0, 300, x0 + 110, 460), 200, 340, width=16)
        if "espadrille" in s:
            cv.poly([(30, 384), (90, 320), (260, 300), (350, 330), (366, 384)], outline=edge)


def _bag(cv: _Canvas, style: str, second: RGB, rng: random.Random) -> None:
    rgb, edge = cv.rgb, _contrast(cv.rgb)
    s = style.lower()
    hardware = (210, 176, 84) if rng.random() < 0.6 else (196, 198, 204)
    if "backpack" in s:
        cv.rect((80, 90, 304, 490), radius=60, outline=edge)
        cv.arc((140, 20, 244, 150), 180, 360, width=14)
        cv.c.rounded_rectangle((112, 300, 272, 450), radius=24, outline=edge, width=3)
        return
    if "clutch" in s:
        cv.rect((24, 180, 360, 380), radius=14, outline=edge)
        cv.c.polygon([(26, 182), (358, 182), (192, 290)], fill=_shade(rgb, 0.85), outline=edge)
        cv.dot(192, 290, 8, hardware)
        return
    if "crossbody" in s or "shoulder" in s or "bucket" in s:
        cv.line([(70, 250), (192, 8), (314, 250)], fill=rgb, width=10, solid=True)
        cv.poly([(70, 240), (314, 240), (330, 470), (54, 470)], outline=edge)
        cv.c.polygon([(70, 242), (314, 242), (300, 340), (84, 340)], fill=_shade(rgb, 0.88), outline=edge)
        cv.dot(192, 330, 7, hardware)
        return
    cv.arc((116, 40, 268, 300), 180, 360, width=16)
    cv.poly([(64, 170), (320, 170), (350, 490), (34, 490)], outline=edge)
    if "weekender" in s:
        cv.c.line([(70, 220), (314, 220)], fill=second, width=10)


def _accessory(cv: _Canvas, shape: str, style: str, second: RGB, rng: random.Random) -> None:
    rgb, edge = cv.rgb, _contrast(cv.rgb)
    s = style.lower()
    metal = (212, 178, 84) if rng.random() < 0.5 else (198, 200, 206)
    if shape == "belt":
        cv.rect((10, 236, 374, 276), radius=6, outline=edge)
        cv.rect((40, 222, 100, 290), radius=6, fill=metal)
        cv.c.rectangle((54, 236, 86, 276), fill=rgb)
        for x in range(250, 350, 22):
            cv.dot(x, 256, 4, _shade(rgb, 0.5))
    elif shape == "scarf":
        cv.poly([(110, 10), (274, 10), (262, 470), (122, 470)], outline=edge)
        for x in range(124, 262, 8):
            cv.line([(x, 470), (x, 506)], fill=rgb, width=3, solid=True)
        cv.c.line([(116, 60), (268, 60)], fill=second, width=8)
    elif shape == "hat":
        if "cap" in s:
            cv.c.chord((70, 120, 314, 400), 180, 360, fill=rgb)
            cv.m.chord((70 * SS, 120 * SS, 314 * SS, 400 * SS), 180, 360, fill=255)
            cv.poly([(70, 258), (374, 258), (360, 296), (120, 290)], outline=edge, fill=_shade(rgb, 0.85))
        elif "beanie" in s:
            cv.c.chord((80, 60, 304, 420), 180, 360, fill=rgb)
            cv.m.chord((80 * SS, 60 * SS, 304 * SS, 420 * SS), 180, 360, fill=255)
            cv.rect((74, 220, 310, 320), radius=10, fill=_shade(rgb, 0.88), outline=edge)
        else:
            brim = 10 if any(k in s for k in ("sun", "panama", "fedora")) else 50
            cv.ellipse((brim, 250, 384 - brim, 350), outline=edge)
            cv.rect((104, 130, 280, 300), radius=40, outline=edge)
            cv.c.rectangle((104, 262, 280, 286), fill=second)
    elif shape == "sunglasses":
        tint = _shade(second, 0.35)
        for x0 in (16, 204):
            if "round" in s:
                cv.ellipse((x0, 196, x0 + 164, 360), fill=rgb)
                cv.c.ellipse((x0 + 14, 210, x0 + 150, 346), fill=tint)
            elif "cat" in s or "aviator" in s:
                lens = [(x0, 206), (x0 + 164, 196), (x0 + 156, 300), (x0 + 64, 346), (x0 + 8, 294)]
                cx, cy = x0 + 82, 270
                cv.poly(lens, fill=rgb)
                cv.c.polygon([(cx + (x - cx) * 0.82, cy + (y - cy) * 0.8) for x, y in lens], fill=tint)
            else:
                cv.rect((x0, 204, x0 + 164, 336), radius=28, fill=rgb)
                cv.c.rounded_rectangle((x0 + 13, 217, x0 + 151, 323), radius=18, fill=tint)
        cv.line([(178, 236), (206, 236)], fill=rgb, width=12, solid=True)
        cv.line([(18, 222), (2, 214)], fill=rgb, width=10, solid=True)
        cv.line([(366, 222), (382, 214)], fill=rgb, width=10, solid=True)
    elif shape == "watch":
        cv.rect((150, 8, 234, 504), radius=16, fill=_shade(second, 0.8) if "leather" in s else rgb)
        cv.ellipse((106, 170, 278, 342), fill=rgb, outline=edge)
        cv.ellipse((122, 186, 262, 326), fill=(246, 244, 236) if sum(rgb) < 360 else (30, 32, 40))
        cv.line([(192, 256), (192, 200)], fill=edge, width=4)
        cv.line([(192, 256), (236, 270)], fill=edge, width=4)
    else:  # necklace / earrings / bracelets / rings
        if "earring" in s:
            for x0 in (40, 210):
                cv.ellipse((x0, 140, x0 + 134, 274 if "stud" in s else 380), fill=rgb if "stud" in s else None,
                           width=0 if "stud" in s else 14)
        elif any(k in s for k in ("bangle", "bracelet", "ring")):
            cv.ellipse((40, 120, 344, 424), width=30 if "signet" in s or "bangle" in s else 16)
            if "charm" in s:
                for a in (130, 192, 254):
                    cv.dot(a, 424, 16, second, solid=True)
            if "signet" in s:
                cv.ellipse((132, 60, 252, 170), fill=_shade(rgb, 0.9), outline=edge)
        else:
            cv.arc((50, 10, 334, 420), 10, 170, width=8)
            cv.ellipse((164, 390, 220, 470), fill=second if "pendant" in s else rgb, outline=edge)


def render_cutout(path: Path, *, shape: str, style: str, rgb: RGB, second: RGB | None = None,
                  pattern: str | None = None, variant: int = 0) -> Path:
    """Draw one garment and save it as a cropped RGBA PNG at `path`; returns the path."""
    rng = random.Random(variant)
    second = second or _contrast(rgb)
    cv = _Canvas(rgb)
    _pattern(cv, pattern, second, rng)
    s = style.lower()
    if shape in ("shirt", "tshirt", "knit"):
        sleeves = "none" if "tank" in s or "bra" in s else ("short" if shape == "tshirt" and "longline" not in s
                                                              and "running" not in s else "long")
        if shape == "shirt" and rng.random() < 0.25:
            sleeves = "short"
        hem = {"shirt": 440, "tshirt": 410, "knit": 420}[shape] + (40 if "longline" in s else 0)
        _top(cv, style, hem, sleeves, rng)
    elif shape in ("jacket", "coat"):
        _jacket(cv, style, 510 if shape == "coat" else 400, rng)
    elif shape == "dress":
        _dress(cv, style, rng)
    elif shape in ("trousers", "shorts"):
        _trousers(cv, style, shape == "shorts", rng)
    elif shape == "skirt":
        _skirt(cv, style, rng)
    elif shape == "swimsuit":
        _swimsuit(cv, style, rng)
    elif shape in ("sneaker", "boot", "loafer", "heel", "sandal"):
        _shoe(cv, shape, style, second, rng)
    elif shape == "bag":
        _bag(cv, style, second, rng)
    else:
        _accessory(cv, shape, style, second, rng)
    alpha = cv.mask.reduce(SS)
    box = alpha.getbbox() or (0, 0, W, H)
    pad = 2
    box = (max(box[0] - pad, 0), max(box[1] - pad, 0), min(box[2] + pad, W), min(box[3] + pad, H))
    img = ImageChops.multiply(cv.colour.crop(box), _lighting().crop(box)).convert("RGBA")
    img.putalpha(alpha.crop(box))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Level 1: a third of the encode time of the default for ~15% larger files; seeding is dominated by it.
    img.save(path, format="PNG", compress_level=1)
    return path
