"""Open-interest squeeze: header ``OI SIGNAL`` with stars, a pattern word, the trade line, readings.

```
🎯 OI SIGNAL ⭐️⭐️⭐️
🚀 SQUEEZE
📉 SHORT SUIUSDT @ 1.6230
📊 OI: +7.85% | Vol z=2.4 | CVD z=-1.9
🎯 Score: 3.6
```
Like the one-line formats, the price is where the strategy fired: a market entry quoting it.
"""

from __future__ import annotations

import re

from elcaro.models import Entry, EntryKind, Signal, SignalSource
from elcaro.models.errors import InvalidSignalError
from elcaro.signals.base import FormatParser
from elcaro.signals.lines import decimal, optional_decimal, single, timeframe
from elcaro.signals.message import Message
from elcaro.signals.numbers import NOT_A_RANGE, number, plain, read_number, signed
from elcaro.signals.sides import POSITION_WORDS, sides_in
from elcaro.signals.symbols import pairs_in

_HEADER = re.compile(r"^OI SIGNAL\b(?P<stars>.*)$", re.IGNORECASE)
_TRADE_PRICE = re.compile(rf"@ ?{number('price')}{NOT_A_RANGE}")
_OI_CHANGE = re.compile(rf"^OI ?:? ?{signed('oi')} ?%", re.IGNORECASE)
_READINGS = {
    "volume_z": re.compile(rf"\bVol(?:ume)? ?z ?= ?{signed('z')}", re.IGNORECASE),
    "cvd_z": re.compile(rf"\bCVD ?z ?= ?{signed('z')}", re.IGNORECASE),
}
_SCORE = re.compile(rf"^Score ?:? ?{number('score')}$", re.IGNORECASE)
_PATTERN = re.compile(r"^[A-Za-z]+(?: [A-Za-z]+){0,2}$")


class OiParser(FormatParser):
    name = "oi"
    keywords = ("oi signal",)

    def shape(self, message: Message) -> bool:
        return any(_HEADER.match(line) for line in message.bare)

    def read(self, message: Message, source: SignalSource, received_at: int) -> Signal:
        trades = [line for line in message.bare if "@" in line and sides_in(line) and pairs_in(line)]
        if len(trades) != 1:
            raise InvalidSignalError("the post needs one 'SIDE PAIR @ price' line", field="entry")
        trade = trades[0]
        sides, symbols = sides_in(trade), pairs_in(trade)
        price = _TRADE_PRICE.search(trade)
        if len(sides) > 1 or len(symbols) > 1 or price is None or trade.count("@") > 1:
            raise InvalidSignalError(f"cannot read side, pair and price from {trade!r}", field="entry")
        oi_line = single(message, _OI_CHANGE, "OI", "oi_change_pct")
        return Signal(
            source=source,
            strategy="oi",
            symbol=symbols[0],
            side=sides.pop(),
            entry=Entry(EntryKind.MARKET, (decimal(message, price, "price", "entry"),)),
            timeframe=timeframe(message),
            score=optional_decimal(message, single(message, _SCORE, "Score", "score"), "score", "score"),
            oi_change_pct=optional_decimal(message, oi_line, "oi", "oi_change_pct"),
            details=_details(message),
            raw_text=message.raw,
            received_at=received_at,
        )


def _details(message: Message) -> dict[str, str]:
    details: dict[str, str] = {}
    for line, bare in zip(message.lines, message.bare, strict=True):
        header = _HEADER.match(bare)
        if header:
            stars = line.count("⭐") + line.count("★")
            if stars:
                details["stars"] = str(stars)
        elif _PATTERN.match(bare) and not POSITION_WORDS.search(bare) and "pattern" not in details:
            details["pattern"] = bare.upper()
        for name, reading in _READINGS.items():
            found = reading.search(bare)
            if found:
                details[name] = plain(read_number(found["z"], message.number_style, field="details"))
    return details


PARSER = OiParser()
parse = PARSER.parse
