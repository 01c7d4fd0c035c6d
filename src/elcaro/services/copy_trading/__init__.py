"""Copy trading: a stored signal fanned out to every subscribed user's accounts, resumed after a crash, withdrawn
when its source cancels it.

``CopyTradingService`` is the entry point; the modules behind it each do one part: ``subscribers`` (who a
signal is for), ``snapshot`` (the facts the gates judge), ``execute`` (one user on one target up to the claim),
``placement`` (orders sent and recorded), ``resume`` and ``cancel``.
"""

from elcaro.services.copy_trading.context import PositionManager
from elcaro.services.copy_trading.outcome import CopyCode, FanOutReport, PairOutcome
from elcaro.services.copy_trading.service import DEFAULT_CONCURRENCY, CopyTradingService
from elcaro.services.copy_trading.subscribers import GLOBAL_PAUSE_FLAG

__all__ = [
    "DEFAULT_CONCURRENCY",
    "GLOBAL_PAUSE_FLAG",
    "CopyCode",
    "CopyTradingService",
    "FanOutReport",
    "PairOutcome",
    "PositionManager",
]
