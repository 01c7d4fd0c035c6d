"""The platform's errors as HTTP answers, mapped in one place; a person never sees a traceback.

Every error answer has one shape: ``{"error": {"code", "message", "field"?, "params"?}}``.

| error | status |
|---|---|
| ``SessionError``, ``TelegramLoginError`` | 401 (log in or refresh) |
| ``LoginRefusedError`` | 403 with ``code`` ``not_registered`` / ``pending`` / ``rejected`` / ``banned`` |
| ``PermissionDeniedError`` | 403 |
| ``NotFoundError`` (and the desk's "no longer yours / gone" refusals) | 404 |
| ``ValidationError`` (``DeskError`` with its stable code, ``SettingsError`` naming the field and range) | 422 |
| ``ConflictError`` | 409 |
| ``RateLimitedError`` | 429 with ``Retry-After`` |
| ``AuthenticationError`` (the venue refused the API key) | 422: the user must fix the key |
| ``InsufficientFundsError``, ``InvalidOrderError`` | 422: the venue refused the order, with its reason |
| any other ``ExchangeError`` | 502, naming the venue |
| ``PaymentProviderError`` | 502 ``payment_provider`` |
| ``ConfigError`` | 503: this platform is not set up for it |
| anything else | 500 ``internal`` (logged with its traceback, never sent) |
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from elcaro.models.errors import (
    AuthenticationError,
    ConfigError,
    ConflictError,
    ElcaroError,
    ExchangeError,
    InsufficientFundsError,
    InvalidOrderError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ValidationError,
)
from elcaro.models.payment import PaymentProviderError
from elcaro.services.desk import DeskError
from elcaro.services.telegram_login import TelegramLoginError
from elcaro.services.web_sessions import LoginRefusedError, SessionError

log = logging.getLogger(__name__)

GONE_CODES = frozenset({"position.closed", "keys.gone", "order.gone"})
"""Desk refusals that mean "not (or no longer) one of yours": answered 404 like any object of another user."""


class TooManyRequestsError(RateLimitedError):
    """The web app's own rate limit (per IP or per user), not a venue's."""


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **{k: v for k, v in extra.items() if v is not None}}}


def answer(error: ElcaroError) -> JSONResponse:
    """The HTTP answer for a platform error."""
    status, code, headers = _classify(error)
    message = str(error)
    extra: dict[str, Any] = {}
    if isinstance(error, ValidationError):
        message = error.reason
        extra["field"] = error.field
    if isinstance(error, DeskError):
        code = error.code
        extra["params"] = dict(error.params) or None
    if isinstance(error, LoginRefusedError):
        code = error.code
    if isinstance(error, ExchangeError) and error.exchange:
        extra["exchange"] = error.exchange
    return JSONResponse(error_body(code, message, **extra), status_code=status, headers=headers)


_STATUSES: tuple[tuple[type[ElcaroError] | tuple[type[ElcaroError], ...], int, str], ...] = (
    ((SessionError, TelegramLoginError), 401, "unauthenticated"),
    (LoginRefusedError, 403, "forbidden"),
    (RateLimitedError, 429, "rate_limited"),
    (AuthenticationError, 422, "exchange_auth"),
    ((InsufficientFundsError, InvalidOrderError), 422, "exchange_refused"),
    (ExchangeError, 502, "exchange_error"),
    (PaymentProviderError, 502, "payment_provider"),
    (NotFoundError, 404, "not_found"),
    # Permission before validation: a webhook's wrong secret is both, and it is a refusal.
    (PermissionDeniedError, 403, "forbidden"),
    (ValidationError, 422, "invalid"),
    (ConflictError, 409, "conflict"),
    (ConfigError, 503, "not_configured"),
)
"""First match wins: the more specific errors come first."""


def _classify(error: ElcaroError) -> tuple[int, str, Mapping[str, str] | None]:
    if isinstance(error, DeskError) and error.code in GONE_CODES:
        return 404, "not_found", None
    status, code = next(
        ((status, code) for kinds, status, code in _STATUSES if isinstance(error, kinds)), (400, "refused")
    )
    if status == 401:
        return status, code, {"WWW-Authenticate": "Bearer"}
    if isinstance(error, RateLimitedError):
        return status, code, {"Retry-After": str(max(1, math.ceil(error.retry_after or 1)))}
    return status, code, None


def install(app: FastAPI) -> None:
    """Register the handlers: platform errors, request validation, HTTP errors and the last resort."""

    async def on_platform_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ElcaroError)
        response = answer(error)
        if response.status_code >= 500:
            log.warning("%s %s: %s: %s", request.method, request.url.path, type(error).__name__, error)
        return response

    async def on_request_invalid(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = [
            {
                "field": ".".join(
                    str(part) for part in problem.get("loc", ()) if part not in ("body", "query", "path")
                ),
                "message": str(problem.get("msg", "invalid")),
            }
            for problem in error.errors()
        ]
        message = problems[0]["message"] if problems else "invalid request"
        field = (problems[0]["field"] or None) if problems else None
        body = error_body("invalid", message, field=field, problems=problems)
        return JSONResponse(body, status_code=422)

    async def on_http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            error.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(error.detail)), status_code=error.status_code, headers=getattr(error, "headers", None)
        )

    async def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return JSONResponse(error_body("internal", "something went wrong on our side"), status_code=500)

    app.add_exception_handler(ElcaroError, on_platform_error)
    app.add_exception_handler(RequestValidationError, on_request_invalid)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
