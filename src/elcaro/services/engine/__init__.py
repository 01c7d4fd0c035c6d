"""The strategy engine service: the breakout strategy trading one account, paper or live.

- ``service``: ``EngineService`` — the cycle, the commands, ``status()``, ``last_scan()``, ``presets()``;
- ``execution``: ``Executor`` — entries with a stop read back from the venue, exits, closing everything;
- ``feed``: ``MarketFeed`` — the market as the scanner and the strategy read it, from any venue;
- ``pacing``: when the next bar closes (the wall clock, or a replay of recorded candles);
- ``outputs``: the trade log and the copy-trading signals the engine publishes (strategy ``elcaro``);
- ``scan``: one scanner pass over recorded candles (``elcaro scan``);
- ``wiring``: the engine inside the running platform.
"""

from elcaro.services.engine.config import STRATEGY, EngineConfig, EngineMode
from elcaro.services.engine.execution import Closed, EntryRequest, Executor, FlattenReport, Held
from elcaro.services.engine.feed import MarketFeed, MarketPass
from elcaro.services.engine.outputs import SignalPublisher, TradeList, TradeLog, TradeSink, engine_signal
from elcaro.services.engine.pacing import BarPacer, ReplayBars, WallClockBars
from elcaro.services.engine.service import EngineService, Wait
from elcaro.services.engine.status import (
    Decision,
    EngineStatus,
    PositionView,
    ScanReport,
    SignalView,
    Stage,
    VenuePosition,
    read_status,
    status_json,
    write_status,
)

__all__ = [
    "STRATEGY",
    "BarPacer",
    "Closed",
    "Decision",
    "EngineConfig",
    "EngineMode",
    "EngineService",
    "EngineStatus",
    "EntryRequest",
    "Executor",
    "FlattenReport",
    "Held",
    "MarketFeed",
    "MarketPass",
    "PositionView",
    "ReplayBars",
    "ScanReport",
    "SignalPublisher",
    "SignalView",
    "Stage",
    "TradeList",
    "TradeLog",
    "TradeSink",
    "VenuePosition",
    "Wait",
    "WallClockBars",
    "engine_signal",
    "read_status",
    "status_json",
    "write_status",
]
