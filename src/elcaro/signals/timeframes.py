"""Timeframes as posts write them (``15m``, ``4H``, ``60``, ``1D``, ``2 hours``), in one form.

The result is the largest whole unit: ``60`` and ``60m`` are ``1h``, ``1440`` is ``1d``, ``90``
stays ``90m``. A bare number is minutes, as TradingView writes intervals; a bare ``D`` or ``W`` is
one day or week, also as TradingView writes them. An upper-case ``M`` is minutes (``15M``), except
``1M``, which TradingView and ccxt read as a month: that one is refused.
"""

from __future__ import annotations

import re

from elcaro.models.errors import InvalidSignalError

_UNITS = {
    **dict.fromkeys(("", "m", "min", "mins", "minute", "minutes"), 1),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 60),
    **dict.fromkeys(("d", "day", "days"), 1440),
    **dict.fromkeys(("w", "wk", "week", "weeks"), 10080),
}
_TIMEFRAME = re.compile(r"(?P<count>\d{1,5})? ?(?P<unit>[A-Za-z]{0,7})")
_LONGEST_MINUTES = 4 * 10080


def normalise_timeframe(text: str) -> str:
    written = text.strip()
    match = _TIMEFRAME.fullmatch(written)
    unit = match["unit"].casefold() if match else ""
    if match is None or unit not in _UNITS or not (match["count"] or unit in {"h", "d", "w"}):
        raise InvalidSignalError(f"unreadable timeframe {written!r}", field="timeframe")
    if match["count"] == "1" and match["unit"] == "M":
        raise InvalidSignalError("timeframe '1M' could be a minute or a month: write 1m", field="timeframe")
    minutes = int(match["count"] or 1) * _UNITS[unit]
    if not 0 < minutes <= _LONGEST_MINUTES:
        raise InvalidSignalError(f"timeframe {written!r} is outside 1m–4w", field="timeframe")
    for name, size in (("w", 10080), ("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{name}"
    return f"{minutes}m"
