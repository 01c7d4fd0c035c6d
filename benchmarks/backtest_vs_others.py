"""The simple Donchian breakout in our backtester, vectorbt and backtesting.py: speed and trade-for-trade agreement.

Same data (the ten real BTC-quoted pairs of ``shared/data/ohlcv``, 5-minute candles, gaps included),
same strategy (long when the close is above the highest high of the 20 bars before; stop 2 % and
target 4 % from the entry fill; entry at the next bar's open; one position per symbol), same fee
(0.055 % on both sides, so the three fee models agree), no slippage, each symbol on its own sleeve of
1,000. vectorbt and backtesting.py are installed by this script in a throw-away virtualenv
(``/tmp/elcaro-bench-venv`` by default, ``pip install vectorbt backtesting`` from PyPI) and run there
in a subprocess; candles go over as ``.npz`` files and trades come back as JSON. Each library
computes the Donchian signal with its own code (pandas' rolling max), not ours.

How each library is configured to our fill rules, and what cannot be:

- **backtesting.py** (``Backtest(..., trade_on_close=False, exclusive_orders=False)``): a market order
  placed in ``next()`` fills at the next bar's open; its SL and TP are contingent orders it checks in
  the entry bar too (it re-processes them after the fill), a gap through either fills at the open,
  and the SL is queued before the TP, so a bar touching both is a stop — our rules exactly. Stop and
  target must be given when the order is placed, before the fill is known, so the strategy reads the
  next bar's open (a shifted column) to put them at ``fill × (1 ∓ pct)``; sizes are whole units.
- **vectorbt** (``Portfolio.from_signals`` with entries shifted one bar and ``price=open``,
  ``sl_stop``/``tp_stop``, ``stop_entry_price=FillPrice``, ``stop_exit_price=StopLimit``): the stop is
  checked before the target and a gap fills at the open — our rules — but stops only start on the
  bar *after* the entry (they are set once the entry order has filled), so a stop or target touched
  in the entry bar itself is missed. That rule cannot be changed in ``from_signals``; instead our
  backtester is also run with vectorbt's rule (``FillModel(exits_on_entry_bar=False)``), which must
  then give vectorbt's trades exactly, and the differences under our rule are traced to that bar.

Trades compared: the closed ones (our ``end_of_data`` closes and the others' open trades are left
out), by symbol and entry bar: entry and exit bar, entry and exit price (exact float equality).

    .venv/bin/python benchmarks/backtest_vs_others.py [--repeats R] [--venv DIR] [--no-install]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from elcaro.backtest import BacktestConfig, BacktestResult, FillModel, load_dataset, run_backtest
from elcaro.marketdata import CandleArrays
from elcaro.strategies.donchian import DonchianSettings

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ohlcv"
VENV = Path("/tmp/elcaro-bench-venv")  # noqa: S108 - throw-away by design, kept between runs to save the install
PAIRS = ("ADA", "DASH", "ETC", "ETH", "LTC", "NXT", "TRX", "XLM", "XMR", "ZEC")
SETTINGS = DonchianSettings(period=20, stop_pct=0.02, target_pct=0.04)
FEE = 0.00055
SLEEVE = 1000.0

Key = tuple[int, int, float, float]  # entry bar, exit bar, entry price, exit price

HELPER = r'''
"""Runs inside the throw-away venv: the Donchian breakout in vectorbt and backtesting.py."""
import json, statistics, sys, time, warnings
from pathlib import Path

import numpy as np
import pandas as pd

folder = Path(sys.argv[1])
params = json.loads((folder / "params.json").read_text())
PERIOD, SL, TP = params["period"], params["stop_pct"], params["target_pct"]
FEE, SLEEVE, REPEATS = params["fee"], params["sleeve"], params["repeats"]
series = {}
for symbol in params["symbols"]:
    arrays = np.load(folder / (symbol.replace("/", "_") + ".npz"))
    series[symbol] = {name: arrays[name] for name in arrays.files}


def donchian(d):
    upper = pd.Series(d["high"]).rolling(PERIOD).max().shift(1).to_numpy()
    with np.errstate(invalid="ignore"):
        return d["close"] > upper  # NaN during warm-up compares False


def frame(d):
    index = pd.to_datetime(d["timestamp"], unit="ms")
    columns = {"Open": d["open"], "High": d["high"], "Low": d["low"], "Close": d["close"]}
    return index, pd.DataFrame(columns, index=index)


def run_vectorbt():
    import vectorbt as vbt
    from vectorbt.portfolio.enums import StopEntryPrice, StopExitPrice

    out = {}
    for symbol, d in series.items():
        index, _ = frame(d)
        signal = donchian(d)
        entries = np.zeros(len(signal), dtype=bool)
        entries[1:] = signal[:-1]  # decided at a close, entered at the next open
        pf = vbt.Portfolio.from_signals(
            close=pd.Series(d["close"], index), entries=pd.Series(entries, index), exits=False,
            open=pd.Series(d["open"], index), high=pd.Series(d["high"], index), low=pd.Series(d["low"], index),
            price=pd.Series(d["open"], index), sl_stop=SL, tp_stop=TP,
            stop_entry_price=StopEntryPrice.FillPrice, stop_exit_price=StopExitPrice.StopLimit,
            fees=FEE, init_cash=SLEEVE, size=np.inf, direction="longonly", freq="5min",
        )
        records = pf.trades.values  # the structured array (.records is a DataFrame)
        closed = records[records["status"] == 1]
        fields = ("entry_idx", "exit_idx", "entry_price", "exit_price", "size", "pnl")
        out[symbol] = [[r[name].item() for name in fields] for r in closed]
    return out


def run_backtesting():
    from backtesting import Backtest, Strategy

    class Donchian(Strategy):
        signal = None
        next_open = None

        def init(self):
            self.entry_signal = self.I(lambda: self.signal, name="signal", plot=False)
            self.entry_open = self.I(lambda: self.next_open, name="next_open", plot=False)

        def next(self):
            if not self.position and self.entry_signal[-1] > 0:
                fill = self.entry_open[-1]  # the next bar's open: where this market order will fill
                try:
                    self.buy(size=0.9999, sl=fill * (1.0 - SL), tp=fill * (1.0 + TP))
                except ValueError:
                    refused.append(len(self.data) - 1)

    out, refused_all = {}, {}
    for symbol, d in series.items():
        refused = []
        _, data = frame(d)
        signal = donchian(d).astype(float)
        next_open = np.append(d["open"][1:], d["close"][-1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            test = Backtest(data, Donchian, cash=1e9, commission=FEE, trade_on_close=False, exclusive_orders=False)
            stats = test.run(signal=signal, next_open=next_open)
        trades = stats["_trades"]
        out[symbol] = [
            [int(t.EntryBar), int(t.ExitBar), float(t.EntryPrice), float(t.ExitPrice), float(t.Size), float(t.PnL)]
            for t in trades.itertuples()
        ]
        refused_all[symbol] = refused
    return out, refused_all


def timed(run, repeats):
    samples, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


import backtesting
import vectorbt

start = time.perf_counter()
run_vectorbt()
cold = time.perf_counter() - start
warm, vbt_trades = timed(run_vectorbt, REPEATS)
bt_seconds, (bt_trades, refused) = timed(run_backtesting, max(1, REPEATS // 3))
(folder / "results.json").write_text(json.dumps({
    "versions": {"vectorbt": vectorbt.__version__, "backtesting": backtesting.__version__},
    "vectorbt": {"cold": cold, "warm": warm, "trades": vbt_trades},
    "backtesting": {"seconds": bt_seconds, "trades": bt_trades, "refused": refused},
}))
'''


@dataclass(frozen=True, slots=True)
class Comparison:
    exact: int
    """Identical bit for bit."""
    identical: int
    different: int
    only_ours: int
    only_theirs: int
    explained: int
    """Symbols whose first difference is an exit our rules take in the entry bar."""
    first_differences: int
    examples: tuple[str, ...]


def ensure_venv(venv: Path, install: bool) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        if not install:
            raise SystemExit(f"no virtualenv at {venv}; run without --no-install to create it")
        print(f"creating {venv} and installing vectorbt and backtesting from PyPI …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603 - our own paths
    probe = subprocess.run(  # noqa: S603 - the venv's own interpreter
        [str(python), "-c", "import vectorbt, backtesting"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        if not install:
            raise SystemExit(f"vectorbt or backtesting missing in {venv}: {probe.stderr.decode()[-300:]}")
        subprocess.run([str(python), "-m", "pip", "install", "-q", "vectorbt", "backtesting"], check=True)  # noqa: S603
    return python


def closed_trades(result: BacktestResult) -> dict[str, list[Key]]:
    out: dict[str, list[Key]] = {}
    for t in sorted(result.trades, key=lambda t: (t.symbol, t.entry_index)):
        if t.exit_reason != "end_of_data":
            out.setdefault(t.symbol, []).append((t.entry_index, t.exit_index, t.entry_price, t.exit_price))
    return out


def same(a: Key, b: Key) -> bool:
    """The same bars, and prices equal to float rounding (see the module docstring)."""
    return a[:2] == b[:2] and all(abs(x - y) <= 1e-12 * abs(x) for x, y in zip(a[2:], b[2:], strict=True))


def compare(
    ours: Mapping[str, Sequence[Key]],
    theirs: Mapping[str, Sequence[Sequence[float]]],
    universe: Mapping[str, CandleArrays],
) -> Comparison:
    exact = identical = different = only_ours = only_theirs = explained = firsts = 0
    examples: list[str] = []
    for symbol in sorted(universe):
        mine = {trade[0]: trade for trade in ours.get(symbol, [])}
        other = {
            int(row[0]): (int(row[0]), int(row[1]), float(row[2]), float(row[3])) for row in theirs.get(symbol, [])
        }
        first: int | None = None
        for entry in sorted(set(mine) | set(other)):
            a, b = mine.get(entry), other.get(entry)
            if a is not None and b is not None and same(a, b):
                identical += 1
                exact += a == b
                continue
            if a is None:
                only_theirs += 1
            elif b is None:
                only_ours += 1
            else:
                different += 1
            if first is None:
                first = entry
                firsts += 1
                in_entry_bar = a is not None and a[1] == a[0]
                explained += in_entry_bar
                if len(examples) < 4:
                    why = "our exit is in the entry bar" if in_entry_bar else "see the rows"
                    examples.append(f"{symbol} entry bar {entry}: ours {a}, theirs {b} ({why})")
    return Comparison(exact, identical, different, only_ours, only_theirs, explained, firsts, tuple(examples))


def print_comparison(title: str, result: Comparison) -> None:
    print(
        f"  {title}: {result.identical} identical ({result.exact} bit for bit), {result.different} with another "
        f"exit, {result.only_ours} only ours, {result.only_theirs} only theirs"
    )
    if result.first_differences:
        print(
            f"    first difference per symbol: {result.first_differences} symbols, {result.explained} of them at a "
            "stop or target our rules take in the entry bar (later differences follow from it: the positions differ)"
        )
    for example in result.examples:
        print(f"    e.g. {example}")


def pnl_agreement(result: BacktestResult, theirs: Mapping[str, Sequence[Sequence[float]]]) -> tuple[int, float]:
    """Trades whose quantity and PnL match vectorbt's to 1e-9, and the largest relative PnL difference."""
    rows = {(t.symbol, t.entry_index): t for t in result.trades}
    matched, worst = 0, 0.0
    for symbol, trades in theirs.items():
        for entry, _, _, _, size, pnl in trades:
            trade = rows.get((symbol, int(entry)))
            if trade is None:
                continue
            gap = abs(trade.pnl - pnl) / max(abs(pnl), 1e-12)
            worst = max(worst, gap)
            matched += abs(trade.quantity - size) <= 1e-9 * size and gap <= 1e-9
    return matched, worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs (default 7; backtesting.py a third)")
    parser.add_argument("--venv", type=Path, default=VENV, help=f"throw-away virtualenv (default {VENV})")
    parser.add_argument("--no-install", action="store_true", help="fail rather than create the venv or pip install")
    parser.add_argument("--data", type=Path, default=DATA, help=f"folder of the candle files (default {DATA})")
    args = parser.parse_args()

    python = ensure_venv(args.venv, not args.no_install)
    dataset = load_dataset([args.data], "5m", symbols=[f"{base}/BTC" for base in PAIRS])
    universe = dataset.universe
    candles = dataset.candles
    ours_rule = FillModel(taker_fee=FEE, maker_fee=FEE)
    vectorbt_rule = FillModel(taker_fee=FEE, maker_fee=FEE, exits_on_entry_bar=False)
    capital = SLEEVE * len(universe)

    def ours(fills: FillModel) -> BacktestResult:
        return run_backtest(universe, SETTINGS, BacktestConfig(capital=capital, fills=fills, path="fast"))

    ours(ours_rule)  # warm-up
    samples = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = ours(ours_rule)
        samples.append(time.perf_counter() - start)
    ours_seconds = statistics.median(samples)
    as_vectorbt = ours(vectorbt_rule)

    with tempfile.TemporaryDirectory(prefix="elcaro-bench-") as folder:
        for symbol, c in universe.items():
            np.savez(
                Path(folder) / (symbol.replace("/", "_") + ".npz"),
                timestamp=c.timestamp,
                open=c.open,
                high=c.high,
                low=c.low,
                close=c.close,
            )
        (Path(folder) / "params.json").write_text(
            json.dumps(
                {
                    "symbols": sorted(universe),
                    "period": SETTINGS.period,
                    "stop_pct": SETTINGS.stop_pct,
                    "target_pct": SETTINGS.target_pct,
                    "fee": FEE,
                    "sleeve": SLEEVE,
                    "repeats": args.repeats,
                }
            )
        )
        (Path(folder) / "helper.py").write_text(HELPER)
        helper = subprocess.run(  # noqa: S603 - our helper script, in our venv
            [str(python), str(Path(folder) / "helper.py"), folder], capture_output=True, text=True, check=False
        )
        if helper.returncode != 0:
            raise SystemExit(f"the vectorbt / backtesting.py run failed:\n{helper.stderr[-3000:]}")
        others = json.loads((Path(folder) / "results.json").read_text())

    vbt, bt = others["vectorbt"], others["backtesting"]
    versions = others["versions"]
    missing = sum(item.missing for item in dataset.symbols)
    print(f"{len(universe)} real pairs, {candles:,} five-minute candles ({missing} missing)")
    s = SETTINGS
    print(f"Donchian {s.period} bars, stop {s.stop_pct:.0%}, target {s.target_pct:.0%}, fee {FEE:.3%} both sides")
    print(f"  {'backtester':<40}{'median ms':>11}{'candles/s':>14}{'vs ours':>9}")
    rows = [
        ("elcaro fast path", ours_seconds),
        (f"vectorbt {versions['vectorbt']} (warm; 10 calls)", vbt["warm"]),
        (f"vectorbt {versions['vectorbt']} (cold: first call, JIT)", vbt["cold"]),
        (f"backtesting.py {versions['backtesting']}", bt["seconds"]),
    ]
    for name, seconds in rows:
        print(f"  {name:<40}{seconds * 1000:>11.1f}{candles / seconds:>14,.0f}{seconds / ours_seconds:>8.1f}×")

    ours_closed = closed_trades(result)
    total = sum(len(v) for v in ours_closed.values())
    print(
        f"closed trades: elcaro {total}, vectorbt {sum(map(len, vbt['trades'].values()))}, "
        f"backtesting.py {sum(map(len, bt['trades'].values()))}"
    )
    refused = sum(map(len, bt["refused"].values()))
    if refused:
        print(f"  backtesting.py refused {refused} orders whose stop or target lay beyond the signal bar's close")
    print_comparison("backtesting.py vs elcaro", compare(ours_closed, bt["trades"], universe))
    print_comparison(
        "vectorbt vs elcaro (our rule: exits from the entry bar)", compare(ours_closed, vbt["trades"], universe)
    )
    print_comparison(
        "vectorbt vs elcaro run with vectorbt's rule (exits from the bar after)",
        compare(closed_trades(as_vectorbt), vbt["trades"], universe),
    )
    matched, worst = pnl_agreement(as_vectorbt, vbt["trades"])
    print(
        f"  quantity and PnL equal to 1e-9 on {matched} of those trades (largest PnL difference {worst:.1e}, relative)"
    )


if __name__ == "__main__":
    main()
