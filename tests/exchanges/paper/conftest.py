from __future__ import annotations

from decimal import Decimal as D

import pytest

from elcaro.exchanges.paper import ManualClock, PaperEngine
from paper.builders import BTC, START_MS, make_engine


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START_MS)


@pytest.fixture
def engine(clock: ManualClock) -> PaperEngine:
    """Alice has 10 000 USDT; BTC is marked at 30 000; default fees (0.02 % / 0.055 %), leverage 10, no slippage."""
    engine, _ = make_engine(clock=clock)
    engine.update_mark(BTC.symbol, D("30000"))
    return engine
