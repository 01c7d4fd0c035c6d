"""The aiohttp application: every Bybit endpoint behind the same pipeline, and the admin API beside it.

A request to a Bybit path goes through, in order: the per-address limit (HTTP 403 "access too frequent" over it,
as Bybit's IP limit), the faults drawn for it (latency, then at most one of: an error code, a 5xx, a timeout, a
dropped connection), the signature (signed paths), the per-key limit of its endpoint (retCode 10006 over it, the
``X-Bapi-Limit*`` headers on every signed answer) and finally its handler. A handler that fails unexpectedly is
logged and answered with Bybit's 10016, never with a traceback. The websockets (``streams``) are neither limited nor
faulted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from elcaro.exchanges.simulator import account, codes, executions, market, orders, positions
from elcaro.exchanges.simulator.auth import authenticate
from elcaro.exchanges.simulator.config import AccountConfig, Apply, SimulatorConfig
from elcaro.exchanges.simulator.faults import FaultKind, Faults
from elcaro.exchanges.simulator.ratelimit import RateLimiter
from elcaro.exchanges.simulator.routing import Call, Route
from elcaro.exchanges.simulator.streams import Streams
from elcaro.exchanges.simulator.venue import Venue
from elcaro.exchanges.simulator.wire import BybitError, answer, now_ms

log = logging.getLogger(__name__)

ROUTES: tuple[Route, ...] = (
    *market.ROUTES,
    *orders.ROUTES,
    *positions.ROUTES,
    *account.ROUTES,
    *executions.ROUTES,
)


class Service:
    """What the HTTP layer serves from: the venue (replaced whole by a restore), limits, faults, the admin token."""

    def __init__(self, config: SimulatorConfig, venue: Venue, admin_token: str) -> None:
        self.config = config
        self.venue = venue
        self.limiter = RateLimiter(config.rate_limits)
        self.faults = Faults(config.faults)
        self.admin_token = admin_token
        self.streams = Streams(venue, self.account)
        self._stopping = asyncio.Event()

    def account(self, api_key: str) -> AccountConfig | None:
        """The account of a key on the venue served now (a restore replaces the venue)."""
        return self.venue.account(api_key)

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Carry on from ``snapshot`` at once: requests after this call see the restored venue."""
        previous = self.venue
        self.venue = Venue.restore(self.config, snapshot)
        self.streams.bind(self.venue)
        previous.close()

    async def hold(self, ms: int) -> None:
        """Keep a request waiting, as a venue that timed out does; cut short when the simulator stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), ms / 1000)

    async def stop(self) -> None:
        """Release held requests and close the websockets, so the server can shut down at once."""
        self._stopping.set()
        await self.streams.close()


def _params(request: web.Request, body: bytes) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query)
    if not body:
        return {}
    try:
        params = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BybitError(codes.PARAMS, "params error: the body is not JSON") from None
    if not isinstance(params, dict):
        raise BybitError(codes.PARAMS, "params error: the body must be a JSON object")
    return params


def serve(service: Service, route: Route, request: web.Request, body: bytes) -> web.Response:
    """Authenticate, limit and run one request; its effect on the venue is complete when this returns."""
    headers: dict[str, str] = {}
    try:
        params = _params(request, body)
        signer = None
        if route.signed:
            payload = request.raw_path.partition("?")[2] if request.method == "GET" else body.decode("utf-8", "replace")
            signer = authenticate(request.headers, payload, accounts=service.account, now_ms=now_ms())
            verdict = service.limiter.per_key(signer.api_key, route.path)
            if verdict is not None:
                headers = verdict.headers()
                if not verdict.allowed:
                    raise BybitError(codes.RATE_LIMITED, codes.message(codes.RATE_LIMITED))
        result = route.handler(Call(service.venue, params, signer))
        response = answer(result)
    except BybitError as refusal:
        response = answer(refusal.result, code=refusal.code, message=refusal.message)
    except Exception:
        log.exception("simulator: %s %s failed", request.method, route.path)
        response = answer(code=codes.SERVICE_ERROR, message=codes.message(codes.SERVICE_ERROR))
    response.headers.update(headers)
    return response


def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer; the response returned is never written."""
    if request.transport is not None:
        request.transport.close()
    return web.Response()


def endpoint(service: Service, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        verdict = service.limiter.per_ip(request.remote or "")
        if verdict is not None and not verdict.allowed:
            return web.Response(status=403, text="access too frequent", headers=verdict.headers())
        plan = service.faults.plan(request.method, request.path)
        if plan.latency_ms > 0:
            await asyncio.sleep(plan.latency_ms / 1000)
        body = await request.read()
        fault = plan.fault
        if fault is None:
            return serve(service, route, request, body)
        if fault.kind is FaultKind.ERROR:
            return answer(code=fault.code, message=codes.message(fault.code))
        if fault.kind is FaultKind.HTTP_5XX:
            return web.Response(status=fault.code, text=f"<html><body><h1>{fault.code}</h1></body></html>")
        if fault.apply is Apply.BEFORE:
            serve(service, route, request, body)
        if fault.kind is FaultKind.TIMEOUT:
            await service.hold(fault.hold_ms)
        dropped = _drop(request)
        if fault.apply is Apply.AFTER:
            if fault.kind is FaultKind.DROP:
                await service.hold(fault.hold_ms)
            serve(service, route, request, body)
        return dropped

    return handle


async def _unknown(request: web.Request) -> web.StreamResponse:
    return answer(code=codes.PATH_NOT_FOUND, message=codes.message(codes.PATH_NOT_FOUND), status=404)


def build_app(service: Service, extra: Iterable[web.RouteDef] = ()) -> web.Application:
    app = web.Application(client_max_size=1024**2)
    app.add_routes(extra)
    app.add_routes(service.streams.routes())
    for route in ROUTES:
        app.router.add_route(route.method, route.path, endpoint(service, route))
    app.router.add_route("*", "/{tail:.*}", _unknown)
    return app
