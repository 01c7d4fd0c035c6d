"""Copy trading end to end: one channel post → every subscriber's orders on the exchange → the market moves → each
position is managed to its close → trades that reconcile with the exchange → statistics.

The exchange is the Bybit-compatible simulator, reached over HTTP through ccxt with each user's stored keys
(``bybit:demo``); two positions are on the in-process paper venue (``bybit:paper``) over the same engine, so one
price moves them all. The test moves the market through the simulator's admin API and drives the position
monitor pass by pass (no timers). Every expected size is computed here from the account's equity, the user's
risk and the stop distance, not read back from the code under test.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import ROUND_DOWN
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent / "copy_trading"))
from copy_world import DEMO, PAPER, FreshQuotesAccess, ScriptedVenue, World, plan_of

from elcaro.core.clock import now_ms
from elcaro.core.secrets import Keyring, generate_key
from elcaro.exchanges.simulator import (
    AccountConfig,
    FaultConfig,
    FaultRule,
    RateLimitConfig,
    RunningSimulator,
    SimulatorConfig,
    start_simulator,
)
from elcaro.models import (
    ExchangeKeys,
    ExitReason,
    Fill,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Secret,
    Side,
    Target,
    Trade,
)
from elcaro.models.events import EventKind, TradingEvent
from elcaro.models.market import Candle
from elcaro.services.copy_trading import CopyTradingService
from elcaro.services.credentials import CredentialService
from elcaro.services.exchange_access import paper_account_id
from elcaro.services.positions import MonitorConfig, PositionMonitor
from elcaro.services.signal_ingest import IngestOutcome, SignalIngestService
from elcaro.services.signal_sources import SignalSourcesService
from elcaro.services.statistics import StatisticsService
from elcaro.storage import Database, ExecutionRecord, ExecutionStatus, SignalStatus

pytestmark = [pytest.mark.db, pytest.mark.slow]

BTC = "BTC/USDT:USDT"
STEP = D("0.001")
TAKER, MAKER = D("0.00055"), D("0.0002")
CHANNEL = "-1002233445566"
POST = "BTC/USDT\nBuy 60000\nTake Profit 60600 61200 61800\nStop 59400\nLeverage 10x"
STOP = D(59400)
TARGETS = [D(60600), D(61200), D(61800)]
FIFTEEN_MINUTES = 15 * 60_000


def account(balance: str) -> AccountConfig:
    return AccountConfig(api_key=secrets.token_hex(9), api_secret=SecretStr(secrets.token_hex(18)), balance=D(balance))


# The demo accounts on the simulator. The ATR trader and the second account of the two-target trader are paper
# accounts on the platform's own venue, opened with the platform's paper deposit (10 000).
ACCOUNTS = {
    "ladder": account("10000"),
    "moving": account("5000"),
    "dca": account("10000"),
    "limit": account("10000"),
    "short_only": account("10000"),
    "two_targets": account("20000"),
    "short_of_margin": account("960.2"),
}
PAPER_DEPOSIT = D(10000)


def risk_size(equity: D, risk_pct: str, entry: D, stop: D, leverage: int) -> D:
    """Equity × risk % ÷ stop distance, capped by leverage × free margin (all of it free here), down to the step."""
    by_risk = equity * D(risk_pct) / 100 / abs(entry - stop)
    by_margin = leverage * equity / entry
    return min(by_risk, by_margin).quantize(STEP, rounding=ROUND_DOWN)


def ladder(qty: D, weights: list[int]) -> list[D]:
    """Whole steps in proportion to the weights; what rounding leaves goes to the last target."""
    units = int(qty / STEP)
    parts = [units * weight // sum(weights) for weight in weights]
    parts[-1] += units - sum(parts)
    return [part * STEP for part in parts]


class Admin:
    """The simulator's admin API: the market moves when the test says so."""

    def __init__(self, simulator: RunningSimulator, session: aiohttp.ClientSession) -> None:
        self._url = f"{simulator.url}/sim/admin"
        self._headers = {"Authorization": f"Bearer {simulator.admin_token}"}
        self._session = session

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        async with self._session.post(f"{self._url}/{path}", json=body, headers=self._headers) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def mark(self, price: int, symbol: str = "BTCUSDT") -> None:
        await self.post("mark", {"symbol": symbol, "price": str(price)})

    async def funding(self, rate: str) -> None:
        await self.post("funding", {"symbol": "BTCUSDT", "rate": rate})

    async def faults(self, config: FaultConfig) -> None:
        body = config.model_dump(mode="json")
        async with self._session.put(f"{self._url}/faults", json=body, headers=self._headers) as response:
            assert response.status == 200, await response.text()


