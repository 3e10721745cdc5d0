"""Import a shop's own catalog: CSV, JSON Lines, or Online Boutique's `products.json`.

All or nothing: every row is parsed and validated first, and every problem is reported with its row
number and field; only a file with no problems is written, in one commit (a full replace, or an
upsert by id). Products whose subcategory we know get a drawn cut-out for try-on; a shop's own photo
is kept in `photo`.

Row numbers: for CSV and JSON Lines, the line of the file (the CSV header is line 1); for Online
Boutique, the position of the product in the `products` array, counting from 1.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mcp_servers.catalog import vocab
from mcp_servers.catalog.images import render_cutout
from mcp_servers.catalog.models import CatalogError, Product
from mcp_servers.catalog.seed import IMAGES_DIRNAME, prune_cutouts

ImportFormat = Literal["csv", "jsonl", "online-boutique"]
MAX_ISSUES_SHOWN = 20
MAX_FILE_BYTES = 200 * 1024 * 1024
LIST_SPLIT = re.compile(r"\s*[|;]\s*")


@dataclass(frozen=True)
class ImportIssue:
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, field {self.field!r}: {self.message}"


class ImportValidationError(CatalogError):
    """The file has problems; nothing was written. `issues` lists every one of them."""

    def __init__(self, source: str, issues: list[ImportIssue]):
        self.issues = issues
        shown = "\n".join(f"  {i}" for i in issues[:MAX_ISSUES_SHOWN])
        more = f"\n  ... and {len(issues) - MAX_ISSUES_SHOWN} more" if len(issues) > MAX_ISSUES_SHOWN else ""
        super().__init__(f"{source}: {len(issues)} problem(s), nothing imported:\n{shown}{more}")


@dataclass
class ImportReport:
    source: str
    format: str
    mode: str
    imported: int
    cutouts_drawn: int
    warnings: list[str] = field(default_factory=list)


def _as_list(value: Any) -> list[str]:
    """A list field from JSON (a list) or CSV ("red|navy", "red; navy" or a JSON array string)."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            value = json.loads(text)
        else:
            return [v for v in LIST_SPLIT.split(text) if v]
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ValueError("must be a list of names, or names separated by '|'")
    return [str(v).strip() for v in value if str(v).strip()]


