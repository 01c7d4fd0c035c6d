"""Cornix-compatible free text: a pair and keyword lines, in any order.

```
SOL/USDT
Buy zone 141.5-144
Take Profit 148 152.5 158
Stop 137.2
Leverage 5x
```
Readings, following Cornix:
- ``Buy``/``Entry`` with several prices (``100-200``, ``100 110 120``) is a ladder of limit
  entries; with ``zone``/``range``/``area`` two prices are a zone; ``Enter above``/``below`` is a
  breakout trigger; ``market``/``CMP``/``now`` with no price is a market entry.
- Targets come from ``Take Profit``/``Target``/``TP``/``Sell`` lines, on the line or as a
  numbered list under it. A percentage after a price is its share of the position, unless it is
  signed (``+3.5%``) or equals the price's distance from the entry: then it is that distance.
- Without LONG/SHORT the side follows from the prices (targets above the entry: long); an
  entry written ``Buy`` that the prices make a short is refused, not guessed.

It recognises a message with one pair, an entry line and a target or stop line, and leaves every
message a self-announcing format recognises to that format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from elcaro.models import Entry, EntryKind, PositionSide, Signal, SignalSource, TakeProfit
from elcaro.models.errors import InvalidSignalError
from elcaro.signals.base import FormatParser
from elcaro.signals.formats import cornix_common as common
from elcaro.signals.formats.specific import SPECIFIC
from elcaro.signals.lines import timeframe
from elcaro.signals.message import Message
from elcaro.signals.sides import POSITION_WORDS, side_of, sides_in
from elcaro.signals.symbols import pairs_in

_INDEX = r"(?: ?#?\d{1,2}(?=[:)]|\. ))?"
"""A list number (``Target 2:``, ``Entry 1)``), skipped: lines count in the order they are written."""
_TAIL = r" ?[:=)-]? ?(?P<value>.*)$"
_ENTRY = re.compile(
    rf"^(?P<keyword>buy|entry|entries|enter)\b(?: (?:price|points?|orders?|targets?))?"
    rf"(?: ?(?P<mode>zone|range|area|above|below)\b)?{_INDEX}{_TAIL}",
    re.IGNORECASE,
)
_TARGETS = re.compile(
    rf"^(?:(?:take[ -]?profits?|profit targets?|targets?|tps?|sell)\b(?: targets?)?{_INDEX}|tp\d{{1,2}}(?!\d)){_TAIL}",
    re.IGNORECASE,
)
_STOP = re.compile(rf"^(?:stop[ -]?loss|stoploss|stop|sl)\b{_INDEX}{_TAIL}", re.IGNORECASE)
_LEVERAGE = re.compile(r"^(?:leverage|lev)\b ?[:=-]? ?(?P<value>.+)$", re.IGNORECASE)
_DIRECTION = re.compile(r"^(?:buy|sell)\W*$", re.IGNORECASE)
_MARKET = re.compile(r"\b(?:market|cmp|now|current price)\b", re.IGNORECASE)
_NUMBER_CHAR = re.compile(r"\d")
_KEYWORD_LINES = (_ENTRY, _TARGETS, _STOP)


@dataclass(frozen=True, slots=True)
class _Line:
    kind: str
    match: re.Match[str]
    prices: list[common.Priced]


class CornixFreeParser(FormatParser):
    name = "cornix_free"
    keywords = ("buy", "entry", "entries", "enter")

    def shape(self, message: Message) -> bool:
        """A pair, an entry line with a price or "market", and a target or stop line with a price."""
        has_entry = has_exit = False
        for index, line in enumerate(message.bare):
            entry = _ENTRY.match(line)
            if entry:
                has_entry = has_entry or bool(_MARKET.search(entry["value"])) or _has_prices(message, index, entry)
                continue
            exit_line = _TARGETS.match(line) or _STOP.match(line)
            has_exit = has_exit or (exit_line is not None and _has_prices(message, index, exit_line))
        return has_entry and has_exit and bool(pairs_in(message.text))

    def read(self, message: Message, source: SignalSource, received_at: int) -> Signal:
        symbols = pairs_in(message.text)
        if len(symbols) > 1:
            raise InvalidSignalError(f"the post names {len(symbols)} pairs: {', '.join(symbols)}", field="symbol")
        lines = _keyword_lines(message)
        entry_lines = [line for line in lines if line.kind == "entry"]
        targets = [p for line in lines if line.kind == "targets" for p in line.prices]
        entry = _entry(entry_lines)
        stop = _stop([line for line in lines if line.kind == "stop"])
        side = _side(message, entry, tuple(t.price for t in targets), stop)
        if side is PositionSide.SHORT and any(line.match["keyword"].casefold() == "buy" for line in entry_lines):
            raise InvalidSignalError("the entry says Buy but the post is a short", field="side")
        leverage, details = _leverage(message)
        return Signal(
            source=source,
            strategy="cornix",
            symbol=symbols[0],
            side=side,
            entry=entry,
            take_profits=_take_profits(targets, entry),
            stop_loss=stop,
            leverage=leverage,
            timeframe=timeframe(message),
            details=details,
            raw_text=message.raw,
            received_at=received_at,
        )


def _has_prices(message: Message, index: int, line: re.Match[str]) -> bool:
    if _NUMBER_CHAR.search(line["value"]):
        return True
    following = message.bare[index + 1 : index + 2]
    return bool(following) and common.ITEM.match(following[0]) is not None


def _keyword_lines(message: Message) -> list[_Line]:
    found = []
    for index, line in enumerate(message.bare):
        for kind, pattern in zip(("entry", "targets", "stop"), _KEYWORD_LINES, strict=True):
            match = pattern.match(line)
            if match is None:
                continue
            value = match["value"]
            if _NUMBER_CHAR.search(value):
                prices = common.price_list(value, message, kind)
            else:
                prices = common.item_prices(message, common.items_after(message, index), kind)
            if prices or (kind == "entry" and _MARKET.search(value)):
                found.append(_Line(kind, match, prices))
            break
    return found


def _entry(lines: list[_Line]) -> Entry:
    if not lines:
        raise InvalidSignalError("the post has no entry line with a price or 'market'", field="entry")
    modes = {(line.match["mode"] or "").casefold() for line in lines}
    if len(modes) > 1:
        raise InvalidSignalError("the entry lines mix a zone, a trigger and plain prices", field="entry")
    mode = modes.pop()
    prices = [p for line in lines for p in line.prices]
    values = tuple(p.price for p in prices)
    if not values or (len(lines) == 1 and _MARKET.search(lines[0].match["value"])):
        if len(values) > 1:
            raise InvalidSignalError("a market entry quotes at most one price", field="entry")
        return Entry(EntryKind.MARKET, values)
    if mode in {"above", "below"}:
        if len(values) != 1:
            raise InvalidSignalError(f"'enter {mode}' takes one price, the post gives {len(values)}", field="entry")
        return Entry(EntryKind.TRIGGER, values)
    if len(values) == 1:
        return Entry(EntryKind.LIMIT, values)
    if mode:
        if len(values) != 2:
            raise InvalidSignalError(f"an entry {mode} takes two prices, the post gives {len(values)}", field="entry")
        return Entry(EntryKind.ZONE, (min(values), max(values)))
    return Entry(EntryKind.LADDER, values, common.shares(prices, "entry", "entry"))


def _stop(lines: list[_Line]) -> Decimal | None:
    prices = {p.price for line in lines for p in line.prices}
    if len(prices) > 1:
        raise InvalidSignalError(f"the post gives {len(prices)} stops; a signal has one", field="stop_loss")
    return prices.pop() if prices else None


def _side(message: Message, entry: Entry, targets: tuple[Decimal, ...], stop: Decimal | None) -> PositionSide:
    """The side word the post gives (LONG/SHORT anywhere, BUY/SELL alone on a line), else the prices'."""
    words = sides_in(message.text, POSITION_WORDS)
    words |= {side for line in message.bare if _DIRECTION.match(line) and (side := side_of(line.strip(" !.")))}
    if len(words) > 1:
        raise InvalidSignalError("the post says both long and short", field="side")
    if words:
        return words.pop()
    return common.infer_side(entry.prices, targets, stop)


