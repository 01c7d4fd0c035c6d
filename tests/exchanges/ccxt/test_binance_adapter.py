"""The Binance USDⓈ-M adapter against the loopback fake, which checks every signature as Binance does."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from urllib.parse import parse_qsl

import pytest
from ccxt_venues import make_binance
from fakes.binance import FakeBinance

from elcaro.exchanges.binance.adapter import BinanceAdapter, protection_id
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import MarginMode, Order, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from elcaro.models.errors import (
    AuthenticationError,
    ExchangeError,
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


def sent(fake: FakeBinance, path: str, method: str = "POST") -> list[dict[str, str]]:
    """The parameters of each request, without the signing ones."""
    requests = fake.requests(path, method)
    raws = [seen.raw_query if method in ("GET", "DELETE") else seen.body.decode() for seen in requests]
    return [{k: v for k, v in parse_qsl(raw) if k not in ("timestamp", "recvWindow", "signature")} for raw in raws]


def test_the_adapter_implements_the_protocol(binance: BinanceAdapter) -> None:
    assert isinstance(binance, ExchangeAdapter)


async def test_instruments_with_leverage_from_the_brackets(binance: BinanceAdapter, binance_fake: FakeBinance) -> None:
    instruments = await binance.load_instruments()
    assert set(instruments) == {BTC, ETH}  # the quarterly future is not a perpetual
    btc = instruments[BTC]
    assert (btc.tick_size, btc.qty_step, btc.min_qty, btc.min_notional) == (D("0.10"), D("0.001"), D("0.001"), D(100))
    assert (btc.max_qty, btc.max_leverage) == (D(1000), D(125))
    assert instruments[ETH].max_leverage == D(100)
    assert [seen.path for seen in binance_fake.seen] == ["/fapi/v1/exchangeInfo", "/fapi/v1/leverageBracket"]


async def test_every_signed_request_carries_key_timestamp_window_and_signature(
    binance: BinanceAdapter, binance_fake: FakeBinance
) -> None:
    await binance.place_order(market("0.01"))
    await binance.fetch_balance()
    signed = [
        seen
        for seen in binance_fake.seen
        if seen.path not in ("/fapi/v1/exchangeInfo",) and "signature" in (seen.raw_query + seen.body.decode())
    ]
    assert len(signed) >= 3
    for seen in signed:
        assert seen.headers["X-MBX-APIKEY"] == binance_fake.account.api_key
        payload = seen.raw_query or seen.body.decode()
        assert "timestamp=" in payload and "recvWindow=5000" in payload


async def test_market_data(binance: BinanceAdapter, binance_fake: FakeBinance) -> None:
    ticker = await binance.fetch_ticker(BTC)
    assert (ticker.last, ticker.bid, ticker.ask, ticker.mark, ticker.index) == (
        D(30000),
        D("29999.9"),
        D("30000.1"),
        D("30000.5"),
        D(29999),
    )
    assert (ticker.volume_24h, ticker.turnover_24h) == (D("123456.789"), D("3703703670.50"))
    assert set(await binance.fetch_tickers()) == {BTC, ETH}
    book = await binance.fetch_order_book(BTC, depth=2)
    assert [(level.price, level.qty) for level in book.asks] == [(D("30000.1"), D("0.25")), (D("30000.2"), D("0.5"))]
    assert binance_fake.requests("/fapi/v1/depth")[0].query == {"symbol": "BTCUSDT", "limit": "5"}
    candles = await binance.fetch_ohlcv(BTC, "1m", since=1_767_225_600_000, limit=2)
    assert [(c.timestamp, c.open, c.close) for c in candles] == [
        (1_767_225_600_000, D(30000), D(30001)),
        (1_767_225_660_000, D(30001), D(30002)),
    ]
    funding = await binance.fetch_funding_rate(BTC)
    assert (funding.rate, funding.next_funding_at) == (D("0.0001"), 1_767_225_600_000 + 8 * 3_600_000)
    interest = await binance.fetch_open_interest(BTC)
    assert (interest.contracts, interest.value) == (D("5000.123"), D("5000.123") * D("30000.5"))


async def test_a_market_order_is_filled_in_the_answer(binance: BinanceAdapter, binance_fake: FakeBinance) -> None:
    placed = await binance.place_order(market("0.01"))
    assert (placed.status, placed.filled_qty, placed.avg_fill_price, placed.client_order_id) == (
        OrderStatus.FILLED,
        D("0.01"),
        D(30000),
        CID,
    )
    assert sent(binance_fake, "/fapi/v1/order") == [
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "MARKET",
            "quantity": "0.01",
            "newClientOrderId": CID,
            "newOrderRespType": "RESULT",
        },
    ]
    assert len(binance_fake.requests("/fapi/v1/premiumIndex")) == 1  # the market order's value check
    (position,) = await binance.fetch_positions()
    assert (position.side, position.qty, position.entry_price, position.leverage) == (
        PositionSide.LONG,
        D("0.01"),
        D(30000),
        D(20),
    )


async def test_limit_post_only_and_reduce_only(binance: BinanceAdapter, binance_fake: FakeBinance) -> None:
    placed = await binance.place_order(limit("0.01", "29000.5", time_in_force=TimeInForce.POST_ONLY))
    assert placed.status is OrderStatus.OPEN and placed.time_in_force is TimeInForce.POST_ONLY
    assert sent(binance_fake, "/fapi/v1/order")[0] | {} == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": "0.01",
        "newClientOrderId": CID,
        "newOrderRespType": "RESULT",
        "price": "29000.5",
        "timeInForce": "GTX",
    }
    await binance.place_order(market("0.01", cid="0x" + "01" * 16))
    closing = await binance.place_order(market("0.01", Side.SELL, "0x" + "02" * 16, reduce_only=True))
    assert closing.status is OrderStatus.FILLED and sent(binance_fake, "/fapi/v1/order")[-1]["reduceOnly"] == "true"
    with pytest.raises(InvalidOrderError) as raised:
        await binance.place_order(market("0.01", Side.SELL, "0x" + "03" * 16, reduce_only=True))
    assert raised.value.code == "-2022"


async def test_tp_sl_are_close_position_orders_on_mark_price(
    binance: BinanceAdapter, binance_fake: FakeBinance
) -> None:
    await binance.place_order(market("0.01", take_profit=D(33000), stop_loss=D("28500.5")))
    assert sent(binance_fake, "/fapi/v1/algoOrder") == [
        {
            "algoType": "CONDITIONAL",
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "TAKE_PROFIT_MARKET",
            "triggerPrice": "33000",
            "workingType": "MARK_PRICE",
            "closePosition": "true",
            "clientAlgoId": protection_id(CID, "tp"),
        },
        {
            "algoType": "CONDITIONAL",
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "STOP_MARKET",
            "triggerPrice": "28500.5",
            "workingType": "MARK_PRICE",
            "closePosition": "true",
            "clientAlgoId": protection_id(CID, "sl"),
        },
    ]
    (position,) = await binance.fetch_positions([BTC])
    assert (position.take_profit, position.stop_loss) == (D(33000), D("28500.5"))
    assert await binance.fetch_open_orders() == []  # protection shows on the position only


async def test_a_retried_entry_completes_its_protection_once(
    binance: BinanceAdapter, binance_fake: FakeBinance
) -> None:
    binance_fake.fail(
        "/fapi/v1/algoOrder", binance_fake.error_body(-1008, "Server is currently overloaded"), status=503
    )
    entry = market("0.01", take_profit=D(33000), stop_loss=D(28000))
    with pytest.raises(ExchangeUnavailableError):
        await binance.place_order(entry)
    again = await binance.place_order(entry)
    assert again.status is OrderStatus.FILLED
    (position,) = await binance.fetch_positions()
    assert (position.qty, position.take_profit, position.stop_loss) == (D("0.01"), D(33000), D(28000))
    await binance.place_order(entry)  # a third time: nothing new anywhere
    assert len([o for o in binance_fake.account.algo.values() if o["algoStatus"] == "NEW"]) == 2
    assert len(binance_fake.account.orders) == 1


async def test_stop_entries_are_algo_orders_found_by_client_id(
    binance: BinanceAdapter, binance_fake: FakeBinance
) -> None:
    stop = Order(CID, BTC, Side.BUY, OrderType.STOP_MARKET, D("0.01"), trigger_price=D(31000))
    placed = await binance.place_order(stop)
    assert (placed.status, placed.type, placed.trigger_price) == (OrderStatus.OPEN, OrderType.STOP_MARKET, D(31000))
    assert sent(binance_fake, "/fapi/v1/algoOrder")[0] == {
        "algoType": "CONDITIONAL",
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "STOP_MARKET",
        "quantity": "0.01",
        "triggerPrice": "31000",
        "workingType": "CONTRACT_PRICE",
        "clientAlgoId": CID,
    }
    fetched = await binance.fetch_order(BTC, CID)
    assert fetched.exchange_order_id == placed.exchange_order_id
    assert [order.client_order_id for order in await binance.fetch_open_orders(BTC)] == [CID]
    canceled = await binance.cancel_order(BTC, CID)
    assert canceled.status is OrderStatus.CANCELED
    with pytest.raises(InvalidOrderError, match="conditional"):
        await binance.amend_order(BTC, CID, trigger_price=D(31500))


async def test_duplicate_client_id_returns_the_existing_order(
    binance: BinanceAdapter, binance_fake: FakeBinance
) -> None:
    first = await binance.place_order(limit("0.01", "29000"))
    again = await binance.place_order(limit("0.01", "29000"))
    assert again.exchange_order_id == first.exchange_order_id
    assert len(binance_fake.requests("/fapi/v1/order", "POST")) == 2
    assert len(await binance.fetch_open_orders()) == 1


async def test_amend_cancel_and_cancel_all(binance: BinanceAdapter, binance_fake: FakeBinance) -> None:
    await binance.place_order(limit("0.01", "29000"))
    amended = await binance.amend_order(BTC, CID, price=D("28900"))
    assert (amended.qty, amended.price) == (D("0.01"), D("28900"))
    assert sent(binance_fake, "/fapi/v1/order", "PUT") == [
        {"symbol": "BTCUSDT", "origClientOrderId": CID, "side": "BUY", "quantity": "0.01", "price": "28900"},
    ]
    canceled = await binance.cancel_order(BTC, CID)
    assert canceled.status is OrderStatus.CANCELED
    assert sent(binance_fake, "/fapi/v1/order", "DELETE") == [{"symbol": "BTCUSDT", "origClientOrderId": CID}]
    with pytest.raises(OrderNotFoundError):
        await binance.cancel_order(BTC, "0x" + "99" * 16)
    await binance.place_order(limit("0.01", "29000", "0x" + "01" * 16))
    await binance.place_order(limit("0.01", "28000", "0x" + "02" * 16))
    await binance.place_order(
        Order("0x" + "03" * 16, BTC, Side.BUY, OrderType.STOP_MARKET, D("0.01"), trigger_price=D(31000))
    )
    await binance.place_order(market("0.01", cid="0x" + "04" * 16, stop_loss=D(27000)))
    assert await binance.cancel_all_orders() == 3
    assert sent(binance_fake, "/fapi/v1/allOpenOrders", "DELETE") == [{"symbol": "BTCUSDT"}]
    (position,) = await binance.fetch_positions()
    assert position.stop_loss == D(27000)  # protection survives


async def test_fills_history_and_closed_pnl(binance: BinanceAdapter, binance_fake: FakeBinance) -> None:
    await binance.place_order(market("0.01"))
    binance_fake.markets["BTCUSDT"].last = D(31000)
    await binance.place_order(market("0.01", Side.SELL, "0x" + "cd" * 16, reduce_only=True))
    fills = await binance.fetch_fills(BTC)
    assert [(f.side, f.qty, f.price, f.fee, f.client_order_id) for f in fills] == [
        (Side.BUY, D("0.01"), D(30000), D("0.15"), CID),
        (Side.SELL, D("0.01"), D(31000), D("0.155"), "0x" + "cd" * 16),
    ]
    (trade,) = await binance.fetch_closed_pnl(BTC)
    assert (trade.side, trade.qty, trade.entry_price, trade.exit_price) == (
        PositionSide.LONG,
        D("0.01"),
        D(30000),
        D(31000),
    )
    assert [o.client_order_id for o in await binance.fetch_order_history(BTC)] == [CID, "0x" + "cd" * 16]
    with pytest.raises(ExchangeError, match="per symbol"):
        await binance.fetch_fills()


async def test_balance(binance: BinanceAdapter, binance_fake: FakeBinance) -> None:
    balance = await binance.fetch_balance()
    assert (balance.asset, balance.wallet, balance.available, balance.unrealized_pnl) == (
        "USDT",
        D(10000),
        D(10000),
        D(0),
    )
    await binance.place_order(market("0.01"))
    binance_fake.markets["BTCUSDT"].last = D(31000)
    balance = await binance.fetch_balance()
    assert (balance.wallet, balance.unrealized_pnl) == (D(10000) - D("0.15"), D(10))
    assert balance.available == balance.wallet + 10 - D(15)  # initial margin of 300 USDT at 20x


async def test_leverage_clamps_and_margin_type(binance: BinanceAdapter, binance_fake: FakeBinance) -> None:
    assert await binance.set_leverage(BTC, D(200)) == D(125)
    assert await binance.set_leverage(BTC, D("7.9")) == D(7)
    assert sent(binance_fake, "/fapi/v1/leverage") == [
        {"symbol": "BTCUSDT", "leverage": "125"},
        {"symbol": "BTCUSDT", "leverage": "7"},
    ]
    await binance.set_margin_mode(BTC, MarginMode.ISOLATED)
    await binance.set_margin_mode(BTC, MarginMode.ISOLATED)  # -4046 no need to change: no error
    assert sent(binance_fake, "/fapi/v1/marginType") == [{"symbol": "BTCUSDT", "marginType": "ISOLATED"}] * 2


async def test_a_refused_leverage_keeps_the_current_one(binance: BinanceAdapter, binance_fake: FakeBinance) -> None:
    await binance.load_instruments()
    binance_fake.markets["BTCUSDT"].max_leverage = 50  # lower than the bracket the adapter loaded
    assert await binance.set_leverage(BTC, D(100)) == D(20)


async def test_position_protection_replaces_the_previous_orders(
    binance: BinanceAdapter, binance_fake: FakeBinance
) -> None:
    with pytest.raises(InvalidOrderError, match="no BTC/USDT:USDT position"):
        await binance.set_position_protection(BTC, stop_loss=D(28000))
    await binance.place_order(market("0.01", stop_loss=D(28000)))
    await binance.set_position_protection(BTC, take_profit=D(33000), stop_loss=D("28500"))
    (position,) = await binance.fetch_positions()
    assert (position.take_profit, position.stop_loss) == (D(33000), D(28500))
    assert len([o for o in binance_fake.account.algo.values() if o["algoStatus"] == "NEW"]) == 2


async def test_error_mapping(binance: BinanceAdapter, binance_fake: FakeBinance) -> None:
    with pytest.raises(InsufficientFundsError) as insufficient:
        await binance.place_order(limit("100", "29000"))
    assert (insufficient.value.code, insufficient.value.venue_message) == ("-2019", "Margin is insufficient.")
    with pytest.raises(InvalidOrderError, match="order value"):
        await binance.place_order(limit("0.001", "29000"))  # 29 USDT < 100: refused here, not by Binance
    binance_fake.fail("/fapi/v1/order", binance_fake.error_body(-1111, "Precision is over the maximum."), status=400)
    with pytest.raises(InvalidOrderError) as invalid:
        await binance.place_order(limit("0.01", "29000"))
    assert invalid.value.code == "-1111"
    binance_fake.fail(
        "/fapi/v3/account",
        binance_fake.error_body(-1003, "Too many requests."),
        status=429,
        headers={"Retry-After": "7"},
    )
    with pytest.raises(RateLimitedError) as limited:
        await binance.fetch_balance()
    assert (limited.value.code, limited.value.retry_after) == ("-1003", 7.0)
    binance_fake.fail("/fapi/v3/account", None, status=502)
    with pytest.raises(ExchangeUnavailableError):
        await binance.fetch_balance()


async def test_wrong_keys_are_authentication_errors(binance_fake: FakeBinance) -> None:
    for api_key, secret, code in (("wrong" * 10, None, "-2015"), (None, "0" * 64, "-1022")):
        adapter = make_binance(binance_fake, api_key=api_key, secret=secret)
        try:
            with pytest.raises(AuthenticationError) as raised:
                await adapter.fetch_balance()
            assert raised.value.code == code
        finally:
            await adapter.close()


async def test_below_minimum_and_unknown_symbols_send_no_order(
    binance: BinanceAdapter, binance_fake: FakeBinance
) -> None:
    with pytest.raises(InvalidOrderError, match="below the minimum"):
        await binance.place_order(limit("0.0001", "29000"))
    with pytest.raises(InvalidOrderError, match="NOSUCH"):
        await binance.place_order(Order(CID, "NOSUCH/USDT:USDT", Side.BUY, OrderType.MARKET, D(1)))
    assert not binance_fake.requests("/fapi/v1/order") and not binance_fake.requests("/fapi/v1/algoOrder")


async def test_public_streams_through_ccxt_pro(binance: BinanceAdapter) -> None:
    trade = await anext(binance.watch_trades(BTC))
    assert (trade.trade_id, trade.side, trade.price, trade.qty) == ("5933014", Side.SELL, D(30000), D("0.015"))
    candle = await anext(binance.watch_candles(BTC, "1m"))
    assert (candle.timestamp, candle.open, candle.high, candle.close) == (
        1_767_225_600_000,
        D(30000),
        D(30005),
        D(30001),
    )
    book = await anext(binance.watch_order_book(BTC, depth=2))  # the REST snapshot, then the streamed change
    assert [(level.price, level.qty) for level in book.bids] == [(D("29999.9"), D("0.75")), (D("29999.8"), D(1))]


async def test_private_streams_report_orders_fills_and_positions(
    binance: BinanceAdapter, binance_fake: FakeBinance
) -> None:
    next_order = asyncio.ensure_future(anext(binance.watch_orders()))
    next_fill = asyncio.ensure_future(anext(binance.watch_fills()))
    next_position = asyncio.ensure_future(anext(binance.watch_positions()))
    await binance_fake.subscribed("user")
    await binance.place_order(market("0.01"))
    order, fill, position = await asyncio.gather(next_order, next_fill, next_position)
    assert (order.client_order_id, order.status, order.filled_qty, order.avg_fill_price) == (
        CID,
        OrderStatus.FILLED,
        D("0.01"),
        D(30000),
    )
    assert (fill.client_order_id, fill.qty, fill.price, fill.fee, fill.fee_asset) == (
        CID,
        D("0.01"),
        D(30000),
        D("0.15"),
        "USDT",
    )
    assert (position.symbol, position.side, position.qty, position.entry_price) == (
        BTC,
        PositionSide.LONG,
        D("0.01"),
        D(30000),
    )
    assert binance_fake.requests("/fapi/v1/listenKey")[0].headers["X-MBX-APIKEY"] == binance_fake.account.api_key


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (400, -1013, "Filter failure: LOT_SIZE", InvalidOrderError),
        (
            400,
            -4164,
            "Order's notional must be no smaller than 100 (unless you choose reduce only).",
            InvalidOrderError,
        ),
        (400, -4015, "Client order id is not valid.", InvalidOrderError),
        (400, -2018, "Balance is insufficient.", InsufficientFundsError),
        (500, -1001, "Internal error; unable to process your request. Please try again.", NetworkError),
        (403, -1003, "WAF limit", RateLimitedError),
    ],
    ids=lambda value: str(value) if isinstance(value, int) else None,
)
async def test_order_refusals_by_code(
    binance: BinanceAdapter, binance_fake: FakeBinance, status: int, code: int, message: str, expected: type
) -> None:
    binance_fake.fail("/fapi/v1/order", binance_fake.error_body(code, message), status=status)
    with pytest.raises(expected) as raised:
        await binance.place_order(limit("0.01", "29000"))
    assert (raised.value.code, raised.value.venue_message) == (str(code), message)
