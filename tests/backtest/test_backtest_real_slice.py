"""Two Donchian trades on real BTC/USDT candles, checked by hand against the CSV rows.

Window 2023-01-10 12:00 → 15:00 UTC (36 five-minute bars, indexes 0–35), channel of 10 bars,
stop 0.2 %, target 0.3 %, the paper exchange's fees, capital 1000. From ``BTC_USDT-5m.csv``:

- bar 23 (13:55) closes at 17238.7, above 17235, the highest high of bars 13–22 (bar 21's); no bar
  from 10 (the first with ten bars before it) to 22 closes above its own channel. Entry at bar 24's
  open, 17238.7; stop 17238.7 × 0.998 = 17204.2226, target 17238.7 × 1.003 = 17290.4161.
- bar 24 stays inside (low 17238.3, high 17258); bar 25 (14:05) reaches 17298.9 with a low of
  17251.9: the target fills at 17290.4161.
- bar 25 itself closes at 17279.9, above 17258 (the high of bars 15–24): entry at bar 26's open,
  17279.9; stop 17245.3402, target 17331.7397.
- lows of bars 26–28 are 17258.1, 17264.5 and 17245.8 (above the stop, the last by 0.46); bar 29
  (14:25) opens at 17252.6 and falls to 17239.8: the stop fills at 17245.3402.
- from bar 29 on, every close stays below the channel (17298.9, then 17325.4 from bar 31): no trade.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from backtest_builders import OHLCV

from elcaro.backtest import BacktestConfig, load_dataset, run_backtest
from elcaro.backtest.fills import DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE
from elcaro.core.clock import from_datetime
from elcaro.strategies.donchian import DonchianSettings

SETTINGS = DonchianSettings(period=10, stop_pct=0.002, target_pct=0.003)


@pytest.mark.parametrize("path", ["fast", "events"])
def test_the_hand_checked_trades_of_a_real_window(path: str) -> None:
    start = from_datetime(datetime(2023, 1, 10, 12, tzinfo=UTC))
    dataset = load_dataset([OHLCV / "BTC_USDT-5m.csv"], "5m", start=start, end=start + 36 * 300_000)
    assert len(dataset.universe["BTC/USDT"]) == 36

    result = run_backtest(dataset.universe, SETTINGS, BacktestConfig(capital=1000.0, path=path))

    first, second = result.trades
    assert (first.entry_index, first.exit_index, first.exit_reason) == (24, 25, "target")
    assert (first.entry_time, first.exit_time) == (start + 24 * 300_000, start + 25 * 300_000)
    assert first.entry_price == 17238.7
    assert first.initial_stop == pytest.approx(17204.2226, rel=1e-12)
    assert first.exit_price == pytest.approx(17290.4161, rel=1e-12)
    quantity = 1000.0 / (17238.7 * (1 + DEFAULT_TAKER_FEE))
    fees = quantity * (17238.7 * DEFAULT_TAKER_FEE + 17290.4161 * DEFAULT_MAKER_FEE)
    assert first.quantity == pytest.approx(quantity, rel=1e-12)
    assert first.pnl == pytest.approx(quantity * (17290.4161 - 17238.7) - fees, rel=1e-9)

    assert (second.entry_index, second.exit_index, second.exit_reason) == (26, 29, "stop")
    assert second.entry_price == 17279.9
    assert second.exit_price == pytest.approx(17245.3402, rel=1e-12)
    sleeve = 1000.0 + first.pnl  # the sleeve compounds
    assert second.quantity == pytest.approx(sleeve / (17279.9 * (1 + DEFAULT_TAKER_FEE)), rel=1e-12)
    assert second.fees == pytest.approx(second.quantity * (17279.9 + 17245.3402) * DEFAULT_TAKER_FEE, rel=1e-9)
    assert result.metrics.trades == 2
    assert result.metrics.final_equity == pytest.approx(1000.0 + first.pnl + second.pnl, rel=1e-12)
