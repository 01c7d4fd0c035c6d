"""The HyperLiquid adapter against the loopback fake, which recovers the signer of every action it receives."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal as D

import pytest
from ccxt_venues import HyperliquidKeys, make_hyperliquid
from fakes.hyperliquid import FakeHyperliquid

from elcaro.exchanges.hyperliquid.adapter import HyperliquidAdapter, child_cloid
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import MarginMode, Order, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from elcaro.models.errors import (
    AuthenticationError,
    InsufficientFundsError,
    InvalidOrderError,
    OrderNotFoundError,
    RateLimitedError,
)

BTC = "BTC/USDC:USDC"
ETH = "ETH/USDC:USDC"
CID = "0x" + "ab" * 16


def market(qty: str, side: Side = Side.BUY, cid: str = CID, **fields: object) -> Order:
    return Order(cid, BTC, side, OrderType.MARKET, D(qty), **fields)  # type: ignore[arg-type]


def limit(qty: str, price: str, cid: str = CID, **fields: object) -> Order:
    return Order(cid, BTC, Side.BUY, OrderType.LIMIT, D(qty), price=D(price), **fields)  # type: ignore[arg-type]


def test_the_adapter_implements_the_protocol(hyperliquid: HyperliquidAdapter) -> None:
    assert isinstance(hyperliquid, ExchangeAdapter)


async def test_instruments_follow_hyperliquids_precision(hyperliquid: HyperliquidAdapter) -> None:
    instruments = await hyperliquid.load_instruments()
    assert set(instruments) == {BTC, ETH}
    btc, eth = instruments[BTC], instruments[ETH]
    assert (btc.qty_step, btc.min_qty, btc.min_notional, btc.max_leverage) == (D("0.00001"), D("0.00001"), D(10), D(40))
    assert btc.tick_size == D(1)  # 30000: five significant figures leave whole dollars
    assert eth.tick_size == D("0.1")  # 2000.5


async def test_a_limit_order_rests_with_its_cloid(
    hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid
) -> None:
    placed = await hyperliquid.place_order(limit("0.01", "29000"))
    assert (placed.status, placed.exchange_order_id) == (OrderStatus.OPEN, "1000")
    (action,) = hyperliquid_fake.actions
    assert action == {
        "type": "order",
        "orders": [
            {"a": 0, "b": True, "p": "29000", "s": "0.01", "r": False, "t": {"limit": {"tif": "Gtc"}}, "c": CID}
        ],
        "grouping": "na",
    }
    fetched = await hyperliquid.fetch_order(BTC, CID)
    assert (fetched.price, fetched.qty, fetched.status, fetched.side) == (
        D("29000"),
        D("0.01"),
        OrderStatus.OPEN,
        Side.BUY,
    )
    assert [order.client_order_id for order in await hyperliquid.fetch_open_orders(BTC)] == [CID]


async def test_a_market_order_is_an_ioc_through_the_mid(
    hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid
) -> None:
    placed = await hyperliquid.place_order(market("0.01"))
    assert (placed.status, placed.filled_qty, placed.avg_fill_price) == (OrderStatus.FILLED, D("0.01"), D("30000"))
    (wire,) = hyperliquid_fake.actions[0]["orders"]
    assert (wire["p"], wire["t"]) == ("31500", {"limit": {"tif": "Ioc"}})  # mid + 5%
    (position,) = await hyperliquid.fetch_positions()
    assert (position.symbol, position.side, position.qty, position.entry_price) == (
        BTC,
        PositionSide.LONG,
        D("0.01"),
        D("30000"),
    )
    assert (position.leverage, position.margin_mode, position.mark_price) == (D(20), MarginMode.CROSS, D("30000"))


async def test_attached_tp_sl_are_children_with_their_own_cloids(
    hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid
) -> None:
    await hyperliquid.place_order(market("0.01", take_profit=D("33000"), stop_loss=D("28500")))
    action = hyperliquid_fake.actions[0]
    assert action["grouping"] == "normalTpsl"
    entry, take_profit, stop_loss = action["orders"]
    assert entry["c"] == CID
    assert (take_profit["b"], take_profit["r"], take_profit["c"]) == (False, True, child_cloid(CID, "tp"))
    assert take_profit["t"] == {"trigger": {"isMarket": True, "triggerPx": "33000", "tpsl": "tp"}}
    assert stop_loss["t"] == {"trigger": {"isMarket": True, "triggerPx": "28500", "tpsl": "sl"}}
    assert stop_loss["c"] == child_cloid(CID, "sl")
    (position,) = await hyperliquid.fetch_positions([BTC])
    assert (position.take_profit, position.stop_loss) == (D("33000"), D("28500"))
    assert await hyperliquid.fetch_open_orders() == []  # the TP/SL belong to the position


async def test_no_builder_and_no_approval_or_referral_ever(
    hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid
) -> None:
    await hyperliquid.place_order(limit("0.01", "29000"))
    await hyperliquid.place_order(market("0.01", cid="0x" + "cd" * 16, take_profit=D("33000")))
    await hyperliquid.amend_order(BTC, CID, price=D("28000"))
    await hyperliquid.cancel_order(BTC, CID)
    await hyperliquid.set_leverage(BTC, D(5))
    await hyperliquid.set_position_protection(BTC, stop_loss=D("27000"))
    kinds = [action["type"] for action in hyperliquid_fake.actions]
    assert kinds == ["order", "order", "batchModify", "cancelByCloid", "updateLeverage", "order"]
    assert not {"approveBuilderFee", "setReferrer"} & set(kinds)
    for action in hyperliquid_fake.actions:
        assert "builder" not in action
    bodies = [json.loads(seen.body) for seen in hyperliquid_fake.requests("/exchange")]
    assert all("builder" not in json.dumps(body) for body in bodies)


async def test_the_signed_body_is_byte_identical_to_stock_ccxt(
    hyperliquid_fake: FakeHyperliquid, hyperliquid_keys: HyperliquidKeys
) -> None:
    """The same orders through the adapter with ccxt's signing and with the fast signer: the same bytes on the wire."""
    bodies = []
    for fast in (False, True):
        adapter = make_hyperliquid(hyperliquid_fake, hyperliquid_keys, fast_signing=fast)
        assert (adapter._exchange.elcaro_signer is not None) is fast
        adapter._exchange.milliseconds = lambda: 1_767_225_600_000  # both instances sign the same nonce
        hyperliquid_fake.account.orders.clear()
        hyperliquid_fake.account.cloids.clear()
        before = len(hyperliquid_fake.requests("/exchange"))
        try:
            await adapter.place_order(limit("0.01", "29000", take_profit=D("33000"), stop_loss=D("28000")))
            await adapter.cancel_order(BTC, CID)
            await adapter.set_leverage(BTC, D(7))
        finally:
            await adapter.close()
        bodies.append([seen.body for seen in hyperliquid_fake.requests("/exchange")[before:]])
    stock, fast_bodies = bodies
    assert len(stock) == 3 and stock == fast_bodies


