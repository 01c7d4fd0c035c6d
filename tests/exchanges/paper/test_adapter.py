"""The paper adapter: the protocol over one engine account, its streams and its market data."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from elcaro.exchanges.paper import CandleReplay, ManualClock, PaperEngine, PaperExchangeAdapter
from elcaro.models import Environment, Exchange, MarginMode, OrderStatus, PositionSide, Side, Target
from elcaro.models.errors import ExchangeError, InvalidOrderError, NotFoundError, OrderNotFoundError, ValidationError
from elcaro.models.market import BookLevel, Candle, OrderBook
from paper.builders import ALICE, BOB, BTC, ETH, START_MS, limit, market


@pytest.fixture
def adapter(engine: PaperEngine) -> PaperExchangeAdapter:
    return PaperExchangeAdapter(engine, ALICE)


async def test_rules_are_checked_before_the_engine_sees_the_order(
    engine: PaperEngine, adapter: PaperExchangeAdapter
) -> None:
    seen = []
    engine.subscribe(seen.append)
    with pytest.raises(InvalidOrderError, match="below the minimum"):
        await adapter.place_order(market("tiny", Side.BUY, "0.0005"))
    with pytest.raises(InvalidOrderError, match="unknown symbol"):
        await adapter.place_order(market("nope", Side.BUY, "1", symbol="XRP/USDT:USDT"))
    with pytest.raises(InvalidOrderError, match="no price for ETH"):
        await adapter.place_order(market("early", Side.BUY, "1", symbol=ETH.symbol))
    assert seen == [] and engine.order_history(ALICE) == []


async def test_a_retry_returns_the_order_already_placed(adapter: PaperExchangeAdapter) -> None:
    first = await adapter.place_order(market("once", Side.BUY, "0.1"))
    again = await adapter.place_order(market("once", Side.BUY, "0.1"))
    assert again == first
    assert len(await adapter.fetch_fills()) == 1


async def test_orders_are_found_by_symbol_and_client_id(adapter: PaperExchangeAdapter) -> None:
    await adapter.place_order(limit("l", Side.BUY, "0.1", "29000"))
    assert (await adapter.fetch_order(BTC.symbol, "l")).price == D("29000")
    for call in (adapter.fetch_order, adapter.cancel_order):
        with pytest.raises(OrderNotFoundError):
            await call(ETH.symbol, "l")
    with pytest.raises(OrderNotFoundError):
        await adapter.amend_order(ETH.symbol, "l", price=D("29100"))
    amended = await adapter.amend_order(BTC.symbol, "l", price=D("29100"))
    assert amended.price == D("29100")
    await adapter.place_order(limit("l2", Side.BUY, "0.1", "28000"))
    assert await adapter.cancel_all_orders() == 2
    assert [order.status for order in await adapter.fetch_order_history()] == [OrderStatus.CANCELED] * 2


async def test_account_settings_and_position_protection(adapter: PaperExchangeAdapter) -> None:
    assert await adapter.set_leverage(BTC.symbol, D(500)) == D(100)
    await adapter.set_margin_mode(BTC.symbol, MarginMode.CROSS)
    await adapter.place_order(market("m", Side.SELL, "0.1"))
    await adapter.set_position_protection(BTC.symbol, take_profit=D("29000"), stop_loss=D("30500"))
    (position,) = await adapter.fetch_positions()
    assert (position.side, position.leverage, position.margin_mode) == (PositionSide.SHORT, D(100), MarginMode.CROSS)
    assert (position.take_profit, position.stop_loss) == (D("29000"), D("30500"))
    assert await adapter.fetch_positions([ETH.symbol]) == []
    balance = await adapter.fetch_balance()
    assert balance.asset == "USDT" and balance.wallet == D("9998.35")


async def test_history_pages_like_ccxt(engine: PaperEngine, adapter: PaperExchangeAdapter, clock: ManualClock) -> None:
    for n in range(4):
        clock.advance(1_000)
        await adapter.place_order(market(f"m{n}", Side.BUY if n % 2 == 0 else Side.SELL, "0.1"))
    fills = await adapter.fetch_fills()
    assert [fill.client_order_id for fill in fills] == ["m0", "m1", "m2", "m3"]
    assert [fill.client_order_id for fill in await adapter.fetch_fills(limit=2)] == ["m2", "m3"]
    since = START_MS + 2_000
    assert [fill.client_order_id for fill in await adapter.fetch_fills(since=since, limit=2)] == ["m1", "m2"]
    assert await adapter.fetch_fills(limit=0) == []
    assert [order.client_order_id for order in await adapter.fetch_order_history(BTC.symbol, since=since)] == [
        "m1",
        "m2",
        "m3",
    ]
    trades = await adapter.fetch_closed_pnl(BTC.symbol, since=START_MS + 4_000)
    assert [trade.closed_at for trade in trades] == [START_MS + 4_000]


async def test_closed_pnl_carries_the_adapters_target(engine: PaperEngine) -> None:
    binance = Target(Exchange.BINANCE, Environment.PAPER)
    adapter = PaperExchangeAdapter(engine, ALICE, target=binance)
    await adapter.place_order(market("open", Side.BUY, "0.1"))
    await adapter.place_order(market("close", Side.SELL, "0.1"))
    assert adapter.target == binance
    assert [trade.target for trade in await adapter.fetch_closed_pnl()] == [binance]
    assert engine.closed_pnl(ALICE)[0].target == engine.target


def test_an_adapter_is_for_a_paper_target_and_an_existing_account(engine: PaperEngine) -> None:
    with pytest.raises(ValidationError, match="paper targets"):
        PaperExchangeAdapter(engine, ALICE, target=Target(Exchange.BYBIT, Environment.DEMO))
    with pytest.raises(NotFoundError):
        PaperExchangeAdapter(engine, "nobody")


async def test_streams_carry_this_accounts_orders_fills_and_positions(engine: PaperEngine) -> None:
    engine.open_account(BOB, D(1000))
    adapter = PaperExchangeAdapter(engine, ALICE)
    orders, fills, positions = adapter.watch_orders(), adapter.watch_fills(), adapter.watch_positions()

    engine.place_order(BOB, market("bob", Side.BUY, "0.01"))
    await adapter.place_order(market("open", Side.BUY, "0.1"))
    await adapter.place_order(market("close", Side.SELL, "0.1"))
    await adapter.close()

    assert [(order.client_order_id, order.status) async for order in orders] == [
        ("open", OrderStatus.FILLED),
        ("close", OrderStatus.FILLED),
    ]
    assert [fill.client_order_id async for fill in fills] == ["open", "close"]
    assert [(position.side, position.qty) async for position in positions] == [(PositionSide.LONG, D("0.1"))]
    assert [order async for order in orders] == []


async def test_market_data_comes_from_what_the_engine_has_seen(engine: PaperEngine, clock: ManualClock) -> None:
    adapter = PaperExchangeAdapter(engine, ALICE)
    candles_stream, trades_stream = adapter.watch_candles(BTC.symbol, "1m"), adapter.watch_trades(BTC.symbol)
    with pytest.raises(ExchangeError, match="no 1m candles"):  # never priced (BTC is: it has minute bars)
        await adapter.fetch_ohlcv(ETH.symbol, "1m")
    candles = [Candle(START_MS + n * 60_000, D("30000"), D("30100"), D("29900"), D("30050"), D(2)) for n in range(3)]
    CandleReplay(engine, clock, {BTC.symbol: candles}, timeframe="1m").run()
    await adapter.place_order(market("m", Side.BUY, "0.1"))

    assert await adapter.fetch_ohlcv(BTC.symbol, "1m", limit=2) == candles[1:]
    assert await adapter.fetch_ohlcv(BTC.symbol, "1m", since=START_MS + 60_000, limit=1) == candles[1:2]
    ticker = await adapter.fetch_ticker(BTC.symbol)
    assert (ticker.last, ticker.mark, ticker.volume_24h, ticker.turnover_24h) == (
        D("30050"),
        D("30050"),
        D(6),
        D("180300"),
    )
    assert (await adapter.fetch_tickers())[BTC.symbol] == ticker
    with pytest.raises(ExchangeError, match="no price for ETH"):
        await adapter.fetch_ticker(ETH.symbol)
    interest = await adapter.fetch_open_interest(BTC.symbol)
    assert (interest.contracts, interest.value) == (D("0.1"), D("3005.0"))
    assert (await adapter.fetch_funding_rate(BTC.symbol)).rate == 0
    engine.apply_funding(BTC.symbol, D("0.0001"))
    assert (await adapter.fetch_funding_rate(BTC.symbol)).rate == D("0.0001")
    await adapter.close()
    assert [candle async for candle in candles_stream] == candles
    assert [(trade.side, trade.price, trade.qty) async for trade in trades_stream] == [(Side.BUY, D("30050"), D("0.1"))]


async def test_order_books(engine: PaperEngine) -> None:
    adapter = PaperExchangeAdapter(engine, ALICE)
    stream = adapter.watch_order_book(BTC.symbol, depth=1)
    with pytest.raises(ExchangeError, match="no order book"):
        await adapter.fetch_order_book(BTC.symbol)
    asks = (BookLevel(D("30001"), D(1)), BookLevel(D("30002"), D(1)))
    book = OrderBook(BTC.symbol, (BookLevel(D("29999"), D(1)),), asks, START_MS)
    engine.set_order_book(book)
    assert (await adapter.fetch_order_book(BTC.symbol, depth=1)).asks == asks[:1]
    assert (await adapter.fetch_order_book(BTC.symbol)).asks == asks
    await adapter.close()
    assert [streamed.asks async for streamed in stream] == [asks[:1]]
