"""The BreakoutStrategy facade over real candles: level refresh, no look-ahead, duplicates, and the exit path."""

from __future__ import annotations

import numpy as np
import pytest
from breakout_fixtures import real

from elcaro.marketdata import CandleArrays, resample_arrays
from elcaro.models.enums import Side
from elcaro.models.errors import ValidationError
from elcaro.strategies.breakout.exits import step
from elcaro.strategies.breakout.levels import find_levels
from elcaro.strategies.breakout.preset import load_preset
from elcaro.strategies.breakout.strategy import BreakoutStrategy

BTC = "BTC_USDT-5m.csv"
SYMBOL = "BTC/USDT:USDT"


def head(candles: CandleArrays, end: int) -> CandleArrays:
    return CandleArrays(
        *(getattr(candles, name)[:end] for name in ("timestamp", "open", "high", "low", "close", "volume"))
    )


def walk_signals(strategy: BreakoutStrategy, candles: CandleArrays, symbol: str = SYMBOL) -> dict[int, object]:
    series = strategy.prepare(symbol, candles)
    found = {}
    for index in range(strategy.preset.warmup_bars, len(candles)):
        signal = strategy.signal_at(symbol, series, index)
        if signal is not None:
            found[index] = signal
    return found


@pytest.fixture(scope="module")
def liquid_walk() -> tuple[BreakoutStrategy, CandleArrays, dict[int, object]]:
    strategy = BreakoutStrategy(load_preset("liquid"))
    candles = real(BTC)
    return strategy, candles, walk_signals(strategy, candles)


def test_levels_are_refreshed_on_time_anchors_and_held_in_between() -> None:
    preset = load_preset("liquid")
    strategy = BreakoutStrategy(preset)
    candles = real(BTC)
    series = strategy.prepare(SYMBOL, candles)
    refresh, bar_ms = preset.levels.refresh_bars, preset.timeframe_ms
    for index in range(3_000, 3_040):
        end = index - int(candles.timestamp[index] // bar_ms % refresh)
        assert candles.timestamp[end] % (refresh * bar_ms) == 0  # this series has no gaps
        assert strategy.levels_for(SYMBOL, series, index) == tuple(find_levels(candles, preset.levels, end=end))


def test_every_signal_on_real_btc_is_consistent(liquid_walk: tuple[BreakoutStrategy, CandleArrays, dict]) -> None:
    strategy, candles, signals = liquid_walk
    preset = strategy.preset
    assert len(signals) > 50
    assert {signal.kind for signal in signals.values()} == {"momentum", "retest"}
    assert {signal.side for signal in signals.values()} == {Side.BUY, Side.SELL}
    for index, signal in signals.items():
        assert signal.bar_ts == candles.timestamp[index]
        assert signal.entry == candles.close[index]
        assert signal.expires_at == signal.bar_ts + (1 + preset.signals.expiry_bars) * preset.timeframe_ms
        sign = 1 if signal.side is Side.BUY else -1
        assert sign * (signal.entry - signal.stop) > 0
        assert sign * (signal.tp2 - signal.tp1) > 0 < sign * (signal.tp1 - signal.entry)
        assert signal.tp1 - signal.entry == pytest.approx(preset.signals.tp1_r * (signal.entry - signal.stop))
        assert sign * (signal.entry - signal.level.price) > 0  # the close is on the breakout side of its level
        assert signal.level in strategy.levels_for(SYMBOL, candles, index)
        assert preset.signals.min_confidence <= signal.confidence <= 1
        assert all(check.passed for check in signal.checks if check.name != "book_imbalance")
        assert [check.passed for check in signal.checks if check.name == "book_imbalance"] in ([], [None])


def test_a_signal_is_the_same_when_the_series_ends_at_its_bar(
    liquid_walk: tuple[BreakoutStrategy, CandleArrays, dict],
) -> None:
    """What a live engine sees (the series ends at the bar that just closed) is what the backtest saw."""
    strategy, candles, signals = liquid_walk
    rng = np.random.default_rng(11)
    quiet = rng.choice([i for i in range(strategy.preset.warmup_bars, len(candles)) if i not in signals], 40)
    for index in [*list(signals)[::4], *quiet.tolist()]:
        live = BreakoutStrategy(strategy.preset)
        assert live.signal_at(SYMBOL, head(candles, index + 1), index) == signals.get(index)


def test_plain_arrays_and_a_prepared_series_give_the_same_answers() -> None:
    preset = load_preset("retest")
    candles = resample_arrays(real("ETH_BTC-5m.csv"), "5m", "15m").candles
    prepared = walk_signals(BreakoutStrategy(preset), candles, "ETH/BTC")
    plain = BreakoutStrategy(preset)
    assert prepared == {
        index: signal
        for index in range(preset.warmup_bars, len(candles))
        if (signal := plain.signal_at("ETH/BTC", candles, index)) is not None
    }
    assert prepared


def test_a_signal_is_given_once_until_it_expires(liquid_walk: tuple[BreakoutStrategy, CandleArrays, dict]) -> None:
    strategy, candles, signals = liquid_walk
    index, signal = next(iter(signals.items()))
    assert strategy.signal_at(SYMBOL, candles, index) == signal  # asking again for its bar: the same signal
    fresh = BreakoutStrategy(strategy.preset)
    assert fresh.signal_at(SYMBOL, candles, index) == signal
    assert fresh.assess_at(SYMBOL, candles, index).signal == signal
    fresh.reset()
    assert fresh.signal_at(SYMBOL, candles, index) == signal


def test_the_facade_manages_trades_with_the_exit_rules(
    liquid_walk: tuple[BreakoutStrategy, CandleArrays, dict],
) -> None:
    strategy, candles, signals = liquid_walk
    series = strategy.prepare(SYMBOL, candles)
    closed = 0
    for index, signal in list(signals.items())[:30]:
        entry_price = float(candles.open[index + 1])
        if not signal.accepts_entry(entry_price):
            continue
        trade = strategy.open_trade(signal, quantity=1.0, entry_price=entry_price, index=index + 1, ts=0)
        for bar in range(index + 1, len(candles)):
            result = strategy.step(trade, series, bar)
            assert list(result.actions) == strategy.manage(trade, candles, bar)
            assert result == step(trade, candles, bar, strategy.preset.management)  # the module computes its own ATR
            trade = result.trade
            if trade.is_closed:
                closed += 1
                break
    assert closed >= 20


def test_an_index_outside_the_series_is_refused() -> None:
    strategy = BreakoutStrategy(load_preset("liquid"))
    with pytest.raises(ValidationError) as caught:
        strategy.levels_for(SYMBOL, real(BTC), len(real(BTC)))
    assert caught.value.field == "index"
