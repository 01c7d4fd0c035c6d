"""The funding a closed position paid or received, read from the venue's closed-PnL records.

A venue books funding on the position while it is open and hands each reducing execution its share in the
closed-PnL record of that execution (the last one takes what is left), so the records of the executions that
closed a position add up to the funding of its whole life. The monitor reads them once, when the position is
over, and books the total on the part that closed it.

Which adapters report it: the paper exchange (``*:paper`` targets) does. The ccxt adapters do not yet — Bybit's
closed-PnL row carries funding only inside ``closedPnl`` (net of fees and funding), which the Bybit adapter does
not split out, and the Binance and HyperLiquid adapters build their records from fills — so on those targets
funding is recorded as zero and the position's PnL says it leaves funding out (``Ledger.funding_reported``).
"""

from __future__ import annotations

from decimal import Decimal

from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import ZERO, Environment, Target
from elcaro.trading import PositionState


def reports_funding(target: Target) -> bool:
    """Whether the adapter of ``target`` reports funding in its closed-PnL records."""
    return target.environment is Environment.PAPER


async def funding_over_life(client: ExchangeAdapter, state: PositionState, last_fill_at: int | None) -> Decimal:
    """Funding received (positive) or paid (negative) by the position from its first fill to its last, by the
    venue's clock (both come from the venue's own fills, so no record of a position before or after it counts)."""
    opened = state.opened_at
    if opened is None or last_fill_at is None:
        return ZERO
    records = await client.fetch_closed_pnl(state.instrument.symbol, since=opened)
    return sum(
        (r.funding for r in records if r.side is state.side and opened <= r.closed_at <= last_fill_at),
        ZERO,
    )
