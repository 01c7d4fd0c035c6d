"""End to end over HTTP: the monitor manages a position through the real Bybit adapter (ccxt) on the simulator,
whose mark price the test moves through its admin API."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from decimal import Decimal as D
from typing import Any

import aiohttp
import pytest
from position_builders import DEMO, Events, long_signal, monitor, new_user, open_tracked, store_settings
from pydantic import SecretStr

from elcaro.core.clock import now_ms
from elcaro.core.events import EventBus
from elcaro.core.secrets import Keyring, generate_key
from elcaro.exchanges.simulator import (
    AccountConfig,
    RateLimitConfig,
    RunningSimulator,
    SimulatorConfig,
    start_simulator,
)
from elcaro.models import ExchangeKeys, ExitReason, Secret
from elcaro.models.events import EventKind, TradingEvent
from elcaro.services.credentials import CredentialService
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.paper_venue import PaperVenue
from elcaro.services.statistics import StatisticsService
from elcaro.storage import Database

pytestmark = pytest.mark.db

BTC = "BTC/USDT:USDT"


class Admin:
    """The simulator's admin API: the market moves when the test says so."""

    def __init__(self, simulator: RunningSimulator, session: aiohttp.ClientSession) -> None:
        self._url = f"{simulator.url}/sim/admin"
        self._headers = {"Authorization": f"Bearer {simulator.admin_token}"}
        self._session = session

    async def mark(self, price: str) -> Any:
        body = {"symbol": "BTCUSDT", "price": price}  # Bybit ids on the admin API
        async with self._session.post(f"{self._url}/mark", json=body, headers=self._headers) as response:
            assert response.status == 200, await response.text()
            return await response.json()


@pytest.fixture
async def simulated(database: Database) -> AsyncIterator[tuple[RunningSimulator, AccountConfig]]:
    account = AccountConfig(api_key=secrets.token_hex(9), api_secret=SecretStr(secrets.token_hex(18)))
    simulator = await start_simulator(SimulatorConfig(accounts=(account,), rate_limits=RateLimitConfig(enabled=False)))
    yield simulator, account
    await simulator.stop()


async def test_a_long_on_the_bybit_simulator_from_entry_to_trailing_stop(
    database: Database, simulated: tuple[RunningSimulator, AccountConfig]
) -> None:
    simulator, account = simulated
    user = await new_user(database, 21)
    credentials = CredentialService(database, Keyring([generate_key()]))
    keys = ExchangeKeys(api_key=Secret(account.api_key), api_secret=Secret(account.api_secret.get_secret_value()))
    await credentials.save(user, DEMO, keys)
    venue = PaperVenue(database, simulator.engine, "simulator", snapshot=simulator.snapshot)
    access = ExchangeAccess(credentials, venue, base_urls={DEMO: simulator.url})
    bus: EventBus[TradingEvent] = EventBus()
    events = Events(bus.subscribe())
    try:
        async with aiohttp.ClientSession() as session:
            admin = Admin(simulator, session)
            settings = await store_settings(database, user, break_even_after_tp=1, trailing_type="moving_target")
            client = await access.client(user, DEMO)
            signal = long_signal(targets=("61000", "62000", "63000"), stop="59000", entry="60000")
            position_id, plan = await open_tracked(
                database, client, user, DEMO, signal=signal, settings=settings, now=now_ms()
            )
            assert plan.qty == D("0.1")
            watcher = monitor(database, access, bus, now_ms)
            await watcher.rescan()

            async def venue_stop() -> D | None:
                positions = await client.fetch_positions([BTC])
                return positions[0].stop_loss if positions else None

            await watcher.sync()
            assert await venue_stop() == D(59000)
            targets = sorted((o.price, o.qty) for o in await client.fetch_open_orders(BTC) if o.reduce_only)
            assert targets == [(D(61000), D("0.033")), (D(62000), D("0.033")), (D(63000), D("0.034"))]

            await admin.mark("61000")
            await watcher.sync()
            assert await venue_stop() == D(60000)

            await admin.mark("62000")
            await watcher.sync()
            assert await venue_stop() == D(61000)

            await admin.mark("60900")
            await watcher.sync()
            assert await client.fetch_positions([BTC]) == []
            assert await client.fetch_open_orders(BTC) == []
            assert watcher.position_ids == set()
    finally:
        await access.close()
        venue.close()

    async with database.transaction() as tx:
        trades = sorted(await tx.trades.list_for_user(user), key=lambda t: (t.closed_at, t.id or 0))
        row = await tx.positions.get(position_id)
    # Entry fee 3.3 (0.1 × 60 000 × 0.055 %) is shared by the parts; targets pay 0.02 % as makers, the stop 0.055 %.
    assert [(t.exit_reason, t.qty, t.exit_price, t.fees, t.net_pnl) for t in trades] == [
        (ExitReason.TAKE_PROFIT, D("0.033"), D(61000), D("1.4916"), D("31.5084")),
        (ExitReason.TAKE_PROFIT, D("0.033"), D(62000), D("1.4982"), D("64.5018")),
        (ExitReason.TRAILING_STOP, D("0.034"), D(60900), D("2.26083"), D("28.33917")),
    ]
    assert row is not None and row.closed_at is not None and row.realized_pnl == D("124.34937")
    assert await events.kinds() == [
        EventKind.ENTRY_FILLED,
        EventKind.TAKE_PROFIT,
        EventKind.BREAK_EVEN,
        EventKind.TAKE_PROFIT,
        EventKind.STOP_MOVED,
        EventKind.POSITION_CLOSED,
    ]
    report = await StatisticsService(database).report(user)
    assert (report.overall.count, report.overall.win_rate, report.overall.total_pnl) == (1, D(100), D("124.34937"))
    assert report.overall.fees == D("5.25063") and report.by_target[DEMO].long.pnl == D("124.34937")