async def test_a_foreign_key_is_an_authentication_error(
    hyperliquid_fake: FakeHyperliquid, hyperliquid_keys: HyperliquidKeys
) -> None:
    stranger = "0x" + "11" * 32
    adapter = make_hyperliquid(hyperliquid_fake, hyperliquid_keys, private_key=stranger)
    try:
        with pytest.raises(AuthenticationError) as raised:
            await adapter.place_order(limit("0.01", "29000"))
        assert "does not exist" in (raised.value.venue_message or "")
    finally:
        await adapter.close()


async def test_duplicate_cloid_returns_the_existing_order(
    hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid
) -> None:
    first = await hyperliquid.place_order(limit("0.01", "29000"))
    again = await hyperliquid.place_order(limit("0.01", "29000"))
    assert again.exchange_order_id == first.exchange_order_id
    assert len(hyperliquid_fake.actions) == 2
    assert len(await hyperliquid.fetch_open_orders()) == 1


async def test_insufficient_margin(hyperliquid: HyperliquidAdapter) -> None:
    with pytest.raises(InsufficientFundsError) as raised:
        await hyperliquid.place_order(limit("10", "29000"))
    assert raised.value.venue_message is not None and raised.value.venue_message.startswith("Insufficient margin")


async def test_hyperliquid_price_rules_are_checked_before_sending(
    hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid
) -> None:
    with pytest.raises(InvalidOrderError, match="significant figures"):
        await hyperliquid.place_order(Order(CID, ETH, Side.BUY, OrderType.LIMIT, D("0.01"), price=D("1999.55")))
    with pytest.raises(InvalidOrderError, match="decimals"):
        await hyperliquid.place_order(Order(CID, BTC, Side.BUY, OrderType.LIMIT, D("0.01"), price=D("0.1234567")))
    with pytest.raises(InvalidOrderError, match="below the minimum"):
        await hyperliquid.place_order(limit("0.000001", "29000"))
    with pytest.raises(InvalidOrderError, match="order value"):
        await hyperliquid.place_order(limit("0.0003", "29000"))  # 8.7 USDC, the minimum is 10
    with pytest.raises(InvalidOrderError, match="fill-or-kill"):
        await hyperliquid.place_order(limit("0.01", "29000", time_in_force=TimeInForce.FOK))
    with pytest.raises(InvalidOrderError, match="cloid"):
        await hyperliquid.place_order(limit("0.01", "29000", cid="my-order-1"))
    assert hyperliquid_fake.actions == []


