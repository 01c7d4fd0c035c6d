"""Token buckets per key and endpoint group, per address, on a clock the test moves."""

from __future__ import annotations

from elcaro.exchanges.simulator import RateLimitConfig, RateRule
from elcaro.exchanges.simulator.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.seconds = 100.0

    def monotonic(self) -> float:
        return self.seconds

    def wall_ms(self) -> int:
        return int(self.seconds * 1000)


def _limiter(clock: Clock, **config: object) -> RateLimiter:
    return RateLimiter(RateLimitConfig.model_validate(config), monotonic=clock.monotonic, wall_ms=clock.wall_ms)


def test_a_bucket_bursts_to_its_size_then_refills_at_its_rate() -> None:
    clock = Clock()
    limiter = _limiter(clock, per_key=[RateRule(paths=("/v5/order/create",), requests=10, per_seconds=1)])

    verdicts = [limiter.per_key("key", "/v5/order/create") for _ in range(11)]

    assert [verdict.allowed for verdict in verdicts if verdict] == [True] * 10 + [False]
    assert [verdict.remaining for verdict in verdicts if verdict][:3] == [9, 8, 7]
    refused = verdicts[-1]
    assert refused is not None and refused.reset_ms == 100_100  # a token every 100 ms
    assert refused.headers() == {
        "X-Bapi-Limit": "10",
        "X-Bapi-Limit-Status": "0",
        "X-Bapi-Limit-Reset-Timestamp": "100100",
    }
    clock.seconds += 0.125
    again = limiter.per_key("key", "/v5/order/create")
    assert again is not None and again.allowed and again.reset_ms == 100_125  # not refused: the time now


def test_paths_of_one_rule_share_a_bucket_and_keys_have_their_own() -> None:
    clock = Clock()
    rule = RateRule(paths=("/v5/order/create", "/v5/order/amend"), requests=2)
    limiter = _limiter(clock, per_key=[rule])

    assert limiter.per_key("a", "/v5/order/create").allowed  # type: ignore[union-attr]
    assert limiter.per_key("a", "/v5/order/amend").allowed  # type: ignore[union-attr]
    assert not limiter.per_key("a", "/v5/order/create").allowed  # type: ignore[union-attr]
    assert limiter.per_key("b", "/v5/order/create").allowed  # type: ignore[union-attr]
    assert limiter.per_key("a", "/v5/position/list") is None  # no rule names it


def test_the_first_matching_rule_wins_and_patterns_match_paths() -> None:
    clock = Clock()
    rules = [RateRule(paths=("/v5/order/cancel-all",), requests=1), RateRule(paths=("/v5/order/*",), requests=50)]
    limiter = _limiter(clock, per_key=rules)

    assert limiter.per_key("a", "/v5/order/cancel-all").limit == 1  # type: ignore[union-attr]
    assert limiter.per_key("a", "/v5/order/cancel").limit == 50  # type: ignore[union-attr]


def test_addresses_share_one_limit_over_every_path_and_switching_off_lets_all_through() -> None:
    clock = Clock()
    limiter = _limiter(clock, per_ip=RateRule(paths=("*",), requests=600, per_seconds=5))
    allowed = [limiter.per_ip("127.0.0.1").allowed for _ in range(601)]  # type: ignore[union-attr]
    assert allowed.count(False) == 1 and not allowed[-1]
    assert limiter.per_ip("127.0.0.2").allowed  # type: ignore[union-attr]

    off = _limiter(clock, enabled=False)
    assert off.per_ip("127.0.0.1") is None and off.per_key("a", "/v5/order/create") is None
