"""What a stop leaves half done is finished at the next start, once: signals stored but never fanned out, signals
too old by then, cancels stored but not carried out, cancel posts delivered again, and entries interrupted by a
crash for a signal cancelled meanwhile. Every "restart" is a fresh service, monitor and ingest on the same
database and venue; the "crash" is the work never running (or being cancelled mid-way)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal as D

import pytest
from copy_world import BTC, PAPER, T0, World, plan_of

from elcaro.core.secrets import Keyring, generate_key
from elcaro.exchanges.paper import PaperExchangeAdapter
from elcaro.models import Order, OrderStatus, Position, Signal
from elcaro.models.errors import AuthenticationError
from elcaro.models.events import EventKind
from elcaro.services.copy_trading import CopyCode, CopyTradingService
from elcaro.services.copy_trading.service import DEFAULT_SIGNAL_MAX_AGE_MS
from elcaro.services.exchange_access import ExchangeAccess
from elcaro.services.positions import PositionMonitor
from elcaro.services.signal_ingest import IngestOutcome, SignalIngestService
from elcaro.services.signal_sources import SignalSourcesService
from elcaro.storage import ExecutionStatus, SignalStatus

pytestmark = pytest.mark.db

CHANNEL = "-1001234567890"
LONG_BTC = "BTC/USDT\nBuy 59500\nTake Profit 61200 62400\nStop 58800"
SHORT_BTC = "BTC/USDT SHORT\nEntry 60500\nTake Profit 59000\nStop 61500"
CANCEL_BTC = "❌ Cancel #BTC/USDT"
MINUTE = 60_000
LIMIT = {"order_type": "limit", "direction": "long"}
MARKET = {"order_type": "market", "direction": "long"}


async def lost(_: object) -> None:
    """The process died before this background work ran."""


class Run:
    """One run of the platform's copy trading: a monitor, the service and the ingest feeding it."""

    def __init__(
        self,
        world: World,
        keyring: Keyring,
        *,
        on_signal: Callable[[Signal], Awaitable[object]] | None = None,
        on_cancel: Callable[[int], Awaitable[object]] | None = None,
        **options: object,
    ) -> None:
        self.monitor: PositionMonitor = world.monitor()
        self.service: CopyTradingService = world.service(positions=self.monitor, **options)
        self.ingest = SignalIngestService(
            world.database,
            keyring,
            world.bus,
            on_signal or self.service.fan_out,
            on_cancel or self.service.cancel,
            clock=world.clock,
        )

    async def start(self) -> int:
        """As ``elcaro run`` starts: the monitor takes the stored positions, then copy trading resumes."""
        await self.monitor.rescan()
        return await self.service.resume()

    async def post(self, text: str, at: int) -> tuple[IngestOutcome, int | None]:
        result = await self.ingest.ingest_post(CHANNEL, text, at)
        return result.outcome, result.signal_id

    async def stop(self) -> None:
        await self.ingest.close()


@pytest.fixture
async def keyring(world: World) -> Keyring:
    keyring = Keyring([generate_key()])
    await SignalSourcesService(world.database, keyring).add_channel(CHANNEL)
    return keyring


def orders_by_id(world: World, user_id: int) -> Counter[str]:
    return Counter(order.client_order_id for order in world.venue.engine.orders(world.account(user_id)))


async def test_a_signal_stored_but_never_fanned_out_is_fanned_out_at_the_next_start(
    world: World, keyring: Keyring
) -> None:
    users = [await world.user(LIMIT), await world.user(MARKET), await world.user({**LIMIT, "risk_pct": "2"})]
    crashed = Run(world, keyring, on_signal=lost)
    outcome, signal_id = await crashed.post(LONG_BTC, T0)
    await crashed.stop()
    assert outcome is IngestOutcome.ACCEPTED and signal_id is not None
    assert await world.executions(signal_id) == {}
    assert all(not world.venue.engine.orders(world.account(user_id)) for user_id in users)

    world.clock.now = T0 + 2 * MINUTE
    restarted = Run(world, keyring)
    assert await restarted.start() == 0  # no execution was interrupted: the whole fan-out was

    records = await world.executions(signal_id)
    for user_id in users:
        plan = plan_of(records[user_id])
        assert orders_by_id(world, user_id) == Counter(o.client_order_id for o in plan.entries), user_id
        assert records[user_id].status in (ExecutionStatus.PLACED, ExecutionStatus.FILLED)
    assert len(world.events(EventKind.ENTRY_PLACED)) == len(users)
    async with world.database.transaction() as tx:
        record = await tx.signals.get_record(signal_id)
    assert record is not None and (record.status, record.fanned_out_at) == (SignalStatus.ACCEPTED, T0 + 2 * MINUTE)

    again = Run(world, keyring)
    await again.start()
    assert await again.post(LONG_BTC, T0 + 3 * MINUTE) == (IngestOutcome.DUPLICATE, signal_id)  # redelivered
    await again.stop()
    for user_id in users:  # exactly one set of orders per user, however often it starts or is redelivered
        assert orders_by_id(world, user_id) == Counter(o.client_order_id for o in plan_of(records[user_id]).entries)
    assert len(world.events(EventKind.ENTRY_PLACED)) == len(users)


