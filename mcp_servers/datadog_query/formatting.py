"""Numbers, times and windows as the AI SRE states them.

The rule behind every helper here: a number in a tool's `summary` is the same rounded value that
sits in the tool's structured result (`num` rounds once, `show` prints that value), and a time or
duration in the summary is also stored as the same string (`clock`, `span`). So every figure an
operator reads can be traced to a field of a tool result, whichever model writes the answer.
"""

from __future__ import annotations

import math
import re
import time

import numpy as np

NICE_INTERVALS = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
_WORD_UNITS = [(r"weeks?|wks?", "w"), (r"days?", "d"), (r"hours?|hrs?", "h"), (r"minutes?|mins?", "m"),
               (r"seconds?|secs?", "s")]


def num(value: float | int | None) -> float | int | None:
    """Round for people: integers from 100 up, three significant digits below; None stays None."""
    if value is None:
        return None
    v = float(value)
    if not math.isfinite(v):
        return None
    if abs(v) < 1e-9:  # float noise around zero (a probability of 1e-15 is 0 to an operator)
        return 0
    if abs(v) >= 100:
        return int(round(v))
    r = float(f"{v:.3g}")
    return int(r) if r.is_integer() else r


def show(value: float | int | None, unit: str = "") -> str:
    """The text of a value already rounded by `num` (no exponent notation)."""
    if value is None:
        return "n/a"
    text = str(value) if isinstance(value, int) else np.format_float_positional(value, trim="-")
    if unit == "USD":
        return f"${text}"
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}" if unit else text


def clock(ts: float | None) -> str | None:
    """'14:05 UTC' for today, '2026-11-25 14:05 UTC' for other days."""
    if ts is None:
        return None
    moment = time.gmtime(ts)
    if time.strftime("%Y-%m-%d", moment) == time.strftime("%Y-%m-%d", time.gmtime()):
        return time.strftime("%H:%M UTC", moment)
    return time.strftime("%Y-%m-%d %H:%M UTC", moment)


def span(seconds: float | None) -> str | None:
    """A duration for people: '45s', '12m', '1h12m', '2d3h'."""
    if seconds is None:
        return None
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h{m:02d}m" if m else f"{h}h"
    d, h = divmod(s // 3600, 24)
    return f"{d}d{h}h" if h else f"{d}d"


def parse_window(text: str | float | int | None, default: str) -> float:
    """'15m', '2h', 'last_1h', 'past 30 minutes', '1 hour', 90 (seconds) -> seconds."""
    from forecasting import parse_duration  # lazy: the forecasting package pulls in numpy models

    if text is None or (isinstance(text, str) and not text.strip()):
        text = default
    if isinstance(text, int | float) and not isinstance(text, bool):
        return parse_duration(text)
    s = str(text).strip().lower()
    s = re.sub(r"^(?:the\s+)?(?:last|past|next|over)[\s_]*", "", s)
    for pattern, unit in _WORD_UNITS:
        s = re.sub(rf"(\d)\s*(?:{pattern})\b", rf"\1{unit}", s)
    if s in {"hour", "day", "week", "minute"}:
        s = "1" + s[0]
    try:
        return parse_duration(s)
    except ValueError:
        raise ValueError(f"{text!r} is not a time window; use e.g. 15m, 1h, 2h, 1d") from None


def nice_interval(window_s: float, buckets: int = 60) -> int:
    """A round bucket size giving about `buckets` points over the window."""
    target = window_s / buckets
    for step in NICE_INTERVALS:
        if step >= target:
            return step
    return NICE_INTERVALS[-1]
