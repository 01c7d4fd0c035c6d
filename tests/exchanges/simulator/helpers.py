"""Talking to a running simulator: a ccxt Bybit client pointed at it, the admin API, and signed raw requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import aiohttp
import ccxt.async_support as ccxt

from elcaro.exchanges.simulator import RunningSimulator


def bybit_client(simulator: RunningSimulator, api_key: str, secret: str, **config: Any) -> Any:
    """ccxt's own Bybit client with every API URL on the simulator, and the options that keep it to the endpoints
    the simulator serves (linear markets only, no currencies, a unified account known up front)."""
    exchange = ccxt.bybit(
        {
            "apiKey": api_key,
            "secret": secret,
            "enableRateLimit": False,
            "options": {
                "defaultType": "swap",
                "defaultSubType": "linear",
                "fetchMarkets": {"types": ["linear"]},
                "enableUnifiedAccount": True,
                "enableUnifiedMargin": False,
                "unifiedMarginStatus": 6,
            },
        }
        | config
    )
    exchange.has["fetchCurrencies"] = False
    exchange.urls["api"] = dict.fromkeys(exchange.urls["api"], simulator.url)
    exchange.timeout_on_exit = 0  # ccxt waits 250 ms on close for TLS shutdowns; loopback has none
    return exchange


async def held(exchange: Any, symbol: str = "BTC/USDT:USDT") -> list[Any]:
    """Open positions; Bybit lists an asked-for symbol's empty one-way slot too (ccxt shows it with 0 contracts)."""
    return [position for position in await exchange.fetch_positions([symbol]) if position["contracts"]]


class Admin:
    """The simulator's admin API."""

    def __init__(self, simulator: RunningSimulator) -> None:
        self._url = f"{simulator.url}/sim/admin"
        self._headers = {"Authorization": f"Bearer {simulator.admin_token}"}
        self._session = aiohttp.ClientSession()

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        async with self._session.request(method, f"{self._url}/{path}", json=body, headers=self._headers) as response:
            answer = await response.json()
            assert response.status == 200, answer
            return answer

    async def mark(self, symbol: str, price: Decimal | str, last: Decimal | str | None = None) -> Any:
        body = {"symbol": symbol, "price": str(price)} | ({} if last is None else {"last": str(last)})
        return await self.call("POST", "mark", body)

    async def faults(self, *rules: dict[str, Any], seed: int = 0) -> Any:
        return await self.call("PUT", "faults", {"seed": seed, "rules": list(rules)})

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._session.close()


def signed_headers(
    api_key: str, secret: str, payload: str, *, timestamp: int | None = None, recv_window: str = "5000"
) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else time.time_ns() // 1_000_000)
    signature = hmac.new(secret.encode(), f"{stamp}{api_key}{recv_window}{payload}".encode(), hashlib.sha256)
    return {
        "X-BAPI-API-KEY": api_key,
        "X-BAPI-TIMESTAMP": stamp,
        "X-BAPI-RECV-WINDOW": recv_window,
        "X-BAPI-SIGN": signature.hexdigest(),
        "Content-Type": "application/json",
    }


def body(params: dict[str, Any]) -> str:
    return json.dumps(params)
