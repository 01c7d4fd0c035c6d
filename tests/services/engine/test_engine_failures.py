"""The error policy and the circuit breakers on a paper account whose calls fail on demand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from engine_world import BTC, make_world, replay_preset

from elcaro.engine import Backoff, BreakerSettings, BreakerState, Disposition, EngineState
from elcaro.models import Order, OrderType, Side, make_client_order_id
from elcaro.models.errors import AuthenticationError, NetworkError
from elcaro.services.engine import EngineService
from elcaro.storage import Database

pytestmark = pytest.mark.db

MINUTE = 60_000
BAR = 5 * MINUTE


def breaker(engine: EngineService, operation: str) -> BreakerState:
    return next(s.state for s in engine.status().breakers if s.operation == operation)


async def test_market_data_outage_retries_with_backoff_and_the_breaker_opens_then_recovers(database: Database) -> None:
    world = await make_world(database)
    faulty = world.use_faulty_account()
    engine = world.engine(
        backoff=Backoff(base_ms=MINUTE, factor=2.0, cap_ms=20 * MINUTE, max_attempts=None),
        breakers=BreakerSettings(failures=2, window_ms=60 * MINUTE, cooldown_ms=3 * BAR),
    )
    try:
        engine.command("start", "operator")
        await engine.settle()
        assert engine.state is EngineState.MANAGING
        faulty.faults["fetch_ohlcv"] = NetworkError("timed out")
        seen: list[tuple[EngineState, int, BreakerState]] = []
        for _ in range(4):
            assert await engine.next_bar()
            seen.append((engine.state, engine.machine.attempts, breaker(engine, "market_data")))
        assert all(state is EngineState.ERROR for state, _, _ in seen)
        assert [attempts for _, attempts, _ in seen] == [1, 2, 3, 4]
        assert seen[0][2] is BreakerState.CLOSED and seen[1][2] is BreakerState.OPEN
        faults = engine.status().faults
        assert {f.operation for f in faults} == {"market_data"}
        assert {f.disposition for f in faults} == {Disposition.RETRY}
        assert any(f.error == "CircuitOpenError" for f in faults)  # calls the open breaker kept from the venue
        retry_delay = engine.machine.retry_at - world.clock()  # type: ignore[operator]
        assert retry_delay == 8 * MINUTE  # the fourth failure waits base × 2³

        faulty.faults.clear()
        for _ in range(6):
            assert await engine.next_bar()
            if engine.state is EngineState.MANAGING:
                break
        assert engine.state is EngineState.MANAGING
        assert breaker(engine, "market_data") is BreakerState.CLOSED  # the half-open trial went through
        assert await engine.next_bar()
        assert engine.machine.attempts == 0  # a whole cycle went through
    finally:
        await world.close()


async def test_a_refused_key_is_an_emergency_that_flattens_and_latches(database: Database) -> None:
    world = await make_world(database)
    faulty = world.use_faulty_account()
    engine = world.engine()
    try:
        engine.command("start", "operator")
        await engine.settle()
        for _ in range(300):
            if engine.status().positions:
                break
            assert await engine.next_bar()
        assert await world.positions()
        faulty.faults["fetch_balance"] = AuthenticationError("API key revoked")
        assert await engine.next_bar()
        assert engine.state is EngineState.STOPPED
        status = engine.status()
        assert status.killed is not None and status.killed.actor == "engine"
        assert "AuthenticationError" in status.killed.cause
        assert await world.positions() == [] and await world.open_orders() == []
    finally:
        await world.close()


async def test_closing_everything_is_retried_until_the_venue_is_flat(database: Database) -> None:
    world = await make_world(database)
    faulty = world.use_faulty_account()
    engine = world.engine(backoff=Backoff(base_ms=MINUTE, cap_ms=MINUTE, max_attempts=1))
    try:
        engine.command("start", "operator")
        await engine.settle()
        for _ in range(300):
            if engine.status().positions:
                break
            assert await engine.next_bar()
        faulty.faults["fetch_positions"] = NetworkError("connection reset")
        engine.command("kill_switch", "operator")
        await engine.settle()
        assert engine.state is EngineState.EMERGENCY
        assert engine.machine.retry_at == world.clock() + MINUTE
        assert await engine.next_bar()
        assert engine.state is EngineState.EMERGENCY  # still failing: never given up (no cap on a flatten)
        assert engine.machine.retry_at is not None
        faulty.faults.clear()
        assert await engine.next_bar()
        assert engine.state is EngineState.STOPPED
        assert await world.positions() == [] and await world.open_orders() == []
    finally:
        await world.close()


async def test_the_drawdown_kill_switch_of_the_risk_book_flattens_and_latches(database: Database) -> None:
    world = await make_world(database)
    # An entry's own taker fee (0.055 % of twice the equity) is a 0.11 % drawdown: over this limit at once.
    engine = world.engine(replay_preset(**{"risk.kill_switch_drawdown_pct": 0.05}))
    try:
        engine.command("start", "operator")
        await engine.settle()
        for _ in range(300):
            if engine.status().killed is not None:
                break
            assert await engine.next_bar()
        status = engine.status()
        assert status.killed is not None and status.killed.actor == "risk"
        assert engine.state is EngineState.STOPPED
        assert any(d.code == "kill_switch_drawdown" for d in status.decisions)
        assert await world.positions() == [] and await world.open_orders() == []
        engine.command("reset", "operator")
        assert engine.status().risk is not None and not engine.status().risk.kill_switch  # re-armed with the machine
    finally:
        await world.close()


async def test_a_position_the_engine_did_not_open_is_left_alone(database: Database) -> None:
    world = await make_world(database)
    client = await world.client()
    await client.place_order(
        Order(make_client_order_id("by hand"), BTC.symbol, Side.BUY, OrderType.MARKET, Decimal("0.01"))
    )
    engine = world.engine()
    try:
        engine.command("start", "operator")
        await engine.settle()
        for _ in range(150):
            assert await engine.next_bar()
        status = engine.status()
        assert [(p.symbol, p.qty) for p in status.unmanaged] == [(BTC.symbol, Decimal("0.01"))]
        assert not any(d.code == "entered" for d in status.decisions)
        assert any(d.code == "not_engines_position" for d in status.decisions)
        (held,) = await world.positions()
        assert held.qty == Decimal("0.01")
    finally:
        await world.close()