async def test_amend_restates_the_order(hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid) -> None:
    await hyperliquid.place_order(limit("0.01", "29000", time_in_force=TimeInForce.POST_ONLY))
    amended = await hyperliquid.amend_order(BTC, CID, qty=D("0.02"), price=D("28500"))
    assert (amended.qty, amended.price) == (D("0.02"), D("28500"))
    modify = hyperliquid_fake.actions[-1]
    assert modify["type"] == "batchModify"
    assert modify["modifies"] == [
        {
            "oid": 1000,
            "order": {
                "a": 0,
                "b": True,
                "p": "28500",
                "s": "0.02",
                "r": False,
                "t": {"limit": {"tif": "Alo"}},
                "c": CID,
            },
        }
    ]


async def test_cancel_unknown_and_cancel_all(
    hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid
) -> None:
    with pytest.raises(OrderNotFoundError):
        await hyperliquid.cancel_order(BTC, CID)
    with pytest.raises(OrderNotFoundError):
        await hyperliquid.fetch_order(BTC, CID)
    await hyperliquid.place_order(limit("0.01", "29000", "0x" + "01" * 16))
    await hyperliquid.place_order(limit("0.01", "28000", "0x" + "02" * 16))
    await hyperliquid.place_order(market("0.01", cid="0x" + "03" * 16, stop_loss=D("27000")))
    canceled = await hyperliquid.cancel_order(BTC, "0x" + "01" * 16)
    assert canceled.status is OrderStatus.CANCELED
    assert await hyperliquid.cancel_all_orders(BTC) == 1  # the position's stop loss stays
    (position,) = await hyperliquid.fetch_positions()
    assert position.stop_loss == D("27000")
    assert hyperliquid_fake.actions[-1] == {"type": "cancel", "cancels": [{"a": 0, "o": 1001}]}


