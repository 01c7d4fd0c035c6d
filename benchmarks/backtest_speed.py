"""Backtest speed in candles per second: the Donchian fast path, its bar-by-bar baseline, the breakout preset.

Data sets, both at 5 minutes:

- **real**: the ten BTC-quoted pairs of ``shared/data/ohlcv/*_BTC-5m.csv`` (57,546 candles with their
  gaps), read once;
- **synthetic**: 20 symbols × one year (105,120 candles each, 2,102,400 in all) of a seeded random
  walk made here — labelled synthetic, it is not market data.

Runs, each timed from candles in memory to metrics (signals, trades, equity curve, metrics):

1. the simple Donchian breakout (20 bars, 2 % stop, 4 % target) on the **fast** path — the goal is
   at least 1.5 million candles/s — and on the **bar-by-bar** path as the baseline of the same run;
   the two must give the same trades, which is checked here too;
2. the ``liquid`` breakout preset (bar by bar: scanner every 12 bars, levels, signals, risk book,
   exits). The candles carry no order book, open interest or trade stream, so those filters are
   skipped; the 24h-volume floor (in USDT) is set to 0 for BTC-quoted and synthetic data, and the
   kill switch, daily-loss and losing-streak stops are lifted so the whole span is traded rather than
   a few days of it.

Medians of several runs are printed (the breakout preset on the synthetic year takes minutes a run,
so it runs once unless asked for more).

First, the Wilder/EMA recursion (``elcaro.indicators.smooth``, the ATR of the scanner, levels,
signals and exits) is timed against the bar-by-bar loop it replaced, kept here as the baseline: one
series of 11,000 bars (the length of ``BTC_USDT-5m.csv``) and of a year, and blocks of rows as the
scanner passes them. The two are checked to agree to 1e-12 relative.

    .venv/bin/python benchmarks/backtest_speed.py [--repeats R] [--breakout-repeats B] [--synthetic-breakout-repeats S]
                                                  [--smoothing-repeats M]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from elcaro.backtest import BacktestConfig, BacktestResult, load_dataset, run_backtest
from elcaro.indicators import smooth
from elcaro.marketdata import CandleArrays
from elcaro.strategies.breakout.preset import BreakoutPreset, load_preset
from elcaro.strategies.donchian import DonchianSettings

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ohlcv"
GOAL = 1_500_000
FIVE_MINUTES = 300_000
YEAR_OF_5M = 365 * 288
SYNTHETIC_START = 1_672_531_200_000  # 2023-01-01 00:00 UTC


def synthetic_universe(symbols: int = 20, candles: int = YEAR_OF_5M, seed: int = 7) -> dict[str, CandleArrays]:
    """Seeded geometric random walks with wicks and log-normal volume (synthetic, not market data)."""
    rng = np.random.default_rng(seed)
    universe = {}
    times = SYNTHETIC_START + FIVE_MINUTES * np.arange(candles, dtype=np.int64)
    for k in range(symbols):
        volatility = 0.0015 + 0.001 * rng.random()  # per 5-minute bar
        close = (20.0 + 180.0 * rng.random()) * np.exp(np.cumsum(rng.normal(0.0, volatility, candles)))
        open_ = np.concatenate((close[:1], close[:-1])) * np.exp(rng.normal(0.0, volatility / 5, candles))
        wicks = np.abs(rng.normal(0.0, volatility / 2, (2, candles))) * close
        high = np.maximum(open_, close) + wicks[0]
        low = np.minimum(open_, close) - wicks[1]
        volume = rng.lognormal(8.0, 0.7, candles)
        universe[f"SYN{k:02d}/USDT:USDT"] = CandleArrays(times, open_, high, low, close, volume)
    return universe


def smooth_bar_by_bar(values: np.ndarray, alpha: float, period: int, *, start: int = 0) -> np.ndarray:
    """The recursion as ``smooth`` computed it before its block form: one bar at a time (rows stepped together)."""
    out = np.full(values.shape, np.nan)
    seed_at = start + period - 1
    if values.shape[-1] <= seed_at:
        return out
    seed = values[..., start : seed_at + 1].mean(axis=-1)
    keep = 1.0 - alpha
    if values.ndim == 1:
        previous = float(seed)
        result = [previous]
        for value in values[seed_at + 1 :].tolist():
            previous = previous * keep + alpha * value
            result.append(previous)
        out[seed_at:] = result
        return out
    scaled = np.ascontiguousarray(values[:, seed_at:].T) * alpha
    steps = np.empty_like(scaled)
    steps[0] = seed
    for step in range(1, len(steps)):
        np.multiply(steps[step - 1], keep, out=steps[step])
        steps[step] += scaled[step]
    out[:, seed_at:] = steps.T
    return out


def smoothing(repeats: int) -> None:
    """Median time of ``smooth`` and of the bar-by-bar loop on the same inputs, alternated run by run."""
    if repeats < 1:
        return
    rng = np.random.default_rng(3)

    def walk(*shape: int) -> np.ndarray:
        return 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, shape), axis=-1))

    cases = {
        "1 series × 11,000 bars": walk(11_000),
        f"1 series × {YEAR_OF_5M:,} bars": walk(YEAR_OF_5M),
        "20 rows × 300 bars (backtest scan)": walk(20, 300),
        "500 rows × 288 bars (scanner_pass)": walk(500, 288),
    }
    print(f"Wilder smoothing (ATR 14), median of {repeats} alternated runs")
    print(f"  {'input':<36}{'loop ms':>10}{'block ms':>10}{'speed-up':>10}")
    for label, values in cases.items():
        fast = smooth(values, 1 / 14, 14, start=1)
        slow = smooth_bar_by_bar(values, 1 / 14, 14, start=1)
        if not np.allclose(fast, slow, rtol=1e-12, atol=0, equal_nan=True):
            raise SystemExit(f"{label}: the block recursion disagrees with the loop")
        samples: dict[str, list[float]] = {"loop": [], "block": []}
        for _ in range(repeats):
            for name, run in (("loop", smooth_bar_by_bar), ("block", smooth)):
                begin = time.perf_counter()
                run(values, 1 / 14, 14, start=1)
                samples[name].append(time.perf_counter() - begin)
        loop_s, block_s = statistics.median(samples["loop"]), statistics.median(samples["block"])
        print(f"  {label:<36}{loop_s * 1000:>10.3f}{block_s * 1000:>10.3f}{loop_s / block_s:>9.1f}×")


def timed(run: Callable[[], BacktestResult], repeats: int, *, warm_up: bool = False) -> tuple[float, BacktestResult]:
    """Median seconds of ``repeats`` runs, and the last result; ``warm_up`` runs once more first, untimed."""
    gc.collect()
    samples = []
    result = run() if warm_up else None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        samples.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(samples), result


def breakout_preset() -> BreakoutPreset:
    return load_preset("liquid").with_values(
        {
            "scanner.min_volume_24h": 0.0,
            "risk.kill_switch_drawdown_pct": 100.0,
            "risk.daily_loss_limit_pct": 100.0,
            "risk.max_consecutive_losses": 1000,
        }
    )


def report(label: str, candles: int, seconds: float, trades: int, runs: int, note: str = "") -> float:
    rate = candles / seconds
    print(f"  {label:<34}{candles:>11,}{seconds * 1000:>11.1f}{rate:>14,.0f}{trades:>9,}{runs:>6}  {note}")
    return rate


def donchian(name: str, universe: Mapping[str, CandleArrays], repeats: int) -> None:
    settings = DonchianSettings()
    candles = sum(len(c) for c in universe.values())
    fast_s, fast = timed(lambda: run_backtest(universe, settings, BacktestConfig(path="fast")), repeats, warm_up=True)
    events_s, events = timed(
        lambda: run_backtest(universe, settings, BacktestConfig(path="events")), max(1, repeats // 3)
    )
    if fast.trades != events.trades:
        raise SystemExit(f"{name}: the fast and bar-by-bar paths disagree: the fast path is wrong")
    rate = report(f"Donchian fast path ({name})", candles, fast_s, len(fast.trades), repeats)
    base = report(f"Donchian bar by bar ({name})", candles, events_s, len(events.trades), max(1, repeats // 3))
    verdict = "meets" if rate >= GOAL else "MISSES"
    print(
        f"  → fast path {rate / base:.1f}× the bar-by-bar baseline; {verdict} the {GOAL:,} candles/s goal; same trades"
    )


def breakout(name: str, universe: Mapping[str, CandleArrays], repeats: int) -> None:
    if repeats < 1:
        return
    preset = breakout_preset()
    candles = sum(len(c) for c in universe.values())
    seconds, result = timed(lambda: run_backtest(universe, preset, BacktestConfig()), repeats)
    positions = result.metrics.trades
    report(f"breakout 'liquid' ({name})", candles, seconds, len(result.trades), repeats, f"{positions} positions")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs of the Donchian fast path (default 7)")
    parser.add_argument("--breakout-repeats", type=int, default=3, help="timed breakout runs on real data (3)")
    parser.add_argument("--synthetic-breakout-repeats", type=int, default=1, help="… on the synthetic year (1)")
    parser.add_argument("--data", type=Path, default=DATA, help=f"folder of the candle files (default {DATA})")
    parser.add_argument("--smoothing-repeats", type=int, default=31, help="timed runs of each smoothing input (31)")
    args = parser.parse_args()

    smoothing(args.smoothing_repeats)

    pairs = [f"{base}/BTC" for base in ("ADA", "DASH", "ETC", "ETH", "LTC", "NXT", "TRX", "XLM", "XMR", "ZEC")]
    real = load_dataset([args.data], "5m", symbols=pairs)
    missing = sum(item.missing for item in real.symbols)
    synthetic = synthetic_universe()
    print(f"numpy {np.__version__}; real: {len(real.symbols)} pairs, {real.candles:,} candles ({missing} missing)")
    print(f"synthetic (seeded random walk, not market data): 20 symbols × {YEAR_OF_5M:,} candles")
    print(f"  {'run':<34}{'candles':>11}{'median ms':>11}{'candles/s':>14}{'rows':>9}{'runs':>6}")
    donchian("real", real.universe, args.repeats)
    donchian("synthetic", synthetic, args.repeats)
    breakout("real", real.universe, args.breakout_repeats)
    breakout("synthetic", synthetic, args.synthetic_breakout_repeats)


if __name__ == "__main__":
    main()
