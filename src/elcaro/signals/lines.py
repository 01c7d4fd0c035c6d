"""Line-level helpers shared by the formats: one line of a kind, a price from a match, numbered targets."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from elcaro.models.errors import InvalidSignalError
from elcaro.signals.message import Message
from elcaro.signals.numbers import read_number
from elcaro.signals.timeframes import normalise_timeframe

TIMEFRAME_LINE = re.compile(r"^(?:TF|Time ?frame)\b ?:? ?(?P<tf>.+)$", re.IGNORECASE)


def matches(message: Message, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """``pattern`` matched at the start of every undecorated line, in order."""
    return [found for line in message.bare if (found := pattern.match(line))]


def single(message: Message, pattern: re.Pattern[str], what: str, field: str) -> re.Match[str] | None:
    """The one line of a kind; two different ones are a contradiction, not a choice to make."""
    found = matches(message, pattern)
    if len({m.group().casefold() for m in found}) > 1:
        shown = " / ".join(repr(m.group()) for m in found)
        raise InvalidSignalError(f"the post has more than one {what} line ({shown})", field=field)
    return found[0] if found else None


def required(found: re.Match[str] | None, what: str, field: str) -> re.Match[str]:
    if found is None:
        raise InvalidSignalError(f"the post has no {what} line", field=field)
    return found


def decimal(message: Message, found: re.Match[str], group: str, field: str) -> Decimal:
    return read_number(found[group], message.number_style, field=field)


def optional_decimal(message: Message, found: re.Match[str] | None, group: str, field: str) -> Decimal | None:
    if found is None or found[group] is None:
        return None
    return decimal(message, found, group, field)


def timeframe(message: Message) -> str | None:
    found = single(message, TIMEFRAME_LINE, "timeframe", "timeframe")
    return normalise_timeframe(found["tf"]) if found else None


def numbered(found: Iterable[re.Match[str]], message: Message, field: str) -> tuple[Decimal, ...]:
    """Prices of ``TP1:``/``Target 2:`` lines in their numbers' order, or as listed when unnumbered."""
    items = [(m["n"], decimal(message, m, "price", field)) for m in found]
    numbers = [int(n) for n, _ in items if n is not None]
    if len(numbers) != len(items):
        return tuple(price for _, price in items)
    if len(set(numbers)) != len(numbers):
        raise InvalidSignalError("two targets carry the same number", field=field)
    return tuple(price for _, price in sorted(zip(numbers, (p for _, p in items), strict=True)))
