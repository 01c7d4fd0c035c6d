"""Copy trading asks the stored licences: a licence lets a user in, an expired one stops new entries only."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from copy_world import BTC, ETH, PAPER, STRATEGY, World

from elcaro.models import TakeProfit
from elcaro.models.licence import LicenceTier
from elcaro.models.timeframe import DAY_MS
from elcaro.services.licences import LicenceConfig, LicenceService
from elcaro.storage import ExecutionStatus
from elcaro.trading.gates import GateCode
from elcaro.trading.licence import LicenceRules, PriceList

pytestmark = pytest.mark.db

ELC = 100_000_000
PRICES = PriceList({LicenceTier.BASIC: 25 * ELC, LicenceTier.PREMIUM: 50 * ELC, LicenceTier.ENTERPRISE: 250 * ELC})


def stored_licences(world: World) -> LicenceService:
    """Basic covers the test's strategy on Bybit; paper is not free here, so the paper venue is licensed too."""
    rules = LicenceRules(basic_strategies=frozenset({STRATEGY}), paper_free=False)
    return LicenceService(world.database, LicenceConfig(rules, PRICES), clock=world.clock)


async def test_licensed_users_are_served_and_the_rest_skipped_with_the_reason(world: World) -> None:
    licences = stored_licences(world)
    licensed, unlicensed, admin = await world.user(), await world.user(), await world.user()
    await licences.grant(None, licensed, "basic", 30, "test")
    async with world.database.transaction() as tx:
        await tx.users.update(admin, role="admin")

    signal = await world.signal()
    await world.service(licences).fan_out(signal)  # type: ignore[arg-type]
    assert signal.id is not None
    records = await world.executions(signal.id)
    assert records[licensed].status is ExecutionStatus.FILLED
    assert records[admin].status is ExecutionStatus.FILLED
    refused = records[unlicensed]
    assert (refused.status, refused.reason_code) == (ExecutionStatus.SKIPPED, GateCode.LICENCE)
    assert refused.reason == "no licence: start the trial or buy a licence to copy signals"

    fibonacci = await world.signal(strategy="fibonacci", symbol=ETH.symbol, **_eth())
    assert fibonacci.id is not None
    await world.service(licences).fan_out(fibonacci)  # type: ignore[arg-type]
    assert (await world.executions(fibonacci.id))[licensed].reason == (
        "the basic licence does not cover strategy fibonacci; it needs premium"
    )


async def test_an_expired_licence_stops_new_entries_and_leaves_the_open_position_alone(world: World) -> None:
    licences = stored_licences(world)
    user = await world.user()
    await licences.grant(None, user, "basic", 30, "test")
    first = await world.signal()
    await world.service(licences).fan_out(first)  # type: ignore[arg-type]
    assert first.id is not None and (await world.executions(first.id))[user].status is ExecutionStatus.FILLED
    adapter = world.venue.adapter(world.account(user))
    positions_before = await adapter.fetch_positions()
    orders_before = await adapter.fetch_open_orders()
    assert [(p.symbol, p.stop_loss) for p in positions_before] == [(BTC.symbol, D(58800))]

    world.clock.now += 30 * DAY_MS
    second = await world.signal(symbol=ETH.symbol, received_at=world.clock.now, **_eth())
    await world.service(licences).fan_out(second)  # type: ignore[arg-type]
    assert second.id is not None
    refused = (await world.executions(second.id))[user]
    assert (refused.status, refused.reason_code) == (ExecutionStatus.SKIPPED, GateCode.LICENCE)
    assert (
        refused.reason == "the basic licence expired; renew it to take new entries (open positions are still managed)"
    )

    # The refusal reached the gate only: the open position, its stop and any resting orders are as they were.
    assert await adapter.fetch_positions() == positions_before
    assert await adapter.fetch_open_orders() == orders_before
    async with world.database.transaction() as tx:
        assert [p.symbol for p in await tx.positions.list_open(user, PAPER)] == [BTC.symbol]


def _eth() -> dict[str, object]:
    return {"stop_loss": D(2940), "take_profits": (TakeProfit(D(3060)), TakeProfit(D(3120))), "raw_text": "ETH long"}
