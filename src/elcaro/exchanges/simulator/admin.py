"""The admin API under ``/sim/admin``: move the market, fund accounts, change faults, save and restore the venue.

Loopback callers only, with ``Authorization: Bearer <admin token>``; plain JSON in and out (not Bybit's envelope),
``{"error": ...}`` with HTTP 400 for a request it cannot carry out. Numbers are decimal strings, markets Bybit ids.

- ``POST /sim/admin/mark`` ``{"symbol", "price", "last"?}``: move the mark (and last) price; answers the ticker.
- ``POST /sim/admin/candle`` ``{"symbol", "open", "high", "low", "close", "volume"?, "timestamp"?, "timeframe"?}``:
  walk a bar's path (stops, TP/SL and limits inside it act at their own prices); answers the ticker.
- ``POST /sim/admin/book`` ``{"symbol", "bids": [[price, size], ...], "asks": [...]}``: the book takers walk (and
  use up); both sides empty clears it.
- ``POST /sim/admin/funding`` ``{"symbol", "rate"}``: settle one funding interval now.
- ``POST /sim/admin/deposit`` ``{"api_key", "amount"}``: a negative amount withdraws; answers the balance.
- ``GET`` / ``PUT /sim/admin/faults``: the fault configuration (``FaultConfig``), replaced and reseeded by a PUT.
- ``GET`` / ``PUT /sim/admin/snapshot``: the venue's whole state, and carrying on from one.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web
from pydantic import ValidationError as PydanticValidationError

from elcaro.exchanges.simulator.app import Service
from elcaro.exchanges.simulator.config import FaultConfig
from elcaro.exchanges.simulator.faults import Faults
from elcaro.exchanges.simulator.market import ticker
from elcaro.exchanges.simulator.venue import Market, Venue
from elcaro.exchanges.simulator.wire import BybitError, dumps
from elcaro.models.errors import ElcaroError
from elcaro.models.market import BookLevel, Candle, OrderBook
from elcaro.models.timeframe import Timeframe

PREFIX = "/sim/admin"


class AdminError(Exception):
    """A request the admin API cannot carry out, with the reason."""


def _decimal(body: dict[str, Any], name: str, default: Decimal | None = None) -> Decimal:
    value = body.get(name)
    if value is None and default is not None:
        return default
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise AdminError(f"{name}: a decimal number is required, got {value!r}") from None


def _market(venue: Venue, body: dict[str, Any]) -> Market:
    try:
        return venue.market(body.get("symbol"))
    except BybitError as exc:
        raise AdminError(exc.message) from None


def _levels(rows: Any, name: str) -> tuple[BookLevel, ...]:
    if not isinstance(rows, list):
        raise AdminError(f"{name}: a list of [price, size] is required")
    return tuple(BookLevel(_decimal({"price": row[0]}, "price"), _decimal({"size": row[1]}, "size")) for row in rows)


def set_mark(venue: Venue, body: dict[str, Any]) -> dict[str, Any]:
    market = _market(venue, body)
    last = body.get("last")
    venue.set_price(market.id, _decimal(body, "price"), None if last is None else _decimal(body, "last"))
    return ticker(venue, market)


def apply_candle(venue: Venue, body: dict[str, Any]) -> dict[str, Any]:
    market = _market(venue, body)
    timeframe = body.get("timeframe")
    length = Timeframe.parse(timeframe).ms if timeframe is not None else 60_000
    now = venue.engine.now()
    timestamp = int(body.get("timestamp", now - now % length))
    close = _decimal(body, "close")
    candle = Candle(
        timestamp,
        _decimal(body, "open", close),
        _decimal(body, "high", close),
        _decimal(body, "low", close),
        close,
        _decimal(body, "volume", Decimal(0)),
    )
    venue.apply_candle(market.id, candle, timeframe)
    return ticker(venue, market)


def set_book(venue: Venue, body: dict[str, Any]) -> dict[str, Any]:
    market = _market(venue, body)
    bids, asks = _levels(body.get("bids", []), "bids"), _levels(body.get("asks", []), "asks")
    if not bids and not asks:
        venue.engine.clear_order_book(market.symbol)
    else:
        venue.engine.set_order_book(OrderBook(market.symbol, bids, asks, venue.engine.now()))
    return ticker(venue, market)


def apply_funding(venue: Venue, body: dict[str, Any]) -> dict[str, Any]:
    market = _market(venue, body)
    venue.apply_funding(market.id, _decimal(body, "rate"))
    return ticker(venue, market)


def deposit(venue: Venue, body: dict[str, Any]) -> dict[str, Any]:
    account = venue.account(str(body.get("api_key", "")))
    if account is None:
        raise AdminError("api_key: no account has this key")
    amount = _decimal(body, "amount")
    if amount >= 0:
        balance = venue.engine.deposit(account.account_id, amount)
    else:
        balance = venue.engine.withdraw(account.account_id, -amount)
    return {"wallet": str(balance.wallet), "available": str(balance.available)}


def routes(service: Service) -> list[web.RouteDef]:
    """The admin routes, acting on whichever venue ``service`` holds when a request comes."""

    def guarded(action: Callable[[dict[str, Any]], Any]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            remote = request.remote or ""
            if not _loopback(remote):
                return web.json_response({"error": "the admin API answers loopback callers only"}, status=403)
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(token.encode(), service.admin_token.encode()):
                return web.json_response({"error": "a valid admin bearer token is required"}, status=401)
            try:
                body = await request.json() if request.can_read_body else {}
                if not isinstance(body, dict):
                    raise AdminError("the body must be a JSON object")
                return web.json_response(action(body), dumps=dumps)
            except (AdminError, ElcaroError, PydanticValidationError, ValueError, KeyError, IndexError) as exc:
                return web.json_response({"error": str(exc)}, status=400)

        return handle

    def on_venue(action: Callable[[Venue, dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], Any]:
        return lambda body: action(service.venue, body)

    def get_faults(body: dict[str, Any]) -> Any:
        return service.faults.config.model_dump(mode="json")

    def put_faults(body: dict[str, Any]) -> Any:
        service.faults = Faults(FaultConfig.model_validate(body))
        return get_faults(body)

    def get_snapshot(body: dict[str, Any]) -> Any:
        return service.venue.snapshot()

    def put_snapshot(body: dict[str, Any]) -> Any:
        service.restore(body)
        return {"accounts": len(service.venue.engine.account_ids)}

    return [
        web.post(f"{PREFIX}/mark", guarded(on_venue(set_mark))),
        web.post(f"{PREFIX}/candle", guarded(on_venue(apply_candle))),
        web.post(f"{PREFIX}/book", guarded(on_venue(set_book))),
        web.post(f"{PREFIX}/funding", guarded(on_venue(apply_funding))),
        web.post(f"{PREFIX}/deposit", guarded(on_venue(deposit))),
        web.get(f"{PREFIX}/faults", guarded(get_faults)),
        web.put(f"{PREFIX}/faults", guarded(put_faults)),
        web.get(f"{PREFIX}/snapshot", guarded(get_snapshot)),
        web.put(f"{PREFIX}/snapshot", guarded(put_snapshot)),
    ]


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
