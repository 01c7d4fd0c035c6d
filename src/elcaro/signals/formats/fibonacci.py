"""Fibonacci extension: an entry zone, a stop, numbered targets and a quality grade.

```
📊 FIBONACCI EXTENSION STRATEGY
🪙 AVAXUSDT | —
📈 LONG
⏱ TF: 60
🎯 Entry Zone: 27.10 – 27.85
🛑 Stop Loss: 25.90
✅ Target 1: 29.40
✅ Target 2: 31.05
⚡ Trigger: Price in 127.2%-141.4% zone
🟢 Quality: B (71/100)
```
A zone is a set of prices, so one written high–low is the same zone; a single price is a limit.
"""

from __future__ import annotations

import re

from elcaro.models import Entry, EntryKind, Signal, SignalSource, TakeProfit
from elcaro.models.errors import InvalidSignalError
from elcaro.signals.base import FormatParser
from elcaro.signals.lines import decimal, matches, numbered, optional_decimal, required, single, timeframe
from elcaro.signals.message import Message
from elcaro.signals.numbers import number
from elcaro.signals.sides import sides_in
from elcaro.signals.symbols import pairs_in

_HEADER = re.compile(r"^FIBONACCI\b", re.IGNORECASE)
_ENTRY = re.compile(rf"^Entry(?: ?Zone)? ?:? ?{number('low')}(?: ?(?:-|to) ?{number('high')})?$", re.IGNORECASE)
_STOP = re.compile(rf"^(?:Stop(?: ?Loss)?|SL) ?:? ?{number('price')}$", re.IGNORECASE)
_TARGET = re.compile(rf"^(?:Target|TP) ?(?P<n>\d{{1,2}})? ?:? ?{number('price')}$", re.IGNORECASE)
_TRIGGER = re.compile(r"^Trigger ?:? ?(?P<text>.+)$", re.IGNORECASE)
_QUALITY = re.compile(
    rf"^Quality ?:? ?(?P<grade>[A-F][+-]?)?(?: ?\( ?{number('score')} ?(?:/ ?100)? ?\))?$", re.IGNORECASE
)
_NOTE = re.compile(r"\| ?(?P<note>[^|]+)$")


class FibonacciParser(FormatParser):
    name = "fibonacci"
    keywords = ("fibonacci",)

    def shape(self, message: Message) -> bool:
        return any(_HEADER.match(line) for line in message.bare)

    def read(self, message: Message, source: SignalSource, received_at: int) -> Signal:
        symbol_lines = [line for line in message.lines if pairs_in(line)]
        symbols = {symbol for line in symbol_lines for symbol in pairs_in(line)}
        if len(symbols) != 1:
            raise InvalidSignalError("the post must name exactly one pair", field="symbol")
        sides = sides_in(message.text)
        if len(sides) != 1:
            raise InvalidSignalError("the post must say LONG or SHORT, once", field="side")
        zone = required(single(message, _ENTRY, "Entry Zone", "entry"), "Entry Zone", "entry")
        targets = matches(message, _TARGET)
        if not targets:
            raise InvalidSignalError("the post has no Target line", field="take_profits")
        stop = required(single(message, _STOP, "Stop Loss", "stop_loss"), "Stop Loss", "stop_loss")
        quality = single(message, _QUALITY, "Quality", "quality")
        quality_score = optional_decimal(message, quality, "score", "quality")
        if quality_score is not None and quality_score > 100:
            raise InvalidSignalError(f"quality {quality_score}/100 is above 100", field="quality")
        details: dict[str, str] = {}
        trigger = single(message, _TRIGGER, "Trigger", "details")
        if trigger:
            details["trigger"] = trigger["text"].strip()
        note = _NOTE.search(symbol_lines[0])
        if note and note["note"].strip(" -"):
            details["note"] = note["note"].strip()
        return Signal(
            source=source,
            strategy="fibonacci",
            symbol=symbols.pop(),
            side=sides.pop(),
            entry=_entry(message, zone),
            take_profits=tuple(TakeProfit(p) for p in numbered(targets, message, "take_profits")),
            stop_loss=decimal(message, stop, "price", "stop_loss"),
            timeframe=timeframe(message),
            quality=quality["grade"].upper() if quality and quality["grade"] else None,
            quality_score=quality_score,
            details=details,
            raw_text=message.raw,
            received_at=received_at,
        )


def _entry(message: Message, zone: re.Match[str]) -> Entry:
    low = decimal(message, zone, "low", "entry")
    if zone["high"] is None:
        return Entry(EntryKind.LIMIT, (low,))
    high = decimal(message, zone, "high", "entry")
    return Entry(EntryKind.ZONE, (min(low, high), max(low, high)))


PARSER = FibonacciParser()
parse = PARSER.parse
