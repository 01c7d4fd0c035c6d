"""Signal parsing: channel posts, webhook alerts and admin-defined formats into ``Signal``.

Pure domain code: it imports only ``elcaro.models`` and the standard library.

- ``parse_message(text, source)`` / ``SignalParserRegistry``: one ``ParseResult`` per post.
- ``elcaro.signals.formats.<name>.parse``: one format alone (``None`` when the post is not it).
- ``parse_webhook(payload, secret=..., now_ms=..., source=...)``: a TradingView-style alert.
- ``CustomParserSpec`` / ``preview``: admin-defined parsers, checked for unsafe patterns.
"""

from elcaro.signals.base import FormatParser
from elcaro.signals.custom import CustomParser, CustomParserSpec, InvalidParserSpecError, preview
from elcaro.signals.message import Message
from elcaro.signals.regex_safety import UnsafePatternError
from elcaro.signals.registry import BUILT_IN, SignalParserRegistry, parse_message
from elcaro.signals.result import NOTHING, Outcome, ParseResult
from elcaro.signals.timeframes import normalise_timeframe
from elcaro.signals.webhook import (
    StaleWebhookError,
    WebhookError,
    WebhookPayloadError,
    WebhookSecretError,
    parse_webhook,
)

__all__ = [
    "BUILT_IN",
    "NOTHING",
    "CustomParser",
    "CustomParserSpec",
    "FormatParser",
    "InvalidParserSpecError",
    "Message",
    "Outcome",
    "ParseResult",
    "SignalParserRegistry",
    "StaleWebhookError",
    "UnsafePatternError",
    "WebhookError",
    "WebhookPayloadError",
    "WebhookSecretError",
    "normalise_timeframe",
    "parse_message",
    "parse_webhook",
    "preview",
]
