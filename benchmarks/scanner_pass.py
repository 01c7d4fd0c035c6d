"""CPU time of one breakout-scanner pass over 500 symbols' candles; the issue's budget is 100 ms.

The universe: the 10 real BTC-quoted pairs of ``shared/data/ohlcv`` (the day of 5m candles to
2018-01-28 17:20 UTC, with its real gaps; ETH/BTC also stands in for BTC, the market they share)
and synthetic symbols up to ``--symbols``, labelled ``SYN-nnnn``: seeded random walks with random
volatility and volume bursts on the same 288 five-minute slots. Every filter runs (history, health,
ATR, Bollinger width, 5m and 1h volume surge, BTC correlation, volume, open interest, trade rate);
a second timing adds a 20-level order book per symbol (spread and depth within 0.3 / 0.5 %), which
a backtest does not have.

Compared in the same run, all as median CPU time (``time.process_time``) per pass:

- the same scan run once per symbol, so no indicator is stacked across symbols (what the scanner
  would cost computed symbol by symbol); its filter values are checked equal to the stacked pass;
- a plain Python reference of the candle filters (loops, ``statistics``), timed on ``--subset``
  symbols and scaled to the universe.

    .venv/bin/python benchmarks/scanner_pass.py [--symbols N] [--repeats R] [--subset K]
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np

from elcaro.marketdata import CandleArrays, check_health, read_candles
from elcaro.models.market import BookLevel, Candle, OrderBook
from elcaro.strategies.breakout.scanner import MarketSnapshot, ScannerSettings, ScanResult, scan

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ohlcv"
PAIRS = ("ADA", "DASH", "ETC", "ETH", "LTC", "NXT", "TRX", "XLM", "XMR", "ZEC")
END = 1_517_160_000_000  # open time of the day's last candle
SLOTS = 288
STEP = 300_000
BUDGET_MS = 100.0

SETTINGS = ScannerSettings.model_validate(
    {
        "universe_size": 1000,
        "top_n": 10,
        "min_volume_24h": 1_000_000,
        "min_open_interest": 1_000_000,
        "min_oi_change_pct": -10,
        "max_spread_bps": 8,
        "min_depth_30bps": 20_000,
        "min_depth_50bps": 50_000,
        "min_trades_per_minute": 10,
        "atr_period": 14,
        "min_atr_pct": 0.1,
        "max_atr_pct": 4,
        "bollinger_period": 20,
        "bollinger_k": 2,
        "min_bb_width_pct": 0.3,
        "max_bb_width_pct": 12,
        "surge_period_5m": 24,
        "min_volume_surge_5m": 1.2,
        "surge_period_1h": 12,
        "min_volume_surge_1h": 1.0,
        "correlation_period": 100,
        "max_btc_correlation": 0.9,
        "max_gaps": 2,
        "max_duplicates": 0,
        "component_clip": 3,
        "weights": {
            "volume": 1,
            "volatility": 1,
            "surge_1h": 1.5,
            "surge_5m": 2,
            "oi_change": 1,
            "activity": 1,
            "spread": 0.5,
            "depth": 0.5,
            "correlation": 0.5,
        },
    }
)


def real_symbols() -> tuple[list[MarketSnapshot], CandleArrays]:
    snapshots = []
    benchmark = None
    for pair in PAIRS:
        day = [c for c in read_candles(DATA / f"{pair}_BTC-5m.csv") if END - SLOTS * STEP < c.timestamp <= END]
        arrays = CandleArrays.from_candles(day)
        if pair == "ETH":
            benchmark = arrays
        snapshots.append(
            MarketSnapshot(
                f"{pair}/BTC", arrays, float(sum(c.volume * c.close for c in day)) * 40_000, None, None, None, None
            )
        )
    assert benchmark is not None
    return snapshots, benchmark


def synthetic_symbols(count: int, seed: int = 7) -> list[MarketSnapshot]:
    rng = np.random.default_rng(seed)
    timestamps = np.arange(END - (SLOTS - 1) * STEP, END + 1, STEP, dtype=np.int64)
    snapshots = []
    for number in range(count):
        sigma = rng.uniform(0.001, 0.01)
        close = rng.uniform(0.01, 500) * np.exp(np.cumsum(rng.normal(0, sigma, SLOTS)))
        open_ = np.concatenate(([close[0]], close[:-1]))
        high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, sigma / 2, SLOTS)))
        low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, sigma / 2, SLOTS)))
        volume = rng.lognormal(8, 0.6, SLOTS) * np.where(rng.random(SLOTS) < 0.03, rng.uniform(2, 6), 1.0)
        interest = rng.lognormal(16, 1.5)
        snapshots.append(
            MarketSnapshot(
                symbol=f"SYN-{number:04d}/USDT:USDT",
                candles=CandleArrays(timestamps, open_, high, low, close, volume),
                volume_24h=rng.lognormal(17, 1.5),
                open_interest=interest,
                open_interest_prev=interest * rng.uniform(0.9, 1.1),
                book=None,
                trades_per_minute=rng.lognormal(3, 1),
            )
        )
    return snapshots


def with_books(snapshots: Sequence[MarketSnapshot], levels: int = 20, seed: int = 11) -> list[MarketSnapshot]:
    rng = np.random.default_rng(seed)
    out = []
    for snapshot in snapshots:
        mid = Decimal(str(round(float(snapshot.candles.close[-1]), 6)))
        tick = mid * Decimal("0.0002")
        bids = tuple(BookLevel(mid - tick * (i + 1), Decimal(int(rng.integers(1, 5000)))) for i in range(levels))
        asks = tuple(BookLevel(mid + tick * (i + 1), Decimal(int(rng.integers(1, 5000)))) for i in range(levels))
        out.append(
            MarketSnapshot(
                snapshot.symbol,
                snapshot.candles,
                snapshot.volume_24h,
                snapshot.open_interest,
                snapshot.open_interest_prev,
                OrderBook(snapshot.symbol, bids, asks, END),
                snapshot.trades_per_minute,
            )
        )
    return out


def median_cpu_ms(run: Callable[[], object], repeats: int) -> float:
    gc.collect()
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        samples.append((time.process_time() - start) * 1000)
    return statistics.median(samples)


def scan_each(snapshots: Sequence[MarketSnapshot], btc: CandleArrays) -> list[ScanResult]:
    return [scan([snapshot], SETTINGS, btc=btc, timeframe="5m") for snapshot in snapshots]


def plain_python(snapshots: Sequence[MarketSnapshot], btc: CandleArrays) -> list[dict[str, float]]:
    """The candle filters one symbol and one bar at a time: the obvious implementation."""
    btc_close = dict(zip(btc.timestamp.tolist(), btc.close.tolist(), strict=True))
    results = []
    for snapshot in snapshots:
        c = snapshot.candles
        ts, high, low, close, volume = (c.timestamp.tolist(), c.high.tolist(), c.low.tolist(), c.close.tolist(),
                                        c.volume.tolist())  # fmt: skip
        zero = Decimal(0)
        health = check_health([Candle(t, zero, zero, zero, zero, zero) for t in ts], "5m")
        period = SETTINGS.atr_period
        ranges = [
            max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1])) for i in range(1, len(ts))
        ]
        atr = sum(ranges[:period]) / period
        for value in ranges[period:]:
            atr = (atr * (period - 1) + value) / period
        window = close[-SETTINGS.bollinger_period :]
        width = 2 * SETTINGS.bollinger_k * statistics.pstdev(window) / statistics.fmean(window)
        hours: dict[int, float] = {}
        counts: dict[int, int] = {}
        for t, v in zip(ts, volume, strict=True):
            hours[t - t % 3_600_000] = hours.get(t - t % 3_600_000, 0.0) + v
            counts[t - t % 3_600_000] = counts.get(t - t % 3_600_000, 0) + 1
        hourly = [hours[h] for h in sorted(hours)]
        if counts[max(counts)] < 12:
            hourly = hourly[:-1]
        p1, p5 = SETTINGS.surge_period_1h, SETTINGS.surge_period_5m
        shared = [(close[i], btc_close[t]) for i, t in enumerate(ts) if t in btc_close][
            -(SETTINGS.correlation_period + 1) :
        ]
        a = [math.log(shared[i][0] / shared[i - 1][0]) for i in range(1, len(shared))]
        b = [math.log(shared[i][1] / shared[i - 1][1]) for i in range(1, len(shared))]
        results.append(
            {
                "gaps": health.missing,
                "atr_pct": 100 * atr / close[-1],
                "bb_width_pct": 100 * width,
                "volume_surge_5m": volume[-1] / statistics.fmean(volume[-p5 - 1 : -1]),
                "volume_surge_1h": hourly[-1] / statistics.fmean(hourly[-p1 - 1 : -1]),
                "btc_correlation": statistics.correlation(a, b),
            }
        )
    return results


def values(result: ScanResult, symbol: str) -> dict[str, float | None]:
    """A symbol's filter values, its rank in the universe left out (alone, every symbol is first)."""
    return {d.name: d.value for d in result.decisions[symbol] if d.name != "universe"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, default=500, help="universe size, real pairs included (default 500)")
    parser.add_argument("--repeats", type=int, default=15, help="timed passes per path (default 15)")
    parser.add_argument("--subset", type=int, default=25, help="symbols the plain Python path is timed on (default 25)")
    args = parser.parse_args()

    real, btc = real_symbols()
    universe = real + synthetic_symbols(max(0, args.symbols - len(real)))
    booked = with_books(universe)
    stacked = scan(universe, SETTINGS, btc=btc, timeframe="5m")

    # The stacked pass must give each symbol exactly what a pass over that symbol alone gives.
    for alone in scan_each(universe, btc):
        (symbol,) = alone.decisions
        if values(alone, symbol) != values(stacked, symbol):
            raise SystemExit(f"{symbol}: the stacked pass disagrees with a pass over the symbol alone")
    subset = universe[: args.subset]
    for snapshot, reference in zip(subset, plain_python(subset, btc), strict=True):
        measured = values(stacked, snapshot.symbol)
        for name, value in reference.items():
            got = measured[name]
            if got is None or not math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-12):
                raise SystemExit(f"{snapshot.symbol} {name}: scanner {measured[name]} vs plain Python {value}")

    candles_only = median_cpu_ms(lambda: scan(universe, SETTINGS, btc=btc, timeframe="5m"), args.repeats)
    books = median_cpu_ms(lambda: scan(booked, SETTINGS, btc=btc, timeframe="5m"), args.repeats)
    each = median_cpu_ms(lambda: scan_each(universe, btc), max(3, args.repeats // 3))
    plain = median_cpu_ms(lambda: plain_python(subset, btc), max(3, args.repeats // 3)) * len(universe) / len(subset)

    eligible = sum(all(d.passed is not False for d in rows) for rows in stacked.decisions.values())
    synthetic = len(universe) - len(real)
    print(f"numpy {np.__version__}; {len(universe)} symbols ({len(real)} real pairs, {synthetic} synthetic)")
    print(f"× {SLOTS} 5m candles; {eligible} pass every filter, {len(stacked.candidates)} candidates")
    print(f"median CPU ms per pass over {args.repeats} passes (fewer for the slow paths)")
    print(f"{'path':<46}{'ms/pass':>10}{'× stacked':>11}")
    rows = [
        ("stacked scan, candles only", candles_only),
        ("stacked scan, with 20-level books", books),
        ("one scan per symbol (nothing stacked)", each),
        (f"plain Python candle filters ({len(subset)} timed, scaled)", plain),
    ]
    for label, ms in rows:
        print(f"{label:<46}{ms:>10.1f}{ms / candles_only:>10.1f}x")
    verdict = "met" if candles_only <= BUDGET_MS else "NOT met"
    print(f"budget {BUDGET_MS:.0f} ms CPU per pass over the candles: {verdict} ({candles_only:.1f} ms)")


if __name__ == "__main__":
    main()
