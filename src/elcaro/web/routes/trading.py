"""``/api/v1/trading`` and ``/api/v1/statistics``: the caller's money and positions, through the trading desk.

The desk is the same service the Telegram bot uses; a route parses, calls one method and shapes the
answer. Position and credential ids are checked by the desk against the caller: another user's id is
"not found" (404), exactly like an id that does not exist. Order-placing routes are rate limited per IP
and per user.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from elcaro.models import ExitReason, PositionSide, Target
from elcaro.models.equity import EquityPeriod
from elcaro.models.errors import ValidationError
from elcaro.models.trade_query import TradeCursor, TradeFilter, TradeResult
from elcaro.services.desk import order_ref
from elcaro.services.statistics import Bucket
from elcaro.trading import Period
from elcaro.web.context import CurrentUser, OrderCaller, PathId, Svc
from elcaro.web.schemas.common import Done, error_responses
from elcaro.web.schemas.trade_log import HistoryChoicesOut, PnlHistoryOut
from elcaro.web.schemas.trading import (
    AdoptedOut,
    AdoptIn,
    EquityCurveOut,
    ExitsIn,
    HistoryOut,
    ManualOrderIn,
    ManualPlaceIn,
    ManualPreviewOut,
    ManualResultOut,
    OrderOut,
    PositionOut,
    PositionsPageOut,
    StatsOut,
    TargetBalanceOut,
    TradeOut,
)

router = APIRouter(prefix="/trading", tags=["trading"], responses=error_responses(502))
statistics = APIRouter(prefix="/statistics", tags=["statistics"])


@router.get("/balances", response_model=list[TargetBalanceOut])
async def balances(caller: CurrentUser, svc: Svc) -> list[TargetBalanceOut]:
    """The balance of every enabled target; one that cannot be read says why (``error``)."""
    return [TargetBalanceOut.of(item) for item in await svc.desk.balances(caller.user.id)]


@router.get("/positions", response_model=PositionsPageOut)
async def positions(
    caller: CurrentUser,
    svc: Svc,
    page: Annotated[int, Query(ge=0, le=10_000)] = 0,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PositionsPageOut:
    """Managed open positions, oldest first, with live mark price and PnL."""
    found = await svc.desk.positions(caller.user.id, page=page, page_size=page_size)
    return PositionsPageOut(
        items=[PositionOut.of(view) for view in found.items], page=found.page, pages=found.pages, total=found.total
    )


@router.get("/positions/unmanaged", response_model=list[PositionOut])
async def unmanaged(caller: CurrentUser, svc: Svc) -> list[PositionOut]:
    """Positions on the caller's targets the platform does not manage (opened by hand elsewhere)."""
    return [PositionOut.of(view) for view in await svc.desk.unmanaged(caller.user.id)]


@router.post("/positions/adopt", response_model=AdoptedOut)
async def adopt(body: AdoptIn, caller: OrderCaller, svc: Svc) -> AdoptedOut:
    """Manage a position opened by hand (as strategy ``manual``)."""
    return AdoptedOut(position_id=await svc.desk.adopt(caller.user.id, Target.parse(body.target), body.symbol))


@router.post("/positions/close-all", response_model=Done)
async def close_all(caller: OrderCaller, svc: Svc) -> Done:
    """Close every managed open position at market; ``count`` closes were asked for."""
    return Done(count=await svc.desk.close_all(caller.user.id))


@router.get("/positions/{position_id}", response_model=PositionOut)
async def position(position_id: PathId, caller: CurrentUser, svc: Svc) -> PositionOut:
    return PositionOut.of(await svc.desk.position(caller.user.id, position_id))


@router.post("/positions/{position_id}/close", response_model=Done, status_code=202)
async def close(position_id: PathId, caller: OrderCaller, svc: Svc) -> Done:
    """Ask for the position to be closed at market; the ``position_closed`` event follows when it has filled."""
    await svc.desk.close_position(caller.user.id, position_id)
    return Done()


@router.patch("/positions/{position_id}/exits", response_model=PositionOut)
async def modify_exits(position_id: PathId, body: ExitsIn, caller: OrderCaller, svc: Svc) -> PositionOut:
    """Move the stop (looser or tighter) and/or re-price the targets not yet hit; the position as it then stands.

    A level the position cannot take is a 422 naming its field (``stop``, ``target_prices``, ``target_prices.N``);
    ``position.stop_refused`` when the exchange would not take the stop and the position is being closed instead."""
    prices = None if body.target_prices is None else tuple(body.target_prices)
    view = await svc.desk.modify_exits(caller.user.id, position_id, stop=body.stop, target_prices=prices)
    return PositionOut.of(view)


@router.get("/orders", response_model=list[OrderOut])
async def orders(caller: CurrentUser, svc: Svc) -> list[OrderOut]:
    """Resting orders on every enabled target; ``managed`` ones belong to a managed position (close that)."""
    return [OrderOut.of(view) for view in await svc.desk.open_orders(caller.user.id)]


