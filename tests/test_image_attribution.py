"""Per-user attribution of uploads: metrics, the violation log and the block after repeat offences."""

from __future__ import annotations

import sqlite3
import time

import pytest

from godseye.config import get_settings
from guardrails.blocklist import BlockList
from mcp_servers.image import attribution as attribution_module
from mcp_servers.image import fixtures as fx
from mcp_servers.image.attribution import Attribution, ViolationLog
from mcp_servers.image.settings import get_image_settings
from mcp_servers.image.validator import validate_upload


class Recorder:
    """Stands in for telemetry.metrics.metrics and keeps every point."""

    def __init__(self):
        self.points: list[tuple[str, str, float, dict]] = []

    def count(self, name, value, tags=None):  # type: ignore[no-untyped-def]
        self.points.append(("count", name, value, dict(tags or {})))

    def distribution(self, name, value, tags=None):  # type: ignore[no-untyped-def]
        self.points.append(("distribution", name, value, dict(tags or {})))

    def named(self, name: str) -> list[tuple[str, str, float, dict]]:
        return [p for p in self.points if p[1] == name]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GODSEYE_HOME", str(tmp_path))
    get_settings.cache_clear()
    get_image_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
    get_image_settings.cache_clear()


@pytest.fixture
def recorder(monkeypatch):
    rec = Recorder()
    monkeypatch.setattr(attribution_module, "metrics", rec)
    return rec


@pytest.fixture
def attribution(home):
    return Attribution(BlockList(home / "guard.sqlite"), ViolationLog(home / "violations.sqlite"))


def test_rejection_is_attributed_to_the_user(attribution, recorder):
    verdict = validate_upload(fx.png_huge_declared(), user_id="mallory", attribution=attribution)
    assert verdict.kind == "bomb"
    assert recorder.named("tryon.security.violation") == [
        ("count", "tryon.security.violation", 1, {"user_id": "mallory", "kind": "bomb"})
    ]
    assert not recorder.named("tryon.image.bytes")


def test_accepted_upload_reports_its_shape(attribution, recorder):
    data = fx.valid_png(64, 48)
    verdict = validate_upload(data, user_id="ana", attribution=attribution)
    assert verdict.ok
    points = {p[1]: p for p in recorder.points}
    assert points["tryon.image.bytes"] == ("distribution", "tryon.image.bytes", len(data), {"format": "png"})
    assert points["tryon.image.pixels"][2] == 64 * 48
    assert 0 < points["tryon.image.entropy"][2] <= 8
    assert not recorder.named("tryon.security.violation")


def test_repeat_offender_is_blocked_and_others_are_not(attribution, recorder):
    hostile = [fx.png_huge_declared(), fx.ztxt_bomb(2_000_000), fx.png_plus_zip()]
    verdicts = [validate_upload(data, user_id="mallory", attribution=attribution) for data in hostile]
    assert [v.kind for v in verdicts] == ["bomb", "text_chunk_bomb", "polyglot"]
    assert [v.user_blocked for v in verdicts] == [False, False, True]
    assert "paused" in verdicts[-1].message

    # the block is the guardrails' block: it shows up for the chat too
    entry = attribution.blocklist.check(user_id="mallory")
    assert entry is not None and entry.source == "image-validator" and "polyglot" in entry.reason

    # even a perfectly good photo is refused now, with a clear message and no decode
    refused = validate_upload(fx.valid_jpeg(), user_id="mallory", attribution=attribution)
    assert refused.kind == "blocked" and not refused.ok and "paused" in refused.message
    assert recorder.named("llm.security.blocked")[-1][3] == {"reason": "tryon_upload_user_blocked"}

    # another shopper is unaffected
    assert validate_upload(fx.valid_jpeg(), user_id="ana", attribution=attribution).ok
    assert attribution.blocklist.check(user_id="ana") is None

    # lifting the block restores uploads
    attribution.blocklist.lift("user", "mallory")
    assert validate_upload(fx.valid_jpeg(), user_id="mallory", attribution=attribution).ok


def test_honest_mistakes_are_counted_but_do_not_block(attribution, recorder):
    mistakes = [fx.encode(fx.small_photo(), "GIF"), fx.truncated(fx.valid_jpeg()), fx.webp_animated(3),
                b"\x00\x00\x00\x18ftypheic" + bytes(20)]
    for data in mistakes:
        assert not validate_upload(data, user_id="bob", attribution=attribution).ok
    assert attribution.blocklist.check(user_id="bob") is None
    kinds = [p[3]["kind"] for p in recorder.named("tryon.security.violation")]
    assert kinds == ["bad_format", "truncated", "animation", "bad_format"]


def test_old_violations_fall_out_of_the_window(attribution, recorder, home):
    for data in (fx.png_huge_declared(), fx.png_plus_zip()):
        validate_upload(data, user_id="eve", attribution=attribution)
    with sqlite3.connect(attribution.log.path) as conn:  # age them past the 10-minute window
        conn.execute("UPDATE image_violations SET created_at = ?", (time.time() - 3600,))
    verdict = validate_upload(fx.gif_huge_screen(), user_id="eve", attribution=attribution)
    assert verdict.kind == "bomb" and not verdict.user_blocked
    assert attribution.blocklist.check(user_id="eve") is None


def test_threshold_is_a_setting(home, monkeypatch, recorder):
    monkeypatch.setenv("GODSEYE_IMAGE_BLOCK_THRESHOLD", "1")
    get_image_settings.cache_clear()
    attribution = Attribution(BlockList(home / "g.sqlite"), ViolationLog(home / "v.sqlite"))
    assert validate_upload(fx.png_huge_declared(), user_id="zed", attribution=attribution).user_blocked


def test_anonymous_rejections_are_counted_without_blocking(attribution, recorder):
    for _ in range(4):
        validate_upload(fx.png_huge_declared(), attribution=attribution)
    assert {p[3]["user_id"] for p in recorder.named("tryon.security.violation")} == {"anonymous"}
    assert attribution.blocklist.list_active() == []


def test_default_attribution_follows_the_home_directory(home, recorder):
    verdict = validate_upload(fx.png_huge_declared(), user_id="u1")
    assert verdict.kind == "bomb"
    assert (home / "image_violations.sqlite").is_file() and (home / "guard.sqlite").is_file()
