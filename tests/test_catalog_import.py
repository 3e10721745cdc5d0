"""Importing a shop's own catalog: CSV, JSON Lines, Online Boutique; all-or-nothing with clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcp_servers.catalog.importers import ImportValidationError, import_file, parse_file
from mcp_servers.catalog.models import CatalogError
from mcp_servers.catalog.store import CatalogStore

CSV_OK = """id,name,description,category,subcategory,gender,colours,sizes,materials,occasions,seasons,price,currency,stock,rating,brand
SKU-1,Ivory Linen Relaxed Shirt,Breathable linen for hot days.,clothing,shirt,men,Ivory,S|M|L,linen,office|travel,summer,59.90,usd,12,4.5,Acme
SKU-2,Red Satin Slip Dress,"A slip dress, bias cut.",clothing,dresses,women,"[""red"", ""black""]",XS;S;M,satin,party,,79,USD,0,,Acme
SKU-3,Canvas Tote,,accessories,bags,,beige,,canvas,,,25,,,,
"""


def ob_doc(products: list[dict]) -> dict:
    return {"products": products}


def ob_product(pid: str = "OLJCESPC7Z", **over) -> dict:
    base = {"id": pid, "name": "Sunglasses", "description": "Sleek aviator sunglasses for the beach.",
            "picture": "/static/img/products/sunglasses.jpg",
            "priceUsd": {"currencyCode": "USD", "units": 19, "nanos": 990000000}, "categories": ["accessories"]}
    base.update(over)
    return base


def test_csv_rows_are_normalised(tmp_path):
    path = tmp_path / "shop.csv"
    path.write_text(CSV_OK)
    products, warnings = parse_file(path)
    by_id = {p.id: p for p in products}
    shirt = by_id["SKU-1"]
    assert (shirt.subcategory, shirt.colours, shirt.sizes, shirt.currency) == ("shirts", ["white"], ["S", "M", "L"],
                                                                              "USD")
    assert shirt.occasions == ["office", "travel"] and shirt.price == 59.9 and shirt.stock == 12
    dress = by_id["SKU-2"]
    assert dress.colours == ["red", "black"] and dress.sizes == ["XS", "S", "M"] and dress.stock == 0
    assert dress.rating is None and dress.gender == "women"
    tote = by_id["SKU-3"]
    assert tote.stock == 10 and tote.sizes == ["One Size"] and tote.gender == "unisex"
    assert warnings == ["ignored unknown field(s): brand"]


def test_csv_import_writes_a_searchable_catalog_with_cutouts(tmp_path):
    path = tmp_path / "shop.csv"
    path.write_text(CSV_OK)
    uri = tmp_path / "home" / "catalog.lance"
    report = import_file(path, uri=uri, default_stock=3)
    assert (report.imported, report.mode, report.cutouts_drawn) == (3, "replace", 3)
    store = CatalogStore(uri)
    assert store.require("SKU-3").stock == 3
    assert Path(store.require("SKU-1").image).is_file()
    assert [p.id for p in store.search("linen shirt", limit=1)] == ["SKU-1"]
    assert store.search("dress", colour="red") == []  # the only red dress is sold out
    assert store.metadata["source"] == "shop.csv"


def test_errors_name_the_row_and_field_and_nothing_is_written(tmp_path):
    uri = tmp_path / "catalog.lance"
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"id": "A", "name": "Navy Tee", "category": "t-shirts", "price": 20}) + "\n")
    import_file(good, uri=uri)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,category,price,stock,rating\n"
                   "B1,Good Row,shirts,10,1,4\n"
                   "B2,,shirts,-5,2,4\n"
                   "B3,Bad Stock,shirts,abc,-1,7\n"
                   "B1,Duplicate,shirts,10,1,4\n"
                   "bad id!,Weird,shirts,10,1,4\n")
    with pytest.raises(ImportValidationError) as caught:
        import_file(bad, uri=uri)
    found = {(i.row, i.field) for i in caught.value.issues}
    assert {(3, "name"), (3, "price"), (4, "price"), (4, "stock"), (4, "rating"), (5, "id"), (6, "id")} <= found
    assert "row 5, field 'id': duplicate id 'B1' (first on row 2)" in str(caught.value)
    assert "nothing imported" in str(caught.value)
    store = CatalogStore(uri)
    assert store.count() == 1 and store.get("B1") is None  # the earlier catalog is untouched


def test_jsonl_errors_and_format_detection(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": "A", "name": "Tee", "category": "t-shirts", "price": 5}\n\nnot json\n[1, 2]\n'
                    '{"id": "B", "name": "Tee", "category": "t-shirts"}\n')
    with pytest.raises(ImportValidationError) as caught:
        parse_file(path)
    assert [(i.row, i.field) for i in caught.value.issues] == [(3, "json"), (4, "json"), (5, "price")]
    assert "is required" in str(caught.value)
    unknown = tmp_path / "x.txt"
    unknown.write_text("")
    with pytest.raises(CatalogError, match="--format"):
        parse_file(unknown)
    with pytest.raises(CatalogError, match="no such file"):
        parse_file(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("id,name,category,price\n")
    with pytest.raises(ImportValidationError, match="no products found"):
        parse_file(empty)


def test_online_boutique_mapping_and_errors(tmp_path):
    path = tmp_path / "products.json"
    path.write_text(json.dumps(ob_doc([
        ob_product(),
        ob_product("66VCHSJNUP", name="Tank Top", description="Perfectly cropped cotton tank.",
                   categories=["clothing", "tops"], priceUsd={"currencyCode": "USD", "units": 18, "nanos": 990000000}),
        ob_product("6E92ZMYYFZ", name="Mug", description="A simple mug with a mustard interior.",
                   categories=["kitchen"], priceUsd={"currencyCode": "USD", "units": 8, "nanos": 990000000}),
    ])))
    products, _ = parse_file(path, "online-boutique")
    sunglasses, tank, mug = products
    assert (sunglasses.category, sunglasses.subcategory, sunglasses.price) == ("accessories", "sunglasses", 19.99)
    assert sunglasses.occasions == ["beach"] and sunglasses.photo == "/static/img/products/sunglasses.jpg"
    assert (tank.category, tank.subcategory, tank.materials) == ("clothing", "t-shirts", ["cotton"])
    assert (mug.category, mug.subcategory, mug.price) == ("kitchen", "kitchen", 8.99)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(ob_doc([ob_product(), ob_product("X2", priceUsd={"units": "ten"}),
                                      ob_product("X3", categories=[]), "oops", ob_product("X5", name="")])))
    with pytest.raises(ImportValidationError) as caught:
        parse_file(bad)
    assert [(i.row, i.field) for i in caught.value.issues] == [(2, "priceUsd"), (3, "categories"), (4, "product"),
                                                               (5, "name")]
    broken = tmp_path / "broken.json"
    broken.write_text('{"products": [')
    with pytest.raises(ImportValidationError, match="not valid JSON"):
        parse_file(broken)


@pytest.mark.shared_data
def test_real_online_boutique_catalog_imports(shared_data, tmp_path):
    source = shared_data / "catalog" / "online_boutique" / "products.json"
    uri = tmp_path / "catalog.lance"
    report = import_file(source, uri=uri)
    assert report.imported == 9 and report.cutouts_drawn >= 4  # the fashion items get try-on cut-outs
    store = CatalogStore(uri)
    watch = store.require("1YMWWN1N4O")
    assert (watch.subcategory, watch.colours, watch.price) == ("watches", ["gold"], 109.99)
    assert Path(watch.photo).is_file() and Path(watch.image).is_file()
    assert store.search("sunglasses", limit=1)[0].id == "OLJCESPC7Z"
    assert store.search("shoes for summer", category="shoes", limit=1)[0].name == "Loafers"


def test_append_mode_upserts_by_id_and_search_sees_it(tmp_path):
    uri = tmp_path / "catalog.lance"
    first = tmp_path / "a.jsonl"
    first.write_text("\n".join(json.dumps(r) for r in [
        {"id": "A", "name": "Navy Crew Neck T-Shirt", "category": "t-shirts", "price": 20, "colours": ["navy"]},
        {"id": "B", "name": "Black Chelsea Boots", "category": "boots", "price": 150, "sizes": ["40", "41"]},
    ]))
    import_file(first, uri=uri)
    store = CatalogStore(uri)
    assert store.search("chelsea boots", limit=1)[0].id == "B"  # builds the in-memory snapshot
    second = tmp_path / "b.jsonl"
    second.write_text("\n".join(json.dumps(r) for r in [
        {"id": "B", "name": "Black Chelsea Boots", "category": "boots", "price": 120, "sizes": ["40", "41"]},
        {"id": "C", "name": "Emerald Silk Slip Dress", "category": "dresses", "price": 90, "colours": ["emerald"]},
    ]))
    report = import_file(second, uri=uri, mode="append")
    assert report.mode == "append" and report.imported == 2
    assert store.count() == 3 and store.require("B").price == 120
    assert [p.id for p in store.search("green silk dress", colour="green", limit=3)] == ["C"]
