"""Live mode end to end: the engine on a real target's code path — ExchangeAccess with the operator's stored keys,
the unified client, our Bybit adapter, ccxt and HTTP — against the Bybit-compatible simulator."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal

import pytest
from engine_world import BTC, btc_candles, replay_preset
from pydantic import SecretStr

from elcaro.core.clock import now_ms
from elcaro.core.secrets import Keyring, generate_key
from elcaro.engine import EngineState
from elcaro.exchanges.client import ExchangeClient
from elcaro.exchanges.simulator import AccountConfig, NoPrices, RunningSimulator, SimulatorConfig, start_simulator
from elcaro.models import ExchangeKeys, OrderType, Secret, Target, TelegramProfile
from elcaro.services.credentials import CredentialService
from elcaro.services.engine import EngineConfig, EngineMode, EngineService, TradeLog, WallClockBars
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.paper_venue import PaperVenue
from elcaro.services.users import UserService
from elcaro.storage import Database

pytestmark = pytest.mark.db

DEMO = Target.parse("bybit:demo")
ACCOUNT = AccountConfig(api_key=secrets.token_hex(9), api_secret=SecretStr(secrets.token_hex(18)))
SIGNAL_BAR = 422
"""A bar of the BTC/USDT recording where the liquid preset gives a momentum signal (the replay tests find it)."""
BAR_MS = 300_000


@pytest.fixture
async def simulator() -> AsyncIterator[RunningSimulator]:
    running = await start_simulator(SimulatorConfig(accounts=(ACCOUNT,), prices=NoPrices()))
    yield running
    await running.stop()


async def test_live_mode_enters_protects_and_kills_over_http(database: Database, simulator: RunningSimulator) -> None:
    # The recorded candles up to the signal bar, moved in time so that the signal bar is the last one closed.
    recorded = btc_candles()[: SIGNAL_BAR + 1]
    shift = (now_ms() // BAR_MS - 1) * BAR_MS - recorded[-1].timestamp
    for candle in recorded:
        moved = replace(candle, timestamp=candle.timestamp + shift)
        simulator.engine.apply_candle(BTC.symbol, moved, timeframe="5m")
        simulator.venue.candled(BTC.symbol, moved)

    venue = PaperVenue(database, simulator.engine, "simulator", snapshot=simulator.snapshot)
    credentials = CredentialService(database, Keyring([generate_key()]))
    access = ExchangeAccess(credentials, venue, base_urls={DEMO: simulator.url})
    operator = await UserService(database).register(TelegramProfile(31337, username="operator"))
    keys = ExchangeKeys(api_key=Secret(ACCOUNT.api_key), api_secret=Secret(ACCOUNT.api_secret.get_secret_value()))
    await credentials.save(operator.id, DEMO, keys)
    config = EngineConfig(
        user_id=operator.id, mode=EngineMode.LIVE, target=DEMO, allow_live=True, universe=(BTC.symbol,)
    )

    async def client() -> ExchangeClient:
        return await access.client(operator.id, DEMO)

    engine = EngineService(
        config,
        client,
        pacer=WallClockBars("5m"),
        trade_log=TradeLog(database, operator.id, DEMO),
        preset=replay_preset(),
    )
    try:
        engine.command("start", "operator")
        await engine.settle()
        assert engine.state is EngineState.MANAGING, engine.status().faults
        (view,) = engine.status().positions
        account = ACCOUNT.account_id
        (position,) = simulator.engine.positions(account)
        assert (position.side, position.qty) == (view.side, view.remaining)
        orders = {o.type: o for o in simulator.engine.open_orders(account)}
        stop = orders[OrderType.STOP_MARKET]
        assert (stop.trigger_price, stop.qty, stop.reduce_only) == (view.stop, view.remaining, True)
        assert orders[OrderType.LIMIT].reduce_only  # a take-profit resting on the venue

        engine.command("kill_switch", "operator")
        await engine.settle()
        assert engine.state is EngineState.STOPPED
        assert simulator.engine.positions(account) == [] and simulator.engine.open_orders(account) == []
        async with database.transaction() as tx:
            (trade,) = await tx.trades.list_for_user(operator.id)
        assert (trade.strategy, trade.target, trade.qty) == ("elcaro", DEMO, view.qty)
        assert trade.exit_reason.value == "kill_switch" and trade.exit_price > Decimal(0)
    finally:
        await engine.close()
        await access.close()
        venue.close()