@dataclass(frozen=True)
class Trader:
    """One subscriber's position on one target: ``account`` names its simulator keys (None: a paper account)."""

    key: str
    user_id: int
    account: str | None

    @property
    def target(self) -> Target:
        return PAPER if self.account is None else DEMO

    @property
    def account_id(self) -> str:
        return paper_account_id(self.user_id) if self.account is None else ACCOUNTS[self.account].account_id

    @property
    def deposit(self) -> D:
        return PAPER_DEPOSIT if self.account is None else ACCOUNTS[self.account].balance


@dataclass
class Journey:
    world: World
    simulator: RunningSimulator
    keyring: Keyring
    monitor: PositionMonitor
    copy: CopyTradingService

    @property
    def engine(self) -> Any:
        return self.simulator.engine

    def ingest(self) -> SignalIngestService:
        w = self.world
        return SignalIngestService(w.database, self.keyring, w.bus, self.copy.fan_out, self.copy.cancel, clock=now_ms)

    async def user(self, account: str | None, settings: dict[str, Any], *, paper: bool = False) -> int:
        """A subscriber with global ``settings``: on demo with the keys of ``account`` (when given), on paper too
        when ``paper``."""
        targets = (*((DEMO,) if account is not None else ()), *((PAPER,) if paper else ()))
        user_id = await self.world.user(settings, targets=targets, deposit=PAPER_DEPOSIT if paper else None)
        if account is not None:
            config = ACCOUNTS[account]
            keys = ExchangeKeys(api_key=Secret(config.api_key), api_secret=Secret(config.api_secret.get_secret_value()))
            await self.world.credentials.save(user_id, DEMO, keys)
        return user_id

    async def keyless(self) -> int:
        """A subscriber on demo who never stored keys for it."""
        return await self.world.user({}, targets=(DEMO,), deposit=None)

    def position(self, trader: Trader) -> Position | None:
        position: Position | None = self.engine.position(trader.account_id, BTC)
        return position

    def stop(self, trader: Trader) -> D | None:
        position = self.position(trader)
        return None if position is None else position.stop_loss

    def targets(self, trader: Trader) -> list[tuple[D, D]]:
        return sorted((o.price, o.qty) for o in self.engine.open_orders(trader.account_id) if o.reduce_only)

    async def settle(self) -> None:
        """One round of the monitor: fills in, prices in, and once more for what the price rules sent."""
        await self.monitor.sync()
        await self.monitor.refresh_prices()
        await self.monitor.sync()


@pytest.fixture
async def journey(database: Database) -> AsyncIterator[Journey]:
    config = SimulatorConfig(accounts=tuple(ACCOUNTS.values()), rate_limits=RateLimitConfig(enabled=False))
    simulator = await start_simulator(config)
    venue = ScriptedVenue(database, simulator.engine, "simulator", snapshot=simulator.snapshot)
    keyring = Keyring([generate_key()])
    credentials = CredentialService(database, keyring)
    access = FreshQuotesAccess(credentials, venue, base_urls={DEMO: simulator.url}, paper_deposit=PAPER_DEPOSIT)
    world = World(database, venue, credentials, access, clock=now_ms)
    monitor = PositionMonitor(database, access, world.bus, config=MonitorConfig(streams=False), clock=now_ms)
    copy = CopyTradingService(database, access, world.bus, clock=now_ms, positions=monitor)
    await SignalSourcesService(database, keyring).add_channel(CHANNEL)
    try:
        yield Journey(world, simulator, keyring, monitor, copy)
    finally:
        await access.close()
        venue.close()
        await simulator.stop()


