"""``Cancel #ETH/USDT``, ``❌ Cancel #ETHUSDT``, ``#ETHUSDT cancelled``: the channel withdraws a signal.

Only the first line counts, and it must be the cancel word and a pair (a reason may follow after a
dash, colon or bracket), so that chat such as "don't cancel your BTCUSDT orders" or "cancel that"
is not a cancel. ``Cancel #ETH`` is a cancel whose pair cannot be read: it is refused.
"""

from __future__ import annotations

import re

from elcaro.models import SignalCancel, SignalSource
from elcaro.models.errors import InvalidSignalError
from elcaro.signals.base import FormatParser
from elcaro.signals.message import Message
from elcaro.signals.symbols import read_symbol

_CANCEL = r"(?:signal )?cancel(?:l?ed)?(?: signal)?"
_LINE = re.compile(
    rf"^(?:{_CANCEL} ?:? ?(?P<before>\S+)|(?P<after>\S+) (?:signal )?(?:is )?{_CANCEL})(?:[ !.]*| ?[-:,(].*)$",
    re.IGNORECASE,
)


class CancelParser(FormatParser):
    name = "cancel"
    keywords = ("cancel",)

    def shape(self, message: Message) -> bool:
        written = _written_pair(message)
        return written is not None and (written.startswith("#") or read_symbol(written) is not None)

    def read(self, message: Message, source: SignalSource, received_at: int) -> SignalCancel:
        written = _written_pair(message) or ""
        symbol = read_symbol(written)
        if symbol is None:
            raise InvalidSignalError(f"cannot read the pair {written!r} of the cancel", field="symbol")
        return SignalCancel(source=source, symbol=symbol, raw_text=message.raw, received_at=received_at)


def _written_pair(message: Message) -> str | None:
    line = _LINE.match(message.bare[0]) if message.bare else None
    return (line["before"] or line["after"]) if line else None


PARSER = CancelParser()
parse = PARSER.parse
