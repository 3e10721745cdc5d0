"""A deterministic demo catalog: N fashion products with realistic names, prices, sizes and cut-outs.

Why stratified rather than purely random: a demo shop must answer the obvious requests ("a red dress
under $80 in size M") for every seed, so each subcategory walks through the colour families and,
for each colour, through budget / mid / premium price bands. Randomness (a seeded `random.Random`)
only picks shades, materials, styles and wording. Same seed and size -> byte-identical products and
images, across runs and machines with the same Pillow.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from mcp_servers.catalog import vocab
from mcp_servers.catalog.images import render_cutout

PATTERNS = ("Striped", "Checked", "Floral", "Polka Dot", "Colour-Block")
PATTERNED = frozenset({"dresses", "shirts", "t-shirts", "skirts", "swimwear", "scarves", "knitwear"})
GENDER_WORD = {"women": "women's", "men": "men's", "unisex": "unisex"}
FITS = ("relaxed", "easy", "tailored", "classic", "modern", "lightweight", "soft", "versatile", "timeless")
IMAGES_DIRNAME = "catalog_images"


@dataclass(frozen=True)
class SeedItem:
    """A generated product plus what the renderer needs that the product itself doesn't store."""

    product: dict
    shape: str
    style: str
    rgb: tuple[int, int, int]
    second: tuple[int, int, int] | None
    pattern: str | None
    variant: int


def _counts(n: int) -> dict[str, int]:
    """Split n over subcategories by weight (largest remainder, so the counts add up exactly)."""
    total = sum(s.weight for s in vocab.SUBCATEGORIES)
    raw = {s.name: n * s.weight / total for s in vocab.SUBCATEGORIES}
    counts = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (counts[k] - raw[k], k))[: n - sum(counts.values())]:
        counts[k] += 1
    return counts


def _price(rng: random.Random, lo: float, hi: float, band: int) -> float:
    """A shop-like price inside one third (in log space) of the subcategory's range."""
    llo, lhi = math.log(lo), math.log(hi)
    third = (lhi - llo) / 3
    raw = math.exp(rng.uniform(llo + band * third, llo + (band + 1) * third))
    if raw < 100:
        price = math.floor(raw) + rng.choice((0.99, 0.99, 0.5, 0.0))
    else:
        price = round(raw / 5) * 5 - rng.choice((0.01, 0.0, 0.0))
    return round(min(max(price, lo), hi), 2)


def _sizes(rng: random.Random, sub: vocab.Subcategory, gender: str) -> list[str]:
    if sub.sizing == "one":
        return [vocab.ONE_SIZE]
    if sub.sizing == "shoes":
        lo, hi = {"women": (35, 42), "men": (39, 46), "unisex": (36, 46)}[gender]
        return [str(v) for v in range(lo + rng.choice((0, 0, 1)), hi + 1 - rng.choice((0, 0, 1)))]
    start = rng.choice((0, 0, 0, 1))  # most runs start at XS, some at S
    end = rng.choice((6, 6, 5))  # most end at XXL, some at XL
    return list(vocab.APPAREL_SIZES[start:end])


