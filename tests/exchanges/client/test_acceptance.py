"""Acceptance: 1,000 order placements through a venue that fails at random end with exactly one order each.

Ten accounts place a hundred orders each, all at once, through one pool. The venue (seeded, so
every run is the same run) drops requests before they arrive, loses answers after it acted, hangs,
lets requests land seconds late, answers 5xx and rate-limit errors, and its order query lags
behind its book. It keeps Bybit's ``orderLinkId`` rule, refusing a client id it already has.

Each caller behaves as the services will: it places its order with a deterministic client id and,
when the client reports an outcome it cannot vouch for (a network error, the venue unavailable or
rate limited), places it again with the same id. At the end every intended order is on its venue
exactly once, every order the client reported is the venue's own, and no caller was told an order
was refused.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry

from client.fakes import (
    BYBIT_DEMO,
    Fail,
    FakeVenue,
    Fault,
    Hang,
    LandLate,
    LoseAnswer,
    ScriptedAdapter,
    Slow,
    limit_order,
    settle,
)
from client.virtual_time import VirtualClock
from elcaro.exchanges.client import ExchangeClientPool, Timing
from elcaro.models import ExchangeKeys, Order, Target
from elcaro.models.errors import (
    ExchangeError,
    ExchangeUnavailableError,
    NetworkError,
    RateLimitedError,
)

ACCOUNTS = 10
ORDERS_PER_ACCOUNT = 100
ROUNDS = 10  # a caller's patience: placements of one intent before it would give up
QUERY_LAG = 0.1  # seconds before a placed order shows in the venue's order query (shorter than the first back-off)


class RandomFaults:
    """Picks what goes wrong with each request, from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.injected: Counter[str] = Counter()
        self._menus: dict[str, list[tuple[float, Callable[[], Fault]]]] = {
            "place_order": [
                (0.06, lambda: Fail(NetworkError("connection reset before sending"))),
                (0.08, LoseAnswer),
                (0.03, lambda: Hang(applied=False)),
                (0.03, lambda: Hang(applied=True)),
                (0.05, lambda: LandLate(after=self.rng.uniform(0.05, 8))),
                (0.06, lambda: Fail(ExchangeUnavailableError("503 service unavailable", code=503))),
                (
                    0.04,
                    lambda: Fail(RateLimitedError("too many visits", retry_after=self.rng.uniform(0, 2), code=10006)),
                ),
                (0.05, lambda: Slow(self.rng.uniform(0, 3))),
            ],
            "fetch_order": [
                (0.06, lambda: Fail(NetworkError("read timeout"))),
                (0.02, Hang),
                (0.05, lambda: Fail(ExchangeUnavailableError("502 bad gateway", code=502))),
                (0.03, lambda: Fail(RateLimitedError("too many visits", code=10006))),
            ],
        }

    def __call__(self, method: str) -> Fault | None:
        draw = self.rng.random()
        for chance, make in self._menus.get(method, []):
            if draw < chance:
                fault = make()
                self.injected[f"{method}:{type(fault).__name__}"] += 1
                return fault
            draw -= chance
        return None


@pytest.mark.parametrize("seed", [20240601, 7])
@pytest.mark.parametrize("report_duplicates", [False, True], ids=["venue-refusal-passed-on", "existing-order-reported"])
async def test_a_thousand_placements_end_with_exactly_one_order_each(
    clock: VirtualClock, registry: CollectorRegistry, report_duplicates: bool, seed: int
) -> None:
    rng = random.Random(seed)  # noqa: S311 - a repeatable run, not a secret
    faults = RandomFaults(rng)
    adapters: dict[int, ScriptedAdapter] = {}

    def open_adapter(user_id: int, target: Target, keys: ExchangeKeys | None) -> ScriptedAdapter:
        assert keys is not None and keys.wallet_address is not None
        venue = FakeVenue(query_lag=QUERY_LAG)
        adapter = ScriptedAdapter(venue, target, faults=faults, report_duplicates=report_duplicates)
        adapters[int(keys.wallet_address)] = adapter
        return adapter

    async def keys(user_id: int, target: Target) -> ExchangeKeys:
        return ExchangeKeys(wallet_address=str(user_id))

    timing = Timing(clock=clock.time, sleep=asyncio.sleep, random=rng.random)
    reported: dict[tuple[int, str], Order] = {}
    told_refused: list[ExchangeError] = []
    rounds_needed: Counter[int] = Counter()

    async def place(pool: ExchangeClientPool, user_id: int, n: int) -> None:
        order = limit_order((user_id, n))
        for round_ in range(1, ROUNDS + 1):
            client = await pool.get(user_id, BYBIT_DEMO)
            try:
                reported[user_id, order.client_order_id] = await client.place_order(order)
            except (NetworkError, ExchangeUnavailableError, RateLimitedError):
                continue  # the outcome is not certain: place it again, with the same id
            except ExchangeError as refusal:
                told_refused.append(refusal)
            rounds_needed[round_] += 1
            return

    async with ExchangeClientPool(open_adapter, keys, registry=registry, timing=timing) as pool:
        await asyncio.gather(
            *(place(pool, user, n) for n in range(ORDERS_PER_ACCOUNT) for user in range(1, ACCOUNTS + 1))
        )
        for adapter in adapters.values():
            await settle(adapter)  # every request that was still on its way has reached its venue

    assert told_refused == []
    assert len(reported) == ACCOUNTS * ORDERS_PER_ACCOUNT  # none lost: every caller was told its order is placed
    for user_id, adapter in adapters.items():
        venue = adapter.venue
        intended = {limit_order((user_id, n)).client_order_id for n in range(ORDERS_PER_ACCOUNT)}
        assert set(venue.orders) == intended  # nothing missing, nothing extra
        assert set(venue.placed.values()) == {1}  # none doubled
        for client_order_id in intended:
            assert reported[user_id, client_order_id] == venue.orders[client_order_id]  # the venue's own order
        assert {argument for method, argument in adapter.sent if method == "place_order"} == intended

    # The run really went through the failures it is about.
    for kind in ("LoseAnswer", "Hang", "LandLate", "Fail"):
        assert faults.injected[f"place_order:{kind}"] > 10, kind
    assert faults.injected["fetch_order:Fail"] > 10
    refused_duplicates = sum(sum(adapter.venue.refused_duplicates.values()) for adapter in adapters.values())
    assert refused_duplicates > 10
    recovered = registry.get_sample_value(
        "elcaro_exchange_recovered_writes_total", {"exchange": "bybit", "environment": "demo", "method": "place_order"}
    )
    assert recovered is not None and recovered > 50
    assert sum(count for round_, count in rounds_needed.items() if round_ > 1) > 0  # callers placed again too
