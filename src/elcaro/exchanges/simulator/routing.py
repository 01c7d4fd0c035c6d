"""What an endpoint is: a method, a path, whether it is signed, and a handler from parameters to Bybit's ``result``.

Handlers are plain functions of a ``Call``, synchronous like the engine they drive, so one request is applied whole
before the next one starts; they refuse with ``BybitError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from elcaro.exchanges.simulator.config import AccountConfig
from elcaro.exchanges.simulator.venue import Venue


@dataclass(frozen=True, slots=True)
class Call:
    venue: Venue
    params: Mapping[str, Any]
    """The query (GET) or the JSON body (POST)."""
    signer: AccountConfig | None = None
    """The account that signed the request; None on public endpoints."""

    @property
    def account(self) -> AccountConfig:
        if self.signer is None:
            raise RuntimeError("a public endpoint has no account")  # a route declared public by mistake
        return self.signer

    @property
    def account_id(self) -> str:
        return self.account.account_id


Handler = Callable[[Call], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    signed: bool
