"""Nudge settings (env `GODSEYE_NUDGE_*`): when the stylist may speak first, and how often.

Separate from `godseye.config.Settings` so the nudge feature carries its own defaults and can be
tuned (or switched off shop-wide) without touching the shop's core settings.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NudgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GODSEYE_NUDGE_", env_file=".env", extra="ignore")

    enabled: bool = Field(default=True, description="Shop-wide switch; shoppers can also opt out per session.")
    every_turns: int = Field(default=3, ge=1, description="At most one nudge per this many turns.")
    max_per_session: int = Field(default=5, ge=0, description="At most this many nudges in one session.")
    idle_turns: int = Field(default=4, ge=1, description="Turns without a cart add before a 'need a hand?' nudge.")
    return_after_s: float = Field(default=1800.0, gt=0, description="A pause this long makes the next turn a return.")
    low_stock: int = Field(default=3, ge=1, description="A viewed item with this many units or fewer is 'low stock'.")
    cheaper_ratio: float = Field(default=0.9, gt=0, le=1,
                                 description="A close match counts as cheaper at or below this share of the price.")
    trend_days: float = Field(default=7.0, gt=0, description="Window of the trends nudges draw on.")
    products: int = Field(default=3, ge=1, le=8, description="Products named in one nudge, at most.")
    click_window_turns: int = Field(default=10, ge=1,
                                    description="A nudged product asked about or added within this many turns "
                                    "counts as clicked / converted.")
