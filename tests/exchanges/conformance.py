"""Protocol conformance: what every ``ExchangeAdapter`` must do, checked through the protocol alone.

Venue-neutral on purpose: the same checks run against the paper adapter and against the ccxt Bybit
adapter talking HTTP to the simulator. A venue under test is a ``Venue``: the adapter, a
``MarketDriver`` that can move one symbol's price (mark and last) on that venue, the symbol, and
the price each check starts from. The account needs a balance worth a few hundred times the
instrument's smallest order and the symbol must accept a leverage of 10.

Each check starts by moving the price to ``venue.price`` and flattening the account (orders
canceled, positions closed by reduce-only market orders), so the checks run in any order.
Usage::

    @pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
    async def test_conformance(check: Check) -> None:
        await check(make_venue())
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import pytest

from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import Instrument, Order, OrderStatus, OrderType, PositionSide, Side, make_client_order_id
from elcaro.models.decimals import round_to_step
from elcaro.models.errors import InsufficientFundsError, InvalidOrderError, OrderNotFoundError


class MarketDriver(Protocol):
    async def set_price(self, symbol: str, price: Decimal) -> None:
        """Move the symbol's mark and last price to ``price`` and let the venue act on it."""
        ...


@dataclass(frozen=True)
class Venue:
    adapter: ExchangeAdapter
    market: MarketDriver
    symbol: str
    price: Decimal


Check = Callable[[Venue], Awaitable[None]]

_RUN = secrets.token_hex(4)  # client order ids stay unique if the suite runs twice against one account


def _cid(*parts: object) -> str:
    return make_client_order_id("conformance", _RUN, *parts)


async def _instrument(venue: Venue) -> Instrument:
    return (await venue.adapter.load_instruments())[venue.symbol]


def _lot(instrument: Instrument, price: Decimal) -> Decimal:
    """The smallest quantity comfortably above the instrument's minimums."""
    needed = instrument.min_notional * Decimal("1.5") / (price * instrument.contract_size)
    return round_to_step(max(instrument.min_qty, needed, instrument.qty_step), instrument.qty_step, "up")


def _at(instrument: Instrument, price: Decimal, factor: str) -> Decimal:
    return instrument.round_price(price * Decimal(factor))


async def _flatten(venue: Venue) -> None:
    adapter = venue.adapter
    await adapter.cancel_all_orders()
    for position in await adapter.fetch_positions():
        side = position.side.exit_side
        await adapter.place_order(
            Order(
                _cid("flatten", position.symbol, secrets.token_hex(4)),
                position.symbol,
                side,
                OrderType.MARKET,
                position.qty,
                reduce_only=True,
            )
        )


async def _start(venue: Venue) -> tuple[Instrument, Decimal]:
    await venue.market.set_price(venue.symbol, venue.price)
    await _flatten(venue)
    instrument = await _instrument(venue)
    return instrument, _lot(instrument, venue.price)


async def _market(
    venue: Venue,
    cid: str,
    side: Side,
    qty: Decimal,
    *,
    reduce_only: bool = False,
    take_profit: Decimal | None = None,
    stop_loss: Decimal | None = None,
) -> Order:
    order = Order(
        cid,
        venue.symbol,
        side,
        OrderType.MARKET,
        qty,
        reduce_only=reduce_only,
        take_profit=take_profit,
        stop_loss=stop_loss,
    )
    return await venue.adapter.place_order(order)


async def check_instruments_load(venue: Venue) -> None:
    instruments = await venue.adapter.load_instruments()
    instrument = instruments[venue.symbol]
    assert instrument.symbol == venue.symbol
    assert instrument.tick_size > 0 and instrument.qty_step > 0 and instrument.max_leverage >= 1


async def check_balance(venue: Venue) -> None:
    await _start(venue)
    balance = await venue.adapter.fetch_balance()
    assert balance.wallet > 0
    assert 0 <= balance.available <= balance.wallet


async def check_market_order_opens_position(venue: Venue) -> None:
    _, lot = await _start(venue)
    order = await _market(venue, _cid("open-long"), Side.BUY, lot)
    assert order.status is OrderStatus.FILLED and order.filled_qty == lot
    (position,) = await venue.adapter.fetch_positions([venue.symbol])
    assert (position.side, position.qty) == (PositionSide.LONG, lot)
    assert position.entry_price > 0

    await _flatten(venue)
    await _market(venue, _cid("open-short"), Side.SELL, lot)
    (position,) = await venue.adapter.fetch_positions([venue.symbol])
    assert (position.side, position.qty) == (PositionSide.SHORT, lot)


