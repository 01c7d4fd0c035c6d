"""Bybit's retCodes the simulator answers with, their wording, and the engine's refusals in those terms.

Codes and texts are Bybit's, so ccxt's ``exceptions`` table for bybit raises the class it raises against Bybit
(10001 BadRequest, 10002 InvalidNonce, 10003/10004 AuthenticationError, 10006/10018 RateLimitExceeded,
110001 OrderNotFound, 110007 InsufficientFunds, 110017/110072/110094 InvalidOrder, ...).
"""

from __future__ import annotations

from typing import Final

from elcaro.exchanges.paper.errors import DuplicateClientOrderIdError
from elcaro.models.errors import (
    ElcaroError,
    InsufficientFundsError,
    OrderNotFoundError,
)

SERVER_TIMEOUT: Final = 5004
PARAMS: Final = 10001
TIMESTAMP: Final = 10002
INVALID_KEY: Final = 10003
BAD_SIGNATURE: Final = 10004
RATE_LIMITED: Final = 10006
SERVICE_ERROR: Final = 10016
PATH_NOT_FOUND: Final = 10017
IP_RATE_LIMITED: Final = 10018
TPSL_NOT_MODIFIED: Final = 34040
ORDER_NOT_FOUND: Final = 110001
INSUFFICIENT_BALANCE: Final = 110007
ORDER_FINISHED: Final = 110008
ORDER_CANCELED: Final = 110010
REDUCE_ONLY: Final = 110017
MARGIN_MODE_NOT_MODIFIED: Final = 110026
LEVERAGE_NOT_MODIFIED: Final = 110043
MARGIN_INSUFFICIENT: Final = 110044
QTY_NOT_ABOVE_FILLED: Final = 110064
DUPLICATE_LINK_ID: Final = 110072
EXPECT_RISING: Final = 110092
EXPECT_FALLING: Final = 110093
BELOW_MIN_NOTIONAL: Final = 110094
SET_MARGIN_MODE_FAILED: Final = 3400045

MESSAGES: Final[dict[int, str]] = {
    SERVER_TIMEOUT: "Server Timeout",
    PARAMS: "params error",
    INVALID_KEY: "API key is invalid.",
    RATE_LIMITED: "Too many visits!",
    SERVICE_ERROR: "Internal System Error.",
    PATH_NOT_FOUND: "Route not found",
    IP_RATE_LIMITED: "Exceeded the IP Rate Limit.",
    TPSL_NOT_MODIFIED: "not modified",
    ORDER_NOT_FOUND: "order not exists or too late to cancel",
    INSUFFICIENT_BALANCE: "ab not enough for new order",
    ORDER_FINISHED: "order has been finished or canceled",
    ORDER_CANCELED: "order has been canceled",
    REDUCE_ONLY: "current position is zero, cannot fix reduce-only order qty",
    MARGIN_MODE_NOT_MODIFIED: "Cross/isolated margin mode is not modified",
    LEVERAGE_NOT_MODIFIED: "leverage not modified",
    MARGIN_INSUFFICIENT: "Available margin is insufficient",
    DUPLICATE_LINK_ID: "OrderLinkedID is duplicate",
    SET_MARGIN_MODE_FAILED: "Set margin mode failed",
}


def message(code: int) -> str:
    """Bybit's wording of ``code``; an injected code the simulator has no wording for says so."""
    return MESSAGES.get(code, f"simulated error {code}")


def code_of(error: ElcaroError) -> int:
    """The retCode for an engine refusal that the caller did not classify more precisely."""
    if isinstance(error, DuplicateClientOrderIdError):
        return DUPLICATE_LINK_ID
    if isinstance(error, InsufficientFundsError):
        return INSUFFICIENT_BALANCE
    if isinstance(error, OrderNotFoundError):
        return ORDER_NOT_FOUND
    return PARAMS
