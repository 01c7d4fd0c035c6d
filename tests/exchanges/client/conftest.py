from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from client.fakes import ScriptedAdapter
from client.virtual_time import VirtualClock
from elcaro.exchanges.client import ClientSettings, ExchangeClient, RetryPolicy, Timing, metrics_for


@pytest.fixture
async def clock() -> AsyncIterator[VirtualClock]:
    virtual = VirtualClock(asyncio.get_running_loop())
    yield virtual
    virtual.restore()


@pytest.fixture
def timing(clock: VirtualClock) -> Timing:
    return Timing(clock=clock.time, sleep=asyncio.sleep, random=random.Random(7).random)  # noqa: S311 - repeatable jitter


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def adapter() -> ScriptedAdapter:
    return ScriptedAdapter()


# No jitter: the waits of a test are then exact numbers it can assert on.
EXACT = ClientSettings(retry=RetryPolicy(jitter=0))


@pytest.fixture
def client(adapter: ScriptedAdapter, timing: Timing, registry: CollectorRegistry) -> ExchangeClient:
    return ExchangeClient(adapter, settings=EXACT, metrics=metrics_for(registry), timing=timing)
