"""The image MCP server and the `godseye image` CLI, end to end on generated files."""

from __future__ import annotations

import base64
import io
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from fastmcp.exceptions import ToolError
from PIL import Image
from typer.testing import CliRunner

from godseye.cli.image import app as image_cli
from godseye.config import get_settings
from mcp_servers.image import fixtures as fx
from mcp_servers.image import server
from mcp_servers.image.settings import get_image_settings
from mcp_servers.image.store import load_upload, result_path, store_upload

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GODSEYE_HOME", str(tmp_path))
    get_settings.cache_clear()
    get_image_settings.cache_clear()
    catalog = tmp_path / "catalog_images"
    catalog.mkdir()
    fx.garment_cutout().save(catalog / "linen-shirt.png")
    yield tmp_path
    get_settings.cache_clear()
    get_image_settings.cache_clear()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _person_jpeg() -> bytes:
    person, _ = fx.person_photo(width=480, height=640)
    return fx.encode(person, "JPEG", quality=90)


async def test_tools_are_typed_and_documented(home):
    async with Client(server.mcp) as client:
        tools = {t.name: t for t in await client.list_tools()}
    assert set(tools) == {"validate_image", "try_on"}
    for tool in tools.values():
        assert tool.description
        assert "filled in by the shop" in tool.inputSchema["properties"]["user_id"]["description"].lower()
    assert tools["try_on"].inputSchema["required"] == ["user_id", "product_id", "photo_id"]
    assert "bomb" in tools["validate_image"].description


