"""HyperLiquid order signing: ccxt's own path against elcaro's L1Signer, on the same actions, in the same run.

Builds N realistic order actions with ccxt's create_orders_request (so prices, sizes and key order are what ccxt
sends), signs each with ccxt's sign_l1_action and with L1Signer, checks the signatures are identical and prints
microseconds per order action (median and p90 over every timed call) and the speed-up. An order action is one
signature however many legs it carries (an entry with its TP/SL is one action), so that is the unit that costs.
No network: signing is local.

    .venv/bin/python benchmarks/hyperliquid_signing.py [--orders N] [--repeats R]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import ssl
import statistics
import time
from collections.abc import Callable
from typing import Any

import ccxt  # type: ignore[import-untyped]
from ccxt.static_dependencies import keccak as ccxt_keccak  # type: ignore[import-untyped]

from elcaro.exchanges.hyperliquid.signing import L1Signer, Signature

GOAL_US = 500.0
WALLET = "0x" + "5a" * 20
VAULT = "0x" + hashlib.sha256(b"benchmark vault").digest()[:20].hex()
MARKETS = [
    {"name": "BTC", "szDecimals": "5", "markPx": "104250.0", "baseId": "0", "maxLeverage": "40"},
    {"name": "ETH", "szDecimals": "4", "markPx": "3874.5", "baseId": "1", "maxLeverage": "25"},
    {"name": "SOL", "szDecimals": "2", "markPx": "187.123", "baseId": "5", "maxLeverage": "20"},
    {"name": "kPEPE", "szDecimals": "0", "markPx": "0.012345", "baseId": "119", "maxLeverage": "10"},
]

Case = tuple[dict[str, Any], int, str | None]
"""An action, its nonce and the vault it trades for (None: the signer's own account)."""


def make_cases(exchange: Any, count: int, seed: int) -> list[Case]:
    """A copy-trading mix: mostly single entries, some with attached TP/SL, some batches and some vault orders."""
    rng = random.Random(seed)
    cases: list[Case] = []
    for i in range(count):
        legs = rng.choice([1, 1, 1, 1, 2, 3])
        raw_orders = []
        for leg in range(legs):
            market = rng.choice(MARKETS)
            mark = float(market["markPx"])
            step = 10 ** -int(market["szDecimals"])
            params: dict[str, Any] = {}
            kind = rng.choice(["limit", "limit", "market"])
            if kind == "limit":
                params["timeInForce"] = rng.choice(["GTC", "IOC", "ALO"])
            if rng.random() < 0.5:
                params["clientOrderId"] = "0x" + hashlib.sha256(f"{seed}-{i}-{leg}".encode()).digest()[:16].hex()
            if rng.random() < 0.2:
                params["reduceOnly"] = True
            elif legs == 1 and rng.random() < 0.4:
                params["stopLoss"] = {"triggerPrice": mark * rng.uniform(0.9, 0.98)}
                params["takeProfit"] = {"triggerPrice": mark * rng.uniform(1.02, 1.2)}
                params["grouping"] = rng.choice(["normalTpsl", "positionTpsl"])
            raw_orders.append(
                {
                    "symbol": f"{market['name'].upper()}/USDC:USDC",
                    "type": kind,
                    "side": rng.choice(["buy", "sell"]),
                    "amount": step * rng.randint(1, 100_000),
                    "price": mark * rng.uniform(0.95, 1.05),
                    "params": params,
                }
            )
        if legs > 1 and any("clientOrderId" in o["params"] for o in raw_orders):
            # ccxt wants a cloid on every order of a batch or on none.
            for leg, o in enumerate(raw_orders):
                o["params"]["clientOrderId"] = "0x" + hashlib.sha256(f"{seed}-{i}-{leg}".encode()).digest()[:16].hex()
        request = exchange.create_orders_request(raw_orders)
        vault = VAULT if rng.random() < 0.25 else None
        cases.append((request["action"], request["nonce"], vault))
    return cases


def time_calls(sign: Callable[[Case], Signature], cases: list[Case], repeats: int) -> list[float]:
    """Microseconds of every call, with the collector off as timeit does, so a collection does not land on one."""
    samples: list[float] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for case in cases:
                start = time.perf_counter_ns()
                sign(case)
                samples.append((time.perf_counter_ns() - start) / 1000)
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


def p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100, help="order actions to sign (default 100)")
    parser.add_argument("--repeats", type=int, default=5, help="passes over the actions per path (default 5)")
    parser.add_argument("--seed", type=int, default=20260101)
    args = parser.parse_args()

    key = hashlib.sha256(b"elcaro benchmark key, holds nothing").digest()
    exchange = ccxt.hyperliquid({"privateKey": "0x" + key.hex(), "walletAddress": WALLET})
    exchange.set_markets([exchange.parse_market(dict(m)) for m in MARKETS])
    signer = L1Signer(key, is_mainnet=True)
    cases = make_cases(exchange, args.orders, args.seed)

    def ccxt_sign(case: Case) -> Signature:
        action, nonce, vault = case
        signature: Signature = exchange.sign_l1_action(action, nonce, exchange.format_vault_address(vault))
        return signature

    def our_sign(case: Case) -> Signature:
        return signer.sign_l1_action(*case)

    mismatches = sum(ccxt_sign(case) != our_sign(case) for case in cases)
    if mismatches:
        raise SystemExit(f"{mismatches} of {len(cases)} signatures differ from ccxt's: the fast signer is wrong")

    pure_python_keccak = ccxt_keccak.SHA3 is getattr(ccxt_keccak, "_pure_python_sha3", None)
    orders_per_action = statistics.mean(len(action["orders"]) for action, _, _ in cases)
    keccak_backend = "pure Python" if pure_python_keccak else "OpenSSL"
    print(f"ccxt {ccxt.__version__}, {ssl.OPENSSL_VERSION}, ccxt's keccak: {keccak_backend}")
    print(f"{len(cases)} order actions ({orders_per_action:.2f} orders each), {args.repeats} repeats; all identical")

    results = {
        "ccxt": time_calls(ccxt_sign, cases, args.repeats),
        "elcaro": time_calls(our_sign, cases, args.repeats),
    }
    print(f"{'signer':<8}{'median µs/action':>18}{'p90 µs/action':>16}")
    for name, samples in results.items():
        print(f"{name:<8}{statistics.median(samples):>18.1f}{p90(samples):>16.1f}")

    ours = statistics.median(results["elcaro"])
    speedup = statistics.median(results["ccxt"]) / ours
    print(f"speed-up (median): {speedup:.0f}x")
    verdict = "met" if ours <= GOAL_US else "NOT met"
    ours_p90 = p90(results["elcaro"])
    print(f"goal ≤ {GOAL_US:.0f} µs per order action: {verdict} ({ours:.1f} µs median, {ours_p90:.1f} µs p90)")


if __name__ == "__main__":
    main()
