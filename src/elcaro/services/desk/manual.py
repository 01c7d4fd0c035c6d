"""Manual orders as a trader types them: ``BTCUSDT LONG 0.01`` (market) or ``ETHUSDT SHORT 3400 0.5`` (limit).

Pure parsing, no I/O: the symbol is read as the signal parsers read a pair, the side is LONG/SHORT (or
BUY/SELL), then an optional limit price and the quantity. Numbers are plain decimals; a comma is taken as
the decimal mark only where it cannot be a thousands separator (``0,5``, ``3400,25``), as a Russian
keyboard types them; ``3,400`` could be either and is refused rather than guessed. Anything else is refused
with a code saying which part is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from elcaro.models import OrderType, PositionSide
from elcaro.services.desk.errors import DeskError
from elcaro.signals.symbols import read_symbol

_SIDES = {"long": PositionSide.LONG, "buy": PositionSide.LONG, "short": PositionSide.SHORT, "sell": PositionSide.SHORT}
_NUMBER = re.compile(r"\d{1,12}(?:[.,]\d{1,12})?")
_TOKEN = re.compile(r"\S+")
MAX_TEXT = 80


@dataclass(frozen=True, slots=True)
class ManualOrderRequest:
    symbol: str
    """Canonical (``BTC/USDT:USDT``)."""
    side: PositionSide
    qty: Decimal
    price: Decimal | None
    """None: a market order."""

    @property
    def order_type(self) -> OrderType:
        return OrderType.MARKET if self.price is None else OrderType.LIMIT


def looks_like_manual_order(text: str) -> bool:
    """Whether ``text`` is meant as a manual order (so a mistake in it deserves the order's own help)."""
    tokens = text.split()
    return 2 <= len(tokens) <= 5 and tokens[1].lower() in _SIDES


def parse_manual_order(text: str) -> ManualOrderRequest:
    """Read ``SYMBOL SIDE [PRICE] QTY``; ``DeskError`` with code ``manual.<part>`` names what is wrong."""
    tokens = _TOKEN.findall(text.strip()[: MAX_TEXT + 1])
    if len(text) > MAX_TEXT or not 3 <= len(tokens) <= 4:
        raise DeskError("manual.format", "write SYMBOL LONG|SHORT [PRICE] QTY, e.g. BTCUSDT LONG 0.01")
    symbol = read_symbol(tokens[0])
    if symbol is None:
        raise DeskError(
            "manual.symbol", f"{tokens[0]!r} is not a USDT pair such as BTCUSDT", field="symbol", got=tokens[0]
        )
    side = _SIDES.get(tokens[1].lower())
    if side is None:
        raise DeskError("manual.side", f"the side is LONG or SHORT, got {tokens[1]!r}", field="side", got=tokens[1])
    price = _positive(tokens[2], "price") if len(tokens) == 4 else None
    qty = _positive(tokens[-1], "qty")
    return ManualOrderRequest(symbol, side, qty, price)


def _positive(token: str, field: str) -> Decimal:
    if not _NUMBER.fullmatch(token):
        raise DeskError(f"manual.{field}", f"{field} must be a positive number, got {token!r}", field=field, got=token)
    _, comma, fraction = token.partition(",")
    if comma and len(fraction) == 3:
        raise DeskError(
            "manual.ambiguous",
            f"{token!r}: is the comma a decimal mark or a thousands separator?",
            field=field,
            got=token,
        )
    try:
        value = Decimal(token.replace(",", "."))
    except InvalidOperation:  # the pattern admits only digits and one mark; kept for safety
        raise DeskError(f"manual.{field}", f"{field} must be a positive number", field=field, got=token) from None
    if value <= 0:
        raise DeskError(f"manual.{field}", f"{field} must be a positive number, got {token!r}", field=field, got=token)
    return value