async def test_a_signal_too_old_at_the_next_start_is_expired_and_each_subscriber_told_why(
    world: World, keyring: Keyring
) -> None:
    users = [await world.user(LIMIT), await world.user(MARKET)]
    crashed = Run(world, keyring, on_signal=lost)
    _, signal_id = await crashed.post(LONG_BTC, T0)
    await crashed.stop()
    assert signal_id is not None

    world.clock.now = T0 + DEFAULT_SIGNAL_MAX_AGE_MS + MINUTE
    await Run(world, keyring).start()

    async with world.database.transaction() as tx:
        record = await tx.signals.get_record(signal_id)
    assert record is not None and record.status is SignalStatus.EXPIRED
    assert record.reject_reason is not None and "11 minutes old, past the 10 minutes" in record.reject_reason
    records = await world.executions(signal_id)
    assert {(r.status, r.reason_code) for r in records.values()} == {(ExecutionStatus.SKIPPED, CopyCode.SIGNAL_EXPIRED)}
    assert set(records) == set(users)
    skipped = world.events(EventKind.ENTRY_SKIPPED)
    assert sorted((e.user_id, e.code) for e in skipped) == [(u, CopyCode.SIGNAL_EXPIRED) for u in sorted(users)]
    (expired,) = world.events(EventKind.SIGNAL_EXPIRED)
    assert (expired.user_id, expired.signal_id, expired.data) == (
        None,
        signal_id,
        {"age_minutes": "11", "served": "0", "skipped": "2"},
    )
    assert all(not world.venue.engine.orders(world.account(user_id)) for user_id in users)

    await Run(world, keyring).start()  # and once is enough
    assert len(world.events(EventKind.ENTRY_SKIPPED)) == 2 and len(world.events(EventKind.SIGNAL_EXPIRED)) == 1


async def test_a_cancel_post_delivered_again_after_a_restart_withdraws_nothing_more(
    world: World, keyring: Keyring
) -> None:
    resting = await world.user(LIMIT)
    first = Run(world, keyring)
    _, older = await first.post(SHORT_BTC, T0)  # long-only users skip it: it stays open, the next one back
    _, newer = await first.post(LONG_BTC, T0 + MINUTE)
    await first.stop()  # waits for both fan-outs
    assert (await world.executions(newer or 0))[resting].status is ExecutionStatus.PLACED
    world.clock.now = T0 + 2 * MINUTE
    second = Run(world, keyring)
    await second.start()
    assert await second.post(CANCEL_BTC, T0 + 2 * MINUTE) == (IngestOutcome.CANCELLED, newer)
    await second.stop()
    [entry] = world.venue.engine.orders(world.account(resting))
    assert entry.status is OrderStatus.CANCELED
    assert len(world.events(EventKind.ENTRY_CANCELLED)) == 1

    world.clock.now = T0 + 3 * MINUTE
    third = Run(world, keyring)
    await third.start()
    assert await third.post(CANCEL_BTC, T0 + 3 * MINUTE) == (IngestOutcome.DUPLICATE, newer)
    await third.stop()

    async with world.database.transaction() as tx:
        statuses = {r.id: r.status for r in await tx.signals.list_recent()}
    assert statuses == {older: SignalStatus.ACCEPTED, newer: SignalStatus.CANCELLED}  # the older one untouched
    assert len(world.events(EventKind.ENTRY_CANCELLED)) == 1


