"""The one-line shape the scryptomera and scalper channels share: ``<HEADER> <SIDE> <SYMBOL> @ <price>``.

The price is what the strategy saw when it fired, so the entry is a market entry quoting it.
Side and symbol may come in either order and the ``@`` may be missing; anything else on the line
is ignored, except a second number where the price should be, which is refused.
"""

from __future__ import annotations

import re
from typing import ClassVar

from elcaro.models import Entry, EntryKind, Signal, SignalSource
from elcaro.models.errors import InvalidSignalError
from elcaro.signals.base import FormatParser
from elcaro.signals.message import Message
from elcaro.signals.numbers import NOT_A_RANGE, number, read_number
from elcaro.signals.sides import sides_in
from elcaro.signals.symbols import PAIR_RE, pairs_in

_NUMBER = re.compile(number("n"))
_AT_PRICE = re.compile(rf"@ ?{number('n')}{NOT_A_RANGE}")


class OneLineParser(FormatParser):
    header: ClassVar[re.Pattern[str]]
    """Matches the header word at the start of an undecorated line; group ``rest`` is the remainder."""
    strategy: ClassVar[str]

    def _signal_lines(self, message: Message) -> list[str]:
        return [
            found["rest"]
            for line in message.bare
            if (found := self.header.match(line)) and sides_in(found["rest"]) and pairs_in(found["rest"])
        ]

    def shape(self, message: Message) -> bool:
        return bool(self._signal_lines(message))

    def read(self, message: Message, source: SignalSource, received_at: int) -> Signal:
        lines = self._signal_lines(message)
        if len({line.casefold() for line in lines}) > 1:
            raise InvalidSignalError(f"the post holds {len(lines)} signals: post one per message", field="symbol")
        rest = lines[0]
        sides, symbols = sides_in(rest), pairs_in(rest)
        if len(sides) > 1:
            raise InvalidSignalError("the line says both LONG and SHORT", field="side")
        if len(symbols) > 1:
            raise InvalidSignalError(f"the line names {len(symbols)} pairs: {', '.join(symbols)}", field="symbol")
        price = read_number(_price(rest), message.number_style, field="entry")
        return Signal(
            source=source,
            strategy=self.strategy,
            symbol=symbols[0],
            side=sides.pop(),
            entry=Entry(EntryKind.MARKET, (price,)),
            raw_text=message.raw,
            received_at=received_at,
        )


def _price(rest: str) -> str:
    if "@" in rest:
        quoted = _AT_PRICE.findall(rest)
        if len(quoted) != 1 or rest.count("@") != 1:
            raise InvalidSignalError("the line needs exactly one '@ price'", field="entry")
        return str(quoted[0])
    numbers = _NUMBER.findall(PAIR_RE.sub(" ", rest))
    if len(numbers) == 1:
        return str(numbers[0])
    if not numbers:
        raise InvalidSignalError("the line has no price", field="entry")
    raise InvalidSignalError(f"the line has {len(numbers)} numbers and no '@' to say which is the price", field="entry")
