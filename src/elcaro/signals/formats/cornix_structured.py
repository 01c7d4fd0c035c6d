"""Cornix's structured layout: sections of numbered targets with shares.

```
⚡⚡ #ETH/USDT ⚡⚡
Exchanges: Bybit USDT
Signal Type: Regular (Short)
Leverage: Isolated (20.0X)
Entry Targets:
1) 3385 - 50%
2) 3410 - 50%
Take-Profit Targets:
1) 3320 - 40%
2) 3275 - 35%
3) 3190 - 25%
Stop Targets:
1) 3468 - 100%
```
Here a percentage is always a share. One entry is a limit (a trigger for a ``Breakout`` signal),
several a ladder. A signal has one stop, so several stop targets, or one for part of the
position, are refused rather than reduced to one.
"""

from __future__ import annotations

import re
from decimal import Decimal

from elcaro.models import Entry, EntryKind, Signal, SignalSource, TakeProfit
from elcaro.models.errors import InvalidSignalError
from elcaro.signals.base import FormatParser
from elcaro.signals.formats import cornix_common as common
from elcaro.signals.lines import single
from elcaro.signals.message import Message
from elcaro.signals.sides import sides_in
from elcaro.signals.symbols import pairs_in

_SECTION = re.compile(
    r"^(?P<section>Entry|Take[ -]?Profit|Stop) (?:Targets?|Orders?) ?:? ?(?P<value>.*)$", re.IGNORECASE
)
_SIGNAL_TYPE = re.compile(r"^Signal Type ?:? ?(?P<value>.*)$", re.IGNORECASE)
_EXCHANGES = re.compile(r"^Exchanges? ?: ?(?P<value>.+)$", re.IGNORECASE)
_LEVERAGE = re.compile(r"^Leverage ?: ?(?P<value>.+)$", re.IGNORECASE)
_FULL = Decimal(100)


class CornixStructuredParser(FormatParser):
    name = "cornix_structured"
    keywords = ("entry target", "entry order")

    def shape(self, message: Message) -> bool:
        sections = {found["section"][0].casefold() for line in message.bare if (found := _SECTION.match(line))}
        return "e" in sections and len(sections) > 1

    def read(self, message: Message, source: SignalSource, received_at: int) -> Signal:
        symbols = pairs_in(message.text)
        if len(symbols) != 1:
            raise InvalidSignalError("the post must name exactly one pair", field="symbol")
        sections = _sections(message)
        signal_type = single(message, _SIGNAL_TYPE, "Signal Type", "side")
        type_text = signal_type["value"] if signal_type else ""
        kind = "breakout" if "breakout" in type_text.casefold() else "regular"
        entry = _entry(sections.get("e", []), breakout=kind == "breakout")
        targets = sections.get("t", [])
        stop = _stop(sections.get("s", []))
        sides = sides_in(type_text)
        if len(sides) > 1:
            raise InvalidSignalError(f"the signal type {type_text!r} says both long and short", field="side")
        side = sides.pop() if sides else common.infer_side(entry.prices, tuple(t.price for t in targets), stop)
        details = {"signal_type": kind}
        exchanges = single(message, _EXCHANGES, "Exchanges", "details")
        if exchanges:
            details["exchanges"] = exchanges["value"].strip()
        leverage_line = single(message, _LEVERAGE, "Leverage", "leverage")
        leverage = None
        if leverage_line:
            leverage, mode = common.leverage(leverage_line["value"], message)
            if mode:
                details["margin_mode"] = mode
        shares = common.shares(targets, "target", "take_profits")
        return Signal(
            source=source,
            strategy="cornix",
            symbol=symbols[0],
            side=side,
            entry=entry,
            take_profits=tuple(TakeProfit(t.price, shares[i] if shares else None) for i, t in enumerate(targets)),
            stop_loss=stop,
            leverage=leverage,
            details=details,
            raw_text=message.raw,
            received_at=received_at,
        )


def _sections(message: Message) -> dict[str, list[common.Priced]]:
    """Section letter (``e``ntry, ``t``ake-profit, ``s``top) to its prices, on its line or listed under it."""
    found: dict[str, list[common.Priced]] = {}
    for index, line in enumerate(message.bare):
        header = _SECTION.match(line)
        if header is None:
            continue
        key = header["section"][0].casefold()
        if key in found:
            raise InvalidSignalError(f"the post has two {header['section']} sections", field="entry")
        value = header["value"]
        if value.strip():
            found[key] = common.price_list(value, message, key)
        else:
            found[key] = common.item_prices(message, common.items_after(message, index), key)
    return found


def _entry(prices: list[common.Priced], *, breakout: bool) -> Entry:
    if not prices:
        raise InvalidSignalError("the Entry Targets section lists no price", field="entry")
    values = tuple(p.price for p in prices)
    if len(values) == 1:
        if prices[0].percent not in (None, _FULL):
            raise InvalidSignalError("a single entry target is for the whole position", field="entry")
        return Entry(EntryKind.TRIGGER if breakout else EntryKind.LIMIT, values)
    if breakout:
        raise InvalidSignalError(f"a breakout signal enters at one price, the post gives {len(values)}", field="entry")
    return Entry(EntryKind.LADDER, values, common.shares(prices, "entry", "entry"))


def _stop(prices: list[common.Priced]) -> Decimal | None:
    if not prices:
        return None
    if len(prices) > 1:
        raise InvalidSignalError(f"the post gives {len(prices)} stop targets; a signal has one stop", field="stop_loss")
    if prices[0].percent not in (None, _FULL):
        raise InvalidSignalError(f"a stop for {prices[0].percent}% of the position is not supported", field="stop_loss")
    return prices[0].price


PARSER = CornixStructuredParser()
parse = PARSER.parse
