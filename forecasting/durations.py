"""Human durations ("90m", "2h", "7200s", "1h30m") to seconds and back.

Why our own tiny parser: the CLI, the failure rules and the metric tag `horizon` all speak in these
strings, and they must round-trip exactly (`format_duration(parse_duration("2h")) == "2h"`) so the
gauge's `horizon` tag stays one stable value for monitors to group by.
"""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_duration(text: str | float | int) -> float:
    """Seconds in `text`: "90m", "2h", "7200s", "1h30m", "1.5h", or a bare number of seconds.

    Raises ValueError with the offending text so callers can show it to the user as is.
    """
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        s = str(text).strip().lower()
        if not s:
            raise ValueError("empty duration")
        try:
            seconds = float(s)
        except ValueError:
            pos, seconds = 0, 0.0
            for match in _PART.finditer(s):
                if match.start() != pos or s[pos:match.start()].strip():
                    break
                seconds += float(match.group(1)) * _UNITS[match.group(2)]
                pos = match.end()
                while pos < len(s) and s[pos] == " ":
                    pos += 1
            if pos != len(s) or pos == 0:
                raise ValueError(
                    f"not a duration: {text!r} (use a number with a unit: 90m, 2h, 7200s, 1h30m)"
                ) from None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError(f"duration must be positive and finite: {text!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """Shortest exact spelling: 7200 -> "2h", 5400 -> "90m", 45 -> "45s"."""
    s = float(seconds)
    for unit in ("w", "d", "h", "m"):
        size = _UNITS[unit]
        if s >= size and s % size == 0:
            return f"{int(s // size)}{unit}"
    return f"{int(s)}s" if s == int(s) else f"{s:g}s"
