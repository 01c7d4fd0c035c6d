"""Candle files for a backtest: found by name, cut to the window, resampled, their gaps reported and not filled."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from backtest_builders import BTC_PAIRS, OHLCV, real

from elcaro.backtest import BacktestTrade, load_dataset
from elcaro.backtest.trades import held_across_gaps
from elcaro.core.clock import from_datetime
from elcaro.marketdata import check_health, read_candles, resample_arrays
from elcaro.models.enums import PositionSide
from elcaro.models.errors import ValidationError


def test_file_names_give_the_symbols(tmp_path: Path) -> None:
    for name in ("ETH_BTC-5m.csv", "XRP_USDT_USDT-5m.csv"):
        (tmp_path / name).write_text((OHLCV / name).read_text())
    (tmp_path / "unittest_btc-1m.csv").write_text((OHLCV / "UNITTEST_BTC-1m.csv").read_text())
    dataset = load_dataset([tmp_path], "5m")
    assert [item.symbol for item in dataset.symbols] == ["ETH/BTC", "UNITTEST/BTC", "XRP/USDT:USDT"]


def test_a_file_given_by_name_must_be_named_as_candles_with_a_supported_timeframe(tmp_path: Path) -> None:
    for name, reason in (("prices.csv", "is not named"), ("ETH_BTC-1M.csv", "unknown timeframe '1M'")):
        (tmp_path / name).write_text("timestamp,open,high,low,close,volume\n")
        with pytest.raises(ValidationError, match=reason) as caught:
            load_dataset([tmp_path / name], "5m")
        assert caught.value.field == "data"
    # In a folder such files are passed over, as any other file is.
    with pytest.raises(ValidationError, match="no candle files found"):
        load_dataset([tmp_path], "5m")


def test_a_folder_gives_every_symbol_at_the_finest_usable_timeframe() -> None:
    dataset = load_dataset([OHLCV], "1h")
    symbols = {item.symbol: item.base_timeframe for item in dataset.symbols}
    assert {f"{base}/BTC" for base in BTC_PAIRS} <= set(symbols)
    assert symbols["XRP/USDT:USDT"] == "5m"  # the 1h file of the same market is not read twice
    assert symbols["UNITTEST/BTC"] == "1m"
    assert any("XRP_USDT_USDT-1h.csv: XRP/USDT:USDT already comes from" in line for line in dataset.skipped)


def test_the_window_is_half_open_and_in_utc() -> None:
    start = from_datetime(datetime(2023, 1, 5, tzinfo=UTC))
    end = from_datetime(datetime(2023, 1, 6, tzinfo=UTC))
    candles = load_dataset([OHLCV / "BTC_USDT-5m.csv"], "5m", start=start, end=end).universe["BTC/USDT"]
    assert (int(candles.timestamp[0]), int(candles.timestamp[-1]), len(candles)) == (start, end - 300_000, 288)
    with pytest.raises(ValidationError) as caught:
        load_dataset([OHLCV / "BTC_USDT-5m.csv"], "5m", start=end, end=start)
    assert caught.value.field == "from"


def test_gaps_are_reported_not_filled() -> None:
    dataset = load_dataset([OHLCV / "UNITTEST_BTC-1m.csv"], "5m")
    item = dataset.symbols[0]
    health = check_health(read_candles(OHLCV / "UNITTEST_BTC-1m.csv"), "1m")
    assert item.missing == health.missing > 0
    assert len(item.health.gaps) == len(health.gaps)
    resampled = resample_arrays(real("UNITTEST_BTC-1m.csv"), "1m", "5m")
    assert item.incomplete_bars == int(resampled.incomplete.sum()) > 0
    # A bar missing entirely stays missing: bar times jump over it.
    steps = np.diff(item.candles.timestamp)
    assert steps.min() == 300_000 and steps.max() > 300_000
    lines = dataset.gap_lines()
    assert len(lines) == 1 and lines[0].startswith(f"UNITTEST/BTC: {item.missing} missing 1m candles")
    assert lines[0].endswith(f"{item.incomplete_bars} 5m bars built from fewer candles than they span")


def test_trades_held_over_missing_candles_are_counted() -> None:
    def row(entry_index: int, exit_index: int, minutes: int) -> BacktestTrade:
        return BacktestTrade(
            0,
            "A/BTC",
            PositionSide.LONG,
            entry_index,
            exit_index,
            0,
            minutes * 60_000,
            1.0,
            1.0,
            1.0,
            0.5,
            0.0,
            0.0,
            "stop",
        )

    trades = [row(10, 13, 15), row(10, 13, 20), row(5, 5, 0)]  # the second spans a missing five-minute candle
    assert held_across_gaps(trades, 300_000) == 1


def test_symbols_can_be_chosen_and_unknown_ones_are_named(tmp_path: Path) -> None:
    dataset = load_dataset([OHLCV], "5m", symbols=["eth_btc", "LTC/BTC"])
    assert [item.symbol for item in dataset.symbols] == ["ETH/BTC", "LTC/BTC"]
    assert dataset.skipped == ()  # nothing about files of other symbols
    with pytest.raises(ValidationError) as caught:
        load_dataset([OHLCV], "5m", symbols=["DOGE/BTC"])
    assert caught.value.field == "symbols" and "DOGE/BTC" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        load_dataset([tmp_path / "missing"], "5m")
    assert caught.value.field == "data"
    (tmp_path / "prices.csv").write_text("timestamp,open,high,low,close,volume\n")
    with pytest.raises(ValidationError, match="not named"):
        load_dataset([tmp_path / "prices.csv"], "5m")