class ProductRecord(BaseModel):
    """One incoming row: lenient about spelling and types, strict about meaning."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    category: str = Field(min_length=1, max_length=64)
    subcategory: str | None = Field(default=None, max_length=64)
    gender: str = "unisex"
    colours: list[str] = Field(default_factory=list)
    sizes: list[str] = Field(default_factory=list)
    materials: list[str] = Field(default_factory=list)
    occasions: list[str] = Field(default_factory=list)
    seasons: list[str] = Field(default_factory=list)
    price: float = Field(ge=0, lt=1_000_000)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    stock: int | None = Field(default=None, ge=0, le=10_000_000)
    rating: float | None = Field(default=None, ge=0, le=5)
    image: str | None = None
    photo: str | None = None

    @field_validator("colours", "sizes", "materials", "occasions", "seasons", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> list[str]:
        return _as_list(value)

    @field_validator("category", "subcategory")
    @classmethod
    def _category(cls, value: str | None) -> str | None:
        return vocab.normalise_category(value) if value else None

    @field_validator("gender")
    @classmethod
    def _gender(cls, value: str) -> str:
        g = vocab.normalise_gender(value or "unisex")
        if g not in ("women", "men", "unisex"):
            raise ValueError("must be women, men or unisex")
        return g

    @field_validator("colours")
    @classmethod
    def _colours(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(vocab.normalise_colour(v) for v in value))

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(vocab.normalise_size(v) for v in value))

    @field_validator("occasions", "seasons", "materials")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(vocab.norm_key(v) for v in value))

    @field_validator("price")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return round(value, 2)

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) and value.strip() else "USD"

    @field_validator("stock", "rating", "subcategory", "image", "photo", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


# --- readers: each yields (row number, raw dict) ------------------------------------------------------

def _read_csv(path: Path) -> Iterator[tuple[int, dict]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            return
        reader.fieldnames = [(f or "").strip().lower() for f in reader.fieldnames]
        for row in reader:
            if None in row:  # more cells than header columns
                yield reader.line_num, {"__error__": ("row", "has more cells than the header has columns")}
                continue
            if not any((v or "").strip() for v in row.values()):
                continue
            yield reader.line_num, row


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    with path.open(encoding="utf-8-sig") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield line_no, {"__error__": ("json", f"not valid JSON ({exc.msg} at column {exc.colno})")}
                continue
            if not isinstance(obj, dict):
                yield line_no, {"__error__": ("json", "each line must be a JSON object")}
                continue
            yield line_no, obj


def _text_terms(text: str, terms: dict[str, str]) -> list[str]:
    """Values of `terms` whose key occurs in text as a whole word or phrase, in order of appearance."""
    found: list[tuple[int, str]] = []
    low = text.lower()
    for key, value in terms.items():
        m = re.search(rf"(?<![a-z]){re.escape(key)}(?![a-z])", low)
        if m:
            found.append((m.start(), value))
    return list(dict.fromkeys(v for _, v in sorted(found)))


def _online_boutique_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """Map Online Boutique's schema (priceUsd units/nanos, tag-like categories) onto ours."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        yield 0, {"__error__": ("file", f"not valid JSON ({exc.msg} at line {exc.lineno})")}
        return
    products = doc.get("products") if isinstance(doc, dict) else None
    if not isinstance(products, list):
        yield 0, {"__error__": ("products", "expected an object with a 'products' array")}
        return
    colour_terms = {s[0].lower(): s[1] for s in vocab.SHADES} | dict(vocab.COLOUR_ALIASES)
    colour_terms |= {f"{k}-tone": v for k, v in list(colour_terms.items())}
    material_terms = {m: m for sub in vocab.SUBCATEGORIES for m in sub.materials}
    material_terms |= {"steel": "stainless steel", "glass": "glass", "bamboo": "bamboo", "ceramic": "ceramic"}
    occasion_terms = {o: o for o in vocab.OCCASIONS}
    season_terms = {s: s for s in vocab.SEASONS} | {"fall": "autumn"}
    sub_terms = {s.name: s.name for s in vocab.SUBCATEGORIES} | {
        k: v for k, v in vocab.CATEGORY_ALIASES.items() if v in vocab.SUBCATEGORY_BY_NAME}
    for n, item in enumerate(products, 1):
        if not isinstance(item, dict):
            yield n, {"__error__": ("product", "must be a JSON object")}
            continue
        row: dict[str, Any] = {k: item.get(k) for k in ("id", "name", "description")}
        price = item.get("priceUsd")
        if not isinstance(price, dict):
            yield n, {"__error__": ("priceUsd", "missing or not an object with currencyCode, units, nanos")}
            continue
        units, nanos = price.get("units", 0), price.get("nanos", 0)
        if not isinstance(units, int) or not isinstance(nanos, int) or not 0 <= abs(nanos) < 1_000_000_000:
            yield n, {"__error__": ("priceUsd", "units and nanos must be integers, nanos below 1e9")}
            continue
        row["price"] = units + nanos / 1e9
        row["currency"] = price.get("currencyCode") or "USD"
        tags = [vocab.normalise_category(t) for t in item.get("categories") or [] if isinstance(t, str)]
        if not tags:
            yield n, {"__error__": ("categories", "needs at least one category")}
            continue
        text = f"{row.get('name') or ''} {row.get('description') or ''}"
        name_subs = _text_terms(str(row.get("name") or ""), sub_terms) or _text_terms(text, sub_terms)
        known = [t for t in tags if t in vocab.SUBCATEGORY_BY_NAME]
        sub = (name_subs or known or [None])[0]
        if sub:
            row["category"] = vocab.SUBCATEGORY_BY_NAME[sub].category
            row["subcategory"] = sub
        else:
            row["category"] = tags[0]
            row["subcategory"] = tags[1] if len(tags) > 1 else tags[0]
        row["colours"] = _text_terms(text, colour_terms)
        row["materials"] = _text_terms(text, material_terms)
        row["occasions"] = _text_terms(text, occasion_terms)
        row["seasons"] = _text_terms(text, season_terms)
        row["sizes"] = [vocab.ONE_SIZE]
        picture = item.get("picture")
        if isinstance(picture, str) and picture:
            local = path.parent / "img" / Path(picture).name
            row["photo"] = str(local.resolve()) if local.is_file() else picture
        yield n, row


READERS: dict[str, Callable[[Path], Iterator[tuple[int, dict]]]] = {
    "csv": _read_csv,
    "jsonl": _read_jsonl,
    "online-boutique": _online_boutique_rows,
}


def detect_format(path: Path) -> ImportFormat:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "online-boutique"
    raise CatalogError(f"cannot tell the format of {path.name}: pass --format csv, jsonl or online-boutique")