async def check_limit_order_rests_amends_and_cancels(venue: Venue) -> None:
    instrument, lot = await _start(venue)
    cid = _cid("limit")
    price = _at(instrument, venue.price, "0.9")
    placed = await venue.adapter.place_order(Order(cid, venue.symbol, Side.BUY, OrderType.LIMIT, lot, price=price))
    assert placed.status is OrderStatus.OPEN and placed.filled_qty == 0
    assert [order.client_order_id for order in await venue.adapter.fetch_open_orders(venue.symbol)] == [cid]

    new_price = _at(instrument, venue.price, "0.85")
    await venue.adapter.amend_order(venue.symbol, cid, qty=lot * 2, price=new_price)
    amended = await venue.adapter.fetch_order(venue.symbol, cid)
    assert (amended.qty, amended.price, amended.status) == (lot * 2, new_price, OrderStatus.OPEN)

    canceled = await venue.adapter.cancel_order(venue.symbol, cid)
    assert canceled.status is OrderStatus.CANCELED
    assert await venue.adapter.fetch_open_orders(venue.symbol) == []
    assert (await venue.adapter.fetch_order(venue.symbol, cid)).status is OrderStatus.CANCELED


async def check_attached_take_profit_fires(venue: Venue) -> None:
    instrument, lot = await _start(venue)
    take_profit, stop_loss = _at(instrument, venue.price, "1.02"), _at(instrument, venue.price, "0.98")
    await _market(venue, _cid("tp-entry"), Side.BUY, lot, take_profit=take_profit, stop_loss=stop_loss)
    (position,) = await venue.adapter.fetch_positions([venue.symbol])
    assert (position.take_profit, position.stop_loss) == (take_profit, stop_loss)

    await venue.market.set_price(venue.symbol, _at(instrument, venue.price, "1.03"))
    assert await venue.adapter.fetch_positions([venue.symbol]) == []
    trade = (await venue.adapter.fetch_closed_pnl(venue.symbol))[-1]
    assert (trade.side, trade.qty) == (PositionSide.LONG, lot)
    assert trade.exit_price >= take_profit and trade.gross_pnl > 0


async def check_attached_stop_loss_fires(venue: Venue) -> None:
    instrument, lot = await _start(venue)
    take_profit, stop_loss = _at(instrument, venue.price, "0.98"), _at(instrument, venue.price, "1.02")
    await _market(venue, _cid("sl-entry"), Side.SELL, lot, take_profit=take_profit, stop_loss=stop_loss)

    await venue.market.set_price(venue.symbol, _at(instrument, venue.price, "1.03"))
    assert await venue.adapter.fetch_positions([venue.symbol]) == []
    trade = (await venue.adapter.fetch_closed_pnl(venue.symbol))[-1]
    assert (trade.side, trade.qty) == (PositionSide.SHORT, lot)
    assert trade.exit_price >= stop_loss and trade.gross_pnl < 0


async def check_reduce_only_never_flips(venue: Venue) -> None:
    _, lot = await _start(venue)
    await _market(venue, _cid("ro-entry"), Side.BUY, lot * 2)
    await _market(venue, _cid("ro-close"), Side.SELL, lot * 3, reduce_only=True)
    assert await venue.adapter.fetch_positions([venue.symbol]) == []
    with pytest.raises(InvalidOrderError):
        await _market(venue, _cid("ro-flat"), Side.SELL, lot, reduce_only=True)
    assert await venue.adapter.fetch_positions([venue.symbol]) == []


async def check_close_all(venue: Venue) -> None:
    instrument, lot = await _start(venue)
    await _market(venue, _cid("all-entry"), Side.BUY, lot)
    for n, factor in enumerate(("0.9", "0.8")):
        price = _at(instrument, venue.price, factor)
        await venue.adapter.place_order(
            Order(_cid("all-limit", n), venue.symbol, Side.BUY, OrderType.LIMIT, lot, price=price)
        )
    assert await venue.adapter.cancel_all_orders(venue.symbol) == 2
    await _flatten(venue)
    assert await venue.adapter.fetch_open_orders() == []
    assert await venue.adapter.fetch_positions() == []