async def subscribers(journey: Journey) -> dict[str, Trader]:
    """The traders of the journey, each with settings of their own."""
    fixed = {"leverage_mode": "fixed"}
    settings: dict[str, tuple[str | None, dict[str, Any]]] = {
        # 1 % risk, 5× whatever the signal says, 50/30/20 % over the targets, 20 % off at +0.5 %, break-even after TP 1.
        "ladder": ("ladder", {
            **fixed, "leverage": 5, "tp_distribution": [50, 30, 20],
            "partial_tp_steps": [{"profit_pct": "0.5", "close_pct": 20}], "break_even_after_tp": 1,
        }),
        # 2 % risk on the paper venue, the stop trailing 2 × ATR(3) once the price is +0.5 % up.
        "atr": (None, {
            "risk_pct": "2", "trailing_type": "atr", "atr_period": 3, "atr_multiplier": 2, "atr_trigger_pct": "0.5",
        }),
        # Moving target: break-even after target 1, then each target hit moves the stop to the one before.
        "moving": ("moving", {"trailing_type": "moving_target"}),
        # A DCA add 0.5 % under the entry, as large as the entry; most of the size on the last target.
        "dca": ("dca", {"dca_legs": [{"offset_pct": "0.5", "size_multiplier": 1}], "tp_distribution": [10, 10, 80]}),
        # A limit entry 0.5 % under the signal's price.
        "limit": ("limit", {"order_type": "limit", "limit_offset_pct": "0.5"}),
    }  # fmt: skip
    traders = {}
    for key, (account, values) in settings.items():
        user_id = await journey.user(account, values, paper=account is None)
        traders[key] = Trader(key, user_id, account)
    both = await journey.user("two_targets", {}, paper=True)  # one user, demo and paper, each sized on its own
    traders["two_demo"], traders["two_paper"] = Trader("two_demo", both, "two_targets"), Trader("two_paper", both, None)
    return traders


