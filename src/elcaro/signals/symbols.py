"""Trading pairs as channels write them (``SOL/USDT``, ``#ETHUSDT``, ``BTCUSDT.P``), in ccxt's form.

Only USDT- and USDC-margined pairs are recognised: those are the linear perpetuals the platform
trades, and requiring the quote keeps ordinary words out (``in USDT`` is not a pair; a base must
be glued to its quote or joined by ``/``, ``-`` or ``_``, and must contain a letter, so
``500USDT`` is an amount).
"""

from __future__ import annotations

import re

from elcaro.models import canonical_symbol

PAIR_RE = re.compile(
    r"(?<![A-Za-z0-9])#?(?P<base>[A-Za-z0-9]{1,20}?)(?: ?[/_-] ?)?(?P<quote>USDT|USDC)"
    r"(?::(?:USDT|USDC))?(?:\.P(?:ERP)?)?(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_EXCHANGE_PREFIX = re.compile(r"^[A-Za-z]{2,20}:(?=[A-Za-z0-9#])")


def _canonical(match: re.Match[str]) -> str | None:
    base = match["base"]
    if not any(c.isalpha() for c in base):
        return None
    quote = match["quote"].upper()
    return canonical_symbol(base, quote, quote)


def pairs_in(text: str) -> list[str]:
    """Every distinct pair in ``text``, canonical, in order of first appearance."""
    found: dict[str, None] = {}
    for match in PAIR_RE.finditer(text):
        symbol = _canonical(match)
        if symbol is not None:
            found[symbol] = None
    return list(found)


def read_symbol(value: str) -> str | None:
    """A field holding only a pair (a webhook's ``symbol``, ``BINANCE:BTCUSDT.P`` included)."""
    match = PAIR_RE.fullmatch(_EXCHANGE_PREFIX.sub("", value.strip()))
    return _canonical(match) if match else None
