"""Reads are retried after transient errors, with back-off, within bounds; refusals are not."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest

from client.conftest import EXACT
from client.fakes import Fail, Hang, LoseAnswer, Report, ScriptedAdapter, limit_order
from client.virtual_time import VirtualClock
from elcaro.exchanges.client import ClientSettings, ExchangeClient, LimitStatus, RetryPolicy, Scope, Timing
from elcaro.models.errors import (
    AuthenticationError,
    ExchangeUnavailableError,
    NetworkError,
    RateLimitedError,
)


def unavailable() -> ExchangeUnavailableError:
    return ExchangeUnavailableError("502 bad gateway", exchange="bybit", code=502)


async def test_a_read_is_retried_after_transient_errors_with_growing_waits(
    clock: VirtualClock, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("fetch_positions", Fail(NetworkError("reset")), Fail(unavailable()), LoseAnswer())
    assert await client.fetch_positions() == []
    assert adapter.count("fetch_positions") == 4
    assert clock.elapsed == pytest.approx(0.25 + 0.5 + 1.0)


async def test_a_read_gives_up_after_its_attempts_with_the_last_error(
    clock: VirtualClock, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("fetch_open_orders", *[Fail(NetworkError("reset"))] * 4, Fail(unavailable()))
    with pytest.raises(ExchangeUnavailableError):
        await client.fetch_open_orders()
    assert adapter.count("fetch_open_orders") == EXACT.retry.attempts == 5


@pytest.mark.parametrize("error", [AuthenticationError("bad key", code=10003), ValueError("adapter bug")])
async def test_a_refusal_is_not_retried(client: ExchangeClient, adapter: ScriptedAdapter, error: Exception) -> None:
    adapter.then("fetch_balance", Fail(error))
    with pytest.raises(type(error)):
        await client.fetch_balance()
    assert adapter.count("fetch_balance") == 1


async def test_the_deadline_bounds_a_read_however_many_attempts_are_left(
    clock: VirtualClock, adapter: ScriptedAdapter, timing: Timing
) -> None:
    settings = ClientSettings(retry=RetryPolicy(attempts=100, jitter=0, deadline=5, backoff_max=1))
    client = ExchangeClient(adapter, settings=settings, timing=timing)
    adapter.then("fetch_fills", *[Fail(NetworkError("reset"))] * 100)
    with pytest.raises(NetworkError):
        await client.fetch_fills()
    assert clock.elapsed < 5
    assert adapter.count("fetch_fills") == 7  # after waits of 0.25, 0.5, 1, 1, 1, 1 s; one more would end past 5 s


async def test_a_request_without_an_answer_times_out_as_a_network_error(
    clock: VirtualClock, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("fetch_order_history", Hang())
    assert await client.fetch_order_history() == []
    assert clock.elapsed == pytest.approx(EXACT.retry.request_timeout + 0.25)


async def test_retry_after_is_honoured_and_holds_the_whole_account_bucket(
    clock: VirtualClock, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("fetch_positions", Fail(RateLimitedError("too many visits", retry_after=3, code=10006)))
    refused = asyncio.create_task(client.fetch_positions())
    await asyncio.sleep(0.01)
    await client.set_leverage("BTC/USDT:USDT", D(10))  # same bucket (position), held by the venue's pause
    assert clock.elapsed == pytest.approx(3 + 1 / 8)
    await refused
    assert adapter.calls == ["fetch_positions", "set_leverage", "fetch_positions"]


async def test_rate_limit_headers_reported_by_the_adapter_adjust_the_bucket(
    clock: VirtualClock, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("place_order", Report(LimitStatus(remaining=0, reset_after=2)))
    await client.place_order(limit_order(1))
    await client.place_order(limit_order(2))
    assert clock.elapsed == pytest.approx(2 + 1 / 8)  # the reset, then one token of Bybit's 8 a second


async def test_an_ip_report_holds_public_data(
    clock: VirtualClock, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("fetch_order_book", Report(LimitStatus(remaining=0, reset_after=4, scope=Scope.IP)))
    await client.fetch_order_book("BTC/USDT:USDT")
    await client.fetch_ohlcv("BTC/USDT:USDT", "1m")
    assert clock.elapsed >= 4


async def test_a_rate_limit_wait_longer_than_the_deadline_fails_fast(
    clock: VirtualClock, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("fetch_balance", Fail(RateLimitedError("access too frequent", code=403)))
    with pytest.raises(RateLimitedError) as refused:
        await client.fetch_balance()
    assert refused.value.code == 403  # the venue's answer, not the client's own
    assert clock.elapsed < 1
    with pytest.raises(RateLimitedError) as held:
        await client.fetch_ticker("BTC/USDT:USDT")
    assert held.value.retry_after is not None and held.value.retry_after > 500
    assert adapter.count("fetch_ticker") == 0