async def test_one_post_copied_to_every_kind_of_trader_managed_to_the_close_and_counted(journey: Journey) -> None:
    world, engine = journey.world, journey.engine
    # Closed 15-minute bars, each 100 from high to low: the ATR trader's stop trails the best price by 2 × 100.
    now = now_ms()
    for k in range(6, 0, -1):
        opened = now - now % FIFTEEN_MINUTES - k * FIFTEEN_MINUTES
        engine.apply_candle(BTC, Candle(opened, D(60000), D(60050), D(59950), D(60000), D(1)), timeframe="15m")
    traders = await subscribers(journey)
    short_only = await journey.user("short_only", {"direction": "short"})
    short_of_margin = await journey.user("short_of_margin", {"risk_pct": "10", "leverage_mode": "fixed", "leverage": 1})
    keyless = await journey.keyless()

    async with aiohttp.ClientSession() as session:
        admin = Admin(journey.simulator, session)
        await admin.mark(60000)

        # ---- the post, and the fan-out it starts
        ingest = journey.ingest()
        result = await ingest.ingest_post(CHANNEL, POST, now_ms())
        await ingest.close()  # waits for the fan-out
        assert result.outcome is IngestOutcome.ACCEPTED and result.signal_id is not None
        signal_id = result.signal_id
        records = {t.key: (await world.executions(signal_id, t.target))[t.user_id] for t in traders.values()}
        expected = check_entries(journey, traders, records)
        refused = await world.executions(signal_id, DEMO)
        assert (refused[short_only].status, refused[short_only].reason_code) == (ExecutionStatus.SKIPPED, "direction")
        assert (refused[keyless].status, refused[keyless].reason_code) == (ExecutionStatus.SKIPPED, "no_credentials")
        assert (refused[short_of_margin].status, refused[short_of_margin].reason_code) == (
            ExecutionStatus.FAILED, "InsufficientFundsError",
        )  # fmt: skip
        assert engine.orders(ACCOUNTS["short_of_margin"].account_id) == []
        assert engine.orders(ACCOUNTS["short_only"].account_id) == []

        # ---- the monitor takes over: stops confirmed on the positions, take-profit ladders placed
        await journey.monitor.rescan()
        await journey.settle()
        weights = {"ladder": [50, 30, 20], "dca": [10, 10, 80]}
        for trader in traders.values():
            if trader.key == "limit":
                assert journey.position(trader) is None  # resting at 59 700
                continue
            position = journey.position(trader)
            assert position is not None and (position.qty, position.stop_loss) == (expected[trader.key], STOP)
            ladder_qtys = ladder(expected[trader.key], weights.get(trader.key, [1, 1, 1]))
            assert journey.targets(trader) == list(zip(TARGETS, ladder_qtys, strict=True)), trader.key

        # ---- 59 700: the limit entry fills, and so does the DCA add; the DCA trader's targets grow with it
        await admin.mark(59700)
        await journey.settle()
        limit, dca = traders["limit"], traders["dca"]
        assert (journey.position(limit) or EMPTY).qty == expected["limit"]
        assert journey.targets(limit) == list(zip(TARGETS, ladder(expected["limit"], [1, 1, 1]), strict=True))
        added = journey.position(dca) or EMPTY
        assert (added.qty, added.entry_price, added.stop_loss) == (2 * expected["dca"], D(59850), STOP)
        assert journey.targets(dca) == list(zip(TARGETS, ladder(2 * expected["dca"], [10, 10, 80]), strict=True))

        # ---- 60 300 (+0.5 %): the ladder trader's partial step takes 20 % off at market; the ATR trail starts
        await admin.mark(60300)
        await journey.settle()
        step_qty = (expected["ladder"] * D("0.2")).quantize(STEP, rounding=ROUND_DOWN)  # 0.033
        rest = expected["ladder"] - step_qty
        assert (journey.position(traders["ladder"]) or EMPTY).qty == rest
        assert journey.targets(traders["ladder"]) == list(zip(TARGETS, ladder(rest, [50, 30, 20]), strict=True))
        assert journey.stop(traders["atr"]) == D(60100)  # best 60 300 − 2 × ATR 100

        def stops(*keys: str) -> tuple[D | None, ...]:
            return tuple(journey.stop(traders[key]) for key in keys)

        # ---- 60 600: target 1 fills everywhere; break-even for the ladder and moving-target traders
        await admin.mark(60600)
        await journey.settle()
        assert stops("ladder", "moving", "atr") == (D(60000), D(60000), D(60400))
        assert stops("dca", "limit", "two_demo", "two_paper") == (STOP, STOP, STOP, STOP)
        await admin.funding("0.0001")  # one funding interval while every position is open: longs pay

        # ---- 61 200: target 2 fills; the trails tighten again, the break-even stop stays
        await admin.mark(61200)
        await journey.settle()
        assert stops("moving", "atr", "ladder") == (D(60600), D(61000), D(60000))

        # ---- down again, stop by stop: each position closes at its own level
        for price, closed in ((61000, ["atr"]), (60600, ["moving"]), (60000, ["ladder"]), (59400, ["dca", "limit"])):
            await admin.mark(price)
            await journey.settle()
            assert [journey.position(traders[key]) for key in closed] == [None] * len(closed), price
        assert journey.monitor.position_ids == set()
        assert all(engine.open_orders(trader.account_id) == [] for trader in traders.values())

    net = await check_trade_log(journey, traders, records)
    assert net["dca"] < 0 < min(value for key, value in net.items() if key != "dca")  # most of the DCA size stopped
    await check_statistics(journey, traders, net)
    check_notices(journey, traders, short_only=short_only, keyless=keyless, short_of_margin=short_of_margin)
    async with world.database.transaction() as tx:
        stored = await tx.signals.get_record(signal_id)
    assert stored is not None and stored.status is SignalStatus.ACCEPTED and stored.fanned_out_at is not None


EMPTY = Position(BTC, PositionSide.LONG, D(1), D(1))
"""Stands in for a position that should be there, so a missing one fails on its figures."""


