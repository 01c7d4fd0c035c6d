"""The facts the gates judge a user by, read from storage, completed with what only the account can tell.

Storage knows pauses, positions, orders, recent closes and today's realised PnL; only the venue knows whether
keys work and what the account holds. The gates run on the stored facts first, with the account's facts taken
as passing: that can only let through users the full check may still refuse, never refuse one it would let
through, so a refusal there is final and costs the venue no request.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from elcaro.models import ZERO, Target
from elcaro.models.timeframe import DAY_MS
from elcaro.storage import UnitOfWork
from elcaro.trading import GateSnapshot, TradingSettings


@dataclass(frozen=True, slots=True)
class StoredFacts:
    now: int
    global_paused: bool
    user_paused: bool
    user_may_trade: bool
    live_opted_in: bool
    open_positions: int
    position_symbols: frozenset[str]
    open_order_symbols: frozenset[str]
    last_closed_at: dict[str, int]
    realized_today: Decimal
    """Net PnL of trades closed on this target since 00:00 UTC (negative: a loss)."""

    def snapshot(self, *, has_credentials: bool, wallet: Decimal | None) -> GateSnapshot:
        """The gates' view; ``wallet`` None before the account was read (the daily loss gate then passes).

        Equity at the start of the day is estimated as the wallet less what was realised since: deposits,
        withdrawals and funding since midnight are not counted apart.
        """
        return GateSnapshot(
            now=self.now,
            global_paused=self.global_paused,
            user_paused=self.user_paused,
            user_may_trade=self.user_may_trade,
            has_credentials=has_credentials,
            live_opted_in=self.live_opted_in,
            open_positions=self.open_positions,
            position_symbols=self.position_symbols,
            open_order_symbols=self.open_order_symbols,
            last_closed_at=self.last_closed_at,
            day_start_equity=ZERO if wallet is None else wallet - self.realized_today,
            loss_today=-self.realized_today,
        )


async def read_facts(
    tx: UnitOfWork,
    *,
    user_id: int,
    target: Target,
    symbol: str,
    settings: TradingSettings,
    now: int,
    global_paused: bool,
    user_paused: bool,
    user_may_trade: bool,
    live_opted_in: bool,
) -> StoredFacts:
    """Two to four queries: the recent close and today's PnL are read only when a gate of ``settings`` uses them."""
    positions = await tx.positions.list_open(user_id, target)
    last_close = await tx.trades.last_close(user_id, target, symbol) if settings.cooldown_minutes else None
    realized = ZERO
    if settings.daily_loss_limit_pct is not None:
        realized = await tx.trades.realized_since(user_id, now - now % DAY_MS, target=target)
    return StoredFacts(
        now=now,
        global_paused=global_paused,
        user_paused=user_paused,
        user_may_trade=user_may_trade,
        live_opted_in=live_opted_in,
        open_positions=len(positions),
        position_symbols=frozenset(position.symbol for position in positions),
        open_order_symbols=frozenset(await tx.orders.open_symbols(user_id, target)),
        last_closed_at={} if last_close is None else {symbol: last_close},
        realized_today=realized,
    )
