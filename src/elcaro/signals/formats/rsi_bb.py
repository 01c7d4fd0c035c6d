"""The RSI/Bollinger channel: a colour dot, side and pair, then score, indicators, levels in ATRs.

```
🔴 SHORT OPUSDT
📊 Score: 63% ⭐ B
📈 (BB:22 RSI:81 Vol:3 OI:1)
⏱ TF: 15m
💲 Entry: 2.4410
🎯 TP1: 2.3120 (3.0×ATR)
🎯 TP2: 2.2480 (4.5×ATR)
🛑 SL: 2.5270 (2.0×ATR)
📏 ATR: 0.0430
📊 RSI(14): 81.2
```
The dot is red for shorts and green for longs; a dot that disagrees with the side word is a
broken post, not a choice between the two. The score is the score, the letter after it the grade.
"""

from __future__ import annotations

import re
from decimal import Decimal

from elcaro.models import Entry, EntryKind, PositionSide, Signal, SignalSource, TakeProfit
from elcaro.models.errors import InvalidSignalError
from elcaro.signals.base import FormatParser
from elcaro.signals.lines import (
    decimal,
    matches,
    numbered,
    optional_decimal,
    required,
    single,
    timeframe,
)
from elcaro.signals.message import Message
from elcaro.signals.numbers import NUM, number, plain, read_number
from elcaro.signals.sides import sides_in
from elcaro.signals.symbols import pairs_in

_DOTS = {"🔴": PositionSide.SHORT, "🟥": PositionSide.SHORT, "🟢": PositionSide.LONG, "🟩": PositionSide.LONG}
_HEAD = re.compile(r"^[^\w#(]*?(?P<dot>[🔴🟥🟢🟩]) ?(?P<rest>.+)$")
_ATR_NOTE = rf"(?: ?\((?P<atr>{NUM}) ?[×xX] ?ATR\))?"
_SCORE = re.compile(rf"^Score ?:? ?{number('score')} ?%?[ ⭐★]*(?P<grade>[A-F][+-]?)?$", re.IGNORECASE)
_INDICATORS = re.compile(r"^\((?P<readings>[^()]*\bBB ?:[^()]*)\)$", re.IGNORECASE)
_INDICATOR_RSI = re.compile(rf"\bRSI ?: ?{number('rsi')}", re.IGNORECASE)
_ENTRY = re.compile(rf"^Entry ?:? ?{number('price')}$", re.IGNORECASE)
_TARGET = re.compile(rf"^TP ?(?P<n>\d)? ?:? ?{number('price')}{_ATR_NOTE}$", re.IGNORECASE)
_STOP = re.compile(rf"^(?:SL|Stop(?: ?Loss)?) ?:? ?{number('price')}{_ATR_NOTE}$", re.IGNORECASE)
_ATR = re.compile(rf"^ATR(?: ?\(\d+\))? ?:? ?{number('atr')}$", re.IGNORECASE)
_RSI = re.compile(rf"^RSI(?: ?\((?P<period>\d+)\))? ?:? ?{number('rsi')}$", re.IGNORECASE)


def _heads(message: Message) -> list[re.Match[str]]:
    return [
        found
        for line in message.lines
        if (found := _HEAD.match(line)) and sides_in(found["rest"]) and pairs_in(found["rest"])
    ]


class RsiBbParser(FormatParser):
    name = "rsi_bb"
    keywords = ("score", "bb")

    def shape(self, message: Message) -> bool:
        return bool(_heads(message)) and any(_SCORE.match(line) or _INDICATORS.match(line) for line in message.bare)

    def read(self, message: Message, source: SignalSource, received_at: int) -> Signal:
        heads = _heads(message)
        if len(heads) > 1:
            raise InvalidSignalError("the post has more than one side-and-pair line", field="symbol")
        head = heads[0]
        sides, symbols = sides_in(head["rest"]), pairs_in(head["rest"])
        if len(sides) > 1 or len(symbols) > 1:
            raise InvalidSignalError(f"cannot tell the side and pair from {head.group()!r}", field="side")
        side = sides.pop()
        if _DOTS[head["dot"]] is not side:
            raise InvalidSignalError(f"the {head['dot']} dot says {_DOTS[head['dot']]} but the post says {side}")
        details: dict[str, str] = {}
        score = single(message, _SCORE, "score", "score")
        indicators = single(message, _INDICATORS, "indicator", "details")
        if indicators:
            details["indicators"] = indicators["readings"].strip()
        stop = required(single(message, _STOP, "SL", "stop_loss"), "SL", "stop_loss")
        targets = matches(message, _TARGET)
        if not targets:
            raise InvalidSignalError("the post has no TP line", field="take_profits")
        for index, target in enumerate(targets, 1):
            if target["atr"]:
                details[f"tp{target['n'] or index}_atr_multiple"] = target["atr"]
        if stop["atr"]:
            details["sl_atr_multiple"] = stop["atr"]
        entry = required(single(message, _ENTRY, "Entry", "entry"), "Entry", "entry")
        atr = single(message, _ATR, "ATR", "details")
        if atr:
            details["atr"] = plain(decimal(message, atr, "atr", "details"))
        return Signal(
            source=source,
            strategy="rsi_bb",
            symbol=symbols[0],
            side=side,
            entry=Entry(EntryKind.LIMIT, (decimal(message, entry, "price", "entry"),)),
            take_profits=tuple(TakeProfit(p) for p in numbered(targets, message, "take_profits")),
            stop_loss=decimal(message, stop, "price", "stop_loss"),
            timeframe=timeframe(message),
            score=optional_decimal(message, score, "score", "score"),
            quality=score["grade"].upper() if score and score["grade"] else None,
            rsi=_rsi(message, indicators),
            details=details,
            raw_text=message.raw,
            received_at=received_at,
        )


def _rsi(message: Message, indicators: re.Match[str] | None) -> Decimal | None:
    """The precise ``RSI(14): 81.2`` line, else the rounded reading on the indicator line."""
    line = single(message, _RSI, "RSI", "rsi")
    if line:
        return decimal(message, line, "rsi", "rsi")
    reading = _INDICATOR_RSI.search(indicators["readings"]) if indicators else None
    return read_number(reading["rsi"], message.number_style, field="rsi") if reading else None


PARSER = RsiBbParser()
parse = PARSER.parse
