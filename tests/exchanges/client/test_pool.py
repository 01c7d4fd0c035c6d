"""The pool: one client per (user, target), opened once, reused, closed when idle and at the end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from client.fakes import BTC, BYBIT_DEMO, BYBIT_PAPER, ScriptedAdapter, Slow
from client.virtual_time import VirtualClock
from elcaro.exchanges.client import ClientSettings, ExchangeClientPool, RetryPolicy, Timing
from elcaro.models import ExchangeKeys, Secret, Target
from elcaro.models.errors import ExchangeError

IDLE = 600.0


class Factory:
    """Makes scripted adapters, slowly (an adapter load takes a second), and remembers them."""

    def __init__(self) -> None:
        self.made: list[tuple[Target, ExchangeKeys | None, ScriptedAdapter]] = []
        self.fail_next = False

    async def __call__(self, user_id: int, target: Target, keys: ExchangeKeys | None) -> ScriptedAdapter:
        await asyncio.sleep(1)
        if self.fail_next:
            self.fail_next = False
            raise ExchangeError("venue unreachable while opening")
        adapter = ScriptedAdapter(target=target)
        self.made.append((target, keys, adapter))
        return adapter


async def keys_of(user_id: int, target: Target) -> ExchangeKeys | None:
    return None if not target.needs_credentials else ExchangeKeys(api_key=Secret(f"key-{user_id}"))


@pytest.fixture
def factory() -> Factory:
    return Factory()


@pytest.fixture
async def pool(factory: Factory, timing: Timing, registry: CollectorRegistry) -> AsyncIterator[ExchangeClientPool]:
    async with ExchangeClientPool(factory, keys_of, idle_timeout=IDLE, registry=registry, timing=timing) as pool:
        yield pool


async def test_one_client_per_user_and_target_made_with_that_user_s_keys(
    pool: ExchangeClientPool, factory: Factory
) -> None:
    alice = await pool.get(1, BYBIT_DEMO)
    assert await pool.get(1, BYBIT_DEMO) is alice
    assert await pool.get(2, BYBIT_DEMO) is not alice
    assert await pool.get(1, BYBIT_PAPER) is not alice
    assert len(pool) == len(factory.made) == 3
    keys = factory.made[0][1]
    assert keys is not None and keys.api_key == Secret("key-1")
    assert factory.made[2][1] is None


async def test_callers_asking_at_once_share_one_opening(pool: ExchangeClientPool, factory: Factory) -> None:
    clients = await asyncio.gather(*(pool.get(1, BYBIT_DEMO) for _ in range(20)))
    assert len(factory.made) == 1
    assert all(client is clients[0] for client in clients)


async def test_a_failed_opening_is_not_kept(pool: ExchangeClientPool, factory: Factory) -> None:
    factory.fail_next = True
    with pytest.raises(ExchangeError, match="unreachable"):
        await pool.get(1, BYBIT_DEMO)
    assert (await pool.get(1, BYBIT_DEMO)).target == BYBIT_DEMO


async def test_an_idle_client_is_closed_and_the_next_get_opens_a_new_one(
    clock: VirtualClock, pool: ExchangeClientPool, factory: Factory
) -> None:
    first = await pool.get(1, BYBIT_DEMO)
    await first.fetch_positions()
    await asyncio.sleep(IDLE * 2)
    assert first.closed and factory.made[0][2].closed
    assert len(pool) == 0
    second = await pool.get(1, BYBIT_DEMO)
    assert second is not first and not second.closed


async def test_a_client_in_use_is_never_idle(
    clock: VirtualClock, factory: Factory, timing: Timing, registry: CollectorRegistry
) -> None:
    patient = ClientSettings(retry=RetryPolicy(request_timeout=IDLE * 4, deadline=IDLE * 5))
    async with ExchangeClientPool(
        factory, keys_of, idle_timeout=IDLE, settings=patient, registry=registry, timing=timing
    ) as pool:
        streaming = await pool.get(1, BYBIT_DEMO)
        calling = await pool.get(2, BYBIT_DEMO)
        handed_out = await pool.get(3, BYBIT_DEMO)
        orders = streaming.watch_orders()
        next_order = asyncio.ensure_future(anext(orders))
        factory.made[1][2].then("fetch_positions", Slow(IDLE * 3))
        slow = asyncio.ensure_future(calling.fetch_positions())
        for _ in range(6):
            await asyncio.sleep(IDLE / 2)
            await pool.get(3, BYBIT_DEMO)  # handing a client out counts as use
        assert not (streaming.closed or calling.closed or handed_out.closed)
        await slow
        next_order.cancel()  # the stream's consumer stops: the stream ends with it
        with contextlib.suppress(asyncio.CancelledError):
            await next_order
        await asyncio.sleep(IDLE * 2)
        assert streaming.closed and calling.closed and handed_out.closed


async def test_discard_closes_a_client_now(pool: ExchangeClientPool, factory: Factory) -> None:
    client = await pool.get(1, BYBIT_DEMO)
    await pool.discard(1, BYBIT_DEMO)
    assert client.closed
    with pytest.raises(ExchangeError, match="closed"):
        await client.fetch_balance()
    assert await pool.get(1, BYBIT_DEMO) is not client


async def test_close_closes_every_client_and_refuses_new_ones(
    factory: Factory, timing: Timing, registry: CollectorRegistry
) -> None:
    pool = ExchangeClientPool(factory, keys_of, registry=registry, timing=timing)
    clients = [await pool.get(user, BYBIT_DEMO) for user in (1, 2)]
    opening = asyncio.ensure_future(pool.get(3, BYBIT_DEMO))
    await asyncio.sleep(0)
    await pool.close()
    assert all(client.closed for client in clients)
    assert (await opening).closed  # opened while closing: closed too, nothing leaks
    assert all(adapter.closed for _, _, adapter in factory.made)
    with pytest.raises(ExchangeError, match="closed"):
        await pool.get(1, BYBIT_DEMO)


async def test_the_clients_of_a_pool_share_the_venue_s_ip_budget(clock: VirtualClock, pool: ExchangeClientPool) -> None:
    # Bybit's 600 requests per 5 s per IP: 100 at once, then 100 a second, whichever account asks.
    clients = [await pool.get(user, BYBIT_DEMO) for user in range(1, 5)]
    started = clock.now
    for round_ in range(30):
        await asyncio.gather(*(client.fetch_order_book(BTC) for client in clients))
        assert round_ < 25 or clock.now > started
    assert clock.now - started == pytest.approx((30 * 4 - 100) / 100)