async def test_fills_history_and_closed_pnl(hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid) -> None:
    await hyperliquid.place_order(market("0.01"))
    hyperliquid_fake.coin("BTC").mid = D("31000")
    await hyperliquid.place_order(market("0.01", Side.SELL, "0x" + "cd" * 16, reduce_only=True))
    fills = await hyperliquid.fetch_fills(BTC)
    assert [(fill.side, fill.qty, fill.price, fill.client_order_id) for fill in fills] == [
        (Side.BUY, D("0.01"), D("30000"), CID),
        (Side.SELL, D("0.01"), D("31000"), "0x" + "cd" * 16),
    ]
    assert fills[0].fee == D("0.135") and fills[0].fee_asset == "USDC"
    (trade,) = await hyperliquid.fetch_closed_pnl(BTC)
    assert (trade.side, trade.qty, trade.entry_price, trade.exit_price) == (
        PositionSide.LONG,
        D("0.01"),
        D("30000"),
        D("31000"),
    )
    history = await hyperliquid.fetch_order_history(BTC)
    assert [(order.client_order_id, order.status) for order in history] == [
        (CID, OrderStatus.FILLED),
        ("0x" + "cd" * 16, OrderStatus.FILLED),
    ]
    assert await hyperliquid.fetch_positions() == []
    later = await hyperliquid.fetch_fills(since=fills[1].timestamp)
    assert [fill.price for fill in later] == [D("31000")]


async def test_balance_from_the_clearinghouse(
    hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid
) -> None:
    balance = await hyperliquid.fetch_balance()
    assert (balance.asset, balance.wallet, balance.available, balance.unrealized_pnl) == (
        "USDC",
        D(10_000),
        D(10_000),
        D(0),
    )
    await hyperliquid.place_order(market("0.01"))
    hyperliquid_fake.coin("BTC").mid = D("30500")
    balance = await hyperliquid.fetch_balance()
    assert balance.unrealized_pnl == D(5) and balance.wallet == D(10_000) - D("0.135")


async def test_leverage_keeps_the_margin_mode_and_clamps(
    hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid
) -> None:
    await hyperliquid.set_margin_mode(BTC, MarginMode.ISOLATED)
    assert hyperliquid_fake.actions[-1] == {"type": "updateLeverage", "asset": 0, "isCross": False, "leverage": 20}
    assert await hyperliquid.set_leverage(BTC, D("12.7")) == D(12)
    assert hyperliquid_fake.actions[-1] == {"type": "updateLeverage", "asset": 0, "isCross": False, "leverage": 12}
    assert await hyperliquid.set_leverage(BTC, D(100)) == D(40)


async def test_a_refused_leverage_keeps_the_current_one(
    hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid
) -> None:
    await hyperliquid.load_instruments()
    hyperliquid_fake.coin("BTC").max_leverage = 10  # the venue lowered it since the instruments were loaded
    assert await hyperliquid.set_leverage(BTC, D(25)) == D(20)


async def test_position_protection_replaces_the_previous_levels(
    hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid
) -> None:
    await hyperliquid.place_order(market("0.01"))
    await hyperliquid.set_position_protection(BTC, take_profit=D("33000"), stop_loss=D("28000"))
    action = hyperliquid_fake.actions[-1]
    assert action["grouping"] == "positionTpsl"
    assert [(leg["s"], leg["r"], leg["b"], leg["t"]["trigger"]["tpsl"]) for leg in action["orders"]] == [
        ("0", True, False, "tp"),
        ("0", True, False, "sl"),
    ]
    await hyperliquid.set_position_protection(BTC, stop_loss=D("29000"))
    assert hyperliquid_fake.actions[-1]["type"] == "cancel"  # the old stop loss, after the new one is in place
    (position,) = await hyperliquid.fetch_positions()
    assert (position.take_profit, position.stop_loss) == (D("33000"), D("29000"))
    with pytest.raises(InvalidOrderError, match="no ETH/USDC:USDC position"):
        await hyperliquid.set_position_protection(ETH, stop_loss=D("1900"))