async def test_a_cancel_stored_but_not_carried_out_is_carried_out_once_at_the_next_start(
    world: World, keyring: Keyring
) -> None:
    resting = await world.user(LIMIT)
    entered = await world.user({**MARKET, "dca_legs": [{"offset_pct": "1", "size_multiplier": "0.5"}]})
    crashed = Run(world, keyring, on_cancel=lost)
    _, signal_id = await crashed.post(LONG_BTC, T0)
    await world.bus.until(EventKind.ENTRY_PLACED, 2)
    assert await crashed.post(CANCEL_BTC, T0 + MINUTE) == (IngestOutcome.CANCELLED, signal_id)
    await crashed.stop()
    assert world.events(EventKind.ENTRY_CANCELLED) == []  # stored as cancelled, nothing withdrawn yet

    world.clock.now = T0 + 2 * MINUTE
    await Run(world, keyring).start()

    records = await world.executions(signal_id or 0)
    assert (records[resting].status, records[resting].reason_code) == (
        ExecutionStatus.SKIPPED,
        CopyCode.SIGNAL_CANCELLED,
    )
    assert (records[entered].status, records[entered].reason_code) == (
        ExecutionStatus.FILLED,
        CopyCode.SIGNAL_CANCELLED,
    )
    plan = plan_of(records[entered])
    dca = world.venue.engine.get_order(world.account(entered), plan.dca[0].client_order_id)
    assert dca.status is OrderStatus.CANCELED
    assert world.venue.engine.position(world.account(entered), BTC.symbol) is not None  # the filled part stays
    cancelled = world.events(EventKind.ENTRY_CANCELLED)
    assert sorted(e.user_id for e in cancelled) == sorted([resting, entered])

    await Run(world, keyring).start()  # nothing left to carry out, no one told twice
    assert len(world.events(EventKind.ENTRY_CANCELLED)) == 2
    assert await world.executions(signal_id or 0) == records


async def test_entries_interrupted_by_a_crash_are_not_sent_anew_for_a_signal_cancelled_meanwhile(
    world: World, keyring: Keyring
) -> None:
    """One user's entry reached the venue before the crash, the other's did not; the cancel came in between."""
    reached = asyncio.Semaphore(0)

    class EntryReachedAnswerLost(PaperExchangeAdapter):
        async def place_order(self, order: Order) -> Order:
            await super().place_order(order)
            reached.release()
            await asyncio.Event().wait()
            raise AssertionError("never answered")

    class StuckBeforeTheEntry(PaperExchangeAdapter):
        async def set_leverage(self, symbol: str, leverage: D) -> D:
            reached.release()
            await asyncio.Event().wait()
            raise AssertionError("never answered")

    on_venue, not_sent = await world.user(LIMIT), await world.user(LIMIT)
    world.script(on_venue, EntryReachedAnswerLost)
    world.script(not_sent, StuckBeforeTheEntry)
    fan_outs: list[asyncio.Task[object]] = []

    async def in_background(signal: Signal) -> None:
        fan_outs.append(asyncio.create_task(first.service.fan_out(signal)))

    first = Run(world, keyring, on_signal=in_background, on_cancel=lost)
    _, signal_id = await first.post(LONG_BTC, T0)
    async with asyncio.timeout(10):
        for _ in range(2):
            await reached.acquire()
    assert await first.post(CANCEL_BTC, T0 + MINUTE) == (IngestOutcome.CANCELLED, signal_id)
    await first.stop()
    [fan_out] = fan_outs
    fan_out.cancel()  # the crash
    with pytest.raises(asyncio.CancelledError):
        await fan_out
    await world.access.close()
    world.venue.scripted.clear()
    world.access = ExchangeAccess(world.credentials, world.venue)  # the next process's

    await Run(world, keyring).start()

    records = await world.executions(signal_id or 0)
    assert (records[not_sent].status, records[not_sent].reason_code) == (
        ExecutionStatus.SKIPPED,
        CopyCode.SIGNAL_CANCELLED,
    )
    assert world.venue.engine.orders(world.account(not_sent)) == []  # nothing was sent for a cancelled signal
    [entry] = world.venue.engine.orders(world.account(on_venue))
    assert entry.status is OrderStatus.CANCELED  # what had reached the venue was recorded, then withdrawn
    assert (records[on_venue].status, records[on_venue].reason_code) == (
        ExecutionStatus.SKIPPED,
        CopyCode.SIGNAL_CANCELLED,
    )
    assert [e.user_id for e in world.events(EventKind.ENTRY_SKIPPED)] == [not_sent]
    assert [e.user_id for e in world.events(EventKind.ENTRY_CANCELLED)] == [on_venue]
    await world.access.close()


