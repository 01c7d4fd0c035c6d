"""The engine trading recorded candles on a paper exchange of its own: ``elcaro engine run --data DIR``.

The same engine, state machine, executor and exit orders as in paper or live trading; only the
market differs — a fresh in-process paper exchange (nothing saved, no user, trades kept in memory,
nothing published) moved bar by bar through the files. At the end of the data the engine time-stops, so
every trade is closed and counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from elcaro.engine import Command, Transition
from elcaro.exchanges.client import ExchangeClient, Timing
from elcaro.exchanges.paper import ManualClock, PaperEngine, PaperExchangeAdapter
from elcaro.marketdata import read_candles, resample
from elcaro.models import Environment, Exchange, Target, Trade
from elcaro.models.market import Candle
from elcaro.services.engine.config import EngineConfig
from elcaro.services.engine.outputs import TradeList
from elcaro.services.engine.pacing import ReplayBars
from elcaro.services.engine.recorded import pick_files, replay_instrument
from elcaro.services.engine.service import EngineService
from elcaro.services.engine.status import EngineStatus
from elcaro.strategies.breakout.preset import BreakoutPreset
from elcaro.strategies.breakout.scanner import required_bars

ACCOUNT = "engine-replay"
PAPER = Target(Exchange.BYBIT, Environment.PAPER)


@dataclass(frozen=True, slots=True)
class ReplayResult:
    symbols: tuple[str, ...]
    bars: int
    """Bar times played, warm-up included."""
    deposit: Decimal
    equity: Decimal
    trades: tuple[Trade, ...]
    """Closed parts of the engine's trades, with the engine's exit reasons."""
    status: EngineStatus


async def replay(
    directory: Path,
    preset: BreakoutPreset,
    *,
    any_quote: bool = False,
    bars_per_second: float = 0.0,
    deposit: Decimal = Decimal(10_000),
    on_transition: Callable[[Transition], None] | None = None,
    stop: asyncio.Event | None = None,
) -> ReplayResult:
    """Replay every usable file of ``directory`` (USDT-quoted only unless ``any_quote``) until the data ends."""
    files = [f for f in pick_files(directory, preset.timeframe) if any_quote or f.quote == "USDT"]
    series = {file.symbol: _candles(file.path, file.timeframe.name, preset.timeframe) for file in files}
    series = {symbol: candles for symbol, candles in series.items() if candles}
    first = min(candles[0].timestamp for candles in series.values())
    clock = ManualClock(first)
    venue = PaperEngine([replay_instrument(symbol, candles) for symbol, candles in series.items()], clock=clock)
    venue.open_account(ACCOUNT, deposit)
    # The client's caches (tickers, balance) age on the replay's clock, so a replay gives the same result every time.
    timing = Timing(clock=lambda: clock() / 1000)
    client = ExchangeClient(PaperExchangeAdapter(venue, ACCOUNT, target=PAPER), timing=timing)
    pacer = ReplayBars(venue, clock, series, preset.timeframe, delay=1 / bars_per_second if bars_per_second else 0.0)
    config = EngineConfig(user_id=None, target=PAPER, universe=tuple(series), publish_signals=False)
    log = TradeList(PAPER)
    pacer.prime(max(required_bars(preset.scanner, preset.timeframe), preset.warmup_bars + 2) + config.extra_bars)

    async def open_client() -> ExchangeClient:
        return client

    engine = EngineService(
        config,
        open_client,
        pacer=pacer,
        clock=clock,
        trade_log=log,
        preset=preset,
        at_market_end=Command.TIME_STOP,
    )
    if on_transition is not None:
        engine.subscribe(on_transition)
    try:
        engine.command(Command.START, "replay")
        await engine.run(stop or asyncio.Event())
        equity = (await client.fetch_balance()).equity
    finally:
        await client.close()
    return ReplayResult(tuple(series), pacer.played, deposit, equity, tuple(log.trades), engine.status())


def _candles(path: Path, base: str, timeframe: str) -> list[Candle]:
    candles = list(read_candles(path))
    if base == timeframe:
        return candles
    return list(resample(candles, base, timeframe).candles)
