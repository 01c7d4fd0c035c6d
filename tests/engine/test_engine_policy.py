"""Error classification, backoff growth and cap, and the circuit breaker's three states."""

from __future__ import annotations

import pytest
from engine_machines import START_MS
from hypothesis import given
from hypothesis import strategies as st

from elcaro.engine import (
    Backoff,
    Breakers,
    BreakerSettings,
    BreakerState,
    CircuitOpenError,
    Disposition,
    UnprotectedPositionError,
    classify,
)
from elcaro.exchanges.paper import ManualClock
from elcaro.models.errors import (
    AuthenticationError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    InvalidOrderError,
    NetworkError,
    NotFoundError,
    OrderNotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ValidationError,
)


@pytest.mark.parametrize(
    ("error", "disposition"),
    [
        (NetworkError("timeout"), Disposition.RETRY),
        (RateLimitedError("slow down", retry_after=1.0), Disposition.RETRY),
        (ExchangeUnavailableError("maintenance"), Disposition.RETRY),
        (CircuitOpenError("candles", 1_000), Disposition.RETRY),
        (TimeoutError(), Disposition.RETRY),
        (ConnectionResetError(), Disposition.RETRY),
        (RuntimeError("a bug"), Disposition.RETRY),
        (InvalidOrderError("below minimum"), Disposition.SKIP),
        (InsufficientFundsError("no margin"), Disposition.SKIP),
        (OrderNotFoundError("gone"), Disposition.SKIP),
        (NotFoundError("no such instrument"), Disposition.SKIP),
        (ValidationError("bad value", field="qty"), Disposition.SKIP),
        (AuthenticationError("key revoked"), Disposition.EMERGENCY),
        (PermissionDeniedError("no trade permission"), Disposition.EMERGENCY),
        (UnprotectedPositionError("naked"), Disposition.EMERGENCY),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_classification(error: BaseException, disposition: Disposition) -> None:
    assert classify(error) is disposition


def test_backoff_grows_by_the_factor_up_to_the_cap() -> None:
    backoff = Backoff(base_ms=500, factor=3.0, cap_ms=10_000, max_attempts=4)
    assert [backoff.delay_ms(n) for n in range(1, 7)] == [500, 1_500, 4_500, 10_000, 10_000, 10_000]
    assert [backoff.exhausted(n) for n in range(1, 6)] == [False, False, False, False, True]
    assert not Backoff(max_attempts=None).exhausted(10_000)


@given(st.integers(1, 10_000), st.integers(1, 10**6), st.floats(1.0, 10.0), st.integers(0, 10**7))
def test_backoff_never_shrinks_and_never_passes_the_cap(attempt: int, base: int, factor: float, extra: int) -> None:
    backoff = Backoff(base_ms=base, factor=factor, cap_ms=base + extra)
    assert base <= backoff.delay_ms(attempt) <= base + extra
    assert backoff.delay_ms(attempt) <= backoff.delay_ms(attempt + 1)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"base_ms": 0}, "base_ms"),
        ({"factor": 0.5}, "factor"),
        ({"base_ms": 2_000, "cap_ms": 1_000}, "cap_ms"),
        ({"max_attempts": 0}, "max_attempts"),
    ],
)
def test_backoff_refuses_nonsense(values: dict[str, float], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        Backoff(**values)  # type: ignore[arg-type]
    assert error.value.field == field


def test_breaker_opens_after_k_failures_within_the_window() -> None:
    clock = ManualClock(START_MS)
    breaker = Breakers(BreakerSettings(failures=3, window_ms=10_000, cooldown_ms=5_000), clock)["candles"]
    breaker.failure()
    clock.advance(10_000)  # the first failure leaves the window
    breaker.failure()
    breaker.failure()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    assert breaker.status().recent_failures == 2
    breaker.failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    with pytest.raises(CircuitOpenError, match="candles is paused") as refused:
        breaker.check()
    assert refused.value.retry_in_ms == 5_000
    assert breaker.status().retry_at == clock() + 5_000


def test_half_open_lets_one_trial_through_and_its_success_closes() -> None:
    clock = ManualClock(START_MS)
    breaker = Breakers(BreakerSettings(failures=1, window_ms=1_000, cooldown_ms=5_000), clock)["place_order"]
    breaker.failure()
    clock.advance(4_999)
    assert breaker.state is BreakerState.OPEN
    clock.advance(1)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()  # one trial at a time
    breaker.success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow() and breaker.allow()
    assert breaker.status().recent_failures == 0


def test_a_failed_trial_opens_the_breaker_for_another_cool_down() -> None:
    clock = ManualClock(START_MS)
    breaker = Breakers(BreakerSettings(failures=2, window_ms=1_000, cooldown_ms=5_000), clock)["scan"]
    breaker.failure()
    breaker.failure()
    clock.advance(5_000)
    assert breaker.allow()
    breaker.failure()
    assert breaker.state is BreakerState.OPEN
    clock.advance(4_999)
    assert not breaker.allow()
    clock.advance(1)
    assert breaker.allow()


def test_breakers_are_per_operation() -> None:
    clock = ManualClock(START_MS)
    breakers = Breakers(BreakerSettings(failures=1, window_ms=1_000, cooldown_ms=1_000), clock)
    breakers["candles"].failure()
    assert not breakers["candles"].allow()
    assert breakers["place_order"].allow()
    assert [(s.operation, s.state) for s in breakers.statuses()] == [
        ("candles", BreakerState.OPEN),
        ("place_order", BreakerState.CLOSED),
    ]
    breakers.reset()
    assert breakers["candles"].allow()


@pytest.mark.parametrize("field", ["failures", "window_ms", "cooldown_ms"])
def test_breaker_settings_refuse_zero(field: str) -> None:
    with pytest.raises(ValidationError) as error:
        BreakerSettings(**{field: 0})  # type: ignore[arg-type]
    assert error.value.field == field
