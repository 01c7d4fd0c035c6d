"""Margin of an account: what positions and resting orders hold, what is free, where positions liquidate.

Isolated margin is modelled as venues do: a position holds entry value / leverage and loses at most
that (less the maintenance margin) before it is liquidated. Cross margin is simplified: positions
hold the same initial margin, but each cross position may also lose the account's free balance
before it liquidates, and each is considered alone (two cross positions both count the whole free
balance; losses of one do not move the other's liquidation price). Unrealised PnL never changes the
available balance, in either mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from elcaro.exchanges.paper.config import PaperConfig
from elcaro.exchanges.paper.pricing import liquidation_price, money
from elcaro.exchanges.paper.state import AccountState, PositionState, WorkingOrder
from elcaro.models import Instrument, MarginMode, Side
from elcaro.models.decimals import ZERO


def leverage_of(account: AccountState, instrument: Instrument, config: PaperConfig) -> Decimal:
    chosen = account.leverage.get(instrument.symbol)
    return chosen if chosen is not None else min(config.default_leverage, instrument.max_leverage)


def margin_mode_of(account: AccountState, symbol: str) -> MarginMode:
    return account.margin_mode.get(symbol, MarginMode.ISOLATED)


def opening_qty(position: PositionState | None, side: Side, qty: Decimal) -> Decimal:
    """The part of an order on ``side`` that would open or add exposure rather than reduce it."""
    if position is None or position.side.entry_side is side:
        return qty
    return max(qty - position.qty, ZERO)


def opening_cost(
    instrument: Instrument, qty: Decimal, price: Decimal, leverage: Decimal, taker_fee: Decimal
) -> Decimal:
    """Initial margin plus the taker fee of opening ``qty`` at ``price``: what an entry must find free."""
    value = instrument.notional(qty, price)
    return money(value / leverage + value * taker_fee, "up")


def position_margin(position: PositionState, instrument: Instrument, leverage: Decimal) -> Decimal:
    return money(instrument.notional(position.qty, position.entry_price) / leverage, "up")


def order_margin(
    working: WorkingOrder, position: PositionState | None, instrument: Instrument, leverage: Decimal, taker_fee: Decimal
) -> Decimal:
    """What a resting order holds. Stops waiting for their trigger hold nothing (as on Bybit); they
    are checked for funds when they fire."""
    order = working.order
    if order.reduce_only or order.price is None or working.waiting_for_trigger:
        return ZERO
    qty = opening_qty(position, order.side, order.remaining_qty)
    return opening_cost(instrument, qty, order.price, leverage, taker_fee) if qty else ZERO


def available(
    account: AccountState,
    open_orders: Iterable[WorkingOrder],
    instruments: Mapping[str, Instrument],
    config: PaperConfig,
) -> Decimal:
    """Wallet less the margin held by positions and resting orders."""
    held = ZERO
    for symbol, position in account.positions.items():
        instrument = instruments[symbol]
        held += position_margin(position, instrument, leverage_of(account, instrument, config))
    for working in open_orders:
        instrument = instruments[working.order.symbol]
        held += order_margin(
            working,
            account.positions.get(instrument.symbol),
            instrument,
            leverage_of(account, instrument, config),
            config.taker_fee,
        )
    return account.wallet - held


def liquidation_price_of(
    account: AccountState, position: PositionState, instrument: Instrument, config: PaperConfig, free: Decimal
) -> Decimal | None:
    """``free`` is the account's available balance, which only a cross position may draw on."""
    extra = max(free, ZERO) if margin_mode_of(account, position.symbol) is MarginMode.CROSS else ZERO
    return liquidation_price(
        position.side,
        position.entry_price,
        position.qty * instrument.contract_size,
        leverage_of(account, instrument, config),
        config.maintenance_margin_rate,
        extra,
        instrument.tick_size,
    )
