"""The shop page shows nudges as stylist messages with product cards, and has a switch for them.

Headless (streamlit.testing AppTest) on an empty GODSEYE_HOME: rendering a nudge and flipping the
switch need no agent turn, so no model or MCP server starts here.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from godseye.config import PROJECT_ROOT
from godseye.nudges import get_engine

SHOP = str(PROJECT_ROOT / "ui" / "shop.py")
NUDGE = {"role": "assistant", "agent": "stylist", "nudge": "low_stock",
         "text": "Heads-up: only 2 units left of the Linen Sundress ($60.00).",
         "products": [{"id": "T-001", "name": "Linen Sundress", "price": 60.0}]}


def test_nudge_is_a_stylist_message_with_cards_and_the_switch_turns_nudges_off(home):
    at = AppTest.from_file(SHOP, default_timeout=60)
    at.session_state["session_id"] = "web-ui-test"
    at.session_state["messages"] = [{"role": "user", "text": "show me dresses"}, NUDGE]
    at.run()
    assert not at.exception, at.exception
    assert "stylist" in [c.value for c in at.caption]
    assert any("only 2 units left" in m.value for m in at.markdown)
    assert {b.key for b in at.button} >= {"add-1-T-001", "more-1-T-001"}

    (switch,) = [t for t in at.toggle if t.label == "Stylist suggestions"]
    assert switch.value is True and get_engine().enabled("web-ui-test")
    switch.set_value(False).run()
    assert not at.exception, at.exception
    assert get_engine().enabled("web-ui-test") is False
    assert [t for t in at.toggle if t.label == "Stylist suggestions"][0].value is False

    get_engine().set_enabled("web-ui-test", True)  # e.g. "suggestions on" typed in the chat
    at.run()
    assert [t for t in at.toggle if t.label == "Stylist suggestions"][0].value is True
