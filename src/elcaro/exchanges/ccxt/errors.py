"""ccxt's exceptions turned into the platform's, with the venue's own code, message and retry hint.

ccxt raises one exception class per kind of failure, but its message is free text and the HTTP response (headers
with the rate-limit reset, the venue's error code) is gone by then. Each venue's ccxt subclass therefore calls
:func:`remember_response` from ``handle_errors`` (which ccxt calls for every response, in the task that made the
request); :func:`translate` reads it back. A context variable keeps concurrent requests on one ccxt instance apart.

The venue's error code decides first (:class:`VenueErrors.codes`), because ccxt files some codes under classes that
say the wrong thing for a trader (Bybit's 10016 "system error" is a plain ExchangeError there, an outage here);
ccxt's class decides the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]

from elcaro.models.errors import (
    AuthenticationError,
    ExchangeError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    InvalidOrderError,
    NetworkError,
    OrderNotFoundError,
    RateLimitedError,
)


@dataclass(frozen=True, slots=True)
class Response:
    """What a venue answered to the last request of the current task."""

    status: int
    headers: Mapping[str, str]
    body: Any
    """The parsed JSON body, or None when it was not JSON."""


_LAST_RESPONSE: ContextVar[Response | None] = ContextVar("elcaro_ccxt_last_response", default=None)


def remember_response(status: int, headers: Mapping[str, str] | None, body: Any) -> None:
    """Called by each venue's ccxt subclass from ``handle_errors``, for every response."""
    _LAST_RESPONSE.set(Response(status, headers or {}, body))


@dataclass(frozen=True, slots=True)
class VenueError:
    """A venue's error as it wrote it."""

    code: str | None
    message: str | None


@dataclass(frozen=True)
class VenueErrors:
    """How one venue reports errors."""

    venue: str
    read: Callable[[Any], VenueError]
    """Picks the venue's code and message out of a parsed response body."""
    codes: Mapping[str, type[ExchangeError]] = field(default_factory=dict)
    """Venue codes whose meaning ccxt's class gets wrong or too vaguely; these win."""
    messages: Sequence[tuple[str, type[ExchangeError]]] = ()
    """The same for a venue without codes: a text its message contains, and what it means."""
    statuses: Mapping[int, type[ExchangeError]] = field(default_factory=dict)
    """HTTP statuses the venue uses in its own sense (Bybit's and Binance's 403 is a rate-limit ban)."""
    retry_after: Callable[[Mapping[str, str]], float | None] = lambda headers: None
    """Seconds to wait, read from a rate-limited response's headers."""


# Most specific first: ccxt's classes form a tree and the first match wins.
_BY_CCXT_CLASS: tuple[tuple[type[BaseException], type[ExchangeError]], ...] = (
    (ccxt_async.AuthenticationError, AuthenticationError),
    (ccxt_async.InsufficientFunds, InsufficientFundsError),
    (ccxt_async.OrderNotFound, OrderNotFoundError),
    (ccxt_async.InvalidOrder, InvalidOrderError),
    (ccxt_async.BadRequest, InvalidOrderError),
    (ccxt_async.ArgumentsRequired, InvalidOrderError),
    (ccxt_async.RateLimitExceeded, RateLimitedError),
    (ccxt_async.DDoSProtection, RateLimitedError),
    (ccxt_async.ExchangeNotAvailable, ExchangeUnavailableError),
    (ccxt_async.RequestTimeout, NetworkError),
    # A clock problem, refused before anything was done: retrying blindly does not help, so not a NetworkError.
    (ccxt_async.InvalidNonce, ExchangeError),
    (ccxt_async.NetworkError, NetworkError),
    # An answer that cannot be read: the request reached the venue and may have done what it asked.
    (ccxt_async.BadResponse, NetworkError),
)

_BY_STATUS: Mapping[int, type[ExchangeError]] = {
    429: RateLimitedError,
    418: RateLimitedError,  # Binance's ban after ignored 429s
    504: NetworkError,  # the gateway gave up waiting; the venue may have acted
}

_QUERY = re.compile(r"(https?://[^\s?]+)\?\S*")


def _undelivered(exc: BaseException) -> bool:
    """ccxt reports every aiohttp connection error as ExchangeNotAvailable; only a failed connect is certain not to
    have delivered the request. A connection dropped after sending may have, which is the NetworkError case."""
    cause = exc.__cause__
    return not isinstance(cause, aiohttp.ClientConnectionError) or isinstance(cause, aiohttp.ClientConnectorError)


def _kind(exc: BaseException, venue_error: VenueError, errors: VenueErrors, status: int | None) -> type[ExchangeError]:
    if venue_error.code is not None and venue_error.code in errors.codes:
        return errors.codes[venue_error.code]
    for text, kind in errors.messages:
        if venue_error.message is not None and text in venue_error.message:
            return kind
    # The HTTP status outranks ccxt's class: some venues' error handlers raise a generic error for any JSON body
    # without their code, before ccxt looks at the status.
    status = status or 0
    by_status = errors.statuses.get(status) or _BY_STATUS.get(status)
    by_status = by_status or (ExchangeUnavailableError if status >= 500 else None)
    if by_status is not None:
        return by_status
    if isinstance(exc, ccxt_async.ExchangeNotAvailable) and not _undelivered(exc):
        return NetworkError
    for ccxt_class, ours in _BY_CCXT_CLASS:
        if isinstance(exc, ccxt_class):
            return ours
    return ExchangeError


def translate(exc: BaseException, errors: VenueErrors, response: Response | None = None) -> ExchangeError:
    """The platform's error for a ccxt exception, carrying the venue's code and message when it sent them."""
    venue_error = errors.read(response.body) if response is not None and response.body is not None else None
    venue_error = venue_error or VenueError(None, None)
    if venue_error.code is None and response is not None and response.status >= 400:
        venue_error = VenueError(f"HTTP {response.status}", venue_error.message)
    kind = _kind(exc, venue_error, errors, response.status if response is not None else None)
    # ccxt's own text can hold a request URL whose query string carries a signature: keep it out of logs.
    detail = venue_error.message or _QUERY.sub(r"\1?…", str(exc)) or type(exc).__name__
    where = f" (code {venue_error.code})" if venue_error.code is not None else ""
    message = f"{errors.venue}: {detail}{where}"
    if kind is RateLimitedError:
        retry_after = errors.retry_after(response.headers) if response is not None else None
        return RateLimitedError(
            message,
            retry_after=retry_after,
            exchange=errors.venue,
            code=venue_error.code,
            venue_message=venue_error.message,
        )
    return kind(message, exchange=errors.venue, code=venue_error.code, venue_message=venue_error.message)


@contextmanager
def translating(errors: VenueErrors) -> Iterator[None]:
    """Run one venue call; a ccxt exception leaves it as the platform's error."""
    token = _LAST_RESPONSE.set(None)
    try:
        yield
    except ccxt_async.BaseError as exc:
        # `from None`: the ccxt exception's text may hold a signed URL; what matters is copied into ours.
        raise translate(exc, errors, _LAST_RESPONSE.get()) from None
    except TimeoutError:
        raise NetworkError(f"{errors.venue}: no answer in time", exchange=errors.venue, code="timeout") from None
    finally:
        _LAST_RESPONSE.reset(token)
