"""Proactive nudges (PEAU): the stylist speaks first at moments that matter.

`NudgeEngine.after_turn(turn)` is called by `godseye.runtime.ShopRuntime` after every turn; its
nudges land in `TurnResult.nudges` (`godseye chat --json`) and in the shop page. See `engine.py`
for the moments and limits, `settings.py` for the `GODSEYE_NUDGE_*` settings.
"""

from godseye.nudges.engine import Decision, Nudge, NudgeEngine, get_engine
from godseye.nudges.ledger import NudgeLedger
from godseye.nudges.preferences import command as preference_command
from godseye.nudges.settings import NudgeSettings

__all__ = ["Decision", "Nudge", "NudgeEngine", "NudgeLedger", "NudgeSettings", "get_engine", "preference_command"]
