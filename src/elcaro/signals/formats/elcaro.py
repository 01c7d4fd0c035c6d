"""The platform's own format: header ``Elcaro``, leverage, stop and target with their distances, ATR exit.

```
Elcaro
🔔 LINKUSDT 📈 LONG 🟢🟢⚪
⏱️ 4h | 🎚 12
💰 Entry: 14.2300
🛑 SL: 13.4100 (5.76%)
🎯 TP: 16.6900 (17.29%)
📊 RR: 3.0:1 | ATR Exit: ✅
📉 ATR: 14 | ×1.5 | Trigger: 6%
```
The percentages repeat the prices as distances from the entry, so they are checked against them:
a mistyped digit in a price shows up as a distance that does not match, and the post is refused.
"""

from __future__ import annotations

import re
from decimal import Decimal

from elcaro.models import AtrExit, Entry, EntryKind, Signal, SignalSource, TakeProfit
from elcaro.models.errors import InvalidSignalError
from elcaro.signals.base import FormatParser
from elcaro.signals.lines import decimal, matches, numbered, optional_decimal, required, single, timeframe
from elcaro.signals.message import Message
from elcaro.signals.numbers import NUM, number, plain, read_number, signed
from elcaro.signals.sides import sides_in
from elcaro.signals.symbols import pairs_in
from elcaro.signals.timeframes import normalise_timeframe

_HEADER = re.compile(r"^El ?Caro(?: signals?)?$", re.IGNORECASE)
_DISTANCE = rf"(?: ?\( ?{signed('pct')} ?% ?\))?"
_ENTRY = re.compile(rf"^Entry ?:? ?{number('price')}$", re.IGNORECASE)
_STOP = re.compile(rf"^(?:SL|Stop(?: ?Loss)?) ?:? ?{number('price')}{_DISTANCE}$", re.IGNORECASE)
_TARGET = re.compile(rf"^TP ?(?P<n>\d)? ?:? ?{number('price')}{_DISTANCE}$", re.IGNORECASE)
_CLOCK_TIMEFRAME = re.compile(r"⏱ ?(?:TF ?:? ?)?(?P<tf>\d{1,5} ?[A-Za-z]{0,7})(?![\w])")
_LEVERAGE = re.compile(rf"(?:🎚|\bLev(?:erage)?\b) ?:? ?[xX]?(?P<lev>{NUM})(?: ?[xX])?(?!\w)", re.IGNORECASE)
_RISK_REWARD = re.compile(rf"\bRR ?:? ?{number('rr')}(?: ?: ?1)?", re.IGNORECASE)
_ATR_SWITCH = re.compile(r"\bATR ?Exit ?:? ?(?P<flag>✅|✔|☑|❌|✖|🚫|on|off|yes|no)(?!\w)", re.IGNORECASE)
_ATR_SETTINGS = re.compile(
    rf"^ATR ?:? ?(?P<period>\d{{1,3}})(?: ?[|,] ?| )[×xX] ?{number('mult')}"
    rf"(?:(?: ?[|,] ?| )Trigger ?:? ?{number('trigger')} ?%)?$",
    re.IGNORECASE,
)
_ON = {"✅", "✔", "☑", "on", "yes"}
_STRENGTH_DOTS = re.compile(r"[🟢🟡🟠🔴⚪⚫]")

_ABSOLUTE_TOLERANCE = Decimal("0.05")
"""Percentage points: the post rounds distances to two decimals, so 0.005 is rounding; 0.05 allows
for an entry that is itself rounded. A wrong digit moves the distance far more than that."""


