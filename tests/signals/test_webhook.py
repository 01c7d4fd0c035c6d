"""TradingView-style alerts: secret first, then shape, then age; unknown fields ignored."""

import json
from decimal import Decimal as D
from typing import Any

import pytest

from elcaro.models import Entry, EntryKind, PositionSide, Signal, SignalSource, SourceKind, TakeProfit
from elcaro.models.errors import InvalidSignalError, PermissionDeniedError
from elcaro.signals import (
    StaleWebhookError,
    WebhookPayloadError,
    WebhookSecretError,
    parse_webhook,
)

SECRET = "s3cr3t-Value"
NOW = 1_732_190_410_000
ALERT_JSON = """{"secret": "s3cr3t-Value", "strategy": "tv_breakout", "symbol": "BTCUSDT", "side": "buy",
 "price": 67250.5, "stop_loss": 66100, "take_profits": [68400, 69800], "leverage": 10,
 "timestamp": 1732190400000, "max_lag": 60}"""


def alert(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(ALERT_JSON)
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def parse(payload: object, *, now_ms: int = NOW, secret: str = SECRET) -> Signal:
    return parse_webhook(payload, secret=secret, now_ms=now_ms, source="tradingview")


def test_the_signals_md_alert_becomes_a_signal() -> None:
    signal = parse(json.loads(ALERT_JSON, parse_float=D))
    assert signal == Signal(
        source=SignalSource(SourceKind.WEBHOOK, "tradingview"),
        strategy="tv_breakout",
        symbol="BTC/USDT:USDT",
        side=PositionSide.LONG,
        entry=Entry(EntryKind.MARKET, (D("67250.5"),)),
        take_profits=(TakeProfit(D("68400")), TakeProfit(D("69800"))),
        stop_loss=D("66100"),
        leverage=D("10"),
        raw_text=signal.raw_text,
        received_at=NOW,
    )
    assert "secret" not in signal.raw_text
    assert SECRET not in signal.raw_text


def test_floats_are_read_through_their_shortest_repr() -> None:
    assert parse(alert()).entry.prices == (D("67250.5"),)
    assert parse(alert(price=0.1, stop_loss=0.09, take_profits=[0.11])).entry.prices == (D("0.1"),)


def test_unknown_fields_are_ignored_and_strings_are_numbers() -> None:
    signal = parse(alert(comment="breakout!", exchange="BINANCE", price="67250.50", symbol="BINANCE:BTCUSDT.P"))
    assert signal.entry.prices == (D("67250.50"),)
    assert signal.symbol == "BTC/USDT:USDT"


def test_limit_orders_sell_sides_timeframes_and_iso_timestamps() -> None:
    signal = parse(
        alert(
            side="SELL",
            order_type="limit",
            stop_loss=68400,
            take_profits=66100,
            timeframe="60",
            timestamp="2024-11-21T12:00:00Z",
        ),
        now_ms=1_732_190_400_000 + 5_000,
    )
    assert signal.side is PositionSide.SHORT
    assert signal.entry == Entry(EntryKind.LIMIT, (D("67250.5"),))
    assert signal.take_profits == (TakeProfit(D("66100")),)
    assert signal.timeframe == "1h"


def test_an_alert_without_a_price_is_a_market_entry() -> None:
    signal = parse(alert(price=None, stop_loss=None, take_profits=None))
    assert signal.entry == Entry(EntryKind.MARKET)


@pytest.mark.parametrize(
    "payload",
    [alert(secret="wrong"), alert(secret=None), alert(secret=1234), {"secret": SECRET.upper()}, [SECRET], "x", None],
)
def test_a_wrong_or_missing_secret_is_refused_before_anything_else(payload: object) -> None:
    with pytest.raises(WebhookSecretError, match="secret") as raised:
        parse(payload)
    assert isinstance(raised.value, PermissionDeniedError)
    assert isinstance(raised.value, InvalidSignalError)


def test_a_source_without_a_secret_refuses_everything() -> None:
    with pytest.raises(WebhookSecretError, match="no secret configured"):
        parse(alert(secret=""), secret="")


def test_a_stale_alert_is_dropped() -> None:
    with pytest.raises(StaleWebhookError, match="over its max_lag 60 s") as raised:
        parse(alert(), now_ms=1_732_190_400_000 + 60_001)
    assert raised.value.age_ms == 60_001
    assert parse(alert(), now_ms=1_732_190_400_000 + 60_000).received_at == 1_732_190_460_000
    assert parse(alert(max_lag=300), now_ms=1_732_190_400_000 + 200_000).strategy == "tv_breakout"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timestamp": None}, "timestamp"),
        ({"timestamp": 1732190400}, "timestamp"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "2024-11-21T12:00:00"}, "timestamp"),
        ({"timestamp": True}, "timestamp"),
        ({"timestamp": NOW + 120_000}, "timestamp"),
        ({"max_lag": 0}, "max_lag"),
        ({"max_lag": 86_400}, "max_lag"),
        ({"max_lag": "soon"}, "max_lag"),
        ({"strategy": None}, "strategy"),
        ({"strategy": "has spaces"}, "strategy"),
        ({"symbol": "BTC"}, "symbol"),
        ({"symbol": 42}, "symbol"),
        ({"side": "hold"}, "side"),
        ({"price": "cheap"}, "price"),
        ({"price": True}, "price"),
        ({"price": float("nan")}, "price"),
        ({"price": 10**20}, "price"),
        ({"price": "1e999999"}, "price"),
        ({"order_type": "stop"}, "order_type"),
        ({"order_type": "limit", "price": None}, "price"),
        ({"take_profits": [68400, "x"]}, "take_profits"),
        ({"take_profits": list(range(68_000, 68_021))}, "take_profits"),
        ({"leverage": [10]}, "leverage"),
        ({"timeframe": "soon"}, "timeframe"),
    ],
)
def test_a_malformed_alert_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidSignalError) as raised:
        parse(alert(**changes))
    assert raised.value.field == field
    assert not isinstance(raised.value, WebhookSecretError | StaleWebhookError)


def test_shape_errors_are_payload_errors_and_inconsistency_is_a_signal_error() -> None:
    with pytest.raises(WebhookPayloadError):
        parse(alert(side="hold"))
    with pytest.raises(InvalidSignalError, match="stop 68100 must be below") as raised:
        parse(alert(stop_loss=68100))
    assert not isinstance(raised.value, WebhookPayloadError)


def test_the_same_alert_sent_twice_has_the_same_content_hash_and_a_new_one_differs() -> None:
    first, again = parse(alert()), parse(alert())
    later = parse(alert(timestamp=1_732_190_405_000))
    assert first.content_hash == again.content_hash != later.content_hash
