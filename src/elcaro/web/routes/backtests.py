"""``/api/v1/backtests``: start a backtest on stored candles, follow its progress, read its result and chart.

Runs belong to the caller: another user's run id is not found (404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from elcaro.services.backtests import BacktestRequest
from elcaro.web.context import CurrentUser, Svc
from elcaro.web.schemas.backtests import BacktestIn, BacktestOut, BacktestTradeOut, ChartOut

router = APIRouter(prefix="/backtests", tags=["backtests"])


@router.get("/presets", response_model=list[str])
async def presets(caller: CurrentUser, svc: Svc) -> list[str]:
    return svc.backtests.presets()


@router.post("", response_model=BacktestOut, status_code=202)
async def start(body: BacktestIn, caller: CurrentUser, svc: Svc) -> BacktestOut:
    """Queue a backtest; poll ``GET /backtests/{id}`` for its progress and result."""
    request = BacktestRequest(
        strategy=body.strategy,
        preset=body.preset,
        overrides=body.overrides,
        exchange=body.exchange,
        symbols=tuple(body.symbols),
        start=body.start,
        end=body.end,
        capital=body.capital,
        scan_every=body.scan_every,
    )
    return BacktestOut.of(await svc.backtests.start(caller.user.id, request))


@router.get("", response_model=list[BacktestOut])
async def runs(caller: CurrentUser, svc: Svc) -> list[BacktestOut]:
    return [BacktestOut.of(run) for run in svc.backtests.list_for_user(caller.user.id)]


@router.get("/{run_id}", response_model=BacktestOut)
async def run(run_id: str, caller: CurrentUser, svc: Svc) -> BacktestOut:
    return BacktestOut.of(svc.backtests.get(caller.user.id, run_id))


@router.get("/{run_id}/trades", response_model=list[BacktestTradeOut])
async def trades(run_id: str, caller: CurrentUser, svc: Svc) -> list[BacktestTradeOut]:
    found = svc.backtests.get(caller.user.id, run_id)
    return [] if found.result is None else [BacktestTradeOut.of(t) for t in found.result.trades]


@router.get("/{run_id}/chart", response_model=ChartOut)
async def chart(
    run_id: str,
    caller: CurrentUser,
    svc: Svc,
    symbol: str | None = None,
    points: Annotated[int, Query(ge=10, le=20_000)] = 2000,
) -> ChartOut:
    """The equity curve (thinned to ``points``) and one symbol's candles with its trades, for the result charts."""
    data = svc.backtests.chart(caller.user.id, run_id, symbol=symbol, points=points)
    result = svc.backtests.get(caller.user.id, run_id).result
    return ChartOut.of(data, [] if result is None else list(result.trades))