def check_entries(journey: Journey, traders: dict[str, Trader], records: dict[str, ExecutionRecord]) -> dict[str, D]:
    """Each trader's entry orders on the exchange, sized from equity × risk ÷ stop distance; returns the sizes."""
    expected = {
        # Stop distance 600 from 60 000; 300 from the 59 700 limit.
        "ladder": risk_size(D(10000), "1", D(60000), STOP, 5),  # 0.166
        "atr": risk_size(PAPER_DEPOSIT, "2", D(60000), STOP, 10),  # 0.333
        "moving": risk_size(D(5000), "1", D(60000), STOP, 10),  # 0.083
        "limit": risk_size(D(10000), "1", D(59700), STOP, 10),  # 0.333
        "two_demo": risk_size(D(20000), "1", D(60000), STOP, 10),  # 0.333
        "two_paper": risk_size(PAPER_DEPOSIT, "1", D(60000), STOP, 10),  # 0.166
        # 1 % at risk with the add filled too: sized at the legs' average (59 850, 450 from the stop), then halved.
        "dca": risk_size(D(10000), "1", D(59850), STOP, 10) / 2,  # 0.111 + 0.111
    }
    assert [expected[key] for key in ("ladder", "atr", "moving", "dca")] == [
        D("0.166"), D("0.333"), D("0.083"), D("0.111"),
    ]  # fmt: skip
    for trader in traders.values():
        qty, record = expected[trader.key], records[trader.key]
        assert record.status in (ExecutionStatus.FILLED, ExecutionStatus.PLACED), trader.key
        entry, *adds = [o for o in journey.engine.orders(trader.account_id) if not o.reduce_only]
        assert entry.client_order_id == plan_of(record).entries[0].client_order_id
        assert (entry.qty, entry.stop_loss) == (qty, STOP), trader.key
        if trader.key == "limit":
            assert (entry.type, entry.price, entry.status) == (OrderType.LIMIT, D(59700), OrderStatus.OPEN)
        else:
            assert (entry.type, entry.status) == (OrderType.MARKET, OrderStatus.FILLED), trader.key
        resting = [(o.type, o.price, o.qty, o.status) for o in adds]
        assert resting == ([(OrderType.LIMIT, D(59700), qty, OrderStatus.OPEN)] if trader.key == "dca" else [])
    assert journey.engine.leverage(ACCOUNTS["ladder"].account_id, BTC) == 5  # fixed
    assert journey.engine.leverage(ACCOUNTS["moving"].account_id, BTC) == 10  # the signal's
    return expected


REASONS = {
    "ladder": [ExitReason.TAKE_PROFIT] * 3 + [ExitReason.BREAK_EVEN],  # the partial step, targets 1 and 2
    "atr": [ExitReason.TAKE_PROFIT] * 2 + [ExitReason.TRAILING_STOP],
    "moving": [ExitReason.TAKE_PROFIT] * 2 + [ExitReason.TRAILING_STOP],
    "dca": [ExitReason.TAKE_PROFIT] * 2 + [ExitReason.STOP_LOSS],
    "limit": [ExitReason.TAKE_PROFIT] * 2 + [ExitReason.STOP_LOSS],
    "two_demo": [ExitReason.TAKE_PROFIT] * 2 + [ExitReason.STOP_LOSS],
    "two_paper": [ExitReason.TAKE_PROFIT] * 2 + [ExitReason.STOP_LOSS],
}
EXIT_PRICES = {
    "ladder": [D(60300), D(60600), D(61200), D(60000)],
    "atr": [D(60600), D(61200), D(61000)],
    "moving": [D(60600), D(61200), D(60600)],
    "dca": [D(60600), D(61200), STOP],
}


async def check_trade_log(
    journey: Journey, traders: dict[str, Trader], records: dict[str, ExecutionRecord]
) -> dict[str, D]:
    """Exit reasons in order, every figure as the exchange booked it, PnL as the wallet moved; returns net PnL."""
    engine, net = journey.engine, {}
    closes = {e.position_id: e for e in journey.world.events(EventKind.POSITION_CLOSED)}
    async with journey.world.database.transaction() as tx:
        for trader in traders.values():
            key = trader.key
            record = await tx.executions.get(records[key].id)
            assert record is not None and (record.status, record.reason_code) == (
                ExecutionStatus.CLOSED, REASONS[key][-1].value,
            ), key  # fmt: skip
            trades = await tx.trades.list_for_position(record.position_id or 0)
            row = await tx.positions.get(record.position_id or 0)
            assert [t.exit_reason for t in trades] == REASONS[key], key
            assert [t.exit_price for t in trades] == EXIT_PRICES.get(key, [t.exit_price for t in trades]), key
            reconcile(key, trades, engine.fills(trader.account_id, BTC))
            funding = sum((r.funding for r in engine.closed_pnl(trader.account_id, BTC)), D(0))
            assert funding < 0, key  # longs paid
            realized = sum((t.net_pnl for t in trades), D(0))
            wallet_change = engine.balance(trader.account_id).wallet - trader.deposit
            # Paper reports funding and the log has it; over Bybit's API it is not split out, and the log says so.
            paper = trader.account is None
            assert sum((t.funding for t in trades), D(0)) == (funding if paper else D(0)), key
            assert realized == wallet_change - (D(0) if paper else funding), key
            assert row is not None and row.closed_at is not None and row.realized_pnl == realized, key
            closed = closes[record.position_id]
            assert closed.data["exit_reason"] == REASONS[key][-1].value
            assert closed.data["funding_included"] == str(paper).lower()
            net[key] = realized
    return net


