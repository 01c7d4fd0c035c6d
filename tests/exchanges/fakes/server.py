"""What every fake venue shares: an aiohttp server on 127.0.0.1, a log of requests, and scripted failures."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass(frozen=True)
class Seen:
    """One request as it arrived, before any check."""

    method: str
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Failure:
    """A scripted answer for the next request to ``path``."""

    path: str
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    """Close the connection without answering: the request arrived, its outcome is unknown to the client."""


class FakeVenue:
    """Base of the fakes: subclasses add routes with ``route`` and answer in their venue's format."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._failures: deque[Failure] = deque()
        self.app = web.Application(middlewares=[self._record])
        self._server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return str(self._server.make_url("")).rstrip("/")

    async def start(self) -> FakeVenue:
        self._server = TestServer(self.app, host="127.0.0.1")
        await self._server.start_server()
        return self

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()

    def fail(
        self,
        path: str,
        body: Any = None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        drop: bool = False,
    ) -> None:
        """Answer the next request to ``path`` with ``body`` (JSON) and ``status`` instead of handling it."""
        self._failures.append(Failure(path, status, body, headers or {}, drop))

    def requests(self, path: str, method: str | None = None) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path and (method is None or seen.method == method)]

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await handler(request)
        body = await request.read()
        self.seen.append(
            Seen(request.method, request.path, dict(request.query), request.query_string, dict(request.headers), body)
        )
        failure = next((failure for failure in self._failures if failure.path == request.path), None)
        if failure is not None:
            self._failures.remove(failure)
            if failure.drop:
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        return await handler(request)