def _take_profits(targets: list[common.Priced], entry: Entry) -> tuple[TakeProfit, ...]:
    distances = [_is_distance(t, entry.reference_price) for t in targets if t.percent is not None]
    if any(distances):
        if not all(distances):
            raise InvalidSignalError("the target percentages mix shares and distances", field="take_profits")
        targets = [common.Priced(t.price) for t in targets]
    given = common.shares(targets, "target", "take_profits")
    return tuple(TakeProfit(t.price, given[i] if given else None) for i, t in enumerate(targets))


def _is_distance(target: common.Priced, reference: Decimal | None) -> bool:
    """``+5%`` is a distance; so is an unsigned percentage equal to the target's distance from the entry."""
    if target.percent is None:
        return False
    if target.signed:
        return True
    if reference is None:
        return False
    distance = abs(target.price - reference) / reference * 100
    return abs(distance - target.percent) <= max(Decimal("0.05"), target.percent / 100)


def _leverage(message: Message) -> tuple[Decimal | None, dict[str, str]]:
    lines = [found for line in message.bare if (found := _LEVERAGE.match(line))]
    if not lines:
        return None, {}
    if len({line["value"].casefold().strip() for line in lines}) > 1:
        raise InvalidSignalError("the post gives leverage more than once", field="leverage")
    value, mode = common.leverage(lines[0]["value"], message)
    return value, {"margin_mode": mode} if mode else {}


PARSER = CornixFreeParser(defers_to=SPECIFIC)
parse = PARSER.parse
