"""The fallback for screener posts: a side, a ``XXXUSDT`` pair and a price, with optional readings.

```
⚡ TF: 1h
LONG ENAUSDT
Price: 0.4521
OI Total: 51.2M (+312.4%, z=40.1)
Vol 8.4M → 21M
RSI: 78.4 | BB: 1.12
```
BUY/SELL/UP/DOWN are common words, so a side word counts only on the pair's line or alone on a
line. ``Price:``/``Px:``/``@`` quote where the screener fired (a market entry); ``Entry:`` is a
limit. A post without a side is a price alert: not a signal. A post that also gives targets or a
stop, but no entry line Cornix-style parsing understands, is refused: its levels would be lost.
"""

from __future__ import annotations

import re
from decimal import Decimal

from elcaro.models import Entry, EntryKind, Signal, SignalSource
from elcaro.models.errors import InvalidSignalError
from elcaro.signals.base import FormatParser
from elcaro.signals.formats import cornix_free
from elcaro.signals.formats.specific import SPECIFIC
from elcaro.signals.message import Message
from elcaro.signals.numbers import amount, number, plain, read_amount, read_number, signed
from elcaro.signals.sides import ANY_SIDE_WORD, sides_in
from elcaro.signals.symbols import pairs_in
from elcaro.signals.timeframes import normalise_timeframe

_SIDE_ALONE = re.compile(r"^(?:long|short|buy|sell|up|down)\W*$", re.IGNORECASE)
_RANGE = r"(?P<range> ?(?:-|to) ?[0-9])?"
_PRICE = re.compile(
    rf"^(?P<keyword>Price|Px|Last(?: price)?|Entry(?: price)?) ?[:=]? ?\$?{number('price')}{_RANGE}", re.IGNORECASE
)
_AT_PRICE = re.compile(rf"@ ?\$?{number('price')}{_RANGE}")
_LEVELS = re.compile(r"^(?:TP\d*|Take[ -]?Profit|Targets?|SL|Stop(?:[ -]?Loss)?)\b", re.IGNORECASE)
_TIMEFRAME = re.compile(r"(?<!\w)(?:TF|Time ?frame) ?:? ?(?P<tf>\d{1,5} ?[A-Za-z]{0,7}|[DWH])(?!\w)", re.IGNORECASE)
_OI_TOTAL = re.compile(
    rf"\bOI Total ?:? ?{amount('total')}(?: ?\( ?{signed('change')} ?%(?: ?, ?z ?= ?{signed('z')})? ?\))?",
    re.IGNORECASE,
)
_VOLUME = re.compile(rf"\bVol(?:ume)? ?:? ?{amount('before')} ?→ ?{amount('after')}", re.IGNORECASE)
_RSI = re.compile(rf"(?<!\w)RSI(?: ?\(\d+\))? ?[:=]? ?{number('rsi')}", re.IGNORECASE)
_BB = re.compile(rf"(?<!\w)BB(?: ?%B)? ?[:=]? ?{signed('bb')}", re.IGNORECASE)


class GenericParser(FormatParser):
    name = "generic"
    keywords = ("price", "px", "entry", "last", "@")

    def shape(self, message: Message) -> bool:
        return bool(_side_lines(message)) and _has_price(message)

    def read(self, message: Message, source: SignalSource, received_at: int) -> Signal:
        symbols = pairs_in(message.text)
        if len(symbols) != 1:
            raise InvalidSignalError("the post must name exactly one pair", field="symbol")
        sides = {side for line in _side_lines(message) for side in sides_in(line, ANY_SIDE_WORD)}
        if len(sides) != 1:
            raise InvalidSignalError("the post gives both a long and a short side word", field="side")
        if any(_LEVELS.match(line) for line in message.bare):
            raise InvalidSignalError("the post has targets or a stop but no entry line to go with them", field="entry")
        details: dict[str, str] = {}
        oi_change = _open_interest(message, details)
        _volume_and_bands(message, details)
        return Signal(
            source=source,
            strategy="generic",
            symbol=symbols[0],
            side=sides.pop(),
            entry=_entry(message),
            timeframe=_timeframe(message),
            rsi=_rsi(message),
            oi_change_pct=oi_change,
            details=details,
            raw_text=message.raw,
            received_at=received_at,
        )


def _side_lines(message: Message) -> list[str]:
    return [line for line in message.bare if _SIDE_ALONE.match(line) or (ANY_SIDE_WORD.search(line) and pairs_in(line))]


def _has_price(message: Message) -> bool:
    return any(_PRICE.match(line) or _AT_PRICE.search(line) for line in message.bare) and bool(pairs_in(message.text))


def _entry(message: Message) -> Entry:
    quotes: dict[str, EntryKind] = {}
    for line in message.bare:
        found = _PRICE.match(line)
        if found:
            limit = found["keyword"].casefold().startswith("entry")
            kind = EntryKind.LIMIT if limit else EntryKind.MARKET
        else:
            found = _AT_PRICE.search(line) if pairs_in(line) else None
            kind = EntryKind.MARKET
        if found and found["range"]:
            raise InvalidSignalError(f"{line!r} is a price range: a screener post quotes one price", field="entry")
        if found:
            quotes[found["price"]] = kind
    if len(quotes) != 1:
        raise InvalidSignalError(f"the post quotes {len(quotes)} different prices: {', '.join(quotes)}", field="entry")
    written, kind = next(iter(quotes.items()))
    return Entry(kind, (read_number(written, message.number_style, field="entry"),))


def _search(message: Message, pattern: re.Pattern[str]) -> re.Match[str] | None:
    return next((found for line in message.lines if (found := pattern.search(line))), None)


def _timeframe(message: Message) -> str | None:
    found = _search(message, _TIMEFRAME)
    return normalise_timeframe(found["tf"]) if found else None


def _rsi(message: Message) -> Decimal | None:
    found = _search(message, _RSI)
    return read_number(found["rsi"], message.number_style, field="rsi") if found else None


def _open_interest(message: Message, details: dict[str, str]) -> Decimal | None:
    """The OI change in percent; the total and its z-score go to ``details``."""
    found = _search(message, _OI_TOTAL)
    if found is None:
        return None
    style = message.number_style
    details["oi_total"] = plain(read_amount(found["total"], style, field="details"))
    if found["z"]:
        details["oi_z"] = plain(read_number(found["z"], style, field="details"))
    return read_number(found["change"], style, field="oi_change_pct") if found["change"] else None


def _volume_and_bands(message: Message, details: dict[str, str]) -> None:
    style = message.number_style
    volume = _search(message, _VOLUME)
    if volume:
        details["volume_before"] = plain(read_amount(volume["before"], style, field="details"))
        details["volume_after"] = plain(read_amount(volume["after"], style, field="details"))
    bands = _search(message, _BB)
    if bands:
        details["bb"] = plain(read_number(bands["bb"], style, field="details"))


PARSER = GenericParser(defers_to=(*SPECIFIC, cornix_free.PARSER))
parse = PARSER.parse