async def test_market_data(hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid) -> None:
    ticker = await hyperliquid.fetch_ticker(BTC)
    assert (ticker.last, ticker.mark, ticker.index, ticker.turnover_24h) == (
        D(30000),
        D(30000),
        D(29999),
        D("98765432.1"),
    )
    assert set(await hyperliquid.fetch_tickers()) == {BTC, ETH}
    book = await hyperliquid.fetch_order_book(BTC, depth=2)
    assert [(level.price, level.qty) for level in book.bids] == [(D(29999), D("0.5")), (D(29998), D(1))]
    candles = await hyperliquid.fetch_ohlcv(BTC, "1m", since=1_767_225_600_000, limit=3)
    assert [candle.timestamp for candle in candles] == [1_767_225_600_000 + i * 60_000 for i in range(3)]
    assert (candles[0].open, candles[0].close) == (D(30000), D(30001))
    funding = await hyperliquid.fetch_funding_rate(BTC)
    assert (
        funding.rate == D("0.0000125")
        and funding.next_funding_at is not None
        and funding.next_funding_at % 3_600_000 == 0
    )
    interest = await hyperliquid.fetch_open_interest(BTC)
    assert (interest.contracts, interest.value) == (D("1234.5"), D("1234.5") * 30000)
    info_types = [json.loads(seen.body)["type"] for seen in hyperliquid_fake.requests("/info")]
    assert info_types[0] == "metaAndAssetCtxs" and "candleSnapshot" in info_types and "l2Book" in info_types


async def test_public_streams_through_ccxt_pro(hyperliquid: HyperliquidAdapter) -> None:
    trade = await anext(hyperliquid.watch_trades(BTC))
    assert (trade.trade_id, trade.side, trade.price, trade.qty, trade.timestamp) == (
        "777",
        Side.SELL,
        D(30000),
        D("0.015"),
        1_767_225_600_000,
    )
    candle = await anext(hyperliquid.watch_candles(BTC, "1m"))
    assert (candle.timestamp, candle.open, candle.high, candle.low, candle.close) == (
        1_767_225_600_000,
        D(30000),
        D(30005),
        D(29995),
        D(30001),
    )
    book = await anext(hyperliquid.watch_order_book(BTC, depth=2))
    assert [(level.price, level.qty) for level in book.asks] == [(D(30001), D("0.25")), (D(30002), D("0.5"))]


async def test_private_streams_report_orders_fills_and_positions(
    hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid
) -> None:
    next_order = asyncio.ensure_future(anext(hyperliquid.watch_orders()))
    next_fill = asyncio.ensure_future(anext(hyperliquid.watch_fills()))
    next_position = asyncio.ensure_future(anext(hyperliquid.watch_positions()))
    for kind in ("orderUpdates", "userFills", "clearinghouseState"):
        await hyperliquid_fake.subscribed(kind)
    await hyperliquid.place_order(limit("0.01", "29000"))
    order = await next_order
    assert (order.client_order_id, order.status, order.price) == (CID, OrderStatus.OPEN, D(29000))
    await hyperliquid.place_order(market("0.01", cid="0x" + "cd" * 16))
    fill, position = await asyncio.gather(next_fill, next_position)
    assert (fill.client_order_id, fill.qty, fill.price) == ("0x" + "cd" * 16, D("0.01"), D(30000))
    assert (position.symbol, position.side, position.qty) == (BTC, PositionSide.LONG, D("0.01"))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("Order has invalid size.", InvalidOrderError),
        ("Price must be divisible by tick size. asset=0", InvalidOrderError),
        ("Order must have minimum value of $10. asset=0", InvalidOrderError),
        ("Insufficient margin to place order. asset=0", InsufficientFundsError),
        ("Too many cumulative requests sent (37986 > 10436) for cumulative volume traded $437.92.", RateLimitedError),
    ],
)
async def test_order_statuses_with_errors(
    hyperliquid: HyperliquidAdapter, hyperliquid_fake: FakeHyperliquid, error: str, expected: type
) -> None:
    await hyperliquid.load_instruments()
    answer = {"status": "ok", "response": {"type": "order", "data": {"statuses": [{"error": error}]}}}
    hyperliquid_fake.fail("/exchange", answer)
    with pytest.raises(expected) as raised:
        await hyperliquid.place_order(limit("0.01", "29000"))
    assert raised.value.venue_message == error
