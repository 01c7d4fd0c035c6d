"""Exact numbers out of venue responses.

Venues send prices and sizes as decimal strings; ccxt's unified dicts turn them into floats. The adapters read the
venue's own strings (ccxt keeps them in ``info`` or hands back the raw response) so that every ``Decimal`` carries
exactly the digits the venue sent.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from elcaro.models.errors import ExchangeError


class BadResponseError(ExchangeError):
    """A venue answer the adapter cannot read: the request may still have done what it asked."""


def dec(value: object, *, field: str = "number") -> Decimal:
    """The ``Decimal`` a venue wrote as a string (or an integer). A float is refused: it has already lost digits."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadResponseError(f"expected a decimal string for {field}, got {value!r}", code="bad_response")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise BadResponseError(f"expected a decimal string for {field}, got {value!r}", code="bad_response") from None
    if not result.is_finite():
        raise BadResponseError(f"{field} is not finite: {value!r}", code="bad_response")
    return result


def opt_dec(value: object, *, field: str = "number") -> Decimal | None:
    """Like :func:`dec`, with None for the absent values venues write as null or an empty string."""
    return None if value is None or value == "" else dec(value, field=field)


def price(value: object, *, field: str = "price") -> Decimal | None:
    """A price that may be unset: venues write an unset TP, SL or liquidation price as "", "0" or null."""
    result = opt_dec(value, field=field)
    return result if result is not None and result > 0 else None


def from_float(value: float | int) -> Decimal:
    """A number ccxt.pro keeps only as a float (streamed order books and candles): through its shortest repr.

    The shortest repr of a float parsed from a decimal string of up to 15 significant digits is that string again,
    so for what venues send this is exact; it is used only where ccxt leaves no string to read.
    """
    return dec(repr(value) if isinstance(value, float) else value)


def plain(value: Decimal) -> str:
    """A Decimal as a venue expects it on the wire: positional, never in exponent form (1E-7)."""
    return format(value, "f")
