"""One entry point for channel posts: each message gets exactly one outcome from exactly one parser.

Order: an admin-defined parser bound to the message's channel first (the admin wrote it because
the built-ins do not read that channel), then the self-announcing formats, then Cornix free
text, then generic. Every catch-all format comes after all the formats it gives way to, which the
constructor checks, so the first parser that recognises a message is the only one that would; a
post with the shapes of two self-announcing formats is refused as ambiguous (``FormatParser.attempt``).
The message is normalised once and shared, and each parser's keyword gate is a substring test,
so most messages are dismissed before any regular expression runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from elcaro.models import SignalSource, SourceKind
from elcaro.signals.base import FormatParser
from elcaro.signals.custom import CustomParser, CustomParserSpec
from elcaro.signals.formats import cornix_free, generic
from elcaro.signals.formats.specific import SPECIFIC
from elcaro.signals.message import MAX_MESSAGE_CHARS, Message
from elcaro.signals.result import NOTHING, ParseResult

BUILT_IN: tuple[FormatParser, ...] = (*SPECIFIC, cornix_free.PARSER, generic.PARSER)


class SignalParserRegistry:
    """Built-in formats in order, plus admin-defined parsers keyed by the channels they serve."""

    def __init__(self, parsers: Sequence[FormatParser] = BUILT_IN, custom: Iterable[CustomParserSpec] = ()) -> None:
        seen: set[str] = set()
        for parser in parsers:
            missing = [other.name for other in parser.defers_to if other.name not in seen]
            if missing:
                raise ValueError(f"{parser.name} must come after {', '.join(missing)}, which it gives way to")
            seen.add(parser.name)
        self._parsers = tuple(parsers)
        self._custom: dict[str, list[FormatParser]] = {}
        for spec in custom:
            parser = CustomParser(spec)
            for channel in spec.channel_ids:
                self._custom.setdefault(channel, []).append(parser)

    @property
    def parsers(self) -> tuple[FormatParser, ...]:
        return self._parsers

    def parse(self, text: str, source: SignalSource, *, received_at: int = 0) -> ParseResult:
        if len(text) > MAX_MESSAGE_CHARS:
            return NOTHING
        message = Message(text)
        parsers = self._parsers
        if self._custom and source.kind is SourceKind.CHANNEL and source.ref in self._custom:
            parsers = (*self._custom[source.ref], *parsers)
        for parser in parsers:
            outcome = parser.attempt(message, source, received_at)
            if outcome is not None:
                return outcome
        return NOTHING


_DEFAULT = SignalParserRegistry()


def parse_message(text: str, source: SignalSource, *, received_at: int = 0) -> ParseResult:
    """Parse a channel post with the built-in formats."""
    return _DEFAULT.parse(text, source, received_at=received_at)
