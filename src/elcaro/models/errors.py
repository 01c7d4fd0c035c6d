"""The one error hierarchy of the platform.

Every layer raises these (never a library's own exception across a layer boundary), so that an
interface can turn any of them into a clear message for the right person. Exchange errors carry
the venue's own code and message for support and logs.
"""

from __future__ import annotations


class ElcaroError(Exception):
    """Base of every error the platform raises on purpose."""


class ValidationError(ElcaroError):
    """Input that breaks a rule. ``field`` names what was wrong, when one thing was."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


class NotFoundError(ElcaroError):
    """The thing asked for does not exist."""


class ConflictError(ElcaroError):
    """The request clashes with what exists (a duplicate, a state that forbids it)."""


class PermissionDeniedError(ElcaroError):
    """The caller may not do this."""


class ConfigError(ElcaroError):
    """Configuration that stops the platform from starting."""


class SecretError(ElcaroError):
    """A secret cannot be encrypted or decrypted (missing, wrong or tampered master key)."""


class InvalidSignalError(ValidationError):
    """A message that looks like a signal but contradicts itself (stored with the reason for admins)."""


class ExchangeError(ElcaroError):
    """An exchange refused or failed a request. ``code`` and ``venue_message`` are the venue's own."""

    def __init__(
        self,
        message: str,
        *,
        exchange: str | None = None,
        code: str | int | None = None,
        venue_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.exchange = exchange
        self.code = code
        self.venue_message = venue_message


class AuthenticationError(ExchangeError):
    """Wrong, expired or under-privileged API key."""


class InsufficientFundsError(ExchangeError):
    pass


class InvalidOrderError(ExchangeError):
    """The order breaks an instrument or venue rule (size, price, reduce-only, ...)."""


class OrderNotFoundError(ExchangeError):
    pass


class RateLimitedError(ExchangeError):
    """Too many requests; ``retry_after`` seconds when the venue said so."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        exchange: str | None = None,
        code: str | int | None = None,
        venue_message: str | None = None,
    ) -> None:
        super().__init__(message, exchange=exchange, code=code, venue_message=venue_message)
        self.retry_after = retry_after


class NetworkError(ExchangeError):
    """The request may or may not have reached the venue (timeout, dropped connection)."""


class ExchangeUnavailableError(ExchangeError):
    """The venue is down or in maintenance."""