async def check_duplicate_client_order_id_never_doubles(venue: Venue) -> None:
    instrument, lot = await _start(venue)
    cid = _cid("dup-limit")
    limit = Order(cid, venue.symbol, Side.BUY, OrderType.LIMIT, lot, price=_at(instrument, venue.price, "0.9"))
    first = await venue.adapter.place_order(limit)
    again = await venue.adapter.place_order(limit)
    assert again.exchange_order_id == first.exchange_order_id
    assert [order.client_order_id for order in await venue.adapter.fetch_open_orders(venue.symbol)] == [cid]

    market_cid = _cid("dup-market")
    await _market(venue, market_cid, Side.BUY, lot)
    await _market(venue, market_cid, Side.BUY, lot)
    (position,) = await venue.adapter.fetch_positions([venue.symbol])
    assert position.qty == lot


async def check_fetch_order_by_client_id(venue: Venue) -> None:
    instrument, lot = await _start(venue)
    cid = _cid("fetch")
    price = _at(instrument, venue.price, "0.9")
    placed = await venue.adapter.place_order(Order(cid, venue.symbol, Side.BUY, OrderType.LIMIT, lot, price=price))
    fetched = await venue.adapter.fetch_order(venue.symbol, cid)
    assert (fetched.client_order_id, fetched.exchange_order_id) == (cid, placed.exchange_order_id)
    assert (fetched.side, fetched.qty, fetched.price, fetched.status) == (Side.BUY, lot, price, OrderStatus.OPEN)

    filled_cid = _cid("fetch-filled")
    await _market(venue, filled_cid, Side.BUY, lot)
    filled = await venue.adapter.fetch_order(venue.symbol, filled_cid)
    assert (filled.status, filled.filled_qty) == (OrderStatus.FILLED, lot)


async def check_unknown_order_is_not_found(venue: Venue) -> None:
    await _start(venue)
    with pytest.raises(OrderNotFoundError):
        await venue.adapter.fetch_order(venue.symbol, _cid("never-placed"))
    with pytest.raises(OrderNotFoundError):
        await venue.adapter.cancel_order(venue.symbol, _cid("never-placed"))


async def check_invalid_orders_are_refused(venue: Venue) -> None:
    instrument, lot = await _start(venue)
    too_small = instrument.min_qty - instrument.qty_step
    if too_small <= 0:
        too_small = instrument.qty_step / 2
    with pytest.raises(InvalidOrderError):
        await _market(venue, _cid("too-small"), Side.BUY, too_small)
    with pytest.raises(InvalidOrderError):
        await venue.adapter.place_order(Order(_cid("no-symbol"), "NOSUCH/USDT:USDT", Side.BUY, OrderType.MARKET, lot))
    assert await venue.adapter.fetch_positions([venue.symbol]) == []


async def check_insufficient_funds(venue: Venue) -> None:
    instrument, _ = await _start(venue)
    await venue.adapter.set_leverage(venue.symbol, Decimal(1))
    try:
        price = _at(instrument, venue.price, "0.95")
        wallet = (await venue.adapter.fetch_balance()).wallet
        qty = round_to_step(wallet * 3 / (price * instrument.contract_size), instrument.qty_step, "up")
        assert instrument.max_qty is None or qty <= instrument.max_qty, "max_qty too small to outspend the account"
        with pytest.raises(InsufficientFundsError):
            await venue.adapter.place_order(
                Order(_cid("too-big"), venue.symbol, Side.BUY, OrderType.LIMIT, qty, price=price)
            )
        assert await venue.adapter.fetch_open_orders(venue.symbol) == []
    finally:
        await venue.adapter.set_leverage(venue.symbol, Decimal(10))


CHECKS: tuple[Check, ...] = (
    check_instruments_load,
    check_balance,
    check_market_order_opens_position,
    check_limit_order_rests_amends_and_cancels,
    check_attached_take_profit_fires,
    check_attached_stop_loss_fires,
    check_reduce_only_never_flips,
    check_close_all,
    check_duplicate_client_order_id_never_doubles,
    check_fetch_order_by_client_id,
    check_unknown_order_is_not_found,
    check_invalid_orders_are_refused,
    check_insufficient_funds,
)


async def run_all(venue: Venue) -> None:
    for check in CHECKS:
        await check(venue)
