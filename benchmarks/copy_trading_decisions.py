"""CPU cost of copy trading's pure decisions for one signal fanned out to N users.

The fan-out goal is one signal to 1,000 users, every entry and its stop and targets acknowledged
within 1.0 s; this prints how much of that budget the decisions alone take per user: resolving the
user's stored settings, the gates, and the entry plan (sizes, rounding, client ids). It compares,
in the same run, resolving settings per signal against settings resolved once and reused (what a
service can cache until the user changes them), and prints the position manager's cost per price
update for scale.

    .venv/bin/python benchmarks/copy_trading_decisions.py [--users N] [--repeats R]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from decimal import Decimal

from elcaro.models import (
    Entry,
    EntryKind,
    Environment,
    Exchange,
    Fill,
    Instrument,
    PositionSide,
    Side,
    Signal,
    SignalSource,
    SourceKind,
    TakeProfit,
    Target,
    UserSettings,
)
from elcaro.models.user import SettingsKey, SettingsScope
from elcaro.trading import (
    EntryPlan,
    GateSnapshot,
    PriceUpdate,
    TradingSettings,
    build_plan,
    check_gates,
    open_position,
    resolve_for,
    step,
)

D = Decimal
TARGET = Target(Exchange.BYBIT, Environment.DEMO)
AVAX = Instrument(
    "AVAX/USDT:USDT", "AVAX", "USDT", "USDT", D("0.01"), D("0.1"), D("0.1"), min_notional=D(5), max_leverage=D(50)
)
SIGNAL = Signal(
    source=SignalSource(SourceKind.CHANNEL, "-100123"),
    strategy="fibonacci",
    symbol=AVAX.symbol,
    side=PositionSide.LONG,
    entry=Entry(EntryKind.ZONE, (D("27.10"), D("27.85"))),
    take_profits=(TakeProfit(D("29.40")), TakeProfit(D("31.05"))),
    stop_loss=D("25.90"),
    quality="B",
    id=1,
)
SNAPSHOT = GateSnapshot(
    now=0,
    global_paused=False,
    user_paused=False,
    user_may_trade=True,
    has_credentials=True,
    live_opted_in=False,
    open_positions=1,
    position_symbols=frozenset({"BTC/USDT:USDT"}),
    open_order_symbols=frozenset(),
    last_closed_at={},
    day_start_equity=D(1000),
    loss_today=D(0),
)


def stored_settings(user_id: int) -> list[UserSettings]:
    """Three levels per user, varied so that no two users size alike."""
    return [
        UserSettings(user_id, SettingsKey(SettingsScope.GLOBAL), {"risk_pct": str(D(user_id % 9 + 1) / 4)}),
        UserSettings(user_id, SettingsKey(SettingsScope.EXCHANGE, exchange=Exchange.BYBIT), {"leverage": 10}),
        UserSettings(
            user_id,
            SettingsKey(SettingsScope.STRATEGY, strategy="fibonacci"),
            {"enabled": True, "entry_distribution": "front_loaded", "min_quality": "C", "daily_loss_limit_pct": 5},
        ),
    ]


def decide(user_id: int, settings: TradingSettings) -> EntryPlan | None:
    if check_gates(SIGNAL, settings, TARGET, user_id, SNAPSHOT):
        return None
    equity = D(500 + user_id)
    plan = build_plan(
        SIGNAL, settings, AVAX, target=TARGET, user_id=user_id, equity=equity, free_margin=equity, price=D("28.5")
    )
    return plan if isinstance(plan, EntryPlan) else None


def median_ms(run: Callable[[], object], repeats: int) -> float:
    gc.collect()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        run()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000, help="users the signal fans out to (default 1000)")
    parser.add_argument("--repeats", type=int, default=7, help="runs of each variant (default 7)")
    args = parser.parse_args()
    users = range(1, args.users + 1)
    stored = {user: stored_settings(user) for user in users}

    def resolved(user: int) -> TradingSettings:
        return resolve_for(stored[user], strategy="fibonacci", side=PositionSide.LONG, exchange=Exchange.BYBIT)

    cached = {user: resolved(user) for user in users}
    planned = sum(decide(user, cached[user]) is not None for user in users)
    if planned != args.users:
        raise SystemExit(f"only {planned} of {args.users} users got a plan: the benchmark is not measuring plans")

    per_signal = median_ms(lambda: [decide(user, resolved(user)) for user in users], args.repeats)
    with_cache = median_ms(lambda: [decide(user, cached[user]) for user in users], args.repeats)

    plan = decide(1, cached[1])
    assert plan is not None
    entry = plan.entries[0]
    first_fill = Fill("t1", entry.client_order_id, AVAX.symbol, Side.BUY, entry.qty, D("27.85"), D(0), "USDT", False, 0)
    state = step(open_position(plan, AVAX), first_fill, cached[1]).state
    updates = [PriceUpdate(D("27.85") + D(i) / 100, i, atr=D("0.3")) for i in range(1000)]
    manage = median_ms(lambda: [step(state, update, cached[1]) for update in updates], args.repeats)

    print(f"one signal, {args.users} users (resolve settings, gates, entry plan), median of {args.repeats} runs:")
    print(f"  settings resolved per signal   {per_signal:8.1f} ms  ({per_signal / args.users * 1000:6.1f} µs a user)")
    print(f"  settings resolved once, reused {with_cache:8.1f} ms  ({with_cache / args.users * 1000:6.1f} µs a user)")
    share = with_cache / 10
    print(f"  caching saves {per_signal / with_cache:.1f}×; decisions take {share:.1f}% of the 1.0 s fan-out goal")
    print(f"position manager: {manage:.1f} ms for 1,000 price updates ({manage:.1f} µs each)")


if __name__ == "__main__":
    main()
