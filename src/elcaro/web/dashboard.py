"""The dashboard: the built front end (sources in ``frontend/``, built into ``static/``) served by the web app.

``/`` and ``/app/…`` answer the single page (``index.html``, revalidated on every load so a new build shows
at once); ``/assets/…`` the bundles, whose names carry their content hash, so they are cached for a year.
The page loads nothing from any other origin — no CDN, not even Telegram's script — and its
Content-Security-Policy holds it to that. Until the front end is built (``make run`` and ``make test`` build
it; by hand: ``cd src/elcaro/web/frontend && npm ci && npm run build``) these paths answer 503 saying so; the
API works either way.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles

from elcaro.web.errors import error_body

STATIC = Path(__file__).with_name("static")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        # Telegram Web shows a Mini App in a frame of its own page; no other site may frame it.
        "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org",
    )
)
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class _Assets(StaticFiles):
    """Hashed bundles, cached for good. Before the first build the directory is missing: every asset is then
    simply not found (404), where Starlette would fail the request."""

    async def check_config(self) -> None:
        with contextlib.suppress(RuntimeError):
            await super().check_config()

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def install(app: FastAPI, directory: Path = STATIC) -> None:
    """Serve the dashboard from ``directory`` at ``/``, ``/app/…`` and ``/assets/…`` (not in the OpenAPI)."""
    index = directory / "index.html"

    def page() -> Response:  # plain def: FastAPI runs it in a thread, so the file check does not block the loop
        if not index.is_file():
            message = "the dashboard is not built: run `make run` (or `npm ci && npm run build` in its sources)"
            return JSONResponse(error_body("not_built", message), status_code=503)
        return FileResponse(index, media_type="text/html", headers=PAGE_HEADERS)

    for path in ("/", "/app", "/app/{page:path}"):
        app.add_api_route(path, page, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount("/assets", _Assets(directory=directory / "assets", check_dir=False), name="assets")
