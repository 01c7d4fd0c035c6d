"""HyperLiquid order path: a full place_order through the adapter to the loopback fake, stock ccxt signing vs L1Signer.

Two adapters for the same agent key and wallet, the same in all but signing (``fast_signing``), place the same
resting limit orders (unique cloids, alternating BTC and ETH, some with attached TP/SL, which is still one signed
action) against the loopback HyperLiquid fake. Each call is timed end to end: the instrument checks, ccxt building
the order action, signing, the HTTP round trip on 127.0.0.1 and the fake's own work, which recovers the signer of
every request with libsecp256k1 and so costs both paths the same. Prints microseconds per order (median and p90
over every call of every repeat) and the ratio. Nothing leaves the machine; the key is made here and holds nothing.

    .venv/bin/python benchmarks/hyperliquid_order_path.py [--orders N] [--repeats R]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import secrets
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "exchanges"))

from fakes.hyperliquid import FakeHyperliquid

from elcaro.exchanges.hyperliquid.adapter import HyperliquidAdapter
from elcaro.exchanges.hyperliquid.exchange import create_exchange
from elcaro.exchanges.hyperliquid.signing import L1Signer
from elcaro.models import Environment, Exchange, Order, OrderType, Side, Target, make_client_order_id

TARGET = Target(Exchange.HYPERLIQUID, Environment.TESTNET)


def orders(count: int, run: str) -> list[Order]:
    """Resting buys well under the fake's mid prices; every fourth carries a TP/SL pair."""
    made = []
    for i in range(count):
        symbol, price, qty, tp, sl = (
            ("BTC/USDC:USDC", Decimal(25000 + i % 50), Decimal("0.001"), Decimal(33000), Decimal(24000))
            if i % 2 == 0
            else ("ETH/USDC:USDC", Decimal("1800.5"), Decimal("0.01"), Decimal(2200), Decimal(1700))
        )
        protection = {"take_profit": tp, "stop_loss": sl} if i % 4 == 3 else {}
        cid = make_client_order_id("benchmark", run, i)
        made.append(Order(cid, symbol, Side.BUY, OrderType.LIMIT, qty, price=price, **protection))  # type: ignore[arg-type]
    return made


async def time_path(adapter: HyperliquidAdapter, batch: list[Order]) -> list[float]:
    """Microseconds of each place_order, with the collector off so that a collection does not land on one call."""
    samples = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for order in batch:
            start = time.perf_counter_ns()
            await adapter.place_order(order)
            samples.append((time.perf_counter_ns() - start) / 1000)
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


def p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10)[-1]


async def run(count: int, repeats: int) -> None:
    agent_key = "0x" + secrets.token_hex(32)
    wallet = "0x" + secrets.token_hex(20)
    fake = await FakeHyperliquid(wallet, L1Signer(agent_key, is_mainnet=False).address).start()
    assert isinstance(fake, FakeHyperliquid)
    fake.account.value = Decimal(10) ** 12  # margin for every resting order of every repeat
    adapters = {
        name: HyperliquidAdapter(
            create_exchange(
                TARGET.environment, private_key=agent_key, wallet_address=wallet, base_url=fake.url, fast_signing=fast
            ),
            TARGET,
        )
        for name, fast in (("ccxt", False), ("elcaro", True))
    }
    results: dict[str, list[float]] = {name: [] for name in adapters}
    try:
        for adapter in adapters.values():
            await adapter.load_instruments()
            await time_path(adapter, orders(10, f"warm-up-{id(adapter)}"))  # connections open, caches filled
        for repeat in range(repeats):
            for name, adapter in adapters.items():  # interleaved, so drift hits both alike
                results[name] += await time_path(adapter, orders(count, f"{name}-{repeat}"))
    finally:
        for adapter in adapters.values():
            await adapter.close()
        await fake.stop()

    print(f"ccxt {ccxt_async.__version__}, {count} orders × {repeats} repeats per path, loopback fake")
    print(f"{'signing':<8}{'median µs/order':>17}{'p90 µs/order':>15}")
    for name, samples in results.items():
        print(f"{name:<8}{statistics.median(samples):>17.0f}{p90(samples):>15.0f}")
    ratio = statistics.median(results["ccxt"]) / statistics.median(results["elcaro"])
    print(f"ratio (median, stock ccxt ÷ elcaro): {ratio:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100, help="orders per path per repeat (default 100)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats (default 5)")
    args = parser.parse_args()
    asyncio.run(run(args.orders, args.repeats))


if __name__ == "__main__":
    main()