async def check_statistics(journey: Journey, traders: dict[str, Trader], net: dict[str, D]) -> None:
    stats = StatisticsService(journey.world.database)
    for key in ("ladder", "atr", "moving", "dca", "limit"):
        report = await stats.report(traders[key].user_id)
        won = int(key != "dca")
        overall = report.overall
        assert (overall.count, overall.wins, overall.win_rate, overall.total_pnl) == (1, won, D(100 * won), net[key])
        assert report.by_strategy["cornix"].total_pnl == net[key]
        assert report.by_target[traders[key].target].count == 1
    both = await stats.report(traders["two_demo"].user_id)
    total = net["two_demo"] + net["two_paper"]
    assert (both.overall.count, both.overall.wins, both.overall.total_pnl, both.overall.long.count) == (2, 2, total, 2)
    assert (both.by_target[DEMO].total_pnl, both.by_target[PAPER].total_pnl) == (net["two_demo"], net["two_paper"])
    paper_only = await stats.report(traders["two_demo"].user_id, target=PAPER, strategy="cornix")
    assert (paper_only.overall.count, paper_only.overall.total_pnl) == (1, net["two_paper"])


def check_notices(
    journey: Journey, traders: dict[str, Trader], *, short_only: int, keyless: int, short_of_margin: int
) -> None:
    kinds = events_by_user(journey.world.events())

    def told(key: str) -> list[EventKind]:
        return kinds[traders[key].user_id]

    assert told("ladder").count(EventKind.PARTIAL_TAKE_PROFIT) == 1
    assert told("ladder").count(EventKind.BREAK_EVEN) == told("moving").count(EventKind.BREAK_EVEN) == 1
    assert told("moving").count(EventKind.STOP_MOVED) == 1  # to target 1
    assert told("atr").count(EventKind.STOP_MOVED) == 3  # 60 100, 60 400, 61 000
    assert told("dca").count(EventKind.DCA_FILLED) == 1
    assert (kinds[short_only], kinds[keyless], kinds[short_of_margin]) == (
        [EventKind.ENTRY_SKIPPED], [EventKind.ENTRY_SKIPPED], [EventKind.ENTRY_FAILED],
    )  # fmt: skip
    for key in traders:
        positions = 2 if key.startswith("two") else 1
        assert told(key).count(EventKind.ENTRY_PLACED) == told(key).count(EventKind.POSITION_CLOSED) == positions


