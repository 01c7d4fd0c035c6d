"""How the engine is set up: preset, mode, account, universe, and its safety margins.

Paper mode trades a ``*:paper`` target (the platform's paper exchange); live mode trades a real
target with the operator user's own stored keys, and only when ``allow_live`` says so explicitly —
a typo in a target must never put real money to work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from elcaro.engine import Backoff, BreakerSettings
from elcaro.models import Environment, Exchange, Target
from elcaro.models.errors import ConfigError, ValidationError

STRATEGY = "elcaro"
"""The strategy name of the engine's trades and of the copy-trading signals it publishes."""


class EngineMode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    user_id: int | None
    """The operator user whose account on ``target`` the engine trades (and whose statistics count it);
    ``None`` only for a replay on a paper exchange of its own, which has no user and records nothing."""
    preset: str = "liquid"
    """A shipped preset's name or a preset file's path."""
    mode: EngineMode = EngineMode.PAPER
    target: Target = field(default_factory=lambda: Target(Exchange.BYBIT, Environment.PAPER))
    universe: tuple[str, ...] = ()
    """Symbols the engine may trade; empty: every active USDT linear perpetual of the venue."""
    allow_live: bool = False
    publish_signals: bool | None = None
    """Publish the engine's entries as copy-trading signals (strategy ``elcaro``); ``None``: in paper mode only."""
    record_trades: bool = True
    """Write closed trades to the trade log, so statistics count the ``elcaro`` strategy."""
    follow_trades: bool | None = None
    """Feed activity meters from the venue's public trade stream; ``None``: on a real venue only (the paper
    exchange's tape holds only the platform's own fills, which say nothing about the market)."""
    leverage: Decimal = Decimal(5)
    """Set on a symbol before each entry (clamped to the instrument's maximum)."""
    backoff: Backoff = field(default_factory=Backoff)
    breakers: BreakerSettings = field(default_factory=BreakerSettings)
    extra_bars: int = 20
    """Candles fetched beyond what the preset needs, so a late or missing bar does not starve the indicators."""

    def __post_init__(self) -> None:
        if self.user_id is not None and self.user_id < 1:
            raise ValidationError(f"must be a user id, got {self.user_id}", field="user_id")
        if self.leverage < 1:
            raise ValidationError(f"must be at least 1, got {self.leverage}", field="leverage")
        if self.extra_bars < 0:
            raise ValidationError(f"cannot be negative, got {self.extra_bars}", field="extra_bars")
        paper = self.target.environment is Environment.PAPER
        if self.mode is EngineMode.PAPER and not paper:
            raise ConfigError(f"paper mode trades a paper target, not {self.target}: use mode live for a real one")
        if self.mode is EngineMode.LIVE:
            if paper:
                raise ConfigError(f"live mode trades a real target, not {self.target}")
            if not self.allow_live:
                raise ConfigError(
                    f"live mode on {self.target} trades real money: it needs the explicit live flag "
                    "(ELCARO_ENGINE_ALLOW_LIVE=true, or --allow-live on the command line)"
                )

    @property
    def publishes(self) -> bool:
        return self.mode is EngineMode.PAPER if self.publish_signals is None else self.publish_signals

    @property
    def follows_trades(self) -> bool:
        paper = self.target.environment is Environment.PAPER
        return not paper if self.follow_trades is None else self.follow_trades

    @property
    def account_ref(self) -> str:
        """Names the account in the engine's client order ids."""
        return f"{self.user_id if self.user_id is not None else 'replay'}@{self.target}"
