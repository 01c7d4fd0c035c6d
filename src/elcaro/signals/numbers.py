"""Numbers exactly as posted: thousands separators, decimal commas, K/M suffixes, never a float.

A comma is the hard case. ``67,250.5`` and ``1,0825`` each have one reading, but ``3,385`` is
3385 to one author and 3.385 to another. Such a number is read the way the rest of the post writes
its decimals (a ``20.0X`` elsewhere means commas group thousands), and refused when the post gives
no clue or contradicts itself — a wrong price is worse than a missed signal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from elcaro.models.errors import InvalidSignalError

NUM = r"(?>[0-9]+(?:[.,][0-9]+)*)"
"""A number as posted: digits, optionally grouped or split by dots and commas. Atomic, so that a
pattern failing after it can never retry with a shorter number (``1`` out of ``1.6230``)."""

_TOKEN = re.compile(rf"(?<![\w.,]){NUM}")
_GROUPED = {sep: re.compile(rf"[0-9]{{1,3}}(?:{re.escape(sep)}[0-9]{{3}})+") for sep in ".,"}
_SIGNED = re.compile(rf"[+-]?{NUM}")
_SUFFIXES = {"k": Decimal(10) ** 3, "m": Decimal(10) ** 6, "b": Decimal(10) ** 9}
_AMOUNT = re.compile(rf"(?P<n>{NUM}) ?(?P<unit>[KkMB])?")


def number(name: str) -> str:
    """A regex fragment capturing one unsigned number as group ``name``, not part of a word."""
    return rf"(?<![\w.,])(?P<{name}>{NUM})(?!\w)"


NOT_A_RANGE = r"(?! ?(?:-|to) ?[0-9])"
"""After a single price: refuse to read ``0.45`` out of ``0.45 - 0.47``, which is a range."""


def signed(name: str) -> str:
    return rf"(?<![\w.,])(?P<{name}>[+-]?{NUM})(?!\w)"


def amount(name: str) -> str:
    """A number that may carry a K, M or B suffix (volumes, open interest), as group ``name``."""
    return rf"(?<![\w.,])(?P<{name}>{NUM} ?[KkMB]?)(?!\w)"


@dataclass(frozen=True, slots=True)
class NumberStyle:
    """What a post's unambiguous numbers say its decimal separator is."""

    dot_decimal: bool = False
    comma_decimal: bool = False

    @classmethod
    def of(cls, text: str) -> NumberStyle:
        dot = comma = False
        for token in _TOKEN.findall(text):
            evidence = _evidence(token)
            dot |= evidence == "."
            comma |= evidence == ","
        return cls(dot, comma)


def _evidence(token: str) -> str | None:
    """The decimal separator this token proves, if it proves one."""
    dots, commas = token.count("."), token.count(",")
    if dots and commas:
        return "." if token.rfind(".") > token.rfind(",") else ","
    if dots == 1:
        return "."
    if dots > 1:
        return "," if _GROUPED["."].fullmatch(token) else None
    if commas > 1:
        return "." if _GROUPED[","].fullmatch(token) else None
    if commas == 1:
        head, tail = token.split(",")
        return "," if len(tail) != 3 or head.startswith("0") else None
    return None


def read_number(token: str, style: NumberStyle, *, field: str) -> Decimal:
    """The exact value of ``token`` (digits with separators, optionally signed)."""
    if not _SIGNED.fullmatch(token):
        raise InvalidSignalError(f"{token[:40]!r} is not a number", field=field)
    sign = "-" if token.startswith("-") else ""
    digits = token.lstrip("+-")
    decimal_sep = _evidence(digits)
    if decimal_sep is None and digits.count(",") == 1 and "." not in digits:
        decimal_sep = _resolve_comma(digits, style, field)
    if decimal_sep is None or decimal_sep not in digits:
        if digits.isdigit():
            return Decimal(sign + digits)
        for sep in ".,":
            if _GROUPED[sep].fullmatch(digits):
                return Decimal(sign + digits.replace(sep, ""))
        raise InvalidSignalError(f"cannot read the number {token!r}", field=field)
    thousands = "," if decimal_sep == "." else "."
    whole, _, fraction = digits.rpartition(decimal_sep)
    if decimal_sep in whole or decimal_sep in fraction or thousands in fraction:
        raise InvalidSignalError(f"cannot read the number {token!r}", field=field)
    if thousands in whole and not _GROUPED[thousands].fullmatch(whole):
        raise InvalidSignalError(f"cannot read the number {token!r}: its digit groups are uneven", field=field)
    return Decimal(f"{sign}{whole.replace(thousands, '')}.{fraction}")


def _resolve_comma(token: str, style: NumberStyle, field: str) -> str:
    if style.dot_decimal and not style.comma_decimal:
        return "."  # the comma groups thousands: the post writes its decimals with a dot
    if style.comma_decimal and not style.dot_decimal:
        return ","
    whole, fraction = token.split(",")
    raise InvalidSignalError(
        f"{token!r} could be {whole}{fraction} or {whole}.{fraction}: write it without the comma or with a point",
        field=field,
    )


def read_amount(text: str, style: NumberStyle, *, field: str) -> Decimal:
    """A number with an optional K/M/B suffix, exactly: ``51.2M`` is 51200000."""
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        raise InvalidSignalError(f"cannot read the amount {text!r}", field=field)
    value = read_number(match["n"], style, field=field)
    unit = match["unit"]
    return value * _SUFFIXES[unit.lower()] if unit else value


def plain(value: Decimal) -> str:
    """A Decimal as a person writes it: no exponent, no trailing zeros after the point."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
