"""Instruments, signals and fills shared by the copy-trading tests."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from elcaro.models import (
    Entry,
    EntryKind,
    Environment,
    Exchange,
    Fill,
    Instrument,
    PositionSide,
    Side,
    Signal,
    SignalSource,
    SourceKind,
    TakeProfit,
    Target,
)
from elcaro.trading.settings import TradingSettings

DEMO = Target(Exchange.BYBIT, Environment.DEMO)
LIVE = Target(Exchange.BYBIT, Environment.LIVE)
PAPER = Target(Exchange.BINANCE, Environment.PAPER)

BTC = Instrument(
    symbol="BTC/USDT:USDT",
    base="BTC",
    quote="USDT",
    settle="USDT",
    tick_size=D("0.1"),
    qty_step=D("0.001"),
    min_qty=D("0.001"),
    min_notional=D("5"),
    max_leverage=D("100"),
)
AVAX = Instrument(
    symbol="AVAX/USDT:USDT",
    base="AVAX",
    quote="USDT",
    settle="USDT",
    tick_size=D("0.01"),
    qty_step=D("0.1"),
    min_qty=D("0.1"),
    min_notional=D("5"),
    max_leverage=D("50"),
)


def signal(
    *,
    symbol: str = "BTC/USDT:USDT",
    side: PositionSide = PositionSide.LONG,
    entry: Entry | None = None,
    targets: tuple[str, ...] = ("52000", "54000"),
    shares: tuple[str, ...] = (),
    stop: str | None = "49000",
    **extra: Any,
) -> Signal:
    take_profits = tuple(TakeProfit(D(price), D(shares[i]) if shares else None) for i, price in enumerate(targets))
    return Signal(
        source=SignalSource(SourceKind.CHANNEL, "-100123"),
        strategy=extra.pop("strategy", "elcaro"),
        symbol=symbol,
        side=side,
        entry=entry or Entry(EntryKind.LIMIT, (D(50000),)),
        take_profits=take_profits,
        stop_loss=D(stop) if stop is not None else None,
        id=extra.pop("id", 42),
        **extra,
    )


def settings(**values: Any) -> TradingSettings:
    return TradingSettings.parse({"enabled": True, **values})


def fill(
    order_id: str | None, side: Side, qty: str, price: str, at: int = 1_000, *, fee: str = "0", symbol: str = BTC.symbol
) -> Fill:
    return Fill(
        trade_id=f"t-{order_id}-{qty}-{price}-{at}",
        client_order_id=order_id or "venue-generated",
        symbol=symbol,
        side=side,
        qty=D(qty),
        price=D(price),
        fee=D(fee),
        fee_asset="USDT",
        is_maker=False,
        timestamp=at,
    )
