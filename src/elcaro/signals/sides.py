"""Side words. ``long/short`` (a ratio), ``short-term`` and ``longs`` are not sides."""

from __future__ import annotations

import re

from elcaro.models import PositionSide

_WORDS = {
    "long": PositionSide.LONG,
    "buy": PositionSide.LONG,
    "up": PositionSide.LONG,
    "short": PositionSide.SHORT,
    "sell": PositionSide.SHORT,
    "down": PositionSide.SHORT,
}
POSITION_WORDS = re.compile(r"(?<![\w/-])(?:long|short)(?![\w/-])", re.IGNORECASE)
"""LONG and SHORT: unmistakable wherever they stand."""
ANY_SIDE_WORD = re.compile(r"(?<![\w/-])(?:long|short|buy|sell|up|down)(?![\w/-])", re.IGNORECASE)
"""Also BUY/SELL/UP/DOWN, which are sides only where a format puts a side."""


def side_of(word: str) -> PositionSide | None:
    return _WORDS.get(word.strip().casefold())


def sides_in(text: str, words: re.Pattern[str] = POSITION_WORDS) -> set[PositionSide]:
    return {_WORDS[m.group().casefold()] for m in words.finditer(text)}
