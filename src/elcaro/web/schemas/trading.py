"""Balances, positions, orders, manual orders, trade history and statistics."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from elcaro.models import Order, Trade
from elcaro.services.desk import ManualOption, ManualPreview, ManualResult, OrderView, PositionView, TargetBalance
from elcaro.services.equity import EquityCurve
from elcaro.services.statistics import StatsReport
from elcaro.trading import TradeStats
from elcaro.web.schemas.common import Body, Model
from elcaro.web.schemas.users import BalanceOut


class TargetBalanceOut(Model):
    target: str
    balance: BalanceOut | None
    error: str | None

    @classmethod
    def of(cls, item: TargetBalance) -> TargetBalanceOut:
        balance = item.balance
        shown = (
            None
            if balance is None
            else BalanceOut(
                asset=balance.asset,
                wallet=balance.wallet,
                available=balance.available,
                unrealized_pnl=balance.unrealized_pnl,
                equity=balance.equity,
            )
        )
        return cls(target=str(item.target), balance=shown, error=item.error)


class ExitTargetOut(Model):
    number: int = Field(description="1 for the nearest target.")
    price: Decimal
    hit: bool = Field(description="Filled: a hit target keeps its price and takes no new one.")


PositiveLevel = Annotated[Decimal, Field(gt=0, lt=Decimal("1e15"), allow_inf_nan=False)]


class ExitsIn(Body):
    """Exits set by hand: the stop (either way), the prices of the targets not yet hit (one each, nearest first),
    or both. Each lands on the tick; a level the position cannot take is refused naming its field."""

    stop: PositiveLevel | None = Field(None, description="Must sit on the stop side of the current price.")
    target_prices: list[PositiveLevel] | None = Field(
        None, min_length=1, max_length=50, description="Refused field: `target_prices.N`, N counted from 0."
    )


class PositionOut(Model):
    id: int | None
    target: str | None
    symbol: str
    side: str
    qty: Decimal
    entry_price: Decimal
    leverage: Decimal
    stop_loss: Decimal | None
    take_profit: Decimal | None
    liquidation_price: Decimal | None
    realized_pnl: Decimal
    strategy: str | None
    signal_id: int | None
    opened_at: int
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None
    change_pct: Decimal | None
    targets: list[ExitTargetOut] = Field(
        default_factory=list, description="Every take-profit target of a managed position, nearest first."
    )

    @classmethod
    def of(cls, view: PositionView) -> PositionOut:
        p = view.position
        return cls(
            id=p.id,
            target=None if p.target is None else str(p.target),
            symbol=p.symbol,
            side=p.side.value,
            qty=p.qty,
            entry_price=p.entry_price,
            leverage=p.leverage,
            stop_loss=p.stop_loss,
            take_profit=p.take_profit,
            liquidation_price=p.liquidation_price,
            realized_pnl=p.realized_pnl,
            strategy=p.strategy,
            signal_id=p.signal_id,
            opened_at=p.opened_at,
            mark_price=view.mark_price,
            unrealized_pnl=view.unrealized_pnl,
            change_pct=view.change_pct,
            targets=[ExitTargetOut(number=t.number, price=t.price, hit=t.hit) for t in view.targets],
        )


class PositionsPageOut(Model):
    items: list[PositionOut]
    page: int
    pages: int
    total: int


class OrderOut(Model):
    ref: str
    """Names the order in ``DELETE /trading/orders/{target}/{ref}``."""
    target: str
    managed: bool
    client_order_id: str
    symbol: str
    side: str
    type: str
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    reduce_only: bool
    stop_loss: Decimal | None
    take_profit: Decimal | None
    status: str
    filled_qty: Decimal
    avg_fill_price: Decimal | None
    created_at: int

    @classmethod
    def of(cls, view: OrderView) -> OrderOut:
        return cls.from_order(view.order, str(view.target), view.ref, view.managed)

    @classmethod
    def from_order(cls, o: Order, target: str, ref: str, managed: bool) -> OrderOut:
        return cls(
            ref=ref,
            target=target,
            managed=managed,
            client_order_id=o.client_order_id,
            symbol=o.symbol,
            side=o.side.value,
            type=o.type.value,
            qty=o.qty,
            price=o.price,
            trigger_price=o.trigger_price,
            reduce_only=o.reduce_only,
            stop_loss=o.stop_loss,
            take_profit=o.take_profit,
            status=o.status.value,
            filled_qty=o.filled_qty,
            avg_fill_price=o.avg_fill_price,
            created_at=o.created_at,
        )


class ManualOrderIn(Body):
    symbol: str = Field(min_length=3, max_length=32, description="`BTCUSDT` or `BTC/USDT:USDT`.")
    side: Literal["long", "short"]
    qty: Decimal = Field(gt=0)
    price: Decimal | None = Field(None, gt=0, description="A limit price; none for a market order.")

    def as_text(self) -> str:
        """The order as a trader types it: the desk reads and checks it exactly as it does the bot's."""
        symbol = self.symbol.replace("/", "").split(":")[0]
        parts = [
            symbol,
            self.side,
            *([format(self.price, "f")] if self.price is not None else []),
            format(self.qty, "f"),
        ]
        return " ".join(parts)


