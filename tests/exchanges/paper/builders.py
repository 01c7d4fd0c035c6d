"""Instruments, orders and engines for the paper exchange tests, with short names for readable figures."""

from __future__ import annotations

from decimal import Decimal as D

from elcaro.exchanges.paper import ManualClock, PaperConfig, PaperEngine
from elcaro.models import Instrument, Order, OrderType, Side, TimeInForce

START_MS = 1_700_000_000_000
ALICE = "alice"
BOB = "bob"

BTC = Instrument(
    symbol="BTC/USDT:USDT",
    base="BTC",
    quote="USDT",
    settle="USDT",
    tick_size=D("0.1"),
    qty_step=D("0.001"),
    min_qty=D("0.001"),
    min_notional=D("5"),
    max_qty=D("100"),
    max_leverage=D("100"),
)
ETH = Instrument(
    symbol="ETH/USDT:USDT",
    base="ETH",
    quote="USDT",
    settle="USDT",
    tick_size=D("0.01"),
    qty_step=D("0.01"),
    min_qty=D("0.01"),
    min_notional=D("5"),
    max_leverage=D("5"),
)
PEPE = Instrument(
    symbol="1000PEPE/USDT:USDT",
    base="1000PEPE",
    quote="USDT",
    settle="USDT",
    tick_size=D("0.0000001"),
    qty_step=D("1"),
    min_qty=D("1"),
    contract_size=D("10"),
    max_leverage=D("25"),
)


def make_engine(
    *, deposit: str = "10000", config: PaperConfig | None = None, clock: ManualClock | None = None
) -> tuple[PaperEngine, ManualClock]:
    """An engine with BTC, ETH and PEPE, alice's account funded, and a clock at START_MS."""
    clock = clock or ManualClock(START_MS)
    engine = PaperEngine([BTC, ETH, PEPE], clock=clock, config=config)
    engine.open_account(ALICE, D(deposit))
    return engine, clock


def market(cid: str, side: Side, qty: str, symbol: str = BTC.symbol, **extra: object) -> Order:
    return Order(cid, symbol, side, OrderType.MARKET, D(qty), **_decimals(extra))


def limit(
    cid: str,
    side: Side,
    qty: str,
    price: str,
    tif: TimeInForce = TimeInForce.GTC,
    symbol: str = BTC.symbol,
    **extra: object,
) -> Order:
    return Order(cid, symbol, side, OrderType.LIMIT, D(qty), price=D(price), time_in_force=tif, **_decimals(extra))


def stop(cid: str, side: Side, qty: str, trigger: str, price: str | None = None, **extra: object) -> Order:
    kind = OrderType.STOP_MARKET if price is None else OrderType.STOP_LIMIT
    return Order(
        cid,
        BTC.symbol,
        side,
        kind,
        D(qty),
        price=None if price is None else D(price),
        trigger_price=D(trigger),
        **_decimals(extra),
    )


def _decimals(extra: dict[str, object]) -> dict[str, object]:
    """Lets tests write ``take_profit="31000"``; everything else passes as it is."""
    prices = ("take_profit", "stop_loss")
    return {key: D(value) if key in prices and isinstance(value, str) else value for key, value in extra.items()}
