"""What the unified client adds to a call: the bare adapter against the client, in the same run.

An in-memory adapter answers at once, so the figures are the client's own work per call: rate-limit
buckets (an account bucket and the IP bucket, with limits too generous to ever wait), the request
timeout, metrics, retry bookkeeping and, for tickers, the cache. Prints the median microseconds per
call of each path and the difference.

    .venv/bin/python benchmarks/exchange_client_overhead.py [--calls N] [--repeats R]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import cast

from prometheus_client import CollectorRegistry

from elcaro.exchanges.client import Category, ExchangeClient, Rate, RateLimiter, VenueLimits, metrics_for
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import Environment, Exchange, Order, OrderStatus, OrderType, Position, Side, Target
from elcaro.models.market import Ticker

TARGET = Target(Exchange.BYBIT, Environment.DEMO)
GENEROUS = Rate(1e12, 1, burst=1e9)
LIMITS = VenueLimits(account={category: (GENEROUS,) for category in Category}, ip=(GENEROUS,))
TICKER = Ticker("BTC/USDT:USDT", Decimal(50000), None, None, None, None, Decimal(1), Decimal(1), 0)


class InstantAdapter:
    """The few protocol methods the benchmark calls, answered from memory."""

    target = TARGET

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        return []

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return TICKER

    async def place_order(self, order: Order) -> Order:
        return order.with_update(status=OrderStatus.OPEN)

    async def close(self) -> None:
        return None


def order(n: int) -> Order:
    return Order(f"0x{n:032x}", "BTC/USDT:USDT", Side.BUY, OrderType.LIMIT, Decimal("0.01"), Decimal(50000))


async def median_us(call: Callable[[int], Awaitable[object]], calls: int, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for n in range(calls):
            await call(n)
        samples.append((time.perf_counter_ns() - start) / calls / 1000)
    return statistics.median(samples)


async def main(calls: int, repeats: int) -> None:
    bare = InstantAdapter()
    client = ExchangeClient(
        cast(ExchangeAdapter, bare),
        limiter=RateLimiter({Exchange.BYBIT: LIMITS}).for_account(TARGET, 1),
        metrics=metrics_for(CollectorRegistry()),
    )
    paths: list[tuple[str, Callable[[int], Awaitable[object]], Callable[[int], Awaitable[object]]]] = [
        ("fetch_positions", lambda n: bare.fetch_positions(), lambda n: client.fetch_positions()),
        (
            "fetch_ticker (cached)",
            lambda n: bare.fetch_ticker("BTC/USDT:USDT"),
            lambda n: client.fetch_ticker("BTC/USDT:USDT"),
        ),
        ("place_order", lambda n: bare.place_order(order(n)), lambda n: client.place_order(order(n))),
    ]
    print(f"{'call':<24}{'adapter µs':>12}{'client µs':>12}{'added µs':>12}")
    for name, direct, through in paths:
        adapter_us = await median_us(direct, calls, repeats)
        client_us = await median_us(through, calls, repeats)
        print(f"{name:<24}{adapter_us:>12.1f}{client_us:>12.1f}{client_us - adapter_us:>12.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.calls, arguments.repeats))
