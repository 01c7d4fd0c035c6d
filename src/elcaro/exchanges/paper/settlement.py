"""Booking executions: fees out of the wallet, the position opened, grown, reduced or flipped, closed PnL recorded.

The closed trade is the authority for realised PnL: one ``Trade`` per order execution that reduces
a position, priced at the volume-weighted exit of the reducing fills (rounded like every average),
and the wallet is credited exactly ``trade.gross_pnl``. So, once a symbol is flat, the wallet has
moved by exactly the sum of its trades' ``net_pnl``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from elcaro.exchanges.paper.pricing import Leg, average_price, money
from elcaro.exchanges.paper.state import AccountState, PositionState, WorkingOrder
from elcaro.models import ExitReason, Fill, Instrument, OrderStatus, PositionSide, Side, Target, Trade
from elcaro.models.decimals import ZERO


@dataclass(slots=True)
class Settlement:
    fills: list[Fill]
    trade: Trade | None


@dataclass(slots=True)
class _Close:
    """The reducing part of one execution, gathered across its fills."""

    side: PositionSide
    entry_price: Decimal
    opened_at: int
    qty: Decimal = ZERO
    notional: Decimal = ZERO
    fees: Decimal = ZERO
    exit_fees: Decimal = ZERO
    funding: Decimal = ZERO

    def take(self, position: PositionState, qty: Decimal, price: Decimal, exit_fee: Decimal) -> None:
        """Move ``qty`` out of the position with its share of entry fees and funding (the last close takes the rest)."""
        entry_fees = _share(position.entry_fees, qty, position.qty)
        funding = _share(position.funding, qty, position.qty)
        position.entry_fees -= entry_fees
        position.funding -= funding
        position.qty -= qty
        self.qty += qty
        self.notional += price * qty
        self.fees += entry_fees + exit_fee
        self.exit_fees += exit_fee
        self.funding += funding


def _share(amount: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    return amount if part == whole or not amount else money(amount * part / whole)


def settle(
    account: AccountState,
    instrument: Instrument,
    working: WorkingOrder,
    legs: Sequence[Leg],
    *,
    maker: bool,
    fee_rate: Decimal,
    fee_asset: str,
    target: Target,
    now: int,
    new_id: Callable[[], str],
) -> Settlement:
    """Book the fills of one execution of ``working`` and update the order. ``legs`` must not be empty."""
    order = working.order
    fills: list[Fill] = []
    close: _Close | None = None
    for leg in legs:
        fee = money(instrument.notional(leg.qty, leg.price) * fee_rate)
        account.wallet -= fee
        fills.append(
            Fill(
                new_id(),
                order.client_order_id,
                order.symbol,
                order.side,
                leg.qty,
                leg.price,
                fee,
                fee_asset,
                maker,
                now,
                order.exchange_order_id,
            )
        )
        working.notional += leg.price * leg.qty
        close = _book_leg(account, instrument, order.side, leg, fee, close, now)

    filled = order.filled_qty + sum((fill.qty for fill in fills), ZERO)
    working.order = order.with_update(
        filled_qty=filled,
        avg_fill_price=average_price(working.notional, filled, instrument.tick_size),
        fee=order.fee + sum((fill.fee for fill in fills), ZERO),
        status=OrderStatus.FILLED if filled == order.qty else OrderStatus.PARTIALLY_FILLED,
        updated_at=now,
    )
    trade = _record_close(account, instrument, working, close, target, now) if close is not None else None
    _attach_protection(account, working)
    return Settlement(fills, trade)


def _book_leg(
    account: AccountState, instrument: Instrument, side: Side, leg: Leg, fee: Decimal, close: _Close | None, now: int
) -> _Close | None:
    position = account.positions.get(instrument.symbol)
    qty, fee_left = leg.qty, fee
    if position is not None and position.side.entry_side is not side:
        reduced = min(qty, position.qty)
        exit_fee = _share(fee, reduced, qty)
        if close is None:
            close = _Close(position.side, position.entry_price, position.opened_at)
        close.take(position, reduced, leg.price, exit_fee)
        qty -= reduced
        fee_left -= exit_fee
        position.updated_at = now
        if position.qty == 0:
            del account.positions[instrument.symbol]
    if qty > 0:
        _open(account, instrument, side, Leg(leg.price, qty), fee_left, now)
    return close


def _open(account: AccountState, instrument: Instrument, side: Side, leg: Leg, fee: Decimal, now: int) -> None:
    position = account.positions.get(instrument.symbol)
    if position is None:
        account.positions[instrument.symbol] = PositionState(
            instrument.symbol,
            PositionSide.from_side(side),
            leg.qty,
            leg.price,
            now,
            now,
            entry_fees=fee,
            realized_pnl=-fee,
        )
        return
    total = position.qty + leg.qty
    position.entry_price = average_price(
        position.entry_price * position.qty + leg.price * leg.qty, total, instrument.tick_size
    )
    position.qty = total
    position.entry_fees += fee
    position.realized_pnl -= fee
    position.updated_at = now


def _record_close(
    account: AccountState, instrument: Instrument, working: WorkingOrder, close: _Close, target: Target, now: int
) -> Trade:
    trade = Trade(
        target,
        instrument.symbol,
        close.side,
        close.qty,
        close.entry_price,
        average_price(close.notional, close.qty, instrument.tick_size),
        close.opened_at,
        now,
        working.reason or ExitReason.EXTERNAL,
        fees=close.fees,
        funding=close.funding,
        contract_size=instrument.contract_size,
    )
    account.wallet += trade.gross_pnl
    account.trades.append(trade)
    remaining = account.positions.get(instrument.symbol)
    if remaining is not None and remaining.side is close.side:
        remaining.realized_pnl += trade.gross_pnl - close.exit_fees
    return trade


def _attach_protection(account: AccountState, working: WorkingOrder) -> None:
    """An entry's TP/SL go to the position once it is on the entry's side (never to a position it only reduced)."""
    order = working.order
    position = account.positions.get(order.symbol)
    if position is None or position.side.entry_side is not order.side:
        return
    if order.take_profit is not None:
        position.take_profit = order.take_profit
    if order.stop_loss is not None:
        position.stop_loss = order.stop_loss
