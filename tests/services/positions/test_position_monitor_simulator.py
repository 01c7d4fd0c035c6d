"""End to end over HTTP: the monitor manages a position through the real Bybit adapter (ccxt) on the simulator,
whose mark price the test moves through its admin API."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import aiohttp
import pytest
from position_builders import DEMO, Events, OnSimulator, long_signal, watched_position

from elcaro.core.clock import now_ms
from elcaro.core.events import EventBus
from elcaro.exchanges.simulator import RunningSimulator
from elcaro.models import ExitReason
from elcaro.models.events import EventKind, TradingEvent
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


async def test_a_long_on_the_bybit_simulator_from_entry_to_trailing_stop(
    database: Database, on_simulator: OnSimulator, bus: EventBus[TradingEvent], events: Events
) -> None:
    user = on_simulator.user
    async with aiohttp.ClientSession() as session:
        admin = Admin(on_simulator.simulator, session)
        signal = long_signal(targets=("61000", "62000", "63000"), stop="59000", entry="60000")
        watched = await watched_position(
            database,
            on_simulator.access,
            bus,
            now_ms,
            user,
            target=DEMO,
            signal=signal,
            break_even_after_tp=1,
            trailing_type="moving_target",
        )
        client, watcher, position_id = watched.client, watched.watcher, watched.position_id
        assert watched.plan.qty == D("0.1")

        async def venue_stop() -> D | None:
            positions = await client.fetch_positions([BTC])
            return positions[0].stop_loss if positions else None

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
