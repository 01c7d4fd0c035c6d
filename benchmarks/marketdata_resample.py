"""Resampling real candles: the exact Decimal path against the numpy float64 path, in the same run.

Loads BTC_USDT-5m.csv (10,999 five-minute candles) from shared/data, checks that both paths give
the same bars, then resamples to 1h and 4h R times with each and prints the median milliseconds per
run and how many times faster the numpy path is. Loading and column conversion are timed once, for
scale: they happen once per backtest, resampling may happen per timeframe per symbol.

    .venv/bin/python benchmarks/marketdata_resample.py [--repeats R] [--data DIR]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from elcaro.marketdata import CandleArrays, read_candles, resample, resample_arrays
from elcaro.models.market import Candle

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ohlcv"
TARGETS = ("1h", "4h")


def median_ms(run: Callable[[], object], repeats: int) -> float:
    gc.collect()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        run()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return statistics.median(samples)


def check_agreement(candles: list[Candle], columns: CandleArrays, target: str) -> int:
    exact = CandleArrays.from_candles(resample(candles, "5m", target).candles)
    fast = resample_arrays(columns, "5m", target).candles
    for name in ("timestamp", "open", "high", "low", "close"):
        if not np.array_equal(getattr(exact, name), getattr(fast, name)):
            raise SystemExit(f"the paths disagree on {name} at {target}: the numpy path is wrong")
    if not np.allclose(exact.volume, fast.volume, rtol=1e-12, atol=0):
        raise SystemExit(f"the paths disagree on volume at {target} beyond float rounding")
    return len(fast)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20, help="runs per path and timeframe (default 20)")
    parser.add_argument("--data", type=Path, default=DATA, help=f"folder of the candle files (default {DATA})")
    args = parser.parse_args()
    path = args.data / "BTC_USDT-5m.csv"

    start = time.perf_counter_ns()
    candles = list(read_candles(path))
    read_ms = (time.perf_counter_ns() - start) / 1e6
    start = time.perf_counter_ns()
    columns = CandleArrays.from_candles(candles)
    convert_ms = (time.perf_counter_ns() - start) / 1e6
    print(f"numpy {np.__version__}; {path.name}: {len(candles)} candles")
    print(f"read as Decimal candles {read_ms:.1f} ms, to float64 columns {convert_ms:.1f} ms (once)")
    print(f"{args.repeats} repeats; median ms per run")
    print(f"{'target':<8}{'bars':>6}{'Decimal':>12}{'numpy':>12}{'speed-up':>10}")
    for target in TARGETS:
        bars = check_agreement(candles, columns, target)
        exact = median_ms(partial(resample, candles, "5m", target), args.repeats)
        fast = median_ms(partial(resample_arrays, columns, "5m", target), args.repeats)
        print(f"{target:<8}{bars:>6}{exact:>12.3f}{fast:>12.3f}{exact / fast:>9.0f}x")


if __name__ == "__main__":
    main()
