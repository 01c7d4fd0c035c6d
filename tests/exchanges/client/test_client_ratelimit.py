"""Token buckets and the venue limits they are built from, in virtual time."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from client.fakes import BINANCE_TESTNET, BYBIT_DEMO, BYBIT_PAPER
from client.virtual_time import VirtualClock
from elcaro.exchanges.client import DEFAULT_LIMITS, Category, Rate, RateLimiter, Scope, Timing, VenueLimits
from elcaro.exchanges.client.limits import METHOD_CATEGORIES
from elcaro.exchanges.client.ratelimit import TokenBucket, WouldPassDeadline
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import Environment, Exchange, Target
from elcaro.models.errors import RateLimitedError, ValidationError


def bucket(clock: VirtualClock, rate: Rate) -> TokenBucket:
    return TokenBucket(rate, clock.time, asyncio.sleep)


async def test_a_bucket_spends_its_burst_at_once_then_paces(clock: VirtualClock) -> None:
    tokens = bucket(clock, Rate(10, 1, burst=2))  # 8 a second after the first 2
    granted = []
    for _ in range(10):
        await tokens.take(1)
        granted.append(clock.elapsed)
    assert granted[:2] == [0, 0]
    assert granted[2:] == pytest.approx([n / 8 for n in range(1, 9)])


async def test_waiters_are_served_in_the_order_they_came(clock: VirtualClock) -> None:
    tokens = bucket(clock, Rate(3, 1, burst=1))
    order: list[int] = []

    async def take(n: int, cost: float) -> None:
        await tokens.take(cost)
        order.append(n)

    await tokens.take(1)
    await asyncio.gather(take(1, 1), take(2, 1), take(3, 1))
    assert order == [1, 2, 3]
    assert clock.elapsed == pytest.approx(1.5)


@settings(max_examples=40, deadline=None)
@given(
    limit=st.integers(2, 50),
    burst_share=st.floats(0.05, 0.9),
    period=st.sampled_from([1.0, 5.0, 10.0, 60.0]),
    costs=st.lists(st.integers(1, 3), min_size=1, max_size=80),
    gaps=st.lists(st.floats(0, 2), min_size=1, max_size=80),
)
def test_no_window_of_the_period_ever_sees_more_than_the_limit(
    limit: int, burst_share: float, period: float, costs: list[int], gaps: list[float]
) -> None:
    rate = Rate(limit, period, burst=max(1.0, min(limit - 1, limit * burst_share)))
    costs = [min(cost, int(rate.burst)) for cost in costs]
    loop = asyncio.new_event_loop()
    clock = VirtualClock(loop)
    grants: list[tuple[float, int]] = []

    async def caller(delay: float, cost: int, tokens: TokenBucket) -> None:
        await asyncio.sleep(delay)
        await tokens.take(cost)
        grants.append((clock.now, cost))

    async def run() -> None:
        tokens = bucket(clock, rate)
        starts = [sum(gaps[: i % len(gaps)]) for i in range(len(costs))]
        await asyncio.gather(*(caller(start, cost, tokens) for start, cost in zip(starts, costs, strict=True)))

    try:
        loop.run_until_complete(run())
    finally:
        clock.restore()
        loop.close()
    for start, _ in grants:
        spent = sum(cost for at, cost in grants if start <= at < start + period - 1e-9)
        assert spent <= limit


async def test_a_pause_holds_every_token_then_refills_from_empty(clock: VirtualClock) -> None:
    tokens = bucket(clock, Rate(10, 1, burst=5))
    tokens.pause(3)
    await tokens.take(1)
    assert clock.elapsed == pytest.approx(3 + 1 / 5)


async def test_a_venue_report_caps_the_tokens_and_an_empty_one_pauses_until_reset(clock: VirtualClock) -> None:
    tokens = bucket(clock, Rate(50, 1, burst=10))
    tokens.observe(remaining=3, reset_after=None)
    assert tokens.tokens == 3
    tokens.observe(remaining=0, reset_after=2)
    await tokens.take(1)
    assert clock.elapsed == pytest.approx(2 + 1 / 40)


async def test_a_wait_past_the_deadline_is_refused_at_once_and_takes_nothing(clock: VirtualClock) -> None:
    tokens = bucket(clock, Rate(2, 1, burst=1))
    await tokens.take(1)
    with pytest.raises(WouldPassDeadline) as refused:
        await tokens.take(1, deadline=clock.now + 0.5)
    assert refused.value.wait == pytest.approx(1)
    assert clock.elapsed == 0
    await tokens.take(1, deadline=clock.now + 1)
    assert clock.elapsed == pytest.approx(1)


async def test_public_data_shares_one_ip_bucket_per_target(clock: VirtualClock) -> None:
    limiter = RateLimiter(
        {Exchange.BYBIT: VenueLimits(ip=(Rate(3, 1, burst=2),))},
        timing=Timing(clock=clock.time, sleep=asyncio.sleep),
    )
    alice, bob = limiter.for_account(BYBIT_DEMO, 1), limiter.for_account(BYBIT_DEMO, 2)
    elsewhere = limiter.for_account(Target(Exchange.BYBIT, Environment.TESTNET), 1)
    await alice.acquire("fetch_ticker")
    await bob.acquire("fetch_ticker")
    await elsewhere.acquire("fetch_ticker")
    assert clock.elapsed == 0
    [(bucket, waited)] = await bob.acquire("fetch_ticker")
    assert bucket == "ip"
    assert waited == pytest.approx(1.0)


async def test_account_buckets_are_per_account_and_category(clock: VirtualClock) -> None:
    limits = VenueLimits(account={Category.ORDER: (Rate(2, 1, burst=1),), Category.QUERY: (Rate(2, 1, burst=1),)})
    limiter = RateLimiter({Exchange.BYBIT: limits}, timing=Timing(clock=clock.time, sleep=asyncio.sleep))
    alice, bob = limiter.for_account(BYBIT_DEMO, 1), limiter.for_account(BYBIT_DEMO, 2)
    await alice.acquire("place_order")
    await alice.acquire("fetch_order")
    await bob.acquire("cancel_order")
    assert clock.elapsed == 0
    [(bucket, waited)] = await alice.acquire("amend_order")
    assert bucket == "order"
    assert waited == pytest.approx(1.0)


async def test_a_venue_refusal_pauses_the_account_unless_its_code_names_the_ip(clock: VirtualClock) -> None:
    limiter = RateLimiter(timing=Timing(clock=clock.time, sleep=asyncio.sleep))
    account = limiter.for_account(BYBIT_DEMO, 1)
    account.penalize("place_order", RateLimitedError("too many visits", retry_after=2, code=10006))
    assert limiter.bucket((BYBIT_DEMO, Scope.IP, 0), DEFAULT_LIMITS[Exchange.BYBIT].ip[0]).tokens > 0
    await account.acquire("fetch_ticker")  # public data is not held up by one account's order limit
    assert clock.elapsed == 0
    await account.acquire("place_order")
    assert clock.elapsed == pytest.approx(2 + 1 / 8)

    account.penalize("fetch_positions", RateLimitedError("access too frequent", code=403))
    with pytest.raises(WouldPassDeadline) as refused:
        await account.acquire("fetch_ticker", deadline=clock.now + 30)
    assert refused.value.wait >= 600  # Bybit's IP ban lasts ten minutes


async def test_binance_weighs_calls_over_all_symbols_more(clock: VirtualClock) -> None:
    limiter = RateLimiter(timing=Timing(clock=clock.time, sleep=asyncio.sleep))
    account = limiter.for_account(BINANCE_TESTNET, 1)
    ip = limiter.bucket((BINANCE_TESTNET, Scope.IP, 0), DEFAULT_LIMITS[Exchange.BINANCE].ip[0])
    await account.acquire("fetch_open_orders", all_symbols=False)
    assert ip.tokens == pytest.approx(239)
    await account.acquire("fetch_open_orders", all_symbols=True)
    assert ip.tokens == pytest.approx(199)
    await account.acquire("place_order")  # orders count against ORDERS, not the IP weight
    assert ip.tokens == pytest.approx(199)


async def test_the_paper_exchange_is_not_limited(clock: VirtualClock) -> None:
    account = RateLimiter(timing=Timing(clock=clock.time, sleep=asyncio.sleep)).for_account(BYBIT_PAPER, 1)
    for _ in range(1000):
        assert await account.acquire("place_order") == []
    assert clock.elapsed == 0


def test_every_request_of_the_protocol_has_a_category() -> None:
    members = {name for name, _ in inspect.getmembers(ExchangeAdapter) if not name.startswith("_")}
    requests = {name for name in members if not name.startswith("watch_")} - {"target", "close"}
    assert set(METHOD_CATEGORIES) == requests


@pytest.mark.parametrize("venue", list(DEFAULT_LIMITS.values()), ids=[str(e) for e in DEFAULT_LIMITS])
def test_default_rates_never_exceed_the_venue_window(venue: VenueLimits) -> None:
    rates = [*venue.ip, *(rate for rates in venue.account.values() for rate in rates)]
    assert rates
    for rate in rates:
        assert rate.burst + rate.per_second * rate.period == pytest.approx(rate.limit)


def test_limits_refuse_what_could_never_be_served() -> None:
    with pytest.raises(ValidationError, match="exceeds the IP burst"):
        VenueLimits(ip=(Rate(100, 60, burst=10),), ip_weights={"fetch_tickers": 40})
    with pytest.raises(ValidationError, match="unknown methods"):
        VenueLimits(ip_weights={"fetch_everything": 1})
    with pytest.raises(ValidationError):
        Rate(10, 1, burst=10)