@router.delete("/orders/{target}/{ref}", response_model=OrderOut)
async def cancel_order(target: str, ref: str, caller: OrderCaller, svc: Svc) -> OrderOut:
    """Cancel one of the caller's resting orders by its ``ref``."""
    where = Target.parse(target)
    cancelled = await svc.desk.cancel_order(caller.user.id, where, ref)
    return OrderOut.from_order(cancelled, str(where), order_ref(cancelled.client_order_id), False)


@router.post("/manual/preview", response_model=ManualPreviewOut)
async def manual_preview(body: ManualOrderIn, caller: CurrentUser, svc: Svc) -> ManualPreviewOut:
    """Check a manual order against each enabled target: the quantity, price and stop it would go out with."""
    return ManualPreviewOut.of(await svc.desk.prepare_manual(caller.user.id, body.as_text()))


@router.post("/manual", response_model=ManualResultOut, status_code=201)
async def manual_place(body: ManualPlaceIn, caller: OrderCaller, svc: Svc) -> ManualResultOut:
    """Place a manual order on one target, with the stop the preview showed attached.

    The order is checked again here (prices move between preview and confirmation); ``intent`` makes a
    repeated request find the order placed the first time rather than place a second one."""
    target = Target.parse(body.target)
    preview = await svc.desk.prepare_manual(caller.user.id, body.as_text())
    options = [option for option in preview.options if option.target == target]
    if not options:
        raise ValidationError(
            f"{target} is not among the targets this order can go to: "
            f"{', '.join(str(option.target) for option in preview.options)}",
            field="target",
        )
    result = await svc.desk.place_manual(caller.user.id, preview.request, options[0], intent=body.intent)
    return ManualResultOut.of(result, str(target), order_ref(result.order.client_order_id))


EpochMs = Annotated[int | None, Query(ge=0, le=10**14, description="Epoch ms (UTC).")]
StrategyName = Annotated[str | None, Query(min_length=1, max_length=64, description="`manual`: no strategy too.")]


@router.get("/history", response_model=HistoryOut)
async def history(
    caller: CurrentUser,
    svc: Svc,
    page: Annotated[int, Query(ge=0, le=49)] = 0,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=40, description="`next_cursor` of the page before.")] = None,
    strategy: StrategyName = None,
    target: Annotated[str | None, Query(max_length=40, description="exchange:environment")] = None,
    symbol: Annotated[str | None, Query(min_length=1, max_length=64, description="As stored: BTC/USDT:USDT")] = None,
    side: PositionSide | None = None,
    exit_reason: ExitReason | None = None,
    result: Annotated[TradeResult | None, Query(description="Net PnL above zero (win) or below (loss).")] = None,
    closed_since: EpochMs = None,
    closed_until: EpochMs = None,
) -> HistoryOut:
    """Closed trades (a partial take-profit is a trade of its own) matching every filter given, newest first,
    with net PnL each. Page by ``page`` (up to 50 pages) or, however deep, by ``cursor``; both together count
    pages from the cursor."""
    where = TradeFilter(
        strategy=strategy,
        target=None if target is None else Target.parse(target),
        symbol=symbol,
        side=side,
        exit_reason=exit_reason,
        result=result,
        closed_since=closed_since,
        closed_until=closed_until,
    )
    after = None if cursor is None else TradeCursor.parse(cursor)
    found = await svc.desk.history(caller.user.id, where=where, page=page, page_size=page_size, after=after)
    return HistoryOut(
        trades=[TradeOut.of(trade) for trade in found.trades],
        page=found.page,
        has_more=found.has_more,
        next_cursor=None if found.next is None else str(found.next),
    )


@router.get("/history/choices", response_model=HistoryChoicesOut)
async def history_choices(caller: CurrentUser, svc: Svc) -> HistoryChoicesOut:
    """The symbols, strategies and targets of the caller's trades: what the history's filters can find."""
    return HistoryChoicesOut.of(await svc.desk.history_choices(caller.user.id))


@statistics.get("", response_model=StatsOut)
async def stats(caller: CurrentUser, svc: Svc, period: Period = Period.ALL, strategy: str | None = None) -> StatsOut:
    """Win rate, PnL, profit factor … over a period, overall and per strategy and target."""
    return StatsOut.of(await svc.desk.statistics(caller.user.id, period, strategy=strategy))


@statistics.get("/pnl", response_model=PnlHistoryOut)
async def pnl_history(
    caller: CurrentUser,
    svc: Svc,
    period: Period = Period.ALL,
    bucket: Bucket = Bucket.DAY,
    strategy: StrategyName = None,
) -> PnlHistoryOut:
    """Net PnL of the closed trades per day, week or month (UTC) of a period, with the running total."""
    return PnlHistoryOut.of(await svc.desk.pnl_history(caller.user.id, period, bucket=bucket, strategy=strategy))


@statistics.get("/equity", response_model=EquityCurveOut)
async def equity(
    caller: CurrentUser,
    svc: Svc,
    period: EquityPeriod = EquityPeriod.MONTH,
    target: Annotated[str | None, Query(max_length=40, description="exchange:environment; unset: all added up")] = None,
) -> EquityCurveOut:
    """The caller's recorded equity over a rolling period (at most a few hundred points), on one target or all."""
    where = None if target is None else Target.parse(target)
    return EquityCurveOut.of(await svc.desk.equity_curve(caller.user.id, period, target=where))
