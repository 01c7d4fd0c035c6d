"""Bybit v5 request signing: HMAC-SHA256 of ``timestamp + api_key + recv_window + payload``, hex.

The payload is the query string exactly as sent for GET and the raw body for POST. A request is refused, in this
order, for an unknown key (10003), a timestamp outside ``[server − recv_window, server + 1 s)`` (10002, Bybit's
rule) and a signature that does not match (10004). ``X-BAPI-SIGN-TYPE: 2`` names HMAC (the only type served; RSA
keys are not).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping

from elcaro.exchanges.simulator import codes
from elcaro.exchanges.simulator.config import AccountConfig
from elcaro.exchanges.simulator.wire import BybitError

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60_000
FUTURE_TOLERANCE_MS = 1000


def sign(secret: str, timestamp: str, api_key: str, recv_window: str, payload: str) -> str:
    message = f"{timestamp}{api_key}{recv_window}{payload}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def authenticate(
    headers: Mapping[str, str],
    payload: str,
    *,
    accounts: Callable[[str], AccountConfig | None],
    now_ms: int,
) -> AccountConfig:
    """The account the request is signed for; ``BybitError`` when it is not signed properly."""
    api_key = headers.get("X-BAPI-API-KEY", "")
    account = accounts(api_key) if api_key else None
    if account is None:
        raise BybitError(codes.INVALID_KEY, codes.message(codes.INVALID_KEY))
    timestamp = headers.get("X-BAPI-TIMESTAMP", "")
    recv_window = headers.get("X-BAPI-RECV-WINDOW", str(DEFAULT_RECV_WINDOW_MS))
    if not timestamp.isdigit() or not recv_window.isdigit() or not 0 < int(recv_window) <= MAX_RECV_WINDOW_MS:
        raise BybitError(codes.TIMESTAMP, "invalid request, please check your timestamp and recv_window param")
    if not now_ms - int(recv_window) <= int(timestamp) < now_ms + FUTURE_TOLERANCE_MS:
        raise BybitError(
            codes.TIMESTAMP,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{timestamp}],server_timestamp[{now_ms}],recv_window[{recv_window}]",
        )
    if headers.get("X-BAPI-SIGN-TYPE", "2") != "2":
        raise BybitError(codes.BAD_SIGNATURE, "error sign! only HMAC signatures (X-BAPI-SIGN-TYPE 2) are served")
    expected = sign(account.api_secret.get_secret_value(), timestamp, api_key, recv_window, payload)
    if not hmac.compare_digest(expected, headers.get("X-BAPI-SIGN", "").lower()):
        raise BybitError(codes.BAD_SIGNATURE, f"error sign! origin_string[{timestamp}{api_key}{recv_window}{payload}]")
    return account
