"""The ccxt Binance USDⓈ-M instance the adapter drives, with every option that removes a request of ccxt's own."""

from __future__ import annotations

from typing import Any

import ccxt.pro  # type: ignore[import-untyped]

from elcaro.exchanges.ccxt.errors import VenueError, VenueErrors, remember_response
from elcaro.exchanges.ccxt.urls import rebase_urls
from elcaro.models import Environment
from elcaro.models.errors import (
    AuthenticationError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    InvalidOrderError,
    NetworkError,
    OrderNotFoundError,
    RateLimitedError,
)

RECV_WINDOW_MS = 5000
TIMEOUT_MS = 10_000


class ElcaroBinance(ccxt.pro.binanceusdm):  # type: ignore[misc]
    """ccxt's Binance USDⓈ-M (REST and websocket), remembering each response for error translation."""

    def handle_errors(
        self,
        code: int,
        reason: str,
        url: str,
        method: str,
        headers: Any,
        body: str,
        response: Any,
        request_headers: Any,
        request_body: Any,
    ) -> Any:
        remember_response(code, headers, response)
        return super().handle_errors(code, reason, url, method, headers, body, response, request_headers, request_body)


def options() -> dict[str, Any]:
    """ccxt options, each one a request ccxt would otherwise make."""
    return {
        "defaultType": "swap",
        "defaultSubType": "linear",
        # USDⓈ-M perpetuals only: /fapi/v1/exchangeInfo, not spot's and COIN-M's as well.
        "fetchMarkets": {"types": ["linear"]},
        # No margin pair lists (two private sapi requests) at market load.
        "fetchMargins": False,
        # No GET /fapi/v1/time at load; recvWindow covers normal clock skew.
        "adjustForTimeDifference": False,
        "recvWindow": RECV_WINDOW_MS,
        # watch_positions streams changes only; ccxt's REST snapshot before the first update is a hidden request
        # (the caller reconciles with fetch_positions when it starts watching).
        "watchPositions": {"fetchPositionsSnapshot": False, "awaitPositionsSnapshot": False},
        # Every order carries the platform's client id, so ccxt never generates one with its broker prefix.
        "broker": {},
    }


def create_exchange(
    environment: Environment, *, api_key: str | None, secret: str | None, base_url: str | None = None
) -> ElcaroBinance:
    """A Binance USDⓈ-M instance; TESTNET is Binance's futures demo trading (ccxt's futures sandbox is retired)."""
    # ccxt's own throttle is off: the unified client rate-limits every venue once (see the Bybit module).
    config: dict[str, Any] = {"enableRateLimit": False, "timeout": TIMEOUT_MS, "options": options()}
    if api_key is not None and secret is not None:
        config |= {"apiKey": api_key, "secret": secret}
    exchange = ElcaroBinance(config)
    # Currencies come from a private spot (sapi) request the futures adapter has no use for.
    exchange.has = {**exchange.has, "fetchCurrencies": False}
    if environment is Environment.TESTNET:
        exchange.enable_demo_trading(True)
    if base_url is not None:
        exchange.urls["api"] = rebase_urls(exchange.urls["api"], base_url)
    return exchange


def _read(body: Any) -> VenueError:
    if not isinstance(body, dict) or "code" not in body or "msg" not in body:
        return VenueError(None, None)
    code = str(body["code"])
    if code in ("200", "0"):
        return VenueError(None, None)
    return VenueError(code, str(body["msg"]))


def _retry_after(headers: Any) -> float | None:
    lowered = {str(key).lower(): value for key, value in headers.items()}
    value = lowered.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


DUPLICATE_CLIENT_ID = "-4116"
MARGIN_TYPE_UNCHANGED = "-4046"
LEVERAGE_REFUSED = frozenset(
    {
        "-4028",  # leverage not valid (above the bracket's maximum)
        "-4161",  # leverage reduction not allowed in isolated mode with an open position
        "-2027",  # position above what the new leverage allows
    }
)

ERRORS = VenueErrors(
    venue="binance",
    read=_read,
    retry_after=_retry_after,
    statuses={403: RateLimitedError},  # HTTP 403: the web application firewall's limit was broken
    codes={
        "-2014": AuthenticationError,  # API key format invalid
        "-2015": AuthenticationError,  # invalid API key, IP or permissions
        "-1022": AuthenticationError,  # signature invalid
        "-1003": RateLimitedError,  # too many requests (HTTP 429 or 418)
        "-1008": ExchangeUnavailableError,  # server overloaded
        "-1001": NetworkError,  # internal error; unable to process the request: its outcome is unknown
        "-1007": NetworkError,  # timeout waiting for the back end: the order may or may not exist
        "-2018": InsufficientFundsError,  # balance insufficient
        "-2019": InsufficientFundsError,  # margin insufficient
        "-1111": InvalidOrderError,  # precision over the maximum
        "-1013": InvalidOrderError,  # filter failure
        "-4164": InvalidOrderError,  # notional below the minimum
        "-4015": InvalidOrderError,  # client order id not valid
        "-2022": InvalidOrderError,  # reduce-only order rejected
        "-5022": InvalidOrderError,  # post-only order would take
        "-2011": OrderNotFoundError,  # unknown order (cancel)
        "-2013": OrderNotFoundError,  # order does not exist
        "-4116": InvalidOrderError,  # duplicate client order id: handled before it surfaces
    },
)
