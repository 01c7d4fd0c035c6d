"""TradingView-style alert JSON, already decoded, into a ``Signal``.

```json
{"secret": "…", "strategy": "tv_breakout", "symbol": "BTCUSDT", "side": "buy",
 "price": 67250.5, "stop_loss": 66100, "take_profits": [68400, 69800], "leverage": 10,
 "timestamp": 1732190400000, "max_lag": 60}
```
Checks run in this order, so an unauthenticated caller learns nothing about the payload: the
secret (compared in constant time), then the shape, then the age. ``timestamp`` is required —
without it a captured alert could be replayed at any time — as epoch milliseconds or an ISO-8601
string with a zone (TradingView's ``{{timenow}}``). ``price`` quotes a market entry unless
``order_type`` is ``limit``. Numbers may be JSON numbers or strings; decode with
``parse_float=Decimal`` to keep every digit (a float is read through its shortest repr).
Unknown fields are ignored.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from elcaro.models import Entry, EntryKind, PositionSide, Signal, SignalSource, SourceKind, TakeProfit
from elcaro.models.decimals import to_decimal
from elcaro.models.errors import InvalidSignalError, PermissionDeniedError, ValidationError
from elcaro.signals.sides import side_of
from elcaro.signals.symbols import read_symbol
from elcaro.signals.timeframes import normalise_timeframe

DEFAULT_MAX_LAG_S = 60
LONGEST_MAX_LAG_S = 3600
"""An alert may ask for more patience than the default, but not for an hour-old price."""
_EARLIEST_MS = 10**11
"""Epoch milliseconds below this are 1973: the sender wrote seconds."""
_STRATEGY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
_MAX_TARGETS = 20
_LARGEST = Decimal(10) ** 15
"""No price, leverage or lag is this large; refusing it keeps Decimal arithmetic clear of overflow."""
_KNOWN_FIELDS = (
    "strategy", "symbol", "side", "price", "order_type", "stop_loss", "take_profits", "leverage", "timeframe",
    "timestamp", "max_lag",
)  # fmt: skip


class WebhookError(InvalidSignalError):
    """An alert the platform refuses. Every error ``parse_webhook`` raises is one of these or a plain
    ``InvalidSignalError`` from the signal's own consistency checks."""


class WebhookSecretError(WebhookError, PermissionDeniedError):
    """Missing or wrong secret: answer 401/403 and log nothing of the payload."""


class WebhookPayloadError(WebhookError):
    """The JSON is not an alert: a missing, mistyped or unreadable field (``field`` names it)."""


class StaleWebhookError(WebhookError):
    """The alert is older than its ``max_lag``: dropped, not executed late."""

    def __init__(self, message: str, *, age_ms: int) -> None:
        super().__init__(message, field="timestamp")
        self.age_ms = age_ms


def parse_webhook(payload: object, *, secret: str, now_ms: int, source: str) -> Signal:
    """The signal of an alert sent to webhook source ``source``, whose configured secret is ``secret``."""
    fields = payload if isinstance(payload, Mapping) else {}
    _check_secret(fields.get("secret"), secret)
    if not isinstance(payload, Mapping):
        raise WebhookPayloadError(f"an alert is a JSON object, not {type(payload).__name__}")
    _check_age(fields, now_ms)
    price = _optional_decimal(fields, "price")
    order_type = _text(fields, "order_type", required=False) or "market"
    if order_type.casefold() not in {"market", "limit"}:
        raise WebhookPayloadError(f"order_type must be market or limit, not {order_type!r}", field="order_type")
    if order_type.casefold() == "limit":
        if price is None:
            raise WebhookPayloadError("a limit order needs a price", field="price")
        entry = Entry(EntryKind.LIMIT, (price,))
    else:
        entry = Entry(EntryKind.MARKET, () if price is None else (price,))
    timeframe = _text(fields, "timeframe", required=False)
    return Signal(
        source=SignalSource(SourceKind.WEBHOOK, source),
        strategy=_strategy(fields),
        symbol=_symbol(fields),
        side=_side(fields),
        entry=entry,
        take_profits=_take_profits(fields),
        stop_loss=_optional_decimal(fields, "stop_loss"),
        leverage=_optional_decimal(fields, "leverage"),
        timeframe=normalise_timeframe(timeframe) if timeframe else None,
        raw_text=json.dumps({k: fields[k] for k in _KNOWN_FIELDS if k in fields}, sort_keys=True, default=str),
        received_at=now_ms,
    )


