"""Price drivers: a replay of recorded candles (the real BTC 5m file), a synthetic walk, a live feed."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal as D
from pathlib import Path

import pytest

from elcaro.exchanges.paper import CandleReplay, LiveFeed, ManualClock, PaperEngine, SyntheticMarket
from elcaro.models import ExitReason, Instrument, PositionSide, Side
from elcaro.models.errors import ValidationError
from elcaro.models.market import BookLevel, Candle, OrderBook, PublicTrade, Ticker
from paper.builders import ALICE, BTC, ETH, START_MS, limit, make_engine, market

BTC_5M = Path(__file__).resolve().parents[4] / "shared" / "data" / "ohlcv" / "BTC_USDT-5m.csv"
FIVE_MINUTES = 300_000


def read_candles(path: Path) -> list[Candle]:
    with path.open(newline="") as file:
        return [
            Candle(
                int(row["timestamp"]), D(row["open"]), D(row["high"]), D(row["low"]), D(row["close"]), D(row["volume"])
            )
            for row in csv.DictReader(file)
        ]


@pytest.fixture(scope="module")
def btc_candles() -> list[Candle]:
    if not BTC_5M.exists():
        pytest.skip(f"the recorded candles are not at {BTC_5M}")
    return read_candles(BTC_5M)


def expected_exit(candles: list[Candle], side: PositionSide, take_profit: D, stop_loss: D) -> tuple[int, D, ExitReason]:
    """Where a protected position must close, worked out from the bars alone.

    The same convention as the engine's (up bars open → low → high → close, down bars open → high
    → low → close), written independently: a level crossed between two points of the path closes at
    the level; one already passed at a bar's open (a gap) closes at the open.
    """

    sign = side.sign

    def hit(price: D) -> ExitReason | None:
        if sign * (price - take_profit) >= 0:
            return ExitReason.TAKE_PROFIT
        if sign * (price - stop_loss) <= 0:
            return ExitReason.STOP_LOSS
        return None

    for index, candle in enumerate(candles):
        up = candle.close >= candle.open
        path = (
            [candle.open, candle.low, candle.high, candle.close]
            if up
            else [candle.open, candle.high, candle.low, candle.close]
        )
        if (reason := hit(path[0])) is not None:
            return index, path[0], reason
        for point in path[1:]:
            if (reason := hit(point)) is not None:
                return index, take_profit if reason is ExitReason.TAKE_PROFIT else stop_loss, reason
    raise AssertionError("the position never closed")


def test_a_replay_of_real_candles_fires_tp_and_sl_at_the_right_bars(btc_candles: list[Candle]) -> None:
    """Every 250 bars, when flat, open at the close (long and short in turn) with a 0.6 % target and a
    0.4 % stop; each trade must close at the bar, price and reason the bars alone say."""
    clock = ManualClock(btc_candles[0].timestamp)
    engine, _ = make_engine(clock=clock)
    replay = CandleReplay(engine, clock, {BTC.symbol: btc_candles}, timeframe="5m")
    expected: list[tuple[PositionSide, D, int, int, D, ExitReason]] = []
    for index, step in enumerate(replay):
        if index % 250 or index > len(btc_candles) - 500 or engine.positions(ALICE):
            continue
        side = PositionSide.LONG if len(expected) % 2 == 0 else PositionSide.SHORT
        close = step.candles[BTC.symbol].close
        up, down = BTC.round_price(close * D("1.006")), BTC.round_price(close * D("0.996"))
        take_profit, stop_loss = (
            (up, down)
            if side is PositionSide.LONG
            else (BTC.round_price(close * D("0.994")), BTC.round_price(close * D("1.004")))
        )
        engine.place_order(
            ALICE,
            market(f"entry-{index}", side.entry_side, "0.1", take_profit=str(take_profit), stop_loss=str(stop_loss)),
        )
        exit_index, exit_price, reason = expected_exit(btc_candles[index + 1 :], side, take_profit, stop_loss)
        expected.append(
            (
                side,
                close,
                step.timestamp + FIVE_MINUTES,
                btc_candles[index + 1 + exit_index].timestamp,
                exit_price,
                reason,
            )
        )

    trades = engine.closed_pnl(ALICE)
    assert len(expected) > 30
    assert {reason for *_, reason in expected} == {ExitReason.TAKE_PROFIT, ExitReason.STOP_LOSS}
    assert [(t.side, t.entry_price, t.opened_at, t.closed_at, t.exit_price, t.exit_reason) for t in trades] == expected
    assert engine.candles(BTC.symbol, "5m")[-1] == btc_candles[-1]
    assert clock() == btc_candles[-1].timestamp + FIVE_MINUTES
    assert engine.balance(ALICE).wallet == D(10000) + sum((trade.net_pnl for trade in trades), D(0))


def bars(start: int, closes: list[str]) -> list[Candle]:
    return [Candle(start + n * 60_000, D(c), D(c), D(c), D(c), D(1)) for n, c in enumerate(closes)]


def test_a_replay_merges_symbols_by_time_and_moves_the_clock(clock: ManualClock) -> None:
    engine, _ = make_engine(clock=clock)
    btc, eth = bars(START_MS, ["30000", "30100", "30200"]), bars(START_MS + 60_000, ["2000", "2010"])
    steps = list(CandleReplay(engine, clock, {ETH.symbol: eth, BTC.symbol: btc}, timeframe="1m"))

    assert [(step.timestamp, sorted(step.candles)) for step in steps] == [
        (START_MS, [BTC.symbol]),
        (START_MS + 60_000, [BTC.symbol, ETH.symbol]),
        (START_MS + 120_000, [BTC.symbol, ETH.symbol]),
    ]
    assert clock() == START_MS + 180_000
    assert (engine.mark_price(BTC.symbol), engine.mark_price(ETH.symbol)) == (D("30200"), D("2010"))


def test_orders_placed_between_bars_carry_the_bar_close_time(clock: ManualClock) -> None:
    engine, _ = make_engine(clock=clock)
    replay = iter(CandleReplay(engine, clock, {BTC.symbol: bars(START_MS, ["30000", "30100"])}, timeframe="1m"))
    next(replay)
    order = engine.place_order(ALICE, limit("l", Side.BUY, "0.1", "30100"))
    assert order.created_at == START_MS + 60_000
    next(replay)
    assert engine.get_order(ALICE, "l").updated_at == START_MS + 60_000


def test_a_replay_refuses_candles_out_of_order(clock: ManualClock) -> None:
    engine, _ = make_engine(clock=clock)
    candles = bars(START_MS, ["1", "2"])
    with pytest.raises(ValidationError, match="strictly increasing"):
        CandleReplay(engine, clock, {BTC.symbol: candles[::-1]}, timeframe="1m").run()


def synthetic_prices(seed: int) -> list[dict[str, D]]:
    engine, clock = make_engine()
    market_ = SyntheticMarket(engine, clock, seed=seed, step_ms=250)
    market_.add_symbol(BTC.symbol, D("30000"), volatility=0.002)
    market_.add_symbol(ETH.symbol, D("2000"), volatility=0.004, drift=0.0001)
    return [market_.step() for _ in range(200)]


def test_a_synthetic_market_is_the_same_for_the_same_seed() -> None:
    first, again, other = synthetic_prices(7), synthetic_prices(7), synthetic_prices(8)
    assert first == again and first != other
    for prices in first:
        assert prices[BTC.symbol] % BTC.tick_size == 0 and prices[BTC.symbol] > 0
        assert prices[ETH.symbol] % ETH.tick_size == 0 and prices[ETH.symbol] > 0
    assert len({prices[BTC.symbol] for prices in first}) > 100


def test_a_synthetic_market_drives_the_engine_and_the_clock() -> None:
    engine, clock = make_engine()
    walk = SyntheticMarket(engine, clock, seed=1, step_ms=1_000)
    walk.add_symbol(BTC.symbol, D("30000"), volatility=0.01)
    engine.place_order(ALICE, market("m", Side.BUY, "0.1", take_profit="30300", stop_loss="29700"))
    walk.run(500)
    assert clock() == START_MS + 500_000
    (trade,) = engine.closed_pnl(ALICE)
    assert trade.exit_reason in (ExitReason.TAKE_PROFIT, ExitReason.STOP_LOSS)
    with pytest.raises(ValidationError, match="no instrument"):
        walk.add_symbol("XRP/USDT:USDT", D(1), volatility=0.01)


class FakeMarketData:
    """Public data as a venue would stream it: the few calls LiveFeed makes, from fixed lists."""

    def __init__(
        self, instruments: Mapping[str, Instrument], trades: list[PublicTrade], books: list[OrderBook]
    ) -> None:
        self.instruments = dict(instruments)
        self.trades = trades
        self.books = books

    async def load_instruments(self, *, reload: bool = False) -> Mapping[str, Instrument]:
        return self.instruments

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        ticker = Ticker(BTC.symbol, D("30010"), D("30009.9"), D("30010.1"), D("30005"), None, D(1), D(30000), 0)
        return {BTC.symbol: ticker}

    async def watch_trades(self, symbol: str) -> AsyncIterator[PublicTrade]:
        for trade in self.trades:
            if trade.symbol == symbol:
                yield trade

    async def watch_order_book(self, symbol: str, depth: int = 50) -> AsyncIterator[OrderBook]:
        for book in self.books:
            yield book


def trade_at(n: int, price: str) -> PublicTrade:
    return PublicTrade(BTC.symbol, str(n), Side.SELL, D(price), D("0.01"), n)


async def test_a_live_feed_loads_rules_and_follows_the_venues_prices() -> None:
    engine = PaperEngine(clock=ManualClock(START_MS))
    engine.open_account(ALICE, D(10000))
    source = FakeMarketData({BTC.symbol: BTC}, [trade_at(1, "30020"), trade_at(2, "29890.5")], [])
    feed = LiveFeed(engine, source, [BTC.symbol])

    await feed.load_instruments()
    await feed.refresh()
    assert (engine.mark_price(BTC.symbol), engine.last_price(BTC.symbol)) == (D("30005"), D("30010"))

    engine.place_order(ALICE, limit("dip", Side.BUY, "0.1", "29900"))
    await feed.follow_trades(BTC.symbol)
    assert engine.mark_price(BTC.symbol) == D("29890.5")
    assert engine.get_order(ALICE, "dip").avg_fill_price == D("29900")


async def test_a_live_feed_can_follow_order_books_for_paper_takers() -> None:
    engine = PaperEngine(clock=ManualClock(START_MS))
    engine.open_account(ALICE, D(10000))
    book = OrderBook(BTC.symbol, (BookLevel(D("30000"), D(1)),), (BookLevel(D("30001.5"), D(1)),), 0)
    await LiveFeed(engine, FakeMarketData({BTC.symbol: BTC}, [], [book]), [BTC.symbol]).run(books=True)
    assert engine.order_book(BTC.symbol) == book
    assert engine.place_order(ALICE, market("m", Side.BUY, "0.1")).avg_fill_price == D("30001.5")


async def test_a_live_feed_refuses_symbols_the_source_does_not_list() -> None:
    engine = PaperEngine(clock=ManualClock(START_MS))
    feed = LiveFeed(engine, FakeMarketData({BTC.symbol: BTC}, [], []), [BTC.symbol, "XRP/USDT:USDT"])
    with pytest.raises(ValidationError, match="does not list XRP/USDT:USDT"):
        await feed.load_instruments()
