"""What both Cornix layouts share: price lists with shares, numbered item lines, leverage, side inference."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from elcaro.models import PositionSide
from elcaro.models.errors import InvalidSignalError
from elcaro.signals.message import Message
from elcaro.signals.numbers import NUM, number, read_number

_HUNDRED = Decimal(100)
_VALUE_TOKEN = re.compile(rf"\((?P<paren>[^()]*)\)|(?P<sign>[+-])?(?<![\w.,])(?P<num>{NUM})(?P<pct> ?%)?(?!\w)")
_PAREN_PERCENT = re.compile(rf" ?(?P<sign>[+-])?(?P<num>{NUM}) ?%(?: [^\d]*)?")
ITEM = re.compile(rf"^(?:\d{{1,2}} ?[).:] ?)?{number('price')}(?: ?(?:-|:|\()? ?{number('pct')} ?%\)?)?$")
"""One entry of a vertical list: ``1) 3385 - 50%``, ``2: 3410``, ``3190``."""
_LEVERAGE = re.compile(
    rf"^(?P<mode>cross|isolated)? ?\(? ?[xX]? ?(?P<lev>{NUM}) ?[xX]? ?\)?(?: ?(?P<mode_after>cross|isolated))?$",
    re.IGNORECASE,
)
_LEVERAGE_RANGE = re.compile(rf"{NUM} ?[xX]? ?(?:-|to) ?[xX]? ?{NUM}", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Priced:
    """A price with the percentage written next to it, if any; ``signed`` when written ``+3%``/``-3%``."""

    price: Decimal
    percent: Decimal | None = None
    signed: bool = False


def price_list(value: str, message: Message, field: str) -> list[Priced]:
    """The prices in a keyword line's value, each with a percentage that follows it.

    Separators (spaces, commas, dashes, arrows) only separate; a parenthesised note that is not
    a percentage (``(3.0×ATR)``, ``(on close)``) is skipped, so its digits never become prices.
    """
    found: list[Priced] = []
    for token in _VALUE_TOKEN.finditer(value):
        if token["paren"] is not None:
            percent = _PAREN_PERCENT.fullmatch(token["paren"])
            if percent is None:
                continue
            sign, digits, is_percent = percent["sign"], percent["num"], True
        else:
            sign, digits, is_percent = token["sign"], token["num"], bool(token["pct"])
        number_value = read_number(digits, message.number_style, field=field)
        if not is_percent:
            found.append(Priced(number_value))
            continue
        if not found or found[-1].percent is not None:
            raise InvalidSignalError(f"a percentage in {value!r} does not follow a price", field=field)
        found[-1] = Priced(found[-1].price, number_value, signed=bool(sign))
    return found


def items_after(message: Message, index: int) -> list[re.Match[str]]:
    """The vertical list under the line at ``index`` (bare lines), up to the first line that is not an item."""
    items = []
    for line in message.bare[index + 1 :]:
        item = ITEM.match(line)
        if item is None:
            break
        items.append(item)
    return items


def item_prices(message: Message, items: list[re.Match[str]], field: str) -> list[Priced]:
    return [
        Priced(
            read_number(item["price"], message.number_style, field=field),
            read_number(item["pct"], message.number_style, field=field) if item["pct"] else None,
        )
        for item in items
    ]


def shares(priced: list[Priced], what: str, field: str) -> tuple[Decimal, ...]:
    """Percentages as fractions: for every price or for none (a partial list has no one reading)."""
    given = [p.percent for p in priced if p.percent is not None]
    if not given:
        return ()
    if len(given) != len(priced):
        raise InvalidSignalError(f"give a percentage for every {what} or for none", field=field)
    return tuple(p / _HUNDRED for p in given)


def leverage(value: str, message: Message) -> tuple[Decimal, str | None]:
    """``10x``, ``5``, ``Isolated (20.0X)``, ``Cross 20x``: the leverage and the margin mode if named."""
    found = _LEVERAGE.match(value.strip())
    if found is None:
        if _LEVERAGE_RANGE.search(value):
            raise InvalidSignalError(f"leverage {value.strip()!r} is a range: the post must give one", field="leverage")
        raise InvalidSignalError(f"cannot read the leverage {value.strip()!r}", field="leverage")
    if found["mode"] and found["mode_after"]:
        raise InvalidSignalError(f"leverage {value.strip()!r} names two margin modes", field="leverage")
    mode = found["mode"] or found["mode_after"]
    return read_number(found["lev"], message.number_style, field="leverage"), mode.casefold() if mode else None


def infer_side(entries: tuple[Decimal, ...], targets: tuple[Decimal, ...], stop: Decimal | None) -> PositionSide:
    """Long or short from where the targets and the stop lie, when the post has no side word.

    Every price relation that is clear votes; the votes must agree and there must be one.
    """
    votes: dict[str, PositionSide] = {}
    low, high = (min(entries), max(entries)) if entries else (None, None)
    if targets and low is not None and high is not None:
        if all(t > high for t in targets):
            votes["the targets"] = PositionSide.LONG
        elif all(t < low for t in targets):
            votes["the targets"] = PositionSide.SHORT
    if stop is not None and low is not None and high is not None:
        if stop < low:
            votes["the stop"] = PositionSide.LONG
        elif stop > high:
            votes["the stop"] = PositionSide.SHORT
    if targets and stop is not None:
        if all(t > stop for t in targets):
            votes["targets against the stop"] = PositionSide.LONG
        elif all(t < stop for t in targets):
            votes["targets against the stop"] = PositionSide.SHORT
    sides = set(votes.values())
    if len(sides) > 1:
        said = "; ".join(f"{who}: {side}" for who, side in votes.items())
        raise InvalidSignalError(f"no side word, and the prices disagree ({said})", field="side")
    if not sides:
        raise InvalidSignalError("no side word (LONG/SHORT) and no prices to tell long from short", field="side")
    return sides.pop()
