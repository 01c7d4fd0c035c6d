"""The write state machine: a lost answer is resolved by a look-up before anything is sent again."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from client.conftest import EXACT
from client.fakes import BTC, Fail, Hang, LandLate, LoseAnswer, ScriptedAdapter, Then, limit_order
from client.virtual_time import VirtualClock
from elcaro.exchanges.client import ClientSettings, ExchangeClient, RetryPolicy, Timing
from elcaro.models import OrderStatus
from elcaro.models.errors import (
    AuthenticationError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    InvalidOrderError,
    NetworkError,
    OrderNotFoundError,
    RateLimitedError,
)


def lost() -> NetworkError:
    return NetworkError("read timeout", exchange="bybit")


def placements(adapter: ScriptedAdapter) -> list[object]:
    return [argument for method, argument in adapter.sent if method == "place_order"]


# ---------------------------------------------------------------------------------- place


async def test_an_order_placed_before_its_answer_was_lost_is_found_not_placed_again(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("place_order", LoseAnswer())
    order = limit_order()
    placed = await client.place_order(order)
    assert adapter.calls == ["place_order", "fetch_order"]
    assert placed == adapter.venue.orders[order.client_order_id]
    assert adapter.venue.placed[order.client_order_id] == 1


async def test_an_order_that_never_arrived_is_placed_again_with_the_same_id(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("place_order", Fail(lost()))
    order = limit_order()
    placed = await client.place_order(order)
    assert adapter.calls == ["place_order", "fetch_order", "place_order"]
    assert placements(adapter) == [order.client_order_id, order.client_order_id]
    assert placed.status is OrderStatus.OPEN
    assert adapter.venue.placed[order.client_order_id] == 1


async def test_an_order_whose_request_hung_after_arriving_is_found(
    clock: VirtualClock, client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("place_order", Hang(applied=True))
    placed = await client.place_order(limit_order())
    assert adapter.calls == ["place_order", "fetch_order"]
    assert placed.status is OrderStatus.OPEN
    assert clock.elapsed == pytest.approx(EXACT.retry.request_timeout + 0.25)


@pytest.mark.parametrize(
    "refusal",
    [InvalidOrderError("qty below minimum", code=10001), InsufficientFundsError("not enough margin", code=110007)],
    ids=lambda error: type(error).__name__,
)
async def test_a_refused_order_is_looked_up_once_and_never_sent_again(
    client: ExchangeClient, adapter: ScriptedAdapter, refusal: Exception
) -> None:
    adapter.then("place_order", Fail(refusal))
    with pytest.raises(type(refusal)):
        await client.place_order(limit_order())
    assert adapter.calls == ["place_order", "fetch_order"]


async def test_a_refused_id_the_venue_already_holds_is_that_order(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    # An earlier call placed it and ended without an answer; this call's attempt is refused as a duplicate.
    order = limit_order()
    adapter.venue.place(order)
    placed = await client.place_order(order)
    assert placed == adapter.venue.orders[order.client_order_id]
    assert adapter.calls == ["place_order", "fetch_order"]


async def test_a_bad_key_is_neither_retried_nor_looked_up(client: ExchangeClient, adapter: ScriptedAdapter) -> None:
    adapter.then("place_order", Fail(AuthenticationError("invalid api key", code=10003)))
    with pytest.raises(AuthenticationError):
        await client.place_order(limit_order())
    assert adapter.calls == ["place_order"]


@pytest.mark.parametrize(
    "answer",
    [ExchangeUnavailableError("503", code=503), RateLimitedError("too many visits", retry_after=1, code=10006)],
    ids=lambda error: type(error).__name__,
)
async def test_an_order_the_venue_turned_away_is_sent_again_without_a_look_up(
    client: ExchangeClient, adapter: ScriptedAdapter, answer: Exception
) -> None:
    adapter.then("place_order", Fail(answer))
    placed = await client.place_order(limit_order())
    assert adapter.calls == ["place_order", "place_order"]
    assert placed.status is OrderStatus.OPEN


async def test_a_duplicate_refusal_after_a_lost_answer_is_resolved_by_a_look_up(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    # The venue's query lags: the first look-up misses the order the lost request placed, so the
    # client sends it again, and the venue refuses the id as a duplicate.
    adapter.then("place_order", LoseAnswer()).then("fetch_order", Fail(OrderNotFoundError("not yet")))
    order = limit_order()
    placed = await client.place_order(order)
    assert adapter.calls == ["place_order", "fetch_order", "place_order", "fetch_order"]
    assert adapter.venue.refused_duplicates[order.client_order_id] == 1
    assert placed == adapter.venue.orders[order.client_order_id]


async def test_an_adapter_reporting_the_existing_order_on_a_duplicate_is_answer_enough(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.report_duplicates = True
    adapter.then("place_order", LoseAnswer()).then("fetch_order", Fail(OrderNotFoundError("not yet")))
    order = limit_order()
    placed = await client.place_order(order)
    assert adapter.calls == ["place_order", "fetch_order", "place_order"]
    assert placed == adapter.venue.orders[order.client_order_id]


async def test_funds_refused_after_a_lost_answer_are_checked_against_the_venue(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    # The first request placed the order and used the margin: the second is refused for funds.
    adapter.then("place_order", LoseAnswer(), Fail(InsufficientFundsError("not enough margin", code=110007)))
    adapter.then("fetch_order", Fail(OrderNotFoundError("not yet")))
    placed = await client.place_order(limit_order())
    assert placed.status is OrderStatus.OPEN


async def test_a_request_that_lands_late_never_makes_a_second_order(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("place_order", LandLate(after=5))
    order = limit_order()
    placed = await client.place_order(order)
    await adapter.late[0]
    assert adapter.venue.placed[order.client_order_id] == 1
    assert adapter.venue.refused_duplicates[order.client_order_id] == 1
    assert placed == adapter.venue.orders[order.client_order_id]


async def test_when_time_runs_out_with_the_outcome_unknown_the_network_error_is_raised(
    clock: VirtualClock, adapter: ScriptedAdapter, timing: Timing
) -> None:
    settings = ClientSettings(retry=RetryPolicy(jitter=0, deadline=3, attempts=50))
    client = ExchangeClient(adapter, settings=settings, timing=timing)
    adapter.then("place_order", Fail(lost()), *[Fail(ExchangeUnavailableError("503", code=503))] * 50)
    with pytest.raises(NetworkError):
        await client.place_order(limit_order())
    assert clock.elapsed < 3
    assert adapter.venue.orders == {}


async def test_a_look_up_that_cannot_answer_leaves_the_outcome_unknown(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    adapter.then("place_order", LoseAnswer()).then("fetch_order", *[Fail(lost())] * 10)
    with pytest.raises(NetworkError):
        await client.place_order(limit_order())
    assert adapter.count("place_order") == 1  # never sent again while the venue could not say


async def test_a_refusal_blaming_an_instrument_rule_reloads_the_instruments(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    await client.instrument(BTC)
    adapter.then("place_order", Fail(InvalidOrderError("Qty invalid", code=10001, venue_message="qty step")))
    with pytest.raises(InvalidOrderError):
        await client.place_order(limit_order())
    await client.instrument(BTC)
    assert adapter.instrument_loads == [False, True]


async def test_a_refusal_about_something_else_keeps_the_instruments(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    await client.instrument(BTC)
    adapter.then("place_order", Fail(InvalidOrderError("reduce-only order would increase the position")))
    with pytest.raises(InvalidOrderError):
        await client.place_order(limit_order())
    await client.instrument(BTC)
    assert adapter.instrument_loads == [False]


# ---------------------------------------------------------------------------------- cancel


async def test_a_cancel_whose_answer_was_lost_is_reported_from_the_look_up(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    order = await client.place_order(limit_order())
    adapter.then("cancel_order", LoseAnswer())
    canceled = await client.cancel_order(BTC, order.client_order_id)
    assert canceled.status is OrderStatus.CANCELED
    assert adapter.calls[1:] == ["cancel_order", "fetch_order"]


async def test_a_cancel_that_never_arrived_is_sent_again(client: ExchangeClient, adapter: ScriptedAdapter) -> None:
    order = await client.place_order(limit_order())
    adapter.then("cancel_order", Fail(lost()))
    canceled = await client.cancel_order(BTC, order.client_order_id)
    assert canceled.status is OrderStatus.CANCELED
    assert adapter.calls[1:] == ["cancel_order", "fetch_order", "cancel_order"]


async def test_a_cancel_answered_not_found_after_a_timeout_reports_the_fill(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    order = await client.place_order(limit_order())
    adapter.then("cancel_order", Fail(lost()))
    adapter.then("fetch_order", Then(lambda: adapter.venue.fill(order.client_order_id)))  # fills right after
    result = await client.cancel_order(BTC, order.client_order_id)
    assert result.status is OrderStatus.FILLED
    assert adapter.calls[1:] == ["cancel_order", "fetch_order", "cancel_order", "fetch_order"]


async def test_cancelling_a_canceled_order_again_reports_it(client: ExchangeClient, adapter: ScriptedAdapter) -> None:
    order = await client.place_order(limit_order())
    await client.cancel_order(BTC, order.client_order_id)
    again = await client.cancel_order(BTC, order.client_order_id)
    assert again.status is OrderStatus.CANCELED


async def test_cancelling_an_order_the_venue_never_had_says_so(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    with pytest.raises(OrderNotFoundError):
        await client.cancel_order(BTC, limit_order().client_order_id)
    assert adapter.calls == ["cancel_order", "fetch_order"]


# ---------------------------------------------------------------------------------- amend


async def test_an_amend_whose_answer_was_lost_is_not_sent_again_when_it_applied(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    order = await client.place_order(limit_order())
    adapter.then("amend_order", LoseAnswer())
    amended = await client.amend_order(BTC, order.client_order_id, price=D("49000.0"))
    assert amended.price == D("49000.0")
    assert adapter.calls[1:] == ["amend_order", "fetch_order"]


async def test_an_amend_that_never_arrived_is_sent_again(client: ExchangeClient, adapter: ScriptedAdapter) -> None:
    order = await client.place_order(limit_order())
    adapter.then("amend_order", Fail(lost()))
    amended = await client.amend_order(BTC, order.client_order_id, qty=D("0.02"))
    assert amended.qty == D("0.02")
    assert adapter.calls[1:] == ["amend_order", "fetch_order", "amend_order"]


async def test_an_amend_lost_while_the_order_filled_is_too_late(
    client: ExchangeClient, adapter: ScriptedAdapter
) -> None:
    order = await client.place_order(limit_order())
    adapter.then("amend_order", Fail(lost()))
    adapter.venue.fill(order.client_order_id)
    with pytest.raises(InvalidOrderError, match="too late"):
        await client.amend_order(BTC, order.client_order_id, price=D("49000.0"))
    assert adapter.count("amend_order") == 1


# ---------------------------------------------------------------------------------- settings


async def test_absolute_settings_are_retried_like_reads(client: ExchangeClient, adapter: ScriptedAdapter) -> None:
    adapter.then("set_leverage", LoseAnswer()).then("cancel_all_orders", Fail(lost()))
    assert await client.set_leverage(BTC, D(200)) == D(100)
    assert await client.cancel_all_orders() == 0
    assert adapter.calls == ["set_leverage", "set_leverage", "cancel_all_orders", "cancel_all_orders"]
