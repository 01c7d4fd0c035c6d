"""The vectorised path is proved by the bar-by-bar one: the same trades, float for float.

Run on the ten real BTC-quoted pairs (their gaps included) and on seeded synthetic series, with
shorts, slippage and both entry-bar rules.
"""

from __future__ import annotations

import numpy as np
import pytest
from backtest_builders import btc_pairs, synthetic

from elcaro.backtest import BacktestConfig, FillModel, run_backtest, trades_csv
from elcaro.strategies.donchian import DonchianSettings

CASES = [
    pytest.param(DonchianSettings(), FillModel(), id="defaults"),
    pytest.param(
        DonchianSettings(period=55, stop_pct=0.01, target_pct=0.03, allow_short=True, position_fraction=0.5),
        FillModel(slippage_bps=3.0),
        id="shorts-slippage",
    ),
    pytest.param(
        DonchianSettings(period=10, stop_pct=0.005, target_pct=0.005),
        FillModel(exits_on_entry_bar=False),
        id="vectorbt-rule",
    ),
]


def both_paths(universe, settings, fills):
    fast = run_backtest(universe, settings, BacktestConfig(fills=fills, path="fast"))
    events = run_backtest(universe, settings, BacktestConfig(fills=fills, path="events"))
    return fast, events


@pytest.mark.parametrize(("settings", "fills"), CASES)
def test_the_paths_agree_on_the_real_pairs(settings: DonchianSettings, fills: FillModel) -> None:
    fast, events = both_paths(btc_pairs(), settings, fills)
    assert (fast.path, events.path) == ("fast", "events")
    assert len(fast.trades) > 100
    if settings.allow_short:
        assert {str(t.side) for t in fast.trades} == {"long", "short"}
    assert fast.trades == events.trades
    assert trades_csv(fast.trades) == trades_csv(events.trades)
    assert np.array_equal(fast.curve.timestamps, events.curve.timestamps)
    assert np.array_equal(fast.curve.in_market, events.curve.in_market)
    # The same money, added up in another order: equal to rounding.
    np.testing.assert_allclose(fast.curve.equity, events.curve.equity, rtol=1e-12)
    assert fast.metrics.trades == events.metrics.trades
    assert fast.metrics.win_rate == events.metrics.win_rate


@pytest.mark.parametrize(("settings", "fills"), CASES)
def test_the_paths_agree_on_synthetic_series_of_different_lengths(settings: DonchianSettings, fills: FillModel) -> None:
    universe = {
        f"SYN{k}/USDT": synthetic(k, 3000 + 500 * k, start=1_700_000_000_000 + 300_000 * 7 * k) for k in range(4)
    }
    fast, events = both_paths(universe, settings, fills)
    assert {t.exit_reason for t in fast.trades} >= {"stop", "target"}
    assert fast.trades == events.trades
    np.testing.assert_allclose(fast.curve.equity, events.curve.equity, rtol=1e-12)
    assert np.array_equal(fast.curve.in_market, events.curve.in_market)


def test_a_run_repeated_gives_the_same_bytes() -> None:
    universe = btc_pairs()
    settings = DonchianSettings(period=30, allow_short=True)
    first = run_backtest(universe, settings, BacktestConfig())
    second = run_backtest(universe, settings, BacktestConfig())
    assert trades_csv(first.trades).encode() == trades_csv(second.trades).encode()
    assert np.array_equal(first.curve.equity, second.curve.equity)