class ElcaroParser(FormatParser):
    name = "elcaro"
    keywords = ("elcaro", "el caro")

    def shape(self, message: Message) -> bool:
        return any(_HEADER.match(line) for line in message.bare)

    def read(self, message: Message, source: SignalSource, received_at: int) -> Signal:
        heads = [line for line in message.lines if sides_in(line) and pairs_in(line)]
        if not heads:
            raise InvalidSignalError("the post has no line with the pair and LONG or SHORT", field="symbol")
        if len(heads) > 1:
            raise InvalidSignalError("the post has more than one line with a pair and a side", field="symbol")
        sides, symbols = sides_in(heads[0]), pairs_in(heads[0])
        if len(sides) > 1 or len(symbols) > 1:
            raise InvalidSignalError(f"cannot tell the side and pair from {heads[0]!r}", field="side")
        entry_line = required(single(message, _ENTRY, "Entry", "entry"), "Entry", "entry")
        entry = decimal(message, entry_line, "price", "entry")
        stop = required(single(message, _STOP, "SL", "stop_loss"), "SL", "stop_loss")
        targets = matches(message, _TARGET)
        if not targets:
            raise InvalidSignalError("the post has no TP line", field="take_profits")
        details = _details(message, heads[0])
        stop_price = decimal(message, stop, "price", "stop_loss")
        _check_distance(message, stop, entry, stop_price, "stop", details)
        for index, target in enumerate(targets, 1):
            price = decimal(message, target, "price", "take_profits")
            _check_distance(message, target, entry, price, f"tp{target['n'] or index}", details)
        return Signal(
            source=source,
            strategy="elcaro",
            symbol=symbols[0],
            side=sides.pop(),
            entry=Entry(EntryKind.LIMIT, (entry,)),
            take_profits=tuple(TakeProfit(p) for p in numbered(targets, message, "take_profits")),
            stop_loss=stop_price,
            leverage=_search_decimal(message, _LEVERAGE, "lev", "leverage"),
            timeframe=_timeframe(message),
            atr_exit=_atr_exit(message, details),
            details=details,
            raw_text=message.raw,
            received_at=received_at,
        )


def _search(message: Message, pattern: re.Pattern[str], what: str) -> re.Match[str] | None:
    found = [m for line in message.lines if (m := pattern.search(line))]
    if len({m.group().casefold() for m in found}) > 1:
        raise InvalidSignalError(f"the post gives {what} more than once", field=what)
    return found[0] if found else None


def _search_decimal(message: Message, pattern: re.Pattern[str], group: str, what: str) -> Decimal | None:
    return optional_decimal(message, _search(message, pattern, what), group, what)


def _timeframe(message: Message) -> str | None:
    clock = _search(message, _CLOCK_TIMEFRAME, "timeframe")
    return normalise_timeframe(clock["tf"]) if clock else timeframe(message)


def _details(message: Message, head: str) -> dict[str, str]:
    details: dict[str, str] = {}
    dots = _STRENGTH_DOTS.findall(head)
    if dots:
        details["strength"] = f"{dots.count('🟢')}/{len(dots)}"
    risk_reward = _search_decimal(message, _RISK_REWARD, "rr", "risk/reward")
    if risk_reward is not None:
        details["risk_reward"] = plain(risk_reward)
    return details


def _check_distance(
    message: Message, found: re.Match[str], entry: Decimal, price: Decimal, what: str, details: dict[str, str]
) -> None:
    """``what`` names the level in the reason and in ``details`` (``stop``, ``tp1``)."""
    if found["pct"] is None:
        return
    stated = abs(read_number(found["pct"], message.number_style, field="details"))
    actual = abs(price - entry) / entry * 100
    if abs(actual - stated) > max(_ABSOLUTE_TOLERANCE, stated / 100):
        raise InvalidSignalError(
            f"the {what} {price} is {actual:.2f}% from the entry {entry}, but the post says {plain(stated)}%",
            field="stop_loss" if what == "stop" else "take_profits",
        )
    details[f"{what}_pct"] = plain(stated)


def _atr_exit(message: Message, details: dict[str, str]) -> AtrExit | None:
    switch = _search(message, _ATR_SWITCH, "ATR Exit")
    settings = single(message, _ATR_SETTINGS, "ATR settings", "atr_exit")
    if switch and switch["flag"].casefold() not in _ON:
        details["atr_exit"] = "off"
        return None
    if settings is None:
        if switch:
            raise InvalidSignalError("ATR Exit is on but no 'ATR: 14 | ×1.5' line gives it", field="atr_exit")
        return None
    period = int(settings["period"])
    if period < 1:
        raise InvalidSignalError("the ATR period must be at least 1", field="atr_exit")
    return AtrExit(
        period=period,
        multiplier=decimal(message, settings, "mult", "atr_exit"),
        trigger_pct=optional_decimal(message, settings, "trigger", "atr_exit"),
    )


PARSER = ElcaroParser()
parse = PARSER.parse
