"""The operator console, headless (streamlit.testing AppTest) on a seeded GODSEYE_HOME."""

from __future__ import annotations

import os

import pytest
from streamlit.testing.v1 import AppTest
from support.sre_telemetry import shared_home

from godseye.config import PROJECT_ROOT, get_settings
from guardrails.blocklist import BlockList

CONSOLE = str(PROJECT_ROOT / "ui" / "console.py")


@pytest.fixture(scope="module")
def home():
    previous = os.environ.get("GODSEYE_HOME")
    os.environ["GODSEYE_HOME"] = str(shared_home())
    get_settings.cache_clear()
    yield shared_home()
    if previous is None:
        os.environ.pop("GODSEYE_HOME", None)
    else:
        os.environ["GODSEYE_HOME"] = previous
    get_settings.cache_clear()


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.success]
    parts += [e.value for e in at.error] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


def _charts(at: AppTest) -> int:
    def walk(node) -> int:
        children = getattr(node, "children", None)
        count = int(getattr(node, "type", None) == "vega_lite_chart")
        return count + sum(walk(c) for c in (children.values() if isinstance(children, dict) else []))

    return walk(at._tree)


def test_console_shows_health_charts_monitors_incidents_and_blocks(home):
    BlockList().block("session", "s-console", "test block", source="console-test")
    at = AppTest.from_file(CONSOLE, default_timeout=120).run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert "The service is healthy" in text
    assert "Prompt injection in session s-evil" in text  # triggered monitors
    assert "2 incidents (1 open, 1 resolved)" in text
    assert "test block" in text and "s-evil" in text
    assert [m.label for m in at.metric][:2] == ["Tool error rate", "Latency p95"]
    assert _charts(at) >= 4  # injection, blocks, quality, latency have data; tokens and spend too
    assert len(at.tabs) == 5 and len(at.chat_input) == 1

    unblock = next(b for b in at.button if b.key == "unblock-session-s-console")
    at = unblock.click().run()
    assert not at.exception, at.exception
    assert "Unblocked session s-console" in _texts(at)
    assert BlockList().check(session_id="s-console") is None
    assert BlockList().check(session_id="s-evil") is not None  # only the one asked for


def test_console_chat_with_the_ai_sre(home):
    at = AppTest.from_file(CONSOLE, default_timeout=180).run()
    at.chat_input[0].set_value("who is attacking us?").run()
    assert not at.exception, at.exception
    messages = at.chat_message
    assert [m.name for m in messages] == ["user", "assistant"]
    reply = "\n".join(str(m.value) for m in messages[1].markdown)
    assert "s-evil" in reply
    assert "top_offenders" in "\n".join(str(c.value) for c in messages[1].caption)
