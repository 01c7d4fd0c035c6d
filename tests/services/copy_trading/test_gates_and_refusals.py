"""Every gate, plan refusal and missing key ends in a stored skip reason and a notice; non-subscribers get nothing."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from copy_world import BTC, DEMO, ETH, LIVE, PAPER, STRATEGY, T0, World

from elcaro.models import (
    ExitReason,
    Order,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    SettingsKey,
    SettingsScope,
    Side,
    TakeProfit,
    Target,
    Trade,
)
from elcaro.models.events import EventKind
from elcaro.services.copy_trading import GLOBAL_PAUSE_FLAG, CopyCode
from elcaro.storage import ExecutionStatus
from elcaro.trading import Decision

pytestmark = pytest.mark.db

MINUTE = 60_000


class DeniesOne:
    def __init__(self) -> None:
        self.denied: int | None = None

    def allows(self, user_id: int, strategy: str, target: Target) -> Decision:
        if user_id == self.denied:
            return Decision(False, f"{strategy} needs the Pro licence")
        return Decision(True)


def _trade(user_id: int, symbol: str, pnl: D, closed_at: int) -> Trade:
    """A closed long of 1 contract with net PnL ``pnl``."""
    return Trade(
        PAPER,
        symbol,
        PositionSide.LONG,
        D(1),
        D(3000),
        D(3000) + pnl,
        closed_at - 60 * MINUTE,
        closed_at,
        ExitReason.STOP_LOSS,
        strategy=STRATEGY,
        user_id=user_id,
    )


def _open_position(user_id: int, symbol: str) -> Position:
    return Position(symbol, PositionSide.LONG, D(1), D(3000), target=PAPER, user_id=user_id, opened_at=T0)


async def test_each_gate_records_its_own_reason(world: World) -> None:
    users = {
        "user_pause": await world.user(),
        "direction": await world.user({"direction": "short"}),
        "blacklisted": await world.user({"blacklist": ["BTC"]}),
        "not_in_coin_group": await world.user({"coin_group": ["ETH", "SOL"]}),
        "below_min_quality": await world.user({"min_quality": "B"}),
        "licence": await world.user(),
        "daily_loss_limit": await world.user({"daily_loss_limit_pct": "2"}),
        "in_position": await world.user(),
        "open_orders": await world.user(),
        "max_positions": await world.user({"max_open_positions": 1}),
        "cooldown": await world.user({"cooldown_minutes": 30}),
        "below_min_qty": await world.user({"risk_pct": "0.01"}, deposit=D(50)),
        CopyCode.INVALID_SETTINGS: await world.user(
            {"break_even_at_pct": "1"},
            levels={SettingsKey(SettingsScope.STRATEGY, strategy=STRATEGY): {"break_even_offset_pct": "2"}},
        ),
    }
    passes = await world.user()
    await world.user({"enabled": False})  # not subscribed: no record at all
    await world.user(approved=False)  # may not trade: not even selected
    licence = DeniesOne()
    licence.denied = users["licence"]
    async with world.database.transaction() as tx:
        await tx.users.set_trading_paused(users["user_pause"], True)
        # Lost 250 today on 10 000: more than 2 % of the 10 250 the day started with.
        await tx.trades.add(_trade(users["daily_loss_limit"], ETH.symbol, D(-250), T0 - 30 * MINUTE))
        await tx.positions.add(_open_position(users["in_position"], BTC.symbol))
        resting = Order("0x" + "1" * 32, BTC.symbol, Side.BUY, OrderType.LIMIT, D("0.01"), price=D(50000))
        await tx.orders.save(users["open_orders"], PAPER, resting.with_update(status=OrderStatus.OPEN))
        await tx.positions.add(_open_position(users["max_positions"], ETH.symbol))
        await tx.trades.add(_trade(users["cooldown"], BTC.symbol, D(10), T0 - 10 * MINUTE))
    signal = await world.signal(quality="C")
    assert signal.id is not None

    report = await world.service(licence).fan_out(signal)

    records = await world.executions(signal.id)
    assert records.keys() == {*users.values(), passes}
    assert records[passes].status is ExecutionStatus.FILLED
    for code, user_id in users.items():
        record = records[user_id]
        assert (record.status, record.reason_code) == (ExecutionStatus.SKIPPED, code), code
        assert record.reason and record.plan == {} and record.position_id is None
    skipped = {event.user_id: event.code for event in world.events(EventKind.ENTRY_SKIPPED)}
    assert skipped == {user_id: code for code, user_id in users.items()}
    assert "Pro licence" in (records[users["licence"]].reason or "")
    assert len(report.outcomes) == len(users) + 1
    for user_id in users.values():
        assert world.venue.engine.orders(world.account(user_id)) == []


async def test_targets_need_keys_and_live_money_needs_an_opt_in(world: World) -> None:
    no_keys = await world.user(targets=(DEMO,))
    live = await world.user(targets=(LIVE,))
    both = await world.user(targets=(PAPER, DEMO))
    signal = await world.signal()
    assert signal.id is not None

    await world.service().fan_out(signal)

    demo = await world.executions(signal.id, DEMO)
    assert (demo[no_keys].status, demo[no_keys].reason_code) == (ExecutionStatus.SKIPPED, "no_credentials")
    assert "no API keys for bybit:demo" in (demo[no_keys].reason or "")
    assert (demo[both].reason_code, (await world.executions(signal.id))[both].status) == (
        "no_credentials",
        ExecutionStatus.FILLED,  # each target on its own: the paper account trades regardless
    )
    live_record = (await world.executions(signal.id, LIVE))[live]
    assert live_record.reason_code == "live_not_opted_in"


async def test_a_global_pause_skips_everyone_without_a_request_to_any_venue(world: World) -> None:
    users = [await world.user(), await world.user(targets=(DEMO,))]
    async with world.database.transaction() as tx:
        await tx.system_flags.set(GLOBAL_PAUSE_FLAG, True, now=T0)
    signal = await world.signal()
    assert signal.id is not None

    await world.service().fan_out(signal)

    for target in (PAPER, DEMO):
        for record in (await world.executions(signal.id, target)).values():
            assert (record.status, record.reason_code) == (ExecutionStatus.SKIPPED, "global_pause")
    assert len(world.access.pool) == 0
    assert {event.user_id for event in world.events(EventKind.ENTRY_SKIPPED)} == set(users)


async def test_a_symbol_the_venue_does_not_list_is_skipped(world: World) -> None:
    user_id = await world.user()
    take_profits = (TakeProfit(D(160)),)
    signal = await world.signal(symbol="SOL/USDT:USDT", stop_loss=D(140), take_profits=take_profits)
    assert signal.id is not None

    await world.service().fan_out(signal)

    record = (await world.executions(signal.id))[user_id]
    assert (record.status, record.reason_code) == (ExecutionStatus.SKIPPED, CopyCode.UNKNOWN_SYMBOL)
    assert "SOL/USDT:USDT" in (record.reason or "")
