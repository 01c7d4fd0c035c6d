"""Orders through the unified client (and bare ccxt) against the simulator, beside a hand-written signed request.

The simulator runs in a child process on 127.0.0.1 (rate limits and faults off), so the CPU time measured here is
the client's alone. Each repeat places N orders one after another, alternating a market order (buy, then sell, so
the account stays flat) and a resting GTC limit order, three ways: the platform's own path (``ExchangeClient`` over
our Bybit adapter: order model, instrument checks, rate limiter with the venue's limits lifted so that pacing is not
what is timed, retry bookkeeping, metrics, then ccxt), ``ccxt.async_support.bybit.create_order`` alone, and the
baseline: the same POST /v5/order/create built, signed (HMAC-SHA256) and sent with a plain aiohttp session.
Only the create calls are timed; each resting order is canceled right after, untimed, because the paper engine's
margin check walks the account's open orders and a growing book would time the server rather than the client.
Prints orders per second and client CPU microseconds per order (medians over the repeats) and each path's ratio to
the baseline.

    .venv/bin/python benchmarks/simulator_orders.py [--orders N] [--repeats R]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt  # type: ignore[import-untyped]

from elcaro.exchanges.client import ExchangeClient
from elcaro.exchanges.client.limits import Category, Rate, VenueLimits
from elcaro.exchanges.client.ratelimit import RateLimiter
from elcaro.exchanges.factory import create_adapter
from elcaro.exchanges.simulator import AccountConfig, RateLimitConfig, SimulatorConfig, start_simulator
from elcaro.models import Exchange, ExchangeKeys, Order, OrderType, Secret, Side, Target, make_client_order_id

SYMBOL, MARKET_ID = "BTC/USDT:USDT", "BTCUSDT"
DEMO = Target.parse("bybit:demo")
RECV_WINDOW = "5000"


@dataclass(frozen=True)
class Keys:
    api_key: str
    secret: str


@dataclass(frozen=True)
class Run:
    orders_per_second: float
    cpu_us_per_order: float


async def serve(config_json: str) -> None:
    """Child process: run the simulator, print its URL, stop when the parent closes stdin."""
    simulator = await start_simulator(SimulatorConfig.model_validate_json(config_json))
    print(simulator.url, flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await simulator.stop()


def order_params(n: int) -> tuple[str, str, str | None]:
    """The n-th order: (side, type, limit price); market orders alternate sides, limits rest 10 % below."""
    if n % 2 == 0:
        return ("Buy" if n % 4 == 0 else "Sell"), "Market", None
    return "Buy", "Limit", "54000"


def signed(keys: Keys, payload: str) -> dict[str, str]:
    stamp = str(time.time_ns() // 1_000_000)
    message = f"{stamp}{keys.api_key}{RECV_WINDOW}{payload}".encode()
    return {
        "X-BAPI-API-KEY": keys.api_key,
        "X-BAPI-TIMESTAMP": stamp,
        "X-BAPI-RECV-WINDOW": RECV_WINDOW,
        "X-BAPI-SIGN": hmac.new(keys.secret.encode(), message, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }


async def post(session: aiohttp.ClientSession, url: str, keys: Keys, request: dict[str, Any]) -> dict[str, Any]:
    payload = json.dumps(request)
    async with session.post(url, data=payload, headers=signed(keys, payload)) as response:
        answer: dict[str, Any] = await response.json()
    if answer["retCode"] != 0:
        raise RuntimeError(f"the simulator refused: {answer}")
    return answer


Place = Callable[[int], Awaitable[str | None]]
"""Places the n-th order; returns the id of an order left resting."""


def baseline(session: aiohttp.ClientSession, url: str, keys: Keys) -> Place:
    async def place(n: int) -> str | None:
        side, kind, price = order_params(n)
        request = {"category": "linear", "symbol": MARKET_ID, "side": side, "orderType": kind, "qty": "0.001"}
        if price is not None:
            request |= {"price": price, "timeInForce": "GTC"}
        answer = await post(session, f"{url}/v5/order/create", keys, request)
        return answer["result"]["orderId"] if price is not None else None

    return place


def with_client(client: ExchangeClient) -> Place:
    async def place(n: int) -> str | None:
        side, kind, price = order_params(n)
        order = Order(
            make_client_order_id("bench", secrets.token_hex(8)),
            SYMBOL,
            Side(side.lower()),
            OrderType(kind.lower()),
            Decimal("0.001"),
            price=Decimal(price) if price is not None else None,
        )
        placed = await client.place_order(order)
        return placed.exchange_order_id if price is not None else None

    return place


def unified_client(url: str, keys: Keys) -> ExchangeClient:
    adapter = create_adapter(DEMO, ExchangeKeys(Secret(keys.api_key), Secret(keys.secret)), base_url=url)
    lifted = VenueLimits(account={Category.ORDER: (Rate(10**9, 1, 10**8),)}, ip=(Rate(10**9, 1, 10**8),))
    return ExchangeClient(adapter, limiter=RateLimiter({Exchange.BYBIT: lifted}).for_account(DEMO, "bench"))


def with_ccxt(exchange: Any) -> Place:
    async def place(n: int) -> str | None:
        side, kind, price = order_params(n)
        order = await exchange.create_order(SYMBOL, kind.lower(), side.lower(), 0.001, price and float(price))
        return order["id"] if price is not None else None

    return place


async def timed(place: Place, cancel: Callable[[str], Awaitable[Any]], count: int) -> Run:
    wall = cpu = 0.0
    for n in range(count):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        resting = await place(n)
        wall += time.perf_counter() - wall_start
        cpu += time.process_time() - cpu_start
        if resting is not None:
            await cancel(resting)
    return Run(count / wall, cpu / count * 1e6)


async def benchmark(url: str, keys: Keys, count: int, repeats: int) -> dict[str, list[Run]]:
    exchange = ccxt.bybit(
        {
            "apiKey": keys.api_key,
            "secret": keys.secret,
            "enableRateLimit": False,  # ccxt's own throttle (20 ms a request for Bybit) would be all it measured
            "options": {
                "defaultType": "swap",
                "fetchMarkets": {"types": ["linear"]},
                "enableUnifiedAccount": True,
                "enableUnifiedMargin": False,
                "unifiedMarginStatus": 6,
            },
        }
    )
    exchange.has["fetchCurrencies"] = False
    exchange.urls["api"] = dict.fromkeys(exchange.urls["api"], url)
    client = unified_client(url, keys)
    runs: dict[str, list[Run]] = {"hand-written aiohttp": [], "ccxt bybit": [], "unified client": []}
    async with aiohttp.ClientSession() as session:

        async def cancel(order_id: str) -> Any:
            request = {"category": "linear", "symbol": MARKET_ID, "orderId": order_id}
            return await post(session, f"{url}/v5/order/cancel", keys, request)

        try:
            await exchange.load_markets()
            await client.load_instruments()
            places = {
                "hand-written aiohttp": baseline(session, url, keys),
                "ccxt bybit": with_ccxt(exchange),
                "unified client": with_client(client),
            }
            for place in places.values():
                await timed(place, cancel, min(count, 50))  # warm both paths: connections, caches, first calls
            for _ in range(repeats):
                for name, place in places.items():
                    runs[name].append(await timed(place, cancel, count))
        finally:
            await exchange.close()
            await client.close()
    return runs


def report(runs: dict[str, list[Run]], count: int, repeats: int) -> None:
    print(f"{count} orders (market and resting limit, alternating) x {repeats} repeats, medians; client CPU only")
    print(f"{'client':<22}{'orders/s':>12}{'CPU us/order':>16}")
    medians = {}
    for name, results in runs.items():
        rate = statistics.median(run.orders_per_second for run in results)
        cpu = statistics.median(run.cpu_us_per_order for run in results)
        medians[name] = (rate, cpu)
        print(f"{name:<22}{rate:>12.0f}{cpu:>16.0f}")
    base_rate, base_cpu = medians["hand-written aiohttp"]
    for name in ("ccxt bybit", "unified client"):
        rate, cpu = medians[name]
        print(f"{name} / baseline: {rate / base_rate:.2f}x the orders/s, {cpu / base_cpu:.2f}x the CPU per order")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    keys = Keys("bench-" + secrets.token_hex(6), secrets.token_hex(18))
    account = AccountConfig(api_key=keys.api_key, api_secret=keys.secret, balance=10**9)
    config = SimulatorConfig(accounts=(account,), rate_limits=RateLimitConfig(enabled=False))
    child = subprocess.Popen(  # noqa: S603 - this very script, with the interpreter running it
        [sys.executable, __file__, "--serve", _config_json(config, keys)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        runs = asyncio.run(benchmark(url, keys, args.orders, args.repeats))
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
    report(runs, args.orders, args.repeats)


def _config_json(config: SimulatorConfig, keys: Keys) -> str:
    """The config for the child; pydantic masks secrets when dumping, so the account's secret is put back."""
    data = json.loads(config.model_dump_json())
    data["accounts"][0]["api_secret"] = keys.secret
    return json.dumps(data)


if __name__ == "__main__":
    main()
