"""Requests refused before any route sees them: a NUL character in the path or the query string.

PostgreSQL cannot store NUL in text, so such a value would fail deep inside a query; it is never meaningful
in a URL, so it is answered 422 here, once, for every route. (Bodies are checked by their models.)
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from elcaro.web.errors import error_body
from elcaro.web.schemas.common import UNSTORABLE


class RefuseNul:
    """Pure ASGI: one substring test per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")):
            body = json.dumps(error_body("invalid", f"the address: {UNSTORABLE}", field="url")).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 422,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
