"""Every kind of ccxt failure becomes the platform's error, with the venue's code, message and wait."""

from __future__ import annotations

from decimal import Decimal as D

import aiohttp
import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]
import pytest

from elcaro.exchanges.bybit.exchange import ERRORS as BYBIT
from elcaro.exchanges.ccxt.errors import Response, translate, translating
from elcaro.exchanges.ccxt.numbers import BadResponseError, dec, from_float, opt_dec, plain, price
from elcaro.exchanges.ccxt.urls import rebase_urls
from elcaro.exchanges.hyperliquid.exchange import ERRORS as HYPERLIQUID
from elcaro.models.errors import (
    AuthenticationError,
    ExchangeError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    InvalidOrderError,
    NetworkError,
    OrderNotFoundError,
    RateLimitedError,
)


def caused(exc: BaseException, cause: BaseException) -> BaseException:
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (ccxt_async.AuthenticationError("x"), AuthenticationError),
        (ccxt_async.PermissionDenied("x"), AuthenticationError),
        (ccxt_async.InsufficientFunds("x"), InsufficientFundsError),
        (ccxt_async.OrderNotFound("x"), OrderNotFoundError),
        (ccxt_async.InvalidOrder("x"), InvalidOrderError),
        (ccxt_async.BadSymbol("x"), InvalidOrderError),
        (ccxt_async.RateLimitExceeded("x"), RateLimitedError),
        (ccxt_async.DDoSProtection("x"), RateLimitedError),
        (ccxt_async.OnMaintenance("x"), ExchangeUnavailableError),
        (ccxt_async.RequestTimeout("x"), NetworkError),
        (ccxt_async.BadResponse("x"), NetworkError),
        (ccxt_async.InvalidNonce("x"), ExchangeError),
        (ccxt_async.NotSupported("x"), ExchangeError),
        # ccxt files every aiohttp connection error under ExchangeNotAvailable; only a failed connect is "not sent".
        (
            caused(ccxt_async.ExchangeNotAvailable("x"), aiohttp.ClientConnectorError(None, OSError(111, "refused"))),  # type: ignore[arg-type]
            ExchangeUnavailableError,
        ),
        (caused(ccxt_async.ExchangeNotAvailable("x"), aiohttp.ServerDisconnectedError()), NetworkError),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else value.__name__,
)
def test_ccxt_classes(raised: BaseException, expected: type[ExchangeError]) -> None:
    error = translate(raised, BYBIT)
    assert type(error) is expected and error.exchange == "bybit"


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (200, {"retCode": 10003, "retMsg": "API key is invalid."}, AuthenticationError, "10003"),
        (200, {"retCode": 110007, "retMsg": "ab not enough"}, InsufficientFundsError, "110007"),
        (200, {"retCode": 10016, "retMsg": "system error"}, ExchangeUnavailableError, "10016"),
        (200, {"retCode": 5004, "retMsg": "Server Timeout"}, NetworkError, "5004"),
        (403, None, RateLimitedError, "HTTP 403"),  # Bybit's IP ban
        (404, None, ExchangeError, "HTTP 404"),
        (504, None, NetworkError, "HTTP 504"),
        (500, None, ExchangeUnavailableError, "HTTP 500"),
        (429, None, RateLimitedError, "HTTP 429"),
    ],
)
def test_the_venue_code_and_status_decide_first(status: int, body: object, expected: type, code: str) -> None:
    error = translate(ccxt_async.ExchangeError("bybit {...}"), BYBIT, Response(status, {}, body))
    assert type(error) is expected and error.code == code


def test_hyperliquid_messages_decide_without_codes() -> None:
    body = {"status": "err", "response": "User or API Wallet 0xabc does not exist."}
    error = translate(ccxt_async.InvalidOrder("hyperliquid ..."), HYPERLIQUID, Response(200, {}, body))
    assert isinstance(error, AuthenticationError) and error.venue_message == body["response"]
    statuses = {
        "status": "ok",
        "response": {"type": "order", "data": {"statuses": [{"error": "Insufficient margin to place order. asset=0"}]}},
    }
    error = translate(ccxt_async.InsufficientFunds("x"), HYPERLIQUID, Response(200, {}, statuses))
    assert isinstance(error, InsufficientFundsError) and error.code is None


def test_signed_urls_are_kept_out_of_messages() -> None:
    raised = ccxt_async.ExchangeNotAvailable(
        "binance GET https://fapi.binance.com/fapi/v1/order?symbol=BTCUSDT&timestamp=1&signature=deadbeef 503"
    )
    error = translate(raised, BYBIT)
    assert "deadbeef" not in str(error) and "https://fapi.binance.com/fapi/v1/order?…" in str(error)


def test_translating_leaves_no_ccxt_exception_and_no_cause() -> None:
    with pytest.raises(OrderNotFoundError) as raised, translating(BYBIT):
        raise ccxt_async.OrderNotFound("bybit order not found")
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_timeouts_outside_ccxt_are_network_errors() -> None:
    with pytest.raises(NetworkError), translating(BYBIT):
        raise TimeoutError


def test_numbers_are_read_exactly_and_never_from_floats() -> None:
    assert dec("0.1") + dec("0.2") == D("0.3") and dec(7) == D(7)
    with pytest.raises(BadResponseError):
        dec(0.1)
    with pytest.raises(BadResponseError):
        dec("NaN")
    assert opt_dec("") is None and price("0") is None and price("") is None and price("1.5") == D("1.5")
    assert from_float(0.1) == D("0.1") and from_float(104250.5) == D("104250.5") and from_float(1e-05) == D("0.00001")
    assert plain(D("1E-7")) == "0.0000001" and plain(D("100.0")) == "100.0"


def test_rebase_keeps_paths_and_websocket_schemes() -> None:
    moved = rebase_urls(
        {"rest": "https://api.{hostname}", "v1": "https://fapi.binance.com/fapi/v1", "ws": {"a": "wss://x.io/ws"}},
        "https://sim.local:9443/prefix",
    )
    assert moved == {
        "rest": "https://sim.local:9443/prefix",
        "v1": "https://sim.local:9443/prefix/fapi/v1",
        "ws": {"a": "wss://sim.local:9443/prefix/ws"},
    }
