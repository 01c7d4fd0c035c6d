"""Every text the bot shows, from translation catalogs, and numbers, money and dates in the reader's style.

Catalogs are TOML files in ``elcaro/bot/locales`` (``en.toml``, ``ru.toml``), nested tables flattened
to dotted keys. A shipped language has every key with the same placeholders as English (a test holds
them to it), so a missing key is a bug, never a reason to show English. Only a language the bot does
not ship falls back to English.

Templates are HTML (the bot sends with ``parse_mode=HTML``): parameters are escaped when filled in,
unless they are ``Markup`` (text already built from catalog templates).
"""

from __future__ import annotations

import html
import string
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib.resources import files
from typing import Any

SHIPPED = ("en", "ru")
FALLBACK = "en"


class Markup(str):
    """Text that is HTML already (a rendered template): filled into another template as it is."""

    __slots__ = ()


@cache
def catalogs() -> Mapping[str, Mapping[str, str]]:
    """Every shipped catalog, flattened: language → key → template."""
    folder = files("elcaro.bot") / "locales"
    return {language: _flatten(tomllib.loads((folder / f"{language}.toml").read_text("utf-8"))) for language in SHIPPED}


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        else:
            raise TypeError(f"catalog entry {name} must be text, got {type(value).__name__}")
    return flat


def language_of(code: str | None) -> str:
    """A shipped language for a stored or Telegram language code (``ru-RU`` → ``ru``); English otherwise."""
    base = (code or "").split("-")[0].lower()
    return base if base in SHIPPED else FALLBACK


def translate(language: str, key: str, /, **params: object) -> Markup:
    """The template ``key`` in ``language`` (English for a language not shipped), filled with ``params``.

    Raises ``KeyError`` for a key the catalog lacks: that is a bug for the tests to find, not something
    to paper over with another language.
    """
    template = catalogs().get(language_of(language), catalogs()[FALLBACK])[key]
    values = {name: _escaped(value) for name, value in params.items()}
    return Markup(template.format_map(values))


def _escaped(value: object) -> str:
    return value if isinstance(value, Markup) else html.escape(str(value), quote=False)


def has_key(key: str) -> bool:
    return key in catalogs()[FALLBACK]


def placeholders(template: str) -> frozenset[str]:
    """The names a template fills in (``{price}`` → ``price``)."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


class Formats:
    """Numbers, money, percentages and dates as a reader of ``language`` writes them.

    English: ``1,234.56`` and ``Jan 5, 2025, 14:03 UTC``; Russian: ``1 234,56`` (a no-break space groups
    thousands) and ``5 янв 2025, 14:03 UTC``. Values are exact ``Decimal``s; rounding for display is half up.
    """

    def __init__(self, language: str) -> None:
        self.language = language_of(language)
        messages = catalogs()[self.language]
        self._decimal = messages["format.decimal"]
        self._group = messages["format.group"]
        self._months = messages["format.months"].split()
        self._date = messages["format.date"]
        self._datetime = messages["format.datetime"]

    def number(self, value: Decimal | int, places: int | None = None) -> str:
        """Grouped; ``places`` fixes the decimals, otherwise the value's own significant ones are kept."""
        amount = Decimal(value)
        if places is not None:
            amount = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        else:
            amount = amount.normalize()
            if amount.as_tuple().exponent > 0:  # type: ignore[operator]
                amount = amount.quantize(Decimal(1))
        if amount == 0:
            amount = abs(amount)  # never "-0.00"
        text = format(amount, ",f")
        return text.replace(",", "\0").replace(".", self._decimal).replace("\0", self._group)

    def signed(self, value: Decimal | int, places: int | None = None) -> str:
        """With its sign, ``+`` included; a value that rounds to zero has none."""
        text = self.number(value, places)
        zero = not any(digit in text for digit in "123456789")
        return text if zero or text.startswith("-") else f"+{text}"

    def money(self, value: Decimal | int, asset: str = "USDT", places: int = 2) -> str:
        return f"{self.number(value, places)} {asset}"

    def signed_money(self, value: Decimal | int, asset: str = "USDT", places: int = 2) -> str:
        return f"{self.signed(value, places)} {asset}"

    def percent(self, value: Decimal | int, places: int = 2, *, signed: bool = False) -> str:
        text = self.signed(value, places) if signed else self.number(value, places)
        return f"{text}%"

    def date(self, ms: int) -> str:
        moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
        return self._date.format(day=moment.day, month=self._months[moment.month - 1], year=moment.year)

    def datetime(self, ms: int) -> str:
        moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
        return self._datetime.format(
            day=moment.day, month=self._months[moment.month - 1], year=moment.year, time=moment.strftime("%H:%M")
        )
