"""The Bybit adapter against the loopback Bybit fake: requests as ENDPOINTS.md lists them, answers read exactly."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal as D

import pytest
from ccxt_venues import make_bybit
from fakes.bybit import FakeBybit

from elcaro.exchanges.bybit.adapter import BybitAdapter
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import MarginMode, Order, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from elcaro.models.errors import (
    AuthenticationError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    InvalidOrderError,
    NetworkError,
    OrderNotFoundError,
    RateLimitedError,
)

BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"
CID = "0x" + "ab" * 16


def market(qty: str, side: Side = Side.BUY, cid: str = CID, **fields: object) -> Order:
    return Order(cid, BTC, side, OrderType.MARKET, D(qty), **fields)  # type: ignore[arg-type]


def limit(qty: str, price: str, cid: str = CID, **fields: object) -> Order:
    return Order(cid, BTC, Side.BUY, OrderType.LIMIT, D(qty), price=D(price), **fields)  # type: ignore[arg-type]


def orders_sent(fake: FakeBybit) -> list[dict[str, object]]:
    return [seen.json for seen in fake.requests("/v5/order/create")]


def test_the_adapter_implements_the_protocol(bybit: BybitAdapter) -> None:
    assert isinstance(bybit, ExchangeAdapter)


# -------------------------------------------------------------------------------------------------- market data


async def test_instruments_come_from_the_linear_list_once(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    instruments = await bybit.load_instruments()
    await bybit.load_instruments()
    assert set(instruments) == {BTC, ETH}  # the USDC perpetual is not this adapter's
    btc = instruments[BTC]
    assert (btc.tick_size, btc.qty_step, btc.min_qty, btc.min_notional) == (D("0.1"), D("0.001"), D("0.001"), D("5"))
    assert (btc.max_qty, btc.max_leverage, btc.contract_size) == (D("1190"), D("100"), D(1))
    assert [seen.raw_query for seen in bybit_fake.seen] == [
        "category=linear&limit=1000",
        "category=linear&limit=1000&status=PreLaunch",
    ]


async def test_injected_markets_spare_the_load(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    await bybit.load_instruments()
    loaded = len(bybit_fake.seen)
    other = BybitAdapter(bybit._exchange, bybit.target, markets=bybit.markets)
    assert set(await other.load_instruments()) == {BTC, ETH}
    assert len(bybit_fake.seen) == loaded


async def test_ticker_funding_and_open_interest_read_the_ticker(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    ticker = await bybit.fetch_ticker(BTC)
    assert (ticker.last, ticker.bid, ticker.ask, ticker.mark, ticker.index) == (
        D("30000"),
        D("29999.9"),
        D("30000.1"),
        D("30000"),
        D("29999.9"),
    )
    assert (ticker.volume_24h, ticker.turnover_24h) == (D("12345.678"), D("370370340.5"))
    funding = await bybit.fetch_funding_rate(BTC)
    assert (funding.rate, funding.next_funding_at) == (D("0.0001"), 1_767_225_600_000 + 8 * 3600 * 1000)
    interest = await bybit.fetch_open_interest(BTC)
    assert (interest.contracts, interest.value) == (D("5000.123"), D("150003690"))
    assert {seen.raw_query for seen in bybit_fake.requests("/v5/market/tickers")} == {"category=linear&symbol=BTCUSDT"}


async def test_all_tickers_in_one_request(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    tickers = await bybit.fetch_tickers()
    assert set(tickers) == {BTC, ETH}
    assert set(await bybit.fetch_tickers([ETH])) == {ETH}
    assert {seen.raw_query for seen in bybit_fake.requests("/v5/market/tickers")} == {"category=linear"}


async def test_order_book_asks_for_a_depth_bybit_serves(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    book = await bybit.fetch_order_book(BTC, depth=2)
    assert [(level.price, level.qty) for level in book.bids] == [(D("29999.9"), D("0.5")), (D("29999.8"), D("1"))]
    assert book.asks[0].price == D("30000.1") and len(book.asks) == 2
    assert bybit_fake.requests("/v5/market/orderbook")[0].query == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "limit": "50",
    }


async def test_candles_oldest_first_from_since(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    since = 1_767_225_600_000
    candles = await bybit.fetch_ohlcv(BTC, "1m", since=since, limit=3)
    assert [candle.timestamp for candle in candles] == [since, since + 60_000, since + 120_000]
    assert (candles[0].open, candles[0].high, candles[0].close, candles[0].volume) == (
        D("30000"),
        D("30005"),
        D("30001"),
        D("10.5"),
    )
    query = bybit_fake.requests("/v5/market/kline")[0].query
    assert query == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "interval": "1",
        "start": str(since),
        "end": str(since + 180_000 - 1),
        "limit": "3",
    }


async def test_unknown_symbol_is_refused_without_a_request(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    await bybit.load_instruments()
    before = len(bybit_fake.seen)
    with pytest.raises(InvalidOrderError, match="NOSUCH/USDT:USDT") as raised:
        await bybit.fetch_ticker("NOSUCH/USDT:USDT")
    assert raised.value.code == "unknown_symbol"
    with pytest.raises(InvalidOrderError):
        await bybit.place_order(Order(CID, "NOSUCH/USDT:USDT", Side.BUY, OrderType.MARKET, D(1)))
    assert len(bybit_fake.seen) == before


# ------------------------------------------------------------------------------------------------------ account


async def test_balance_is_the_usdt_coin_of_the_unified_account(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    balance = await bybit.fetch_balance()
    assert (balance.asset, balance.wallet, balance.available, balance.unrealized_pnl) == (
        "USDT",
        D("10000"),
        D("10000"),
        D("0"),
    )
    assert bybit_fake.requests("/v5/account/wallet-balance")[0].query == {"accountType": "UNIFIED", "coin": "USDT"}


async def test_balance_available_excludes_margin_held(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    await bybit.place_order(market("0.1"))
    bybit_fake.markets["BTCUSDT"].last = D("31000")
    balance = await bybit.fetch_balance()
    assert balance.unrealized_pnl == D("100")
    assert balance.available == D("10000") + D("100") - D("300")  # initial margin of 0.1 × 30000 at 10x


async def test_a_market_order_fills_and_opens_a_position(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    placed = await bybit.place_order(market("0.1"))
    assert (placed.status, placed.filled_qty, placed.avg_fill_price) == (OrderStatus.FILLED, D("0.1"), D("30000"))
    assert placed.price is None and placed.exchange_order_id == "ord-1" and placed.fee == D("1.65")
    assert orders_sent(bybit_fake) == [
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Market",
            "qty": "0.1",
            "orderLinkId": CID,
            "positionIdx": 0,
        },
    ]
    (position,) = await bybit.fetch_positions()
    assert (position.symbol, position.side, position.qty, position.entry_price) == (
        BTC,
        PositionSide.LONG,
        D("0.1"),
        D("30000"),
    )
    assert (position.leverage, position.mark_price, position.liquidation_price) == (D("10"), D("30000"), D("21000.5"))
    assert position.take_profit is None and position.stop_loss is None
    assert bybit_fake.requests("/v5/position/list")[0].query == {
        "category": "linear",
        "settleCoin": "USDT",
        "limit": "200",
    }
    assert await bybit.fetch_positions([ETH]) == []


async def test_a_limit_order_rests_and_is_found_by_client_id(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    placed = await bybit.place_order(limit("0.01", "29000.5", time_in_force=TimeInForce.POST_ONLY))
    assert (placed.status, placed.exchange_order_id, placed.filled_qty) == (OrderStatus.OPEN, "ord-1", D(0))
    assert orders_sent(bybit_fake)[0] | {} == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.01",
        "orderLinkId": CID,
        "positionIdx": 0,
        "price": "29000.5",
        "timeInForce": "PostOnly",
    }
    assert not bybit_fake.requests("/v5/order/realtime")  # a resting order is not read back
    fetched = await bybit.fetch_order(BTC, CID)
    assert (fetched.price, fetched.qty, fetched.time_in_force, fetched.status) == (
        D("29000.5"),
        D("0.01"),
        TimeInForce.POST_ONLY,
        OrderStatus.OPEN,
    )
    assert [order.client_order_id for order in await bybit.fetch_open_orders(BTC)] == [CID]
    assert bybit_fake.requests("/v5/order/realtime")[-1].query == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "openOnly": "0",
        "limit": "50",
    }


async def test_an_entry_carries_full_position_tp_sl_on_mark_price(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    await bybit.place_order(market("0.1", take_profit=D("33000"), stop_loss=D("28500.5")))
    sent = orders_sent(bybit_fake)[0]
    assert {key: sent[key] for key in ("tpslMode", "takeProfit", "tpTriggerBy", "stopLoss", "slTriggerBy")} == {
        "tpslMode": "Full",
        "takeProfit": "33000",
        "tpTriggerBy": "MarkPrice",
        "stopLoss": "28500.5",
        "slTriggerBy": "MarkPrice",
    }
    (position,) = await bybit.fetch_positions([BTC])
    assert (position.take_profit, position.stop_loss) == (D("33000"), D("28500.5"))


async def test_reduce_only_and_stop_entries(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    await bybit.place_order(market("0.2"))
    closing = await bybit.place_order(market("0.1", Side.SELL, "0x" + "cd" * 16, reduce_only=True))
    assert closing.status is OrderStatus.FILLED and orders_sent(bybit_fake)[1]["reduceOnly"] is True
    stop = Order("0x" + "ef" * 16, BTC, Side.BUY, OrderType.STOP_MARKET, D("0.1"), trigger_price=D("31000"))
    placed = await bybit.place_order(stop)
    assert placed.status is OrderStatus.OPEN
    sent = orders_sent(bybit_fake)[2]
    assert (sent["orderType"], sent["triggerPrice"], sent["triggerDirection"], sent["triggerBy"]) == (
        "Market",
        "31000",
        1,
        "LastPrice",
    )
    fetched = await bybit.fetch_order(BTC, stop.client_order_id)
    assert (fetched.type, fetched.trigger_price, fetched.price) == (OrderType.STOP_MARKET, D("31000"), None)


async def test_reduce_only_with_no_position_is_an_invalid_order(bybit: BybitAdapter) -> None:
    with pytest.raises(InvalidOrderError) as raised:
        await bybit.place_order(market("0.1", Side.SELL, reduce_only=True))
    assert (raised.value.code, raised.value.exchange) == ("110017", "bybit")


async def test_below_minimum_is_refused_before_any_order_request(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    with pytest.raises(InvalidOrderError, match="below the minimum"):
        await bybit.place_order(limit("0.0001", "29000"))
    with pytest.raises(InvalidOrderError, match="order value"):
        await bybit.place_order(limit("0.001", "4000"))  # 4 USDT, the minimum is 5
    assert not bybit_fake.requests("/v5/order/create")


async def test_a_price_off_the_tick_is_refused_before_any_request(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    with pytest.raises(InvalidOrderError, match="tick"):
        await bybit.place_order(limit("0.01", "29000.55"))
    with pytest.raises(InvalidOrderError, match="tick"):
        await bybit.place_order(market("0.01", take_profit=D("31000.05")))
    assert not bybit_fake.requests("/v5/order/create")


async def test_a_market_order_is_valued_at_a_recent_price(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    bybit_fake.markets["BTCUSDT"].last = D("4000")
    with pytest.raises(InvalidOrderError, match="order value"):
        await bybit.place_order(market("0.001"))  # 4 USDT < 5 USDT minimum
    assert len(bybit_fake.requests("/v5/market/tickers")) == 1
    await bybit.place_order(market("0.002"))
    assert len(bybit_fake.requests("/v5/market/tickers")) == 1  # the price just seen is reused


async def test_a_duplicate_client_id_returns_the_existing_order(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    first = await bybit.place_order(market("0.1"))
    again = await bybit.place_order(market("0.1"))
    assert again.exchange_order_id == first.exchange_order_id and again.status is OrderStatus.FILLED
    assert len(orders_sent(bybit_fake)) == 2  # the venue refused the second with 110072
    (position,) = await bybit.fetch_positions()
    assert position.qty == D("0.1")


async def test_amend_sends_only_what_changes(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    await bybit.place_order(limit("0.01", "29000"))
    amended = await bybit.amend_order(BTC, CID, qty=D("0.02"), price=D("28900"))
    assert (amended.qty, amended.price) == (D("0.02"), D("28900"))
    assert bybit_fake.requests("/v5/order/amend")[0].json == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "orderLinkId": CID,
        "qty": "0.02",
        "price": "28900",
    }
    with pytest.raises(InvalidOrderError):
        await bybit.amend_order(BTC, CID, qty=D("0.0105"))
    assert len(bybit_fake.requests("/v5/order/amend")) == 1


async def test_cancel_reports_the_canceled_order(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    await bybit.place_order(limit("0.01", "29000"))
    canceled = await bybit.cancel_order(BTC, CID)
    assert canceled.status is OrderStatus.CANCELED
    assert bybit_fake.requests("/v5/order/cancel")[0].json == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "orderLinkId": CID,
    }
    again = await bybit.cancel_order(BTC, CID)  # already ended: reported as it is
    assert again.status is OrderStatus.CANCELED


async def test_cancel_or_fetch_of_an_unknown_order_is_not_found(bybit: BybitAdapter) -> None:
    with pytest.raises(OrderNotFoundError):
        await bybit.fetch_order(BTC, CID)
    with pytest.raises(OrderNotFoundError):
        await bybit.cancel_order(BTC, CID)


async def test_cancel_all_spares_the_positions_tp_sl(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    await bybit.place_order(limit("0.01", "29000", "0x" + "01" * 16))
    await bybit.place_order(limit("0.01", "28000", "0x" + "02" * 16))
    stop = Order("0x" + "03" * 16, BTC, Side.BUY, OrderType.STOP_MARKET, D("0.01"), trigger_price=D("31000"))
    await bybit.place_order(stop)
    assert await bybit.cancel_all_orders(BTC) == 3
    assert [seen.json for seen in bybit_fake.requests("/v5/order/cancel-all")] == [
        {"category": "linear", "symbol": "BTCUSDT", "orderFilter": "Order"},
        {"category": "linear", "symbol": "BTCUSDT", "orderFilter": "StopOrder", "stopOrderType": "Stop"},
    ]
    assert await bybit.fetch_open_orders() == []
    assert await bybit.cancel_all_orders() == 0
    assert bybit_fake.requests("/v5/order/cancel-all")[-1].json["settleCoin"] == "USDT"


async def test_history_fills_and_closed_pnl(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    await bybit.place_order(market("0.1"))
    bybit_fake.markets["BTCUSDT"].last = D("31000")
    await bybit.place_order(market("0.1", Side.SELL, "0x" + "cd" * 16, reduce_only=True))
    history = await bybit.fetch_order_history(BTC)
    assert [order.client_order_id for order in history] == [CID, "0x" + "cd" * 16]
    fills = await bybit.fetch_fills(BTC)
    assert [(fill.side, fill.qty, fill.price, fill.fee) for fill in fills] == [
        (Side.BUY, D("0.1"), D("30000"), D("1.65")),
        (Side.SELL, D("0.1"), D("31000"), D("1.705")),
    ]
    assert fills[0].client_order_id == CID and fills[0].fee_asset == "USDT" and not fills[0].is_maker
    (trade,) = await bybit.fetch_closed_pnl(BTC)
    assert (trade.side, trade.qty, trade.entry_price, trade.exit_price) == (
        PositionSide.LONG,
        D("0.1"),
        D("30000"),
        D("31000"),
    )
    assert trade.fees == D("0.5") + D("1.705") and trade.target == bybit.target
    assert bybit_fake.requests("/v5/position/closed-pnl")[0].query == {
        "category": "linear",
        "limit": "100",
        "symbol": "BTCUSDT",
    }
    since = fills[1].timestamp
    assert [fill.price for fill in await bybit.fetch_fills(since=since)] == [D("31000")]
    assert bybit_fake.requests("/v5/execution/list")[-1].query["startTime"] == str(since)


# ------------------------------------------------------------------------------------------ leverage and margin


async def test_leverage_is_clamped_to_the_instrument_maximum(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    assert await bybit.set_leverage(BTC, D("250")) == D("100")
    assert bybit_fake.requests("/v5/position/set-leverage")[0].json == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "buyLeverage": "100",
        "sellLeverage": "100",
    }
    assert await bybit.set_leverage(BTC, D("12.345")) == D("12.34")  # Bybit's leverage step is 0.01


async def test_leverage_not_modified_is_success(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    assert await bybit.set_leverage(BTC, D("10")) == D("10")  # the fake's account is at 10x: 110043
    assert bybit_fake.requests("/v5/position/set-leverage")


async def test_a_refused_leverage_keeps_the_current_one(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    bybit_fake.fail(
        "/v5/position/set-leverage", bybit_fake.envelope(code=110013, message="cannot set leverage due to risk limit")
    )
    assert await bybit.set_leverage(BTC, D("50")) == D("10")
    assert bybit_fake.requests("/v5/position/list")[-1].query == {"category": "linear", "symbol": "BTCUSDT"}


async def test_margin_mode_is_set_for_the_account(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    await bybit.set_margin_mode(BTC, MarginMode.ISOLATED)
    await bybit.set_margin_mode(BTC, MarginMode.CROSS)
    assert [seen.json for seen in bybit_fake.requests("/v5/account/set-margin-mode")] == [
        {"setMarginMode": "ISOLATED_MARGIN"},
        {"setMarginMode": "REGULAR_MARGIN"},
    ]
    bybit_fake.fail(
        "/v5/account/set-margin-mode", bybit_fake.envelope(code=110026, message="margin mode is not modified")
    )
    await bybit.set_margin_mode(BTC, MarginMode.CROSS)


async def test_position_protection_is_full_on_mark_price(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    await bybit.place_order(market("0.1"))
    await bybit.set_position_protection(BTC, take_profit=D("33000"), stop_loss=D("29000"))
    assert bybit_fake.requests("/v5/position/trading-stop")[0].json == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "positionIdx": 0,
        "tpslMode": "Full",
        "takeProfit": "33000",
        "tpTriggerBy": "MarkPrice",
        "stopLoss": "29000",
        "slTriggerBy": "MarkPrice",
    }
    await bybit.set_position_protection(BTC, take_profit=D("33000"))  # 34040 not modified: no error
    (position,) = await bybit.fetch_positions([BTC])
    assert (position.take_profit, position.stop_loss) == (D("33000"), D("29000"))


async def test_protection_without_a_position_is_invalid(bybit: BybitAdapter) -> None:
    with pytest.raises(InvalidOrderError) as raised:
        await bybit.set_position_protection(BTC, stop_loss=D("29000"))
    assert raised.value.code == "10001"


# ------------------------------------------------------------------------------------------------------- errors


async def test_a_wrong_key_is_an_authentication_error(bybit_fake: FakeBybit) -> None:
    adapter = make_bybit(bybit_fake, api_key="wrong-key")
    try:
        with pytest.raises(AuthenticationError) as raised:
            await adapter.fetch_balance()
        assert (raised.value.code, raised.value.venue_message) == ("10003", "API key is invalid.")
    finally:
        await adapter.close()


async def test_a_wrong_secret_fails_the_signature(bybit_fake: FakeBybit) -> None:
    adapter = make_bybit(bybit_fake, secret="0" * 36)
    try:
        with pytest.raises(AuthenticationError) as raised:
            await adapter.fetch_balance()
        assert raised.value.code == "10004"
    finally:
        await adapter.close()


async def test_insufficient_balance(bybit: BybitAdapter) -> None:
    with pytest.raises(InsufficientFundsError) as raised:
        await bybit.place_order(limit("10", "29000"))
    assert (raised.value.code, raised.value.venue_message) == ("110007", "ab not enough for new order")


async def test_rate_limit_carries_the_wait_until_reset(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    reset = int(time.time() * 1000) + 60_000
    headers = {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(reset)}
    bybit_fake.fail(
        "/v5/account/wallet-balance", bybit_fake.envelope(code=10006, message="Too many visits!"), headers=headers
    )
    with pytest.raises(RateLimitedError) as raised:
        await bybit.fetch_balance()
    assert raised.value.code == "10006" and raised.value.retry_after is not None
    assert 0 < raised.value.retry_after <= 60


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (200, {"retCode": 10016, "retMsg": "Internal system error.", "result": {}, "time": 0}, "10016"),
        (502, {"message": "bad gateway"}, "HTTP 502"),
        (503, None, "HTTP 503"),
    ],
    ids=["10016", "502", "503"],
)
async def test_outages_are_exchange_unavailable(
    bybit: BybitAdapter, bybit_fake: FakeBybit, status: int, body: object, code: str
) -> None:
    bybit_fake.fail("/v5/account/wallet-balance", body, status=status)
    with pytest.raises(ExchangeUnavailableError) as raised:
        await bybit.fetch_balance()
    assert raised.value.code == code


async def test_a_parameter_error_is_an_invalid_order(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    bybit_fake.fail("/v5/order/create", bybit_fake.envelope(code=10001, message="params error"))
    with pytest.raises(InvalidOrderError) as raised:
        await bybit.place_order(limit("0.01", "29000"))
    assert (raised.value.code, raised.value.venue_message) == ("10001", "params error")


async def test_a_dropped_connection_is_a_network_error(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    await bybit.load_instruments()
    bybit_fake.fail("/v5/order/create", drop=True)
    with pytest.raises(NetworkError):
        await bybit.place_order(limit("0.01", "29000"))
    assert len(bybit_fake.requests("/v5/order/create")) == 1


async def test_no_broker_tag_and_signed_headers_on_every_private_request(
    bybit: BybitAdapter, bybit_fake: FakeBybit
) -> None:
    await bybit.place_order(market("0.1"))
    await bybit.fetch_balance()
    private = [seen for seen in bybit_fake.seen if not seen.path.startswith("/v5/market/")]
    assert private
    for seen in private:
        assert {"X-BAPI-API-KEY", "X-BAPI-TIMESTAMP", "X-BAPI-RECV-WINDOW", "X-BAPI-SIGN"} <= set(seen.headers)
        assert seen.headers["X-BAPI-RECV-WINDOW"] == "5000"
        assert "Referer" not in seen.headers


# ------------------------------------------------------------------------------------------------------ streams


async def test_public_streams_through_ccxt_pro(bybit: BybitAdapter) -> None:
    trade = await anext(bybit.watch_trades(BTC))
    assert (trade.symbol, trade.trade_id, trade.side, trade.price, trade.qty) == (
        BTC,
        "trade-1",
        Side.SELL,
        D(30000),
        D("0.015"),
    )
    candle = await anext(bybit.watch_candles(BTC, "1m"))
    assert (candle.timestamp, candle.open, candle.high, candle.close, candle.volume) == (
        1_767_225_600_000,
        D(30000),
        D(30005),
        D(30001),
        D("10.5"),
    )
    book = await anext(bybit.watch_order_book(BTC, depth=1))
    assert [(level.price, level.qty) for level in book.bids] == [(D("29999.9"), D("0.5"))]
    assert book.asks[0].price == D("30000.1")


async def test_private_streams_report_orders_fills_and_positions(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    next_order = asyncio.ensure_future(anext(bybit.watch_orders()))
    next_fill = asyncio.ensure_future(anext(bybit.watch_fills()))
    next_position = asyncio.ensure_future(anext(bybit.watch_positions()))
    for topic in ("order", "execution", "position"):
        await bybit_fake.subscribed(topic)
    await bybit.place_order(market("0.1"))
    order, fill, position = await asyncio.gather(next_order, next_fill, next_position)
    assert (order.client_order_id, order.status, order.filled_qty) == (CID, OrderStatus.FILLED, D("0.1"))
    assert (fill.client_order_id, fill.qty, fill.price, fill.fee) == (CID, D("0.1"), D(30000), D("1.65"))
    assert (position.symbol, position.side, position.qty, position.entry_price) == (
        BTC,
        PositionSide.LONG,
        D("0.1"),
        D(30000),
    )


async def test_streams_end_quietly_when_the_adapter_closes(bybit: BybitAdapter, bybit_fake: FakeBybit) -> None:
    orders = bybit.watch_orders()
    waiting = asyncio.ensure_future(anext(orders, None))
    await bybit_fake.subscribed("order")
    await bybit.close()
    assert await waiting is None