def _stock(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.07:
        return 0
    if roll < 0.19:
        return rng.randint(1, 3)
    return rng.randint(4, 60)


def _seasons(rng: random.Random, sub: vocab.Subcategory, material: str) -> list[str]:
    suited = vocab.MATERIAL_SEASONS.get(material)
    seasons = [s for s in sub.seasons if not suited or s in suited] or list(sub.seasons)
    if len(seasons) > 2 and rng.random() < 0.4:
        seasons = sorted(rng.sample(seasons, 2), key=vocab.SEASONS.index)
    return seasons


OCCASION_PHRASES = {
    "wedding": "weddings", "office": "the office", "beach": "the beach", "party": "parties",
    "casual": "relaxed weekends", "sport": "training", "date night": "date nights",
    "interview": "interviews", "travel": "travel",
}


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _describe(rng: random.Random, *, sub: vocab.Subcategory, gender: str, style: str, shade: str,
              material: str, pattern: str | None, second_shade: str | None, occasions: list[str],
              seasons: list[str]) -> str:
    fit = rng.choice(FITS)
    look = f"{shade.lower()} {material}"
    if pattern and second_shade:
        look += f" with a {second_shade.lower()} {pattern.lower()} print"
    noun = f"{GENDER_WORD[gender]} {style.lower()}"
    if style.endswith("s") and not style.endswith("ss"):  # plural products: jeans, boots, sunglasses
        first = f"{fit.capitalize()} {noun} in {look}, with {rng.choice(sub.details)}."
    else:
        article = "An" if fit[0] in "aeiou" else "A"
        first = f"{article} {fit} {noun} in {look}, with {rng.choice(sub.details)}."
    occ = _join([OCCASION_PHRASES[o] for o in occasions])
    second = rng.choice((f"Made for {occ}.", f"Easy to wear for {occ}.", f"A smart pick for {occ}.",
                         f"Ready for {occ}."))
    third = "A year-round staple." if len(seasons) == len(vocab.SEASONS) else f"Best in {_join(seasons)}."
    care = rng.choice((
        "True to size.", "Runs slightly large; size down if between sizes.", "Machine wash cold.",
        "Dry clean only.", "Responsibly sourced.", "Model is 178 cm and wears size M.", "Hand finished.",
    ) if sub.sizing == "apparel" else ("Comes in a dust bag.", "Wipe clean.", "Responsibly sourced.",
                                       "Gift boxed.", "Hand finished."))
    return " ".join((first, second, third, care))


def _one(rng: random.Random, pid: str, sub: vocab.Subcategory, family: str, band: int,
         used_names: set[str]) -> SeedItem:
    gender = rng.choice(sub.genders)
    name = ""
    for _ in range(8):  # names should read as distinct products; give up quietly in huge catalogs
        shade = rng.choice(vocab.SHADES_BY_FAMILY[family])
        material = rng.choice(sub.materials)
        style = rng.choice(sub.styles)
        pattern = rng.choice(PATTERNS) if sub.name in PATTERNED and rng.random() < 0.22 else None
        mat_word = material.title() if material.lower() not in style.lower() else ""
        parts = [shade, pattern or "", mat_word, style]
        name = " ".join(p for p in parts if p)
        if name not in used_names:
            break
    used_names.add(name)
    second_family = None
    second_shade = None
    if pattern or (sub.category != "clothing" and rng.random() < 0.35):
        second_family = rng.choice([f for f in vocab.APPAREL_FAMILY_CYCLE if f != family])
        second_shade = rng.choice(vocab.SHADES_BY_FAMILY[second_family])
    colours = [family] + ([second_family] if second_family else [])
    occasions = sorted(rng.sample(sub.occasions, min(len(sub.occasions), rng.choice((2, 2, 3)))),
                       key=vocab.OCCASIONS.index)
    seasons = _seasons(rng, sub, material)
    materials = [material] + (["elastane"] if sub.category == "clothing" and rng.random() < 0.15 else [])
    product = {
        "id": pid,
        "name": name,
        "description": _describe(rng, sub=sub, gender=gender, style=style, shade=shade, material=material,
                                 pattern=pattern, second_shade=second_shade, occasions=occasions,
                                 seasons=seasons),
        "category": sub.category,
        "subcategory": sub.name,
        "gender": gender,
        "colours": colours,
        "sizes": _sizes(rng, sub, gender),
        "materials": materials,
        "occasions": occasions,
        "seasons": seasons,
        "price": _price(rng, *sub.price, band),
        "currency": "USD",
        "stock": _stock(rng),
        "rating": round(min(5.0, 2.6 + 2.4 * rng.betavariate(4, 1.6)), 1),
        "image": f"{IMAGES_DIRNAME}/{pid}.png",
        "photo": None,
    }
    return SeedItem(
        product=product,
        shape=sub.shape,
        style=style,
        rgb=vocab.SHADE_BY_NAME[shade.lower()][2],
        second=vocab.SHADE_BY_NAME[second_shade.lower()][2] if second_shade else None,
        pattern=pattern,
        variant=rng.getrandbits(32),
    )


def generate(size: int, seed: int) -> list[SeedItem]:
    """The catalog for (size, seed): products in id order, each with its drawing instructions."""
    if size < 1:
        raise ValueError("catalog size must be at least 1")
    rng = random.Random(seed)
    plan: list[tuple[vocab.Subcategory, str, int]] = []
    counts = _counts(size)
    for sub in vocab.SUBCATEGORIES:
        cycle = list(vocab.METAL_FAMILY_CYCLE if sub.name in vocab.METAL_SUBCATEGORIES
                     else vocab.APPAREL_FAMILY_CYCLE)
        rng.shuffle(cycle)
        offsets = {fam: rng.randrange(3) for fam in cycle}
        for k in range(counts[sub.name]):
            family = cycle[k % len(cycle)]
            plan.append((sub, family, (k // len(cycle) + offsets[family]) % 3))
    rng.shuffle(plan)  # ids should not cluster by subcategory
    width = max(6, len(str(size)))
    used: set[str] = set()
    return [_one(rng, f"P{i + 1:0{width}d}", sub, fam, band, used) for i, (sub, fam, band) in enumerate(plan)]


def generate_products(size: int, seed: int) -> list[dict]:
    """Only the product dicts (what goes into the table), for callers that draw no images."""
    return [item.product for item in generate(size, seed)]


def render_item(item: SeedItem, images_dir: Path) -> Path:
    return render_cutout(images_dir / f"{item.product['id']}.png", shape=item.shape, style=item.style,
                         rgb=item.rgb, second=item.second, pattern=item.pattern, variant=item.variant)


def _lock(uri: Path):
    from filelock import FileLock

    uri.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(uri) + ".lock", timeout=600)


def seed_catalog(uri: str | Path | None = None, *, size: int | None = None, seed: int | None = None,
                 progress: Callable[[str, int, int], None] | None = None, images: bool = True):
    """Generate, draw and index a catalog at `uri` (default: settings), replacing any table there.

    `progress(stage, done, total)` is called for the "images" and "embeddings" stages. Returns the
    `CatalogStore`. Holds the catalog's seed lock so a concurrent `ensure_seeded` waits for it.
    """
    from mcp_servers.catalog.store import CatalogStore

    store = CatalogStore(uri)
    with _lock(store.uri):
        _seed_into(store, size, seed, progress, images)
    return store


def ensure_seeded(uri: str | Path | None = None, *, size: int | None = None, seed: int | None = None):
    """Seed the catalog only if it has no product table yet: what makes a fresh clone just work.

    Two servers starting at once on a fresh clone build it once: the second waits on the lock and
    then finds the table.
    """
    from mcp_servers.catalog.store import CatalogStore

    store = CatalogStore(uri)
    if store.exists():
        return store
    with _lock(store.uri):
        if not store.exists():
            _seed_into(store, size, seed, None, True)
    return store


def _seed_into(store, size, seed, progress, images) -> None:  # type: ignore[no-untyped-def]
    from godseye.config import get_settings

    settings = get_settings()
    size = settings.catalog_seed_size if size is None else size
    seed = settings.catalog_seed if seed is None else seed
    items = generate(size, seed)
    products = [item.product for item in items]
    # Drawing (Pillow) and embedding (onnxruntime) both release the GIL: overlap them.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog-images") as pool:
        drawn = pool.submit(_draw_all, items, store.media_root / IMAGES_DIRNAME, progress) if images else None
        vectors = store.embed_products(products, progress)
        if drawn is not None:
            drawn.result()
    store.create(products, vectors=vectors, metadata={"seed": str(seed), "seed_size": str(size)})
    prune_cutouts(store.media_root / IMAGES_DIRNAME, {p["id"] for p in products})


def prune_cutouts(images_dir: Path, keep: set[str]) -> int:
    """Delete cut-outs of products no longer in the catalog (after a replacing seed or import)."""
    removed = 0
    for png in images_dir.glob("*.png") if images_dir.is_dir() else ():
        if png.stem not in keep:
            png.unlink(missing_ok=True)
            removed += 1
    return removed


def _draw_all(items: list[SeedItem], images_dir: Path,
              progress: Callable[[str, int, int], None] | None) -> None:
    for i, item in enumerate(items, 1):
        render_item(item, images_dir)
        if progress and (i % 25 == 0 or i == len(items)):
            progress("images", i, len(items))