class ManualPlaceIn(ManualOrderIn):
    target: str = Field(max_length=48, description="`exchange:environment`, one of the preview's options.")
    intent: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Chosen by the client once per order (a UUID will do): the same intent again finds the order "
        "placed the first time instead of placing a second one.",
    )


class ManualOptionOut(Model):
    target: str
    qty: Decimal
    price: Decimal | None
    reference_price: Decimal
    notional: Decimal
    stop_loss: Decimal
    leverage: int

    @classmethod
    def of(cls, option: ManualOption) -> ManualOptionOut:
        return cls(
            target=str(option.target),
            qty=option.qty,
            price=option.price,
            reference_price=option.reference_price,
            notional=option.notional,
            stop_loss=option.stop_loss,
            leverage=option.leverage,
        )


class ManualPreviewOut(Model):
    symbol: str
    side: str
    order_type: str
    options: list[ManualOptionOut]

    @classmethod
    def of(cls, preview: ManualPreview) -> ManualPreviewOut:
        return cls(
            symbol=preview.request.symbol,
            side=preview.request.side.value,
            order_type=preview.order_type.value,
            options=[ManualOptionOut.of(option) for option in preview.options],
        )


class ManualResultOut(Model):
    order: OrderOut
    position_id: int | None
    adoption_error: str | None

    @classmethod
    def of(cls, result: ManualResult, target: str, ref: str) -> ManualResultOut:
        return cls(
            order=OrderOut.from_order(result.order, target, ref, False),
            position_id=result.position_id,
            adoption_error=result.adoption_error,
        )


class AdoptIn(Body):
    target: str = Field(max_length=48, description="`exchange:environment`.")
    symbol: str = Field(min_length=3, max_length=32)


class AdoptedOut(Model):
    position_id: int


class TradeOut(Model):
    id: int | None
    target: str
    symbol: str
    side: str
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    opened_at: int
    closed_at: int
    exit_reason: str
    strategy: str | None
    fees: Decimal
    funding: Decimal
    net_pnl: Decimal
    signal_id: int | None

    @classmethod
    def of(cls, trade: Trade) -> TradeOut:
        return cls(
            id=trade.id,
            target=str(trade.target),
            symbol=trade.symbol,
            side=trade.side.value,
            qty=trade.qty,
            entry_price=trade.entry_price,
            exit_price=trade.exit_price,
            opened_at=trade.opened_at,
            closed_at=trade.closed_at,
            exit_reason=trade.exit_reason.value,
            strategy=trade.strategy,
            fees=trade.fees,
            funding=trade.funding,
            net_pnl=trade.net_pnl,
            signal_id=trade.signal_id,
        )


class HistoryOut(Model):
    trades: list[TradeOut]
    page: int
    has_more: bool
    """Whether ``page + 1`` has trades (numbered pages stop at 50)."""
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next (older) trades, however deep; null: none are left."
    )


class SideStatsOut(Model):
    count: int
    wins: int
    pnl: Decimal


class TradeStatsOut(Model):
    count: int
    wins: int
    losses: int
    win_rate: Decimal | None
    total_pnl: Decimal
    avg_pnl: Decimal | None
    gross_profit: Decimal
    gross_loss: Decimal
    profit_factor: Decimal | None
    best: Decimal | None
    worst: Decimal | None
    fees: Decimal
    long: SideStatsOut
    short: SideStatsOut

    @classmethod
    def of(cls, stats: TradeStats) -> TradeStatsOut:
        return cls.model_validate(stats, from_attributes=True)


class StatsOut(Model):
    period: str
    since: int | None
    until: int
    strategy: str | None
    overall: TradeStatsOut
    by_strategy: dict[str, TradeStatsOut]
    by_target: dict[str, TradeStatsOut]

    @classmethod
    def of(cls, report: StatsReport) -> StatsOut:
        return cls(
            period=report.period.value,
            since=report.since,
            until=report.until,
            strategy=report.strategy,
            overall=TradeStatsOut.of(report.overall),
            by_strategy={name: TradeStatsOut.of(stats) for name, stats in report.by_strategy.items()},
            by_target={str(target): TradeStatsOut.of(stats) for target, stats in report.by_target.items()},
        )


class EquityPointOut(Model):
    at: int
    equity: Decimal
    wallet: Decimal
    unrealized_pnl: Decimal
    targets: int
    """How many targets' accounts make up the point."""


class EquityCurveOut(Model):
    period: str
    target: str | None
    """The target asked for; null: every target added up."""
    since: int | None
    """Where the curve starts: the period's start or the first snapshot, whichever is later; null: no snapshots."""
    until: int
    step_ms: int
    interval_ms: int
    """How often equity is recorded: a new account's first point appears within one interval."""
    asset: str | None
    """The asset of every point; null when there are none or the targets hold different assets."""
    points: list[EquityPointOut]

    @classmethod
    def of(cls, curve: EquityCurve) -> EquityCurveOut:
        return cls(
            period=curve.period.value,
            target=None if curve.target is None else str(curve.target),
            since=curve.since,
            until=curve.until,
            step_ms=curve.step_ms,
            interval_ms=curve.interval_ms,
            asset=curve.asset,
            points=[EquityPointOut.model_validate(point, from_attributes=True) for point in curve.points],
        )
