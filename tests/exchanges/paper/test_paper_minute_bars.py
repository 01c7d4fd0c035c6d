"""The paper venue's candles when nothing feeds it candles: one-minute bars of every price it is given, resampled to
any timeframe, with candles a replay fed still answering for their own timeframe."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from elcaro.exchanges.paper import CandleReplay, ManualClock, PaperConfig, PaperExchangeAdapter, SyntheticMarket
from elcaro.models import Side
from elcaro.models.errors import ExchangeError
from elcaro.models.market import Candle
from paper.builders import ALICE, BTC, ETH, START_MS, make_engine, market

# START_MS is 2023-11-14 22:13:20 UTC: inside a minute and inside a five-minute bar, so alignment shows.
AT_22_13 = 1_699_999_980_000
AT_22_14 = 1_700_000_040_000
AT_22_15 = 1_700_000_100_000
AT_22_16 = 1_700_000_160_000
AT_22_10 = 1_699_999_800_000
SECOND = 1_000


def bar(at: int, open_: str, high: str, low: str, close: str, volume: str = "0") -> Candle:
    return Candle(at, D(open_), D(high), D(low), D(close), D(volume))


def priced_over_four_minutes() -> tuple[PaperExchangeAdapter, ManualClock]:
    """22:13:20 to 22:16:59, the mark once apart from the last price, and alice buying 0.1 BTC in the last minute."""
    engine, clock = make_engine()
    moves = [
        (0, "30000", None),  # 22:13:20
        (20, "30100", None),  # 22:13:40
        (30, "29950", None),  # 22:13:50
        (40, "30020", None),  # 22:14:00, a new minute
        (70, "30300", "30200"),  # 22:14:30: bars follow the last price, not the mark
        (105, "30150", None),  # 22:15:05, a new five minutes
        (219, "30080", None),  # 22:16:59, the minute still forming
    ]
    for offset, mark, last in moves:
        clock.set(START_MS + offset * SECOND)
        engine.update_mark(BTC.symbol, D(mark), last=None if last is None else D(last))
    engine.place_order(ALICE, market("buy", Side.BUY, "0.1"))
    return PaperExchangeAdapter(engine, ALICE), clock


async def test_prices_make_minute_bars_on_utc_minutes_the_forming_one_last() -> None:
    adapter, _ = priced_over_four_minutes()

    assert await adapter.fetch_ohlcv(BTC.symbol, "1m") == [
        bar(AT_22_13, "30000", "30100", "29950", "29950"),
        bar(AT_22_14, "30020", "30200", "30020", "30200"),
        bar(AT_22_15, "30150", "30150", "30150", "30150"),
        bar(AT_22_16, "30080", "30080", "30080", "30080", volume="0.1"),  # alice's fill at 30 080
    ]


async def test_any_listed_timeframe_is_the_minute_bars_resampled() -> None:
    adapter, _ = priced_over_four_minutes()

    assert await adapter.fetch_ohlcv(BTC.symbol, "5m") == [
        bar(AT_22_10, "30000", "30200", "29950", "30200"),
        bar(AT_22_15, "30150", "30150", "30080", "30080", volume="0.1"),
    ]
    assert await adapter.fetch_ohlcv(BTC.symbol, "1h") == [
        bar(1_699_999_200_000, "30000", "30200", "29950", "30080", volume="0.1")  # 22:00
    ]
    assert await adapter.fetch_ohlcv(BTC.symbol, "1m", since=AT_22_14, limit=2) == [
        bar(AT_22_14, "30020", "30200", "30020", "30200"),
        bar(AT_22_15, "30150", "30150", "30150", "30150"),
    ]


async def test_a_timeframe_that_is_not_listed_or_a_symbol_never_priced_is_told_apart() -> None:
    adapter, _ = priced_over_four_minutes()

    with pytest.raises(ExchangeError) as unlisted:
        await adapter.fetch_ohlcv(BTC.symbol, "7m")
    assert unlisted.value.code == "unsupported_timeframe"
    with pytest.raises(ExchangeError) as unpriced:
        await adapter.fetch_ohlcv(ETH.symbol, "5m")
    assert unpriced.value.code == "no_data"


async def test_replayed_candles_answer_for_their_timeframe_and_fold_into_the_others() -> None:
    engine, clock = make_engine()
    fed = [
        bar(AT_22_15, "30000", "30100", "29900", "30050", volume="2"),
        bar(AT_22_15 + 300_000, "30050", "30400", "30000", "30300", volume="3"),
        bar(AT_22_15 + 600_000, "30300", "30350", "29800", "29850", volume="4"),
    ]
    CandleReplay(engine, clock, {BTC.symbol: fed}, timeframe="5m").run()
    adapter = PaperExchangeAdapter(engine, ALICE)

    assert await adapter.fetch_ohlcv(BTC.symbol, "5m") == fed
    # 22:15 is a quarter-hour boundary: the three bars are one 15-minute candle.
    assert await adapter.fetch_ohlcv(BTC.symbol, "15m") == [bar(AT_22_15, "30000", "30400", "29800", "29850", "9")]
    # A live bar fed again as it grows replaces its earlier self in its own timeframe.
    revised = bar(AT_22_15 + 600_000, "30300", "30350", "29700", "29900", volume="6")
    engine.apply_candle(BTC.symbol, revised, timeframe="5m")
    assert await adapter.fetch_ohlcv(BTC.symbol, "5m") == [*fed[:2], revised]


async def test_a_synthetic_walk_gives_the_paper_venue_candles() -> None:
    engine, clock = make_engine()
    walk = SyntheticMarket(engine, clock, seed=7, step_ms=7 * SECOND)
    walk.add_symbol(BTC.symbol, D("30000"), volatility=0.002)
    seen: dict[int, list[D]] = {START_MS - START_MS % 60_000: [engine.last_price(BTC.symbol) or D(0)]}
    for _ in range(60):  # seven minutes
        price = walk.step()[BTC.symbol]
        seen.setdefault(clock() - clock() % 60_000, []).append(price)

    candles = await PaperExchangeAdapter(engine, ALICE).fetch_ohlcv(BTC.symbol, "1m")

    assert [(c.timestamp, c.open, c.high, c.low, c.close) for c in candles] == [
        (minute, prices[0], max(prices), min(prices), prices[-1]) for minute, prices in seen.items()
    ]
    assert len(candles) == 8


async def test_only_the_latest_minutes_are_kept() -> None:
    engine, clock = make_engine(config=PaperConfig(candle_history=3))
    for minute in range(6):
        clock.set(AT_22_14 + minute * 60_000)
        engine.update_mark(BTC.symbol, D(30_000 + minute))

    candles = await PaperExchangeAdapter(engine, ALICE).fetch_ohlcv(BTC.symbol, "1m")

    assert [(c.timestamp, c.close) for c in candles] == [(AT_22_14 + m * 60_000, D(30_000 + m)) for m in (3, 4, 5)]
