"""Fault plans: rates partition one draw, rules draw from their own seeded generators, latency distributions."""

from __future__ import annotations

import statistics
from collections import Counter

from elcaro.exchanges.simulator import Apply, FaultConfig, FaultRule, Latency
from elcaro.exchanges.simulator.faults import FaultKind, Faults


def _kinds(faults: Faults, n: int, path: str = "/v5/order/create") -> Counter[object]:
    return Counter(None if (fault := faults.plan("POST", path).fault) is None else fault.kind for _ in range(n))


def test_rates_split_the_requests_between_the_faults() -> None:
    rule = FaultRule(path="/v5/order/*", errors={10016: 0.1}, http_5xx_rate=0.2, timeout_rate=0.1, drop_rate=0.1)

    kinds = _kinds(Faults(FaultConfig(seed=1, rules=(rule,))), 10_000)

    assert abs(kinds[FaultKind.ERROR] - 1000) < 150
    assert abs(kinds[FaultKind.HTTP_5XX] - 2000) < 200
    assert abs(kinds[FaultKind.TIMEOUT] - 1000) < 150
    assert abs(kinds[FaultKind.DROP] - 1000) < 150
    assert abs(kinds[None] - 5000) < 250


def test_a_seed_gives_the_same_faults_and_another_seed_others() -> None:
    rule = FaultRule(errors={10006: 0.3, 10016: 0.2})

    def draws(seed: int) -> list[object]:
        faults = Faults(FaultConfig(seed=seed, rules=(rule,)))
        return [faults.plan("GET", "/v5/market/tickers").fault for _ in range(50)]

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)


def test_a_rule_added_later_does_not_change_an_earlier_rules_draws() -> None:
    orders = FaultRule(path="/v5/order/*", http_5xx_rate=0.5)
    market = FaultRule(path="/v5/market/*", http_5xx_rate=0.5)
    alone = Faults(FaultConfig(seed=9, rules=(orders,)))
    with_other = Faults(FaultConfig(seed=9, rules=(orders, market)))

    for _ in range(30):
        with_other.plan("GET", "/v5/market/tickers")
        assert alone.plan("POST", "/v5/order/create") == with_other.plan("POST", "/v5/order/create")


def test_rules_apply_to_their_paths_and_methods_only() -> None:
    rule = FaultRule(path="/v5/order/*", method="POST", timeout_rate=1.0, timeout_apply=Apply.BEFORE, hold_ms=700)
    faults = Faults(FaultConfig(rules=(rule,)))

    fault = faults.plan("POST", "/v5/order/create").fault
    assert fault is not None and (fault.kind, fault.apply, fault.hold_ms) == (FaultKind.TIMEOUT, Apply.BEFORE, 700)
    assert faults.plan("GET", "/v5/order/realtime").fault is None
    assert faults.plan("POST", "/v5/position/set-leverage").fault is None


def test_latencies_follow_their_distribution_and_add_up_across_rules() -> None:
    fixed = FaultRule(path="/v5/*", latency=Latency(kind="fixed", ms=5))
    uniform = FaultRule(path="/v5/*", latency=Latency(kind="uniform", ms=10, high_ms=20))
    lognormal = FaultRule(path="/slow", latency=Latency(kind="lognormal", ms=50, sigma=0.5))
    faults = Faults(FaultConfig(seed=2, rules=(fixed, uniform, lognormal)))

    fast = [faults.plan("GET", "/v5/market/time").latency_ms for _ in range(500)]
    slow = [faults.plan("GET", "/slow").latency_ms for _ in range(2000)]

    assert all(15 <= ms <= 25 for ms in fast)  # 5 + 10..20
    assert abs(statistics.median(fast) - 20) < 1
    assert abs(statistics.median(slow) - 50) < 3
    assert max(slow) > 2 * statistics.median(slow)  # a long tail
