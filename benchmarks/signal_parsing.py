"""Parsing channel posts: the registry against a naive every-parser baseline, in the same run.

The corpus mixes every format of shared/SIGNALS.md, real-world variants, posts that are rejected
and ordinary chat (which is most of what a signal channel's subscribers' groups carry), shuffled
with a fixed seed and repeated to N messages. Three paths parse it:

- registry: ``SignalParserRegistry.parse`` — the message is normalised once, each format's keyword
  gate (a substring test) rules most formats out before any regular expression runs, and the first
  format that recognises the post reads it;
- no gates: the same registry with the keyword gates removed, so every format's line patterns
  run until one recognises the post (and on every rival of the one that does) — what the gates
  save;
- naive: every built-in parser called on its own for every message (``parser.parse(text)``, as a
  design without a registry would), each normalising the text itself, the catch-all formats
  re-checking every format they give way to, and the first claim by order kept.

All three must give the same outcome for every message (checked before timing). Printed: messages
per second and µs per message, the median of R repeats. A second table times the admin-pattern
rule of ``regex_safety``: a pattern it refuses against one it accepts, on one hostile line.

    .venv/bin/python benchmarks/signal_parsing.py [--messages N] [--repeats R]
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import statistics
import time
from collections.abc import Callable, Mapping
from functools import partial

from elcaro.models import Signal, SignalCancel, SignalSource, SourceKind
from elcaro.models.errors import InvalidSignalError
from elcaro.signals import BUILT_IN, FormatParser, Message, SignalParserRegistry
from elcaro.signals.regex_safety import MAX_LINE_CHARS

SOURCE = SignalSource(SourceKind.CHANNEL, "-1001234567890")
SIGNALS = [
    "SCRIPTOMER LONG ARBUSDT @ 1.0825",
    "SCALPER SHORT DOGEUSDT @ 0.08112",
    "🔴 SHORT OPUSDT\n📊 Score: 63% ⭐ B\n📈 (BB:22 RSI:81 Vol:3 OI:1)\n⏱ TF: 15m\n💲 Entry: 2.4410\n"
    "🎯 TP1: 2.3120 (3.0×ATR)\n🎯 TP2: 2.2480 (4.5×ATR)\n🛑 SL: 2.5270 (2.0×ATR)\n📏 ATR: 0.0430\n📊 RSI(14): 81.2",
    "Elcaro\n🔔 LINKUSDT 📈 LONG 🟢🟢⚪\n⏱️ 4h | 🎚 12\n💰 Entry: 14.2300\n🛑 SL: 13.4100 (5.76%)\n"
    "🎯 TP: 16.6900 (17.29%)\n📊 RR: 3.0:1 | ATR Exit: ✅\n📉 ATR: 14 | ×1.5 | Trigger: 6%",
    "📊 FIBONACCI EXTENSION STRATEGY\n🪙 AVAXUSDT | —\n📈 LONG\n⏱ TF: 60\n🎯 Entry Zone: 27.10 – 27.85\n"
    "🛑 Stop Loss: 25.90\n✅ Target 1: 29.40\n✅ Target 2: 31.05\n⚡ Trigger: Price in 127.2%-141.4% zone\n"
    "🟢 Quality: B (71/100)",
    "🎯 OI SIGNAL ⭐️⭐️⭐️\n🚀 SQUEEZE\n📉 SHORT SUIUSDT @ 1.6230\n📊 OI: +7.85% | Vol z=2.4 | CVD z=-1.9\n🎯 Score: 3.6",
    "⚡ TF: 1h\nLONG ENAUSDT\nPrice: 0.4521\nOI Total: 51.2M (+312.4%, z=40.1)\nVol 8.4M → 21M\nRSI: 78.4 | BB: 1.12",
    "SOL/USDT\nBuy zone 141.5-144\nTake Profit 148 152.5 158\nStop 137.2\nLeverage 5x",
    "⚡⚡ #ETH/USDT ⚡⚡\nExchanges: Bybit USDT\nSignal Type: Regular (Short)\nLeverage: Isolated (20.0X)\n"
    "Entry Targets:\n1) 3385 - 50%\n2) 3410 - 50%\nTake-Profit Targets:\n1) 3320 - 40%\n2) 3275 - 35%\n"
    "3) 3190 - 25%\nStop Targets:\n1) 3468 - 100%",
    "Cancel #ETH/USDT",
    "❌ Cancel #ETHUSDT",
    "#SOL/USDT\nLONG\nEntry: 141.5 - 144\nTargets: 148, 152.5, 158\nStop-loss: 137.2\nLev 5",
    "BTC/USDT Long\nEntry: CMP\nTargets: 69,000 70,500.5\nStop: 66,000",
    "scalper short dogeusdt @ 0.08112",
]
REJECTED = [
    "SOL/USDT LONG\nBuy 141.5\nTP 148\nStop 145",
    "ETH/USDT\nEntry: 3,385\nTP: 3,420\nSL: 3,300",
    "SCALPER SHORT DOGEUSDT",
]
CHAT = [
    "Good morning traders! ☀️",
    "BTC just broke $70,000 — new all-time high! 🚀",
    "🔔 BTCUSDT crossed 67,250.5",
    "BTCUSDT\nPrice: 67250\nTF: 1h",
    "Don't cancel your BTCUSDT orders",
    "TP hit on SOL/USDT ✅ +5.2%",
    "Who else is long ETH here? 😅",
    "Weekly results: 14 wins, 3 losses, +23.4% 📈",
    "Reminder: never risk more than 1-2% per trade.",
    "Take profit 148 reached on SOL/USDT",
    "gm",
    "Market is choppy today, stay safe and manage your risk. We will post new setups after the US open.",
]


class Ungated(FormatParser):
    """A built-in format with its keyword gate removed (same shape, same reader, same rivals)."""

    def __init__(self, inner: FormatParser) -> None:
        super().__init__()
        self.inner = inner
        self.name = inner.name

    @classmethod
    def all(cls, parsers: tuple[FormatParser, ...]) -> list[FormatParser]:
        wrapped = {id(p): cls(p) for p in parsers}
        for parser in wrapped.values():
            parser.rivals = tuple(wrapped[id(r)] for r in parser.inner.rivals)
            parser.defers_to = tuple(wrapped[id(d)] for d in parser.inner.defers_to)
        return list(wrapped.values())

    def shape(self, message: Message) -> bool:
        return self.inner.shape(message)

    def read(self, message: Message, source: SignalSource, received_at: int) -> Signal | SignalCancel:
        return self.inner.read(message, source, received_at)


def naive(text: str) -> tuple[str | None, object]:
    """Every parser alone; the first claim by order wins (a rejection is a claim)."""
    claims: list[tuple[str | None, object]] = []
    for parser in BUILT_IN:
        try:
            value = parser.parse(text, SOURCE)
        except InvalidSignalError as error:
            claims.append((parser.name, error.reason))
            continue
        if value is not None:
            claims.append((parser.name, value))
    return claims[0] if claims else (None, None)


def outcome(registry: SignalParserRegistry, text: str) -> tuple[str | None, object]:
    result = registry.parse(text, SOURCE)
    return result.parser, result.value or result.reason


def corpus(size: int) -> list[str]:
    pool = SIGNALS + REJECTED + CHAT
    rng = random.Random(20241121)
    return [rng.choice(pool) for _ in range(size)]


def run_all(parse: Callable[[str], object], messages: list[str]) -> None:
    for text in messages:
        parse(text)


def median_seconds(runs: Mapping[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time of each run; the runs take turns, so a busy machine slows them alike."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}


def pattern_costs(repeats: int) -> None:
    line = "1" * MAX_LINE_CHARS
    pairs = [("refused", r"\d+\d+x"), ("accepted", r"\d+x"), ("refused", r"\s*:?\s*x"), ("accepted", r"[\s:]*x")]
    print(f"\nadmin patterns on a {MAX_LINE_CHARS}-character hostile line; median µs per search")
    runs = {pattern: partial(re.compile(pattern).search, line if "d" in pattern else " " * MAX_LINE_CHARS)
            for _, pattern in pairs}  # fmt: skip
    timings = median_seconds(runs, repeats)
    for verdict, pattern in pairs:
        print(f"{verdict:<10}{pattern:<14}{timings[pattern] * 1e6:>12.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=5000, help="corpus size (default 5000)")
    parser.add_argument("--repeats", type=int, default=7, help="runs per path (default 7)")
    args = parser.parse_args()
    messages = corpus(args.messages)
    registry = SignalParserRegistry()
    ungated = SignalParserRegistry(Ungated.all(BUILT_IN))
    for text in set(messages):
        expected = outcome(registry, text)
        if outcome(ungated, text) != expected or naive(text) != expected:
            raise SystemExit(f"the paths disagree on {text!r}: the comparison would not be fair")
    kinds = {name: sum(1 for t in messages if t in pool) for name, pool in (("signals", SIGNALS),
             ("rejected", REJECTED), ("chat", CHAT))}  # fmt: skip
    chat = [t for t in messages if t in CHAT]
    print(f"{len(messages)} messages ({', '.join(f'{n} {k}' for k, n in kinds.items())}); {args.repeats} repeats")
    print("median µs per message over the whole corpus (mixed) and over its chat messages alone")
    print(f"{'path':<10}{'mixed msg/s':>13}{'mixed µs':>10}{'vs naive':>10}{'chat µs':>10}{'vs naive':>10}")
    paths: dict[str, Callable[[str], object]] = {
        "registry": partial(registry.parse, source=SOURCE),
        "no gates": partial(ungated.parse, source=SOURCE),
        "naive": naive,
    }
    runs = {name: partial(run_all, parse, messages) for name, parse in paths.items()}
    mixed = {name: seconds / len(messages) for name, seconds in median_seconds(runs, args.repeats).items()}
    runs = {name: partial(run_all, parse, chat) for name, parse in paths.items()}
    chat_only = {name: seconds / len(chat) for name, seconds in median_seconds(runs, args.repeats).items()}
    for name in paths:
        print(
            f"{name:<10}{1 / mixed[name]:>13,.0f}{mixed[name] * 1e6:>10.1f}{mixed['naive'] / mixed[name]:>9.1f}x"
            f"{chat_only[name] * 1e6:>10.1f}{chat_only['naive'] / chat_only[name]:>9.1f}x"
        )
    pattern_costs(args.repeats)


if __name__ == "__main__":
    main()