async def test_a_cancel_an_account_cannot_take_now_withdraws_the_others_and_is_finished_at_the_next_start(
    world: World, keyring: Keyring
) -> None:
    class KeyRevoked(PaperExchangeAdapter):
        async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
            raise AuthenticationError("API key is invalid.", exchange="paper", code="10003")

    healthy, revoked = await world.user(LIMIT), await world.user(LIMIT)
    first = Run(world, keyring)
    _, signal_id = await first.post(LONG_BTC, T0)
    await world.bus.until(EventKind.ENTRY_PLACED, 2)
    world.script(revoked, KeyRevoked)  # the user revoked the key on the exchange
    await world.access.pool.discard(revoked, PAPER)

    assert await first.post(CANCEL_BTC, T0 + MINUTE) == (IngestOutcome.CANCELLED, signal_id)
    await first.stop()  # the cancel has run

    records = await world.executions(signal_id or 0)
    assert (records[healthy].status, records[healthy].reason_code) == (
        ExecutionStatus.SKIPPED,
        CopyCode.SIGNAL_CANCELLED,
    )
    assert (records[revoked].status, records[revoked].reason_code) == (ExecutionStatus.PLACED, None)  # not yet
    [still] = world.venue.engine.orders(world.account(revoked))
    assert still.status is OrderStatus.OPEN
    assert [e.user_id for e in world.events(EventKind.ENTRY_CANCELLED)] == [healthy]

    world.venue.scripted.clear()  # the user stored working keys again; the platform restarts
    await world.access.pool.discard(revoked, PAPER)
    await Run(world, keyring).start()

    [withdrawn] = world.venue.engine.orders(world.account(revoked))
    assert withdrawn.status is OrderStatus.CANCELED
    records = await world.executions(signal_id or 0)
    assert (records[revoked].status, records[revoked].reason_code) == (
        ExecutionStatus.SKIPPED,
        CopyCode.SIGNAL_CANCELLED,
    )
    assert [e.user_id for e in world.events(EventKind.ENTRY_CANCELLED)] == [healthy, revoked]


async def test_a_fan_out_interrupted_long_before_the_restart_sends_nothing_more(world: World, keyring: Keyring) -> None:
    """Past the signal's age limit, what reached the venue is kept and managed; nothing new goes out."""
    reached = asyncio.Semaphore(0)

    class FilledAnswerLost(PaperExchangeAdapter):
        async def place_order(self, order: Order) -> Order:
            await super().place_order(order)
            reached.release()
            await asyncio.Event().wait()
            raise AssertionError("never answered")

    class StuckBeforeTheEntry(PaperExchangeAdapter):
        async def set_leverage(self, symbol: str, leverage: D) -> D:
            reached.release()
            await asyncio.Event().wait()
            raise AssertionError("never answered")

    filled, not_sent, never = await world.user(MARKET), await world.user(MARKET), await world.user(MARKET)
    world.script(filled, FilledAnswerLost)
    world.script(not_sent, StuckBeforeTheEntry)
    fan_outs: list[asyncio.Task[object]] = []

    async def in_background(signal: Signal) -> None:
        fan_outs.append(asyncio.create_task(first.service.fan_out(signal)))

    first = Run(world, keyring, on_signal=in_background, max_concurrent=2)  # the third user never gets a slot
    _, signal_id = await first.post(LONG_BTC, T0)
    async with asyncio.timeout(10):
        for _ in range(2):
            await reached.acquire()
    await first.stop()
    [fan_out] = fan_outs
    fan_out.cancel()  # the crash
    with pytest.raises(asyncio.CancelledError):
        await fan_out
    await world.access.close()
    world.venue.scripted.clear()
    world.access = ExchangeAccess(world.credentials, world.venue)
    world.clock.now = T0 + DEFAULT_SIGNAL_MAX_AGE_MS + MINUTE

    await Run(world, keyring).start()

    records = await world.executions(signal_id or 0)
    assert records[filled].status is ExecutionStatus.FILLED  # on the venue with its stop: recorded and managed
    position = world.venue.engine.position(world.account(filled), BTC.symbol)
    assert position is not None and position.stop_loss == D(58800)
    for user_id in (not_sent, never):
        assert (records[user_id].status, records[user_id].reason_code) == (
            ExecutionStatus.SKIPPED,
            CopyCode.SIGNAL_EXPIRED,
        )
        assert world.venue.engine.orders(world.account(user_id)) == []
    assert sorted(e.user_id for e in world.events(EventKind.ENTRY_SKIPPED)) == sorted([not_sent, never])
    (expired,) = world.events(EventKind.SIGNAL_EXPIRED)
    assert expired.data == {"age_minutes": "11", "served": "1", "skipped": "2"}
    async with world.database.transaction() as tx:
        record = await tx.signals.get_record(signal_id or 0)
    assert record is not None and record.status is SignalStatus.ACCEPTED  # someone holds a position from it
    await world.access.close()
