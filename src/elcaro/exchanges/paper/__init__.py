"""The paper exchange: an in-process simulated derivatives venue behind the adapter protocol.

``PaperEngine`` is the venue (accounts, orders, fills, margin, liquidation), driven by prices from
``price_sources``; ``PaperExchangeAdapter`` serves one of its accounts as an ``ExchangeAdapter``.
The same engine is the backtester's fill model and the core of the Bybit-compatible HTTP simulator.
"""

from elcaro.exchanges.paper.adapter import PaperExchangeAdapter
from elcaro.exchanges.paper.clock import ManualClock
from elcaro.exchanges.paper.config import LimitFill, PaperConfig
from elcaro.exchanges.paper.engine import DEFAULT_TARGET, PaperEngine
from elcaro.exchanges.paper.errors import DuplicateClientOrderIdError
from elcaro.exchanges.paper.events import (
    AccountEvent,
    BookEvent,
    CandleEvent,
    ClosedPnlEvent,
    EngineEvent,
    FillEvent,
    MarketEvent,
    OrderEvent,
    PositionEvent,
    PublicTradeEvent,
)
from elcaro.exchanges.paper.price_sources import CandleReplay, LiveFeed, ReplayStep, SyntheticMarket

__all__ = [
    "DEFAULT_TARGET",
    "AccountEvent",
    "BookEvent",
    "CandleEvent",
    "CandleReplay",
    "ClosedPnlEvent",
    "DuplicateClientOrderIdError",
    "EngineEvent",
    "FillEvent",
    "LimitFill",
    "LiveFeed",
    "ManualClock",
    "MarketEvent",
    "OrderEvent",
    "PaperConfig",
    "PaperEngine",
    "PaperExchangeAdapter",
    "PositionEvent",
    "PublicTradeEvent",
    "ReplayStep",
    "SyntheticMarket",
]
