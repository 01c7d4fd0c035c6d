"""End to end over HTTP: the fan-out through ExchangeAccess, the unified client, our Bybit adapter and ccxt to the
Bybit-compatible simulator, with each user's stored (encrypted) demo keys."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from decimal import Decimal as D

import pytest
from copy_world import BTC, DEMO, ScriptedVenue, World, make_signal, plan_of
from pydantic import SecretStr

from elcaro.core.secrets import Keyring, generate_key
from elcaro.exchanges.simulator import AccountConfig, RunningSimulator, SimulatorConfig, start_simulator
from elcaro.models import ExchangeKeys, OrderStatus, OrderType, Secret
from elcaro.models.events import EventKind
from elcaro.services.credentials import CredentialService
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.storage import Database, ExecutionStatus

pytestmark = pytest.mark.db


def _account(balance: str) -> AccountConfig:
    return AccountConfig(api_key=secrets.token_hex(9), api_secret=SecretStr(secrets.token_hex(18)), balance=D(balance))


ACCOUNTS = {"steady": _account("10000"), "bold": _account("4000"), "short_of_margin": _account("960.2")}


@pytest.fixture
async def simulator() -> AsyncIterator[RunningSimulator]:
    running = await start_simulator(SimulatorConfig(accounts=tuple(ACCOUNTS.values())))
    yield running
    await running.stop()


@pytest.fixture
async def http_world(database: Database, simulator: RunningSimulator) -> AsyncIterator[World]:
    venue = ScriptedVenue(database, simulator.engine, "simulator", snapshot=simulator.snapshot)
    credentials = CredentialService(database, Keyring([generate_key()]))
    access = ExchangeAccess(credentials, venue, base_urls={DEMO: simulator.url})
    yield World(database, venue, credentials, access)
    await access.close()
    venue.close()


async def test_one_signal_on_the_simulator_sizes_places_and_protects_each_users_entry(
    http_world: World, simulator: RunningSimulator
) -> None:
    world = http_world
    users = {
        "steady": await world.user({"risk_pct": "1", "leverage": 5}, targets=(DEMO,), deposit=None),
        "bold": await world.user({"risk_pct": "2", "leverage": 20}, targets=(DEMO,), deposit=None),
        "short_of_margin": await world.user({"risk_pct": "10", "leverage": 1}, targets=(DEMO,), deposit=None),
        "keyless": await world.user(targets=(DEMO,), deposit=None),
    }
    for name, account in ACCOUNTS.items():
        keys = ExchangeKeys(api_key=Secret(account.api_key), api_secret=Secret(account.api_secret.get_secret_value()))
        await world.credentials.save(users[name], DEMO, keys)
    async with world.database.transaction() as tx:
        signal = await tx.signals.add(make_signal(stop_loss=D(59400)))  # 1 % below the simulator's 60 000
    assert signal.id is not None

    await world.service().fan_out(signal)

    records = await world.executions(signal.id, DEMO)
    engine = simulator.engine
    for name, qty, leverage in (("steady", D("0.166"), 5), ("bold", D("0.133"), 20)):
        record, account_id = records[users[name]], ACCOUNTS[name].account_id
        assert record.status is ExecutionStatus.FILLED and record.position_id is not None
        [order] = engine.orders(account_id)
        assert order.client_order_id == plan_of(record).entries[0].client_order_id
        assert (order.type, order.qty, order.status, order.stop_loss) == (
            OrderType.MARKET,
            qty,  # 10 000 × 1 % ÷ 600 and 4 000 × 2 % ÷ 600, rounded down to 0.001
            OrderStatus.FILLED,
            D(59400),
        )
        position = engine.position(account_id, BTC.symbol)
        assert position is not None and (position.qty, position.stop_loss) == (qty, D(59400))
        assert engine.leverage(account_id, BTC.symbol) == leverage
    refused = records[users["short_of_margin"]]
    assert (refused.status, refused.reason_code) == (ExecutionStatus.FAILED, "InsufficientFundsError")
    assert engine.orders(ACCOUNTS["short_of_margin"].account_id) == []
    assert records[users["keyless"]].reason_code == "no_credentials"
    kinds = {event.user_id: event.kind for event in world.events()}
    assert kinds == {
        users["steady"]: EventKind.ENTRY_PLACED,
        users["bold"]: EventKind.ENTRY_PLACED,
        users["short_of_margin"]: EventKind.ENTRY_FAILED,
        users["keyless"]: EventKind.ENTRY_SKIPPED,
    }