async def test_upload_then_try_on_through_the_tools(home):
    async with Client(server.mcp) as client:
        checked = await client.call_tool("validate_image", {"user_id": "ana", "data_base64": _b64(_person_jpeg())})
        upload = checked.structured_content
        assert upload["ok"] and upload["upload_id"].startswith("up_")
        again = await client.call_tool("validate_image", {"user_id": "ana", "upload_id": upload["upload_id"]})
        assert again.structured_content["ok"] and again.structured_content["width"] == 480
        result = await client.call_tool(
            "try_on", {"user_id": "ana", "product_id": "linen-shirt", "photo_id": upload["upload_id"]}
        )
    out = result.structured_content
    assert out["ok"] and out["backend"] == "compositor" and out["method"] == "face"
    assert "upper body" in out["description"]
    preview = Image.open(result_path(out["result_id"]))
    assert preview.size == (480, 640)
    assert Path(out["path"]) == result_path(out["result_id"])
    # the garment is on the stored preview
    pixels = np.asarray(preview.convert("RGB")).astype(int)
    x0, y0, x1, y1 = out["box"]
    middle = pixels[(y0 + y1) // 2, (x0 + x1) // 2]
    assert middle[0] > 140 and middle[1] < 90


async def test_hostile_upload_is_refused_with_kind_and_message(home):
    async with Client(server.mcp) as client:
        result = await client.call_tool("validate_image", {"user_id": "m", "data_base64": _b64(fx.png_huge_declared())})
    verdict = result.structured_content
    assert verdict["ok"] is False and verdict["kind"] == "bomb" and verdict["upload_id"] is None
    assert "decompression bomb" in verdict["message"] and "detail" not in verdict
    assert list((home / "uploads").glob("up_*")) == []  # nothing stored


async def test_errors_come_back_as_plain_messages(home):
    photo = store_upload(_person_jpeg(), "ana")
    async with Client(server.mcp) as client:
        with pytest.raises(ToolError, match="No photo"):  # someone else's photo looks like no photo
            await client.call_tool("try_on", {"user_id": "eve", "product_id": "linen-shirt", "photo_id": photo.upload_id})
        with pytest.raises(ToolError, match="no picture of product"):
            await client.call_tool("try_on", {"user_id": "ana", "product_id": "nope", "photo_id": photo.upload_id})
        with pytest.raises(ToolError, match="Unknown product"):
            await client.call_tool("try_on", {"user_id": "ana", "product_id": "../../etc/passwd",
                                              "photo_id": photo.upload_id})
        with pytest.raises(ToolError, match="not base64"):
            await client.call_tool("validate_image", {"user_id": "ana", "data_base64": "%%%"})
        with pytest.raises(ToolError, match="either"):
            await client.call_tool("validate_image", {"user_id": "ana"})


def test_store_upload_keeps_only_the_sanitised_copy(home):
    data = fx.jpeg_php_in_comment()
    assert not store_upload(data, "m").ok
    good = store_upload(fx.phone_photo(1200, 900, orientation=6), "ana")
    assert good.ok and good.path is not None and good.path.parent == home / "uploads"
    stored = load_upload(good.upload_id, "ana")
    assert Image.open(io.BytesIO(stored)).size == (768, 1024)  # EXIF-rotated to portrait, working size
    assert not Image.open(io.BytesIO(stored)).getexif()
    meta = json.loads((home / "uploads" / f"{good.upload_id}.json").read_text())
    assert meta["user_id"] == "ana" and meta["verdict"]["format"] == "JPEG"


def test_stdio_server_starts_and_answers(home):
    """`python -m mcp_servers.image` over stdio, the way ADK's toolset runs it."""
    env = {**os.environ, "GODSEYE_HOME": str(home), "GODSEYE_NETWORK_GUARD": "1", "PYTHONPATH": str(ROOT)}
    transport = StdioTransport(command=sys.executable, args=["-m", "mcp_servers.image"], env=env, cwd=str(ROOT))

    async def run():  # type: ignore[no-untyped-def]
        async with Client(transport, timeout=30) as client:
            names = {t.name for t in await client.list_tools()}
            bomb = await client.call_tool("validate_image", {"user_id": "x", "data_base64": _b64(fx.gif_huge_screen())})
            return names, bomb.structured_content

    import asyncio

    names, verdict = asyncio.run(run())
    assert names == {"validate_image", "try_on"}
    assert verdict["kind"] == "bomb"


# --- CLI -------------------------------------------------------------------------------------------


def test_cli_check_prints_one_verdict_per_file_and_exits_1_on_rejection(home, tmp_path):
    files = {
        "photo.gif": fx.valid_png(),  # a PNG called .gif is a PNG
        "bomb.png": fx.png_huge_declared(),
        "page.jpg": fx.html_named_like_a_photo(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    result = CliRunner().invoke(image_cli, ["check", *(str(tmp_path / n) for n in files)])
    assert result.exit_code == 1, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["ok"], r["kind"], r["format"]) for r in rows] == [(True, None, "PNG"), (False, "bomb", "PNG"),
                                                                  (False, "bad_format", "HTML page")]
    for row in rows:
        assert {"path", "ok", "kind", "message", "width", "height", "format", "bytes", "ms"} <= set(row)


def test_cli_check_exit_codes(home, tmp_path):
    ok = tmp_path / "ok.png"
    ok.write_bytes(fx.valid_png())
    assert CliRunner().invoke(image_cli, ["check", str(ok)]).exit_code == 0
    missing = CliRunner().invoke(image_cli, ["check", str(ok), str(tmp_path / "missing.jpg")])
    assert missing.exit_code == 2
    assert "Cannot read" in missing.output.splitlines()[-1]


def test_cli_tryon_writes_a_preview(home, tmp_path):
    photo, shirt, out = tmp_path / "me.jpg", tmp_path / "shirt.png", tmp_path / "out" / "preview.png"
    photo.write_bytes(_person_jpeg())
    fx.garment_cutout().save(shirt)
    result = CliRunner().invoke(image_cli, ["tryon", str(photo), "--product-image", str(shirt), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["ok"] and summary["backend"] == "compositor"
    assert Image.open(out).size == (480, 640)
    bomb = tmp_path / "bomb.jpg"
    bomb.write_bytes(fx.jpeg_huge_declared())
    refused = CliRunner().invoke(image_cli, ["tryon", str(bomb), "--product-image", str(shirt), "--out", str(out)])
    assert refused.exit_code == 1 and json.loads(refused.output)["kind"] == "bomb"
