"""Model price tables: what a token costs, per model tier, so spend is measured the same everywhere.

Defaults are list prices in USD per million tokens; GODSEYE_PRICES (JSON: {"model": [input, output]})
overrides or extends them. Unknown models cost 0 and say so once in the log rather than guess.
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache

log = logging.getLogger(__name__)

# USD per 1M tokens: (input, output).
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.0-flash": (0.10, 0.40),
    "godseye-local": (0.0, 0.0),
}


@lru_cache(maxsize=1)
def price_table() -> dict[str, tuple[float, float]]:
    table = dict(DEFAULT_PRICES)
    raw = os.environ.get("GODSEYE_PRICES")
    if raw:
        try:
            for model, (inp, out) in json.loads(raw).items():
                table[model] = (float(inp), float(out))
        except (ValueError, TypeError) as exc:
            log.error("GODSEYE_PRICES is not valid JSON {model: [input, output]}: %s", exc)
    return table


_warned: set[str] = set()


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float:
    table = price_table()
    key = model if model in table else next((m for m in sorted(table, key=len, reverse=True) if model.startswith(m)),
                                           None)
    if key is None:
        if model not in _warned:
            _warned.add(model)
            log.warning("no price for model %r: counted as 0 USD (set GODSEYE_PRICES)", model)
        return 0.0
    inp, out = table[key]
    return (input_tokens * inp + output_tokens * out) / 1_000_000