async def test_each_failure_ends_in_a_stored_reason_and_a_notice_never_a_crash(journey: Journey) -> None:
    world, engine = journey.world, journey.engine
    keyless = await journey.keyless()
    short_of_margin = await journey.user("short_of_margin", {"risk_pct": "10", "leverage_mode": "fixed", "leverage": 1})
    ingest = journey.ingest()
    async with aiohttp.ClientSession() as session:
        admin = Admin(journey.simulator, session)
        await admin.mark(60000)
        await admin.mark(3000, "ETHUSDT")

        # Missing keys and a balance too small for the order the margin allows (the fee does not fit).
        first = await ingest.ingest_post(CHANNEL, POST, now_ms())
        await ingest.close()
        # The exchange refuses every order now: Bybit's 110094, "order value below the minimum".
        refused = await journey.user("ladder", {})
        await admin.faults(FaultConfig(rules=(FaultRule(path="/v5/order/create", errors={110094: 1.0}),)))
        ingest = journey.ingest()
        second = await ingest.ingest_post(CHANNEL, "ETH/USDT\nBuy 3000\nTake Profit 3060 3120\nStop 2970", now_ms())
        # An inconsistent post: a long whose stop is above its entry.
        malformed = await ingest.ingest_post(CHANNEL, "ETH/USDT LONG\nBuy 3385\nTake Profit 3450\nStop 3400", now_ms())
        await ingest.close()
        await admin.faults(FaultConfig())

    assert (first.outcome, second.outcome, malformed.outcome) == (
        IngestOutcome.ACCEPTED, IngestOutcome.ACCEPTED, IngestOutcome.REJECTED,
    )  # fmt: skip
    btc = await world.executions(first.signal_id or 0, DEMO)
    eth = await world.executions(second.signal_id or 0, DEMO)
    outcomes = {
        (keyless, "BTC"): btc[keyless],
        (short_of_margin, "BTC"): btc[short_of_margin],
        (keyless, "ETH"): eth[keyless],
        (short_of_margin, "ETH"): eth[short_of_margin],
        (refused, "ETH"): eth[refused],
    }
    assert {key: (r.status, r.reason_code) for key, r in outcomes.items()} == {
        (keyless, "BTC"): (ExecutionStatus.SKIPPED, "no_credentials"),
        (short_of_margin, "BTC"): (ExecutionStatus.FAILED, "InsufficientFundsError"),
        (keyless, "ETH"): (ExecutionStatus.SKIPPED, "no_credentials"),
        (short_of_margin, "ETH"): (ExecutionStatus.FAILED, "InvalidOrderError"),
        (refused, "ETH"): (ExecutionStatus.FAILED, "InvalidOrderError"),
    }
    assert all(record.reason for record in outcomes.values())
    assert "no API keys for bybit:demo" in (btc[keyless].reason or "")
    notices = sorted(
        (e.user_id or 0, e.signal_id or 0, e.kind, e.code or "")
        for e in world.events()
        if e.kind in (EventKind.ENTRY_SKIPPED, EventKind.ENTRY_FAILED)
    )
    assert notices == sorted(
        (
            user_id,
            record.signal_id,
            EventKind.ENTRY_SKIPPED if record.status is ExecutionStatus.SKIPPED else EventKind.ENTRY_FAILED,
            record.reason_code or "",
        )
        for (user_id, _), record in outcomes.items()
    )
    for config in (ACCOUNTS["short_of_margin"], ACCOUNTS["ladder"]):  # nothing left on the exchange
        assert engine.orders(config.account_id) == [] and engine.positions(config.account_id) == []

    async with world.database.transaction() as tx:
        rejected = await tx.signals.get_record(malformed.signal_id or 0)
    assert rejected is not None and rejected.status is SignalStatus.REJECTED
    assert rejected.reject_reason is not None and "stop" in rejected.reject_reason
    (told,) = world.events(EventKind.SIGNAL_REJECTED)
    assert (told.signal_id, told.user_id, told.code) == (malformed.signal_id, None, "invalid_signal")
    assert world.events(EventKind.ERROR) == []  # no fan-out failed as a whole: every outcome has its own reason


def reconcile(key: str, trades: list[Trade], fills: list[Fill]) -> None:
    """Each closed part is one exit fill, at its price and size; the parts' fees are all the fills' fees."""
    exits = sorted((f for f in fills if f.side is Side.SELL), key=lambda f: f.timestamp)
    assert [(t.qty, t.exit_price) for t in trades] == [(f.qty, f.price) for f in exits], key
    assert sum((t.fees for t in trades), D(0)) == sum((f.fee for f in fills), D(0)), key
    assert sum((t.qty for t in trades), D(0)) == sum((f.qty for f in fills if f.side is Side.BUY), D(0)), key
    for fill in fills:  # taker at market and at stops, maker at limits and targets
        assert fill.fee == (fill.qty * fill.price * (MAKER if fill.is_maker else TAKER)).quantize(D("1E-8")), key


def events_by_user(events: list[TradingEvent]) -> dict[int | None, list[EventKind]]:
    kinds: dict[int | None, list[EventKind]] = {}
    for event in events:
        kinds.setdefault(event.user_id, []).append(event.kind)
    return kinds