def _check_secret(given: object, expected: str) -> None:
    if not expected:
        raise WebhookSecretError("this webhook source has no secret configured: every alert is refused")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebhookSecretError("wrong or missing secret", field="secret")


def _check_age(fields: Mapping[object, object], now_ms: int) -> None:
    sent_ms = _timestamp(fields.get("timestamp"))
    max_lag = fields.get("max_lag", DEFAULT_MAX_LAG_S)
    if isinstance(max_lag, bool) or not isinstance(max_lag, int | float | Decimal | str):
        raise WebhookPayloadError("max_lag must be a number of seconds", field="max_lag")
    lag_s = _decimal(max_lag, "max_lag")
    if not 0 < lag_s <= LONGEST_MAX_LAG_S:
        raise WebhookPayloadError(f"max_lag must be in (0, {LONGEST_MAX_LAG_S}] seconds", field="max_lag")
    age_ms = now_ms - sent_ms
    if age_ms > lag_s * 1000:
        raise StaleWebhookError(f"the alert is {age_ms / 1000:.1f} s old, over its max_lag {lag_s} s", age_ms=age_ms)
    if -age_ms > lag_s * 1000:
        raise WebhookPayloadError(f"the alert is dated {-age_ms / 1000:.1f} s in the future", field="timestamp")


def _timestamp(value: object) -> int:
    if isinstance(value, str) and not value.strip().isdigit():
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise WebhookPayloadError("an ISO timestamp must say its zone (Z or +hh:mm)", field="timestamp")
            return int(moment.timestamp() * 1000)
        except (ValueError, OverflowError):
            raise WebhookPayloadError(f"unreadable timestamp {value[:40]!r}", field="timestamp") from None
    if value is None:
        raise WebhookPayloadError("timestamp (epoch ms) is required, so stale alerts can be dropped", field="timestamp")
    if isinstance(value, bool) or not isinstance(value, int | str) or len(str(value).strip()) > 15:
        raise WebhookPayloadError("timestamp must be whole epoch milliseconds", field="timestamp")
    sent_ms = int(value)
    if sent_ms < _EARLIEST_MS:
        raise WebhookPayloadError("timestamp looks like seconds: send epoch milliseconds", field="timestamp")
    return sent_ms


def _text(fields: Mapping[object, object], name: str, *, required: bool = True) -> str | None:
    value = fields.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise WebhookPayloadError(f"{name} must be a non-empty string", field=name)
    return value.strip()


def _strategy(fields: Mapping[object, object]) -> str:
    value = _text(fields, "strategy") or ""
    if not _STRATEGY.fullmatch(value):
        raise WebhookPayloadError("strategy must be 1–64 letters, digits, '_', '.', ':' or '-'", field="strategy")
    return value


def _symbol(fields: Mapping[object, object]) -> str:
    value = _text(fields, "symbol") or ""
    symbol = read_symbol(value)
    if symbol is None:
        raise WebhookPayloadError(f"symbol {value[:40]!r} is not a USDT or USDC pair", field="symbol")
    return symbol


def _side(fields: Mapping[object, object]) -> PositionSide:
    value = _text(fields, "side") or ""
    side = side_of(value) if value.casefold() in {"buy", "sell", "long", "short"} else None
    if side is None:
        raise WebhookPayloadError(f"side must be buy, sell, long or short, not {value[:20]!r}", field="side")
    return side


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise WebhookPayloadError(f"{name} must be a number", field=name)
    if isinstance(value, str) and len(value) > 40:
        raise WebhookPayloadError(f"{name} is not a number", field=name)
    try:
        number = to_decimal(value.strip() if isinstance(value, str) else value, field=name)
    except ValidationError as error:
        raise WebhookPayloadError(error.reason, field=name) from None
    if abs(number) >= _LARGEST:
        raise WebhookPayloadError(f"{name} {number} is out of range", field=name)
    return number


def _optional_decimal(fields: Mapping[object, object], name: str) -> Decimal | None:
    value = fields.get(name)
    return None if value is None else _decimal(value, name)


def _take_profits(fields: Mapping[object, object]) -> tuple[TakeProfit, ...]:
    value = fields.get("take_profits")
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else [value]
    if len(items) > _MAX_TARGETS:
        raise WebhookPayloadError(f"at most {_MAX_TARGETS} take_profits", field="take_profits")
    return tuple(TakeProfit(_decimal(item, "take_profits")) for item in items)
