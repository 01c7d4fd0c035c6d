"""The ccxt Bybit instance the adapter drives, with every option that removes a request ccxt would add on its own."""

from __future__ import annotations

import time
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


class ElcaroBybit(ccxt.pro.bybit):  # type: ignore[misc]
    """ccxt's Bybit (REST and websocket) with two changes: responses are remembered for error translation, and the
    ``Referer: CCXT`` broker tag ccxt puts on every POST is dropped (users' orders are attributed to no broker)."""

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

    def sign(self, path: str, api: Any = None, method: str = "GET", params: Any = None) -> Any:
        request = super().sign(path, ["public"] if api is None else api, method, {} if params is None else params)
        if request.get("headers"):
            request["headers"].pop("Referer", None)
        return request


def options() -> dict[str, Any]:
    """ccxt options, each one a request ccxt would otherwise make."""
    return {
        "defaultType": "swap",
        "defaultSubType": "linear",
        "defaultSettle": "USDT",
        # Only USDT/USDC linear instruments are loaded (instruments-info?category=linear, paged), not spot, inverse
        # and the option chains: four categories of requests fewer at start.
        "fetchMarkets": {"types": ["linear"]},
        # No GET /v5/market/time at load; the clock is NTP's business, and recvWindow covers normal skew.
        "adjustForTimeDifference": False,
        "recvWindow": RECV_WINDOW_MS,
        # watch_positions streams changes only; ccxt's REST snapshot before the first update is a hidden request
        # (the caller reconciles with fetch_positions when it starts watching).
        "watchPositions": {"fetchPositionsSnapshot": False, "awaitPositionsSnapshot": False},
        # Bybit accounts are unified trading accounts (UTA 2.0) now; saying so up front stops ccxt from asking
        # /v5/user/query-api and /v5/account/info before its first balance, order or websocket call.
        "enableUnifiedAccount": True,
        "enableUnifiedMargin": False,
        "unifiedMarginStatus": 6,
    }


def create_exchange(
    environment: Environment, *, api_key: str | None, secret: str | None, base_url: str | None = None
) -> ElcaroBybit:
    """A Bybit instance for ``environment``; ``base_url`` moves every REST and websocket URL to another host."""
    # ccxt's own throttle is off: the unified client (elcaro.exchanges.client) rate-limits every venue once, per
    # account, and a second limiter underneath would only add latency (50 ms before every Bybit order, 1 s before a
    # cancel-all at ccxt's weights).
    config: dict[str, Any] = {"enableRateLimit": False, "timeout": TIMEOUT_MS, "options": options()}
    if api_key is not None and secret is not None:
        config |= {"apiKey": api_key, "secret": secret}
    exchange = ElcaroBybit(config)
    # Currencies (deposit networks and the like) are a private request and nothing the adapter uses.
    exchange.has = {**exchange.has, "fetchCurrencies": False}
    if environment is Environment.DEMO:
        exchange.enable_demo_trading(True)
    elif environment is Environment.TESTNET:
        exchange.set_sandbox_mode(True)
    if base_url is not None:
        exchange.urls["api"] = rebase_urls(exchange.urls["api"], base_url)
    return exchange


def _read(body: Any) -> VenueError:
    if not isinstance(body, dict):
        return VenueError(None, None)
    code = body.get("retCode", body.get("ret_code"))
    message = body.get("retMsg", body.get("ret_msg"))
    if code is None or str(code) == "0":
        return VenueError(None, None)
    return VenueError(str(code), str(message) if message is not None else None)


def _retry_after(headers: Any) -> float | None:
    """Bybit says when the limit resets (``X-Bapi-Limit-Reset-Timestamp``, epoch ms) rather than how long to wait."""
    lowered = {str(key).lower(): value for key, value in headers.items()}
    reset = lowered.get("x-bapi-limit-reset-timestamp")
    if reset is None or not str(reset).isdigit():
        return None
    return max(0.0, int(reset) / 1000 - time.time())


DUPLICATE_CLIENT_ID = "110072"
LEVERAGE_NOT_MODIFIED = "110043"
MARGIN_MODE_NOT_MODIFIED = "110026"
ALREADY_FINAL = frozenset({"110001", "110008", "110010"})
"""Cancel refused: no such order, or it filled or ended first. Which of the three, a read-back tells."""
PROTECTION_NOT_MODIFIED = "34040"
LEVERAGE_REFUSED = frozenset(
    {
        "110013",  # cannot set leverage due to the risk limit level
        "110036",  # cross margin mode does not allow changing leverage
        "110038",  # portfolio margin mode does not allow changing leverage
    }
)

ERRORS = VenueErrors(
    venue="bybit",
    read=_read,
    retry_after=_retry_after,
    statuses={403: RateLimitedError},  # HTTP 403: the IP's rate limit was broken (Bybit bans it for a while)
    codes={
        "10003": AuthenticationError,  # invalid API key
        "10004": AuthenticationError,  # invalid signature
        "10005": AuthenticationError,  # permission denied for this key
        "10007": AuthenticationError,  # no API key in the request
        "10009": AuthenticationError,  # IP banned
        "10010": AuthenticationError,  # request IP not in the key's whitelist
        "33004": AuthenticationError,  # API key expired
        "10006": RateLimitedError,  # too many requests (per UID)
        "10018": RateLimitedError,  # too many requests (per IP)
        "10016": ExchangeUnavailableError,  # system error, try again later
        "10019": ExchangeUnavailableError,  # service restarting
        "5004": NetworkError,  # server timeout: the order may or may not exist
        "10001": InvalidOrderError,  # parameter error
        "110001": OrderNotFoundError,  # order does not exist
        "110007": InsufficientFundsError,  # available balance not enough
        "110004": InsufficientFundsError,
        "110012": InsufficientFundsError,
        "110044": InsufficientFundsError,
        "110045": InsufficientFundsError,
    },
)
