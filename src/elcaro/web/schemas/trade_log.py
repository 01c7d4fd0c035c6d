"""The trade log's filter choices, and the PnL history (net PnL per day, week or month of a period)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from elcaro.models.trade_query import TradeChoices
from elcaro.services.statistics import PnlHistory
from elcaro.web.schemas.common import Model


class HistoryChoicesOut(Model):
    """The values the caller's trades hold, to offer as the history's filters."""

    symbols: list[str]
    strategies: list[str] = Field(description="`manual` stands for trades of no strategy too.")
    targets: list[str]
    exit_reasons: list[str]

    @classmethod
    def of(cls, choices: TradeChoices) -> HistoryChoicesOut:
        return cls(
            symbols=list(choices.symbols),
            strategies=list(choices.strategies),
            targets=[str(target) for target in choices.targets],
            exit_reasons=[reason.value for reason in choices.exit_reasons],
        )


class PnlPointOut(Model):
    start: int = Field(description="Where the bucket begins (epoch ms, UTC).")
    pnl: Decimal = Field(description="Net PnL (after fees and funding) of the trades closed in the bucket.")
    cumulative: Decimal = Field(description="Net PnL of the period up to the end of the bucket.")
    trades: int = Field(description="Trades closed in the bucket (a partial take-profit counts on its own).")


class PnlHistoryOut(Model):
    period: str
    bucket: str
    since: int | None
    until: int
    strategy: str | None
    points: list[PnlPointOut] = Field(description="Oldest first; a bucket with no closed trade is left out.")

    @classmethod
    def of(cls, history: PnlHistory) -> PnlHistoryOut:
        return cls(
            period=history.period.value,
            bucket=history.bucket.value,
            since=history.since,
            until=history.until,
            strategy=history.strategy,
            points=[PnlPointOut.model_validate(point, from_attributes=True) for point in history.points],
        )
