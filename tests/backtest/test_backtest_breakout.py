"""The breakout preset over real candles: the strategy's own rules, the skipped filters named, the same bytes twice.

The real files are BTC-quoted, so the preset's 24h volume floor (in USDT) is lowered for them; every
other threshold is the shipped ``liquid`` preset's.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from backtest_builders import real

from elcaro.backtest import BacktestConfig, run_backtest, trades_csv
from elcaro.core.clock import from_datetime
from elcaro.models.errors import ValidationError
from elcaro.strategies.breakout.exits import ExitRule
from elcaro.strategies.breakout.preset import load_preset

UNIVERSE = {"ADA/BTC": real("ADA_BTC-5m.csv"), "ETH/BTC": real("ETH_BTC-5m.csv"), "LTC/BTC": real("LTC_BTC-5m.csv")}
PRESET = load_preset("liquid").with_values({"scanner.min_volume_24h": 0.0})


@pytest.fixture(scope="module")
def result():
    return run_backtest(UNIVERSE, PRESET, BacktestConfig())


def test_the_preset_trades_with_its_own_exit_rules(result) -> None:
    assert result.path == "events"
    assert result.metrics.trades >= 10
    reasons = {t.exit_reason for t in result.trades}
    assert reasons <= {rule.value for rule in ExitRule} | {"end_of_data", "kill_switch"}
    assert "tp1" in reasons  # partial closes at the first target happen
    by_position: dict[int, list] = {}
    for trade in result.trades:
        by_position.setdefault(trade.position, []).append(trade)
    for rows in by_position.values():
        assert len({(r.symbol, r.entry_time, r.entry_price, r.initial_stop) for r in rows}) == 1
        assert [r.exit_index for r in rows] == sorted(r.exit_index for r in rows)
    # One position per symbol at a time: a symbol's next entry comes after its previous position's last close.
    last_exit: dict[str, int] = {}
    for rows in sorted(by_position.values(), key=lambda rows: rows[0].entry_time):
        symbol = rows[0].symbol
        assert rows[0].entry_time > last_exit.get(symbol, -1)
        last_exit[symbol] = max(r.exit_time for r in rows)


def test_filters_without_data_are_reported_as_skipped(result) -> None:
    skipped = set(result.skipped_filters)
    assert {
        "scanner.spread",
        "scanner.depth_30bps",
        "scanner.depth_50bps",
        "scanner.open_interest",
        "scanner.oi_change",
        "scanner.trades_per_minute",
        "scanner.btc_correlation",  # no BTC series among BTC-quoted pairs
        "signals.book_imbalance",
        "risk.book_depth",
        "management.activity_drop",
    } <= skipped
    assert not {"scanner.atr_pct", "scanner.volume_24h", "scanner.gaps"} & skipped  # measured from the candles
    passes = next(int(note.split()[0]) for note in result.notes if "scanner passes (every 12 bars)" in note)
    assert 0 < passes <= 5760 // 12 + 1  # 5,760 bar times, a pass every 12 (fewer once a kill switch stops it)


def test_the_same_inputs_give_byte_identical_trades(result) -> None:
    again = run_backtest(UNIVERSE, PRESET, BacktestConfig())
    assert trades_csv(again.trades) == trades_csv(result.trades)
    assert again.metrics == result.metrics


def test_the_kill_switch_flattens_and_stops_entries() -> None:
    preset = PRESET.with_values({"risk.kill_switch_drawdown_pct": 1.0, "risk.risk_per_trade_pct": 1.0})
    outcome = run_backtest(UNIVERSE, preset, BacktestConfig())
    note = next(note for note in outcome.notes if note.startswith("kill switch tripped at"))
    tripped = from_datetime(datetime.strptime(note[23:39], "%Y-%m-%d %H:%M").replace(tzinfo=UTC))
    flattened = [t for t in outcome.trades if t.exit_reason == "kill_switch"]
    assert flattened and all(t.exit_time == tripped for t in flattened)  # closed at once, at market
    assert max(t.exit_time for t in outcome.trades) == tripped  # nothing traded afterwards: the strategy stopped


def test_the_fast_path_is_refused_for_the_breakout_strategy() -> None:
    with pytest.raises(ValidationError) as caught:
        run_backtest(UNIVERSE, PRESET, BacktestConfig(path="fast"))
    assert caught.value.field == "path"
