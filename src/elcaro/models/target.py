"""A target is where a user's orders go: one exchange in one environment."""

from __future__ import annotations

from dataclasses import dataclass

from elcaro.models.enums import Environment, Exchange
from elcaro.models.errors import ValidationError

#: Environments each venue offers. PAPER (the local simulator) is offered for every venue.
SUPPORTED_ENVIRONMENTS: dict[Exchange, frozenset[Environment]] = {
    Exchange.BYBIT: frozenset({Environment.PAPER, Environment.DEMO, Environment.TESTNET, Environment.LIVE}),
    Exchange.BINANCE: frozenset({Environment.PAPER, Environment.TESTNET, Environment.LIVE}),
    Exchange.HYPERLIQUID: frozenset({Environment.PAPER, Environment.TESTNET, Environment.LIVE}),
}


@dataclass(frozen=True, slots=True)
class Target:
    exchange: Exchange
    environment: Environment

    def __post_init__(self) -> None:
        allowed = SUPPORTED_ENVIRONMENTS[self.exchange]
        if self.environment not in allowed:
            names = ", ".join(sorted(allowed))
            raise ValidationError(
                f"{self.exchange} has no {self.environment} environment (allowed: {names})", field="environment"
            )

    @property
    def needs_credentials(self) -> bool:
        return self.environment is not Environment.PAPER

    def __str__(self) -> str:
        return f"{self.exchange}:{self.environment}"

    @classmethod
    def parse(cls, text: str) -> Target:
        """Read ``bybit:demo``."""
        exchange, sep, environment = text.partition(":")
        if not sep:
            raise ValidationError(f"expected exchange:environment, got {text!r}", field="target")
        try:
            return cls(Exchange(exchange.lower()), Environment(environment.lower()))
        except ValueError:
            raise ValidationError(
                f"unknown target {text!r} (exchanges: {', '.join(Exchange)}; environments: {', '.join(Environment)})",
                field="target",
            ) from None
