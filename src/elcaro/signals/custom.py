"""Parsers an admin defines for a channel, without a release: a spec of regular expressions.

A spec names its channels and strategy and gives patterns: ``marker`` (a line that makes a post a
signal), ``symbol``/``side``/``price`` with named groups of those names, and optionally ``stop``
(group ``stop``), ``targets`` (group ``target``; every match, in order) and ``leverage`` (group
``leverage``). Each pattern is searched line by line in the normalised post (dashes, spaces and
emoji variants folded as for the built-in formats), on lines of at most ``MAX_LINE_CHARS``.

A spec is checked when it is built: every pattern must compile, hold its named group, and pass
``regex_safety`` (no nested or chained repeats that could backtrack for long); the error names the
pattern and says what is wrong. ``to_dict``/``from_dict`` give the plain form the database stores,
and ``preview`` shows an admin what a spec extracts from sample posts before it is saved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from decimal import Decimal
from typing import Any

from elcaro.models import Entry, EntryKind, Signal, SignalSource, SourceKind, TakeProfit
from elcaro.models.errors import InvalidSignalError, ValidationError
from elcaro.signals.base import FormatParser
from elcaro.signals.message import MAX_MESSAGE_CHARS, Message
from elcaro.signals.numbers import read_number
from elcaro.signals.regex_safety import MAX_LINE_CHARS, UnsafePatternError, check_pattern
from elcaro.signals.result import NOTHING, ParseResult
from elcaro.signals.sides import side_of
from elcaro.signals.symbols import read_symbol

SPEC_VERSION = 1
_GROUPS = {
    "marker": None,
    "symbol": "symbol",
    "side": "side",
    "price": "price",
    "stop": "stop",
    "targets": "target",
    "leverage": "leverage",
}
_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_MAX_CHANNELS = 100
_ENTRIES = (EntryKind.LIMIT, EntryKind.MARKET)


class InvalidParserSpecError(ValidationError):
    """A spec an admin cannot save; ``field`` names the pattern or setting, ``reason`` what is wrong."""


@dataclass(frozen=True, slots=True)
class CustomParserSpec:
    """What an admin saves for a channel; building one checks every pattern (see the module docstring)."""

    name: str
    strategy: str
    channel_ids: tuple[str, ...]
    marker: str
    symbol: str
    side: str
    price: str
    stop: str | None = None
    targets: str | None = None
    leverage: str | None = None
    entry: EntryKind = EntryKind.LIMIT
    ignore_case: bool = True
    compiled: Mapping[str, re.Pattern[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, value in (("name", self.name), ("strategy", self.strategy)):
            if not isinstance(value, str) or not _KEY.fullmatch(value):
                raise InvalidParserSpecError("use 1–64 lower-case letters, digits, '_', '.' or '-'", field=name)
        ids = self.channel_ids
        if not ids or len(ids) > _MAX_CHANNELS or any(not isinstance(c, str) or not c.strip() for c in ids):
            raise InvalidParserSpecError(f"give 1–{_MAX_CHANNELS} channel ids", field="channel_ids")
        if len(set(ids)) != len(ids):
            raise InvalidParserSpecError("a channel id is listed twice", field="channel_ids")
        if self.entry not in _ENTRIES:
            raise InvalidParserSpecError("entry is limit or market", field="entry")
        object.__setattr__(self, "entry", EntryKind(self.entry))
        flags = re.IGNORECASE if self.ignore_case else 0
        compiled = {name: _compile(name, pattern, flags) for name in _GROUPS if (pattern := getattr(self, name))}
        object.__setattr__(self, "compiled", compiled)

    def to_dict(self) -> dict[str, Any]:
        plain: dict[str, Any] = {"version": SPEC_VERSION}
        for spec_field in fields(self):
            if spec_field.init:
                plain[spec_field.name] = getattr(self, spec_field.name)
        plain["channel_ids"] = list(self.channel_ids)
        plain["entry"] = str(self.entry)
        return plain

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CustomParserSpec:
        if not isinstance(data, Mapping):
            raise InvalidParserSpecError("a parser spec is a mapping")
        if data.get("version") != SPEC_VERSION:
            raise InvalidParserSpecError(f"unknown spec version {data.get('version')!r}", field="version")
        known = {f.name: f for f in fields(cls) if f.init}
        unknown = sorted(set(data) - set(known) - {"version"})
        if unknown:
            raise InvalidParserSpecError(f"unknown settings: {', '.join(map(str, unknown))}")
        values = {name: value for name, value in data.items() if name != "version"}
        for name in ("marker", "symbol", "side", "price", "stop", "targets", "leverage"):
            if name in values and not isinstance(values[name], str | None):
                raise InvalidParserSpecError("a pattern is a string", field=name)
        if not isinstance(values.get("channel_ids"), list | tuple):
            raise InvalidParserSpecError("channel_ids is a list of channel ids", field="channel_ids")
        values["channel_ids"] = tuple(values["channel_ids"])
        if "entry" in values:
            if values["entry"] not in {"limit", "market"}:
                raise InvalidParserSpecError("entry is limit or market", field="entry")
            values["entry"] = EntryKind(values["entry"])
        if not isinstance(values.get("ignore_case", True), bool):
            raise InvalidParserSpecError("ignore_case is true or false", field="ignore_case")
        missing = [name for name, f in known.items() if name not in values and f.default is MISSING]
        if missing:
            raise InvalidParserSpecError(f"missing settings: {', '.join(missing)}")
        return cls(**values)


def _compile(name: str, pattern: object, flags: int) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise InvalidParserSpecError("a pattern is a string", field=name)
    try:
        compiled = re.compile(pattern, flags)
    except re.error as error:
        raise InvalidParserSpecError(f"pattern {pattern!r} does not compile: {error}", field=name) from None
    group = _GROUPS[name]
    if group is not None and group not in compiled.groupindex:
        raise InvalidParserSpecError(f"pattern {pattern!r} needs a named group (?P<{group}>...)", field=name)
    try:
        check_pattern(pattern)
    except UnsafePatternError as error:
        raise InvalidParserSpecError(f"pattern {pattern!r} is refused: {error.reason}", field=name) from None
    except (re.error, ValueError, IndexError):
        raise InvalidParserSpecError(f"pattern {pattern!r} uses syntax that cannot be checked", field=name) from None
    return compiled


class CustomParser(FormatParser):
    """Reads posts with a spec's patterns; recognises a post when a line matches ``marker``."""

    def __init__(self, spec: CustomParserSpec) -> None:
        super().__init__()
        self.spec = spec
        self.name = f"custom:{spec.name}"

    def shape(self, message: Message) -> bool:
        return bool(self._all(message, "marker"))

    def read(self, message: Message, source: SignalSource, received_at: int) -> Signal:
        spec = self.spec
        written_symbol = self._group(message, "symbol")
        symbol = read_symbol(written_symbol)
        if symbol is None:
            raise InvalidSignalError(f"cannot read the pair {written_symbol!r}", field="symbol")
        written_side = self._group(message, "side")
        side = side_of(written_side)
        if side is None:
            raise InvalidSignalError(f"{written_side!r} is not long, short, buy, sell, up or down", field="side")
        stop = self._group(message, "stop", required=False)
        leverage = self._group(message, "leverage", required=False)
        return Signal(
            source=source,
            strategy=spec.strategy,
            symbol=symbol,
            side=side,
            entry=Entry(spec.entry, (self._number(message, self._group(message, "price"), "entry"),)),
            take_profits=tuple(
                TakeProfit(self._number(message, found["target"], "take_profits"))
                for found in self._all(message, "targets")
            ),
            stop_loss=self._number(message, stop, "stop_loss") if stop else None,
            leverage=self._number(message, leverage.strip().strip("xX"), "leverage") if leverage else None,
            raw_text=message.raw,
            received_at=received_at,
        )

    def _all(self, message: Message, name: str) -> list[re.Match[str]]:
        pattern = self.spec.compiled.get(name)
        if pattern is None:
            return []
        return [found for line in message.lines if len(line) <= MAX_LINE_CHARS for found in pattern.finditer(line)]

    def _group(self, message: Message, name: str, *, required: bool = True) -> str:
        """The named group of the first line the pattern matches with that group filled."""
        group = _GROUPS[name] or name
        for found in self._all(message, name):
            if found[group]:
                return str(found[group]).strip()
        if required:
            raise InvalidSignalError(f"the {name} pattern finds nothing in the post", field=name)
        return ""

    @staticmethod
    def _number(message: Message, written: str, field_name: str) -> Decimal:
        return read_number(written.strip().lstrip("$"), message.number_style, field=field_name)


def preview(spec: CustomParserSpec, samples: Iterable[str]) -> list[ParseResult]:
    """What ``spec`` makes of each sample, as the registry would report it for the spec's first channel."""
    parser = CustomParser(spec)
    source = SignalSource(SourceKind.CHANNEL, spec.channel_ids[0])
    results = []
    for text in samples:
        outcome = parser.attempt(Message(text), source) if len(text) <= MAX_MESSAGE_CHARS else None
        results.append(outcome or NOTHING)
    return results
