"""Builders for the breakout strategy tests: hand-made candle columns, real files, settings with overrides."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from elcaro.marketdata import CandleArrays, read_candles
from elcaro.strategies.breakout.exits import ManagementSettings
from elcaro.strategies.breakout.levels import LevelSettings
from elcaro.strategies.breakout.preset import load_preset
from elcaro.strategies.breakout.risk import RiskSettings
from elcaro.strategies.breakout.signals import SignalSettings

OHLCV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ohlcv"
FIVE_MINUTES = 300_000
T0 = 1_700_000_100_000
"""A 5-minute boundary: 2023-11-14 22:15 UTC."""


def bars(
    rows: Sequence[tuple[float, float, float, float] | tuple[float, float, float, float, float]],
    *,
    start: int = T0,
    step: int = FIVE_MINUTES,
) -> CandleArrays:
    """Candles from ``(open, high, low, close[, volume])`` rows (volume 10 when left out), 5 minutes apart."""
    columns = np.array([(*row, 10.0)[:5] for row in rows], dtype=np.float64).reshape(len(rows), 5).T.copy()
    timestamps = start + step * np.arange(len(rows), dtype=np.int64)
    return CandleArrays(timestamps, columns[0], columns[1], columns[2], columns[3], columns[4])


def from_lows(lows: Sequence[float], *, width: float = 2.0, volume: Sequence[float] | None = None) -> CandleArrays:
    """Bars ``width`` tall from each low, opening and closing mid-range.

    Consecutive lows one apart keep every previous close inside the next bar, so each true range
    is exactly ``width`` and the ATR is ``width`` once warmed up: tolerances are easy to compute by hand.
    """
    volumes = volume if volume is not None else [10.0] * len(lows)
    return bars([(low + width / 2, low + width, low, low + width / 2, v) for low, v in zip(lows, volumes, strict=True)])


@cache
def real(name: str) -> CandleArrays:
    return CandleArrays.from_candles(read_candles(OHLCV / name))


def level_settings(**changes: Any) -> LevelSettings:
    return LevelSettings.model_validate({**load_preset("liquid").levels.model_dump(), **changes})


def signal_settings(**changes: Any) -> SignalSettings:
    return SignalSettings.model_validate({**load_preset("liquid").signals.model_dump(), **changes})


def risk_settings(**changes: Any) -> RiskSettings:
    return RiskSettings.model_validate({**load_preset("liquid").risk.model_dump(), **changes})


def management_settings(**changes: Any) -> ManagementSettings:
    return ManagementSettings.model_validate({**load_preset("liquid").management.model_dump(), **changes})