def parse_file(path: str | Path, fmt: ImportFormat | None = None, *,
               default_stock: int = 10) -> tuple[list[Product], list[str]]:
    """Read and validate a whole file. Returns (products, warnings) or raises ImportValidationError."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"no such file: {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise CatalogError(f"{path.name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    fmt = fmt or detect_format(path)
    if fmt not in READERS:
        raise CatalogError(f"unknown format {fmt!r}: use csv, jsonl or online-boutique")
    issues: list[ImportIssue] = []
    warnings: list[str] = []
    products: list[Product] = []
    seen: dict[str, int] = {}
    unknown_columns: set[str] = set()
    try:
        rows = list(READERS[fmt](path))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ImportValidationError(path.name, [ImportIssue(0, "file", f"cannot be read as UTF-8 {fmt}: {exc}")]) \
            from exc
    for row_no, raw in rows:
        if "__error__" in raw:
            fld, msg = raw["__error__"]
            issues.append(ImportIssue(row_no, fld, msg))
            continue
        unknown_columns |= set(raw) - set(ProductRecord.model_fields)
        try:
            rec = ProductRecord.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                fld = str(err["loc"][0]) if err["loc"] else "row"
                msg = err["msg"].removeprefix("Value error, ")
                if err["type"] == "missing":
                    msg = "is required"
                issues.append(ImportIssue(row_no, fld, msg))
            continue
        if rec.id in seen:
            issues.append(ImportIssue(row_no, "id", f"duplicate id {rec.id!r} (first on row {seen[rec.id]})"))
            continue
        seen[rec.id] = row_no
        image = rec.image
        if image and "://" not in image and not Path(image).is_absolute():
            image = str((path.parent / image).resolve())
        products.append(Product(
            id=rec.id, name=rec.name, description=rec.description, category=rec.category,
            subcategory=rec.subcategory or rec.category, gender=rec.gender, colours=rec.colours,
            sizes=rec.sizes or [vocab.ONE_SIZE], materials=rec.materials, occasions=rec.occasions,
            seasons=rec.seasons, price=rec.price, currency=rec.currency,
            stock=default_stock if rec.stock is None else rec.stock, rating=rec.rating,
            image=image or "", photo=rec.photo,
        ))
    if not issues and not products:
        issues.append(ImportIssue(0, "file", "no products found"))
    if issues:
        raise ImportValidationError(path.name, issues)
    if unknown_columns:
        warnings.append(f"ignored unknown field(s): {', '.join(sorted(unknown_columns))}")
    return products, warnings


def _draw_missing_cutouts(products: list[Product], media_root: Path) -> int:
    """Give try-on a cut-out for every product of a kind we can draw and that has no image yet."""
    drawn = 0
    for i, p in enumerate(products):
        sub = vocab.SUBCATEGORY_BY_NAME.get(p.subcategory)
        if p.image or sub is None:
            continue
        colour = p.colours[0] if p.colours else ""
        rgb = vocab.FAMILY_RGB.get(colour, (128, 128, 132))
        shade = vocab.SHADE_BY_NAME.get(vocab.norm_key(p.name.split()[0])) if p.name else None
        if shade and shade[1] == colour:
            rgb = shade[2]
        second = vocab.FAMILY_RGB.get(p.colours[1]) if len(p.colours) > 1 else None
        style = next((s for s in sub.styles if s.lower() in p.name.lower()), p.name)
        rel = f"{IMAGES_DIRNAME}/{p.id}.png"
        render_cutout(media_root / rel, shape=sub.shape, style=style, rgb=rgb, second=second, variant=i)
        products[i] = p.model_copy(update={"image": rel})
        drawn += 1
    return drawn


def import_file(path: str | Path, fmt: ImportFormat | None = None, *, uri: str | Path | None = None,
                mode: Literal["replace", "append"] = "replace", default_stock: int = 10,
                progress: Callable[[str, int, int], None] | None = None) -> ImportReport:
    """Validate the whole file, then write it: `replace` swaps the catalog, `append` upserts by id."""
    from mcp_servers.catalog.store import CatalogStore

    path = Path(path)
    fmt = fmt or detect_format(path)
    if mode not in ("replace", "append"):
        raise CatalogError(f"unknown import mode {mode!r}: use replace or append")
    products, warnings = parse_file(path, fmt, default_stock=default_stock)
    store = CatalogStore(uri)
    if mode == "append" and not store.exists():
        mode = "replace"
    drawn = _draw_missing_cutouts(products, store.media_root)
    if mode == "replace":
        store.create(products, progress=progress, metadata={"source": path.name})
        prune_cutouts(store.media_root / IMAGES_DIRNAME, {p.id for p in products})
    else:
        store.upsert(products, progress=progress)
    return ImportReport(source=str(path), format=fmt, mode=mode, imported=len(products), cutouts_drawn=drawn,
                        warnings=warnings)
