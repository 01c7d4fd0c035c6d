"""``/api/v1/market``: a live candle chart with the caller's own trades on it, through the trading desk.

Two routes, because their answers differ in owner and pace. Candles are the venue's public data, shared by every
caller through a short cache, and a chart asks for its last few bars every few seconds. Marks are the caller's
own trades and position, read from the platform's records, and change only when a trade does: a chart reads them
when it opens and again when a trading event arrives, not with every candle.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from elcaro.models import Target
from elcaro.services.desk.chart import MAX_CANDLES
from elcaro.web.context import CurrentUser, Svc
from elcaro.web.schemas.common import EpochMs, error_responses
from elcaro.web.schemas.market import CandlesOut, MarksOut

router = APIRouter(prefix="/market", tags=["market"])

TargetQuery = Annotated[
    str, Query(min_length=3, max_length=40, description="`exchange:environment`, e.g. `bybit:paper`.")
]
SymbolQuery = Annotated[
    str, Query(min_length=1, max_length=40, description="`BTC/USDT:USDT`, `BTC/USDT` or `BTCUSDT`.")
]


@router.get("/candles", response_model=CandlesOut, responses=error_responses(502))
async def candles(
    caller: CurrentUser,
    svc: Svc,
    target: TargetQuery,
    symbol: SymbolQuery,
    timeframe: Annotated[
        str, Query(min_length=1, max_length=8, description="`1m`, `5m`, `15m`, `1h`, `4h`, `1d` …")
    ] = "15m",
    limit: Annotated[int, Query(ge=1, le=MAX_CANDLES)] = 300,
) -> CandlesOut:
    """The venue's last ``limit`` candles of a symbol, oldest first (the last may still be forming).

    422 ``chart.symbol`` / ``chart.symbol_unknown`` for a symbol the target does not list, ``chart.timeframe`` for
    a timeframe it does not serve; 404 when a real venue has no API keys of the caller."""
    found = await svc.desk.candles(caller.user.id, Target.parse(target), symbol, timeframe, limit=limit)
    return CandlesOut.of(found)


@router.get("/marks", response_model=MarksOut)
async def marks(
    caller: CurrentUser,
    svc: Svc,
    target: TargetQuery,
    symbol: SymbolQuery,
    since: Annotated[EpochMs | None, Query(description="Trades closed from here on (epoch ms).")] = None,
    until: Annotated[EpochMs | None, Query(description="Trades opened up to here (epoch ms).")] = None,
) -> MarksOut:
    """The caller's entries and exits on a symbol in the window, and their open managed position's levels there."""
    found = await svc.desk.chart_marks(caller.user.id, Target.parse(target), symbol, since=since, until=until)
    return MarksOut.of(found)
