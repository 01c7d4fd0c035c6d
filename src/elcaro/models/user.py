"""Users, their exchange credentials, their settings and the audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from elcaro.models.enums import ApprovalState, Exchange, PositionSide, Role
from elcaro.models.errors import ValidationError
from elcaro.models.secret import Secret
from elcaro.models.target import Target


@dataclass(frozen=True, slots=True)
class User:
    id: int
    telegram_id: int
    username: str | None
    first_name: str | None
    last_name: str | None
    language: str
    role: Role
    approval: ApprovalState
    banned: bool
    terms_accepted_at: int | None
    referral_code: str
    referred_by: int | None
    created_at: int
    last_seen_at: int | None
    trading_paused: bool = False
    """The user's own pause: no new entries; open positions are still managed."""
    bot_blocked_at: int | None = None
    """When the user blocked the Telegram bot (epoch ms); None while messages reach them."""

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def may_trade(self) -> bool:
        """Approved, not banned, and has accepted the terms and risk disclaimer."""
        return self.approval is ApprovalState.APPROVED and not self.banned and self.terms_accepted_at is not None

    @property
    def display_name(self) -> str:
        if self.username:
            return f"@{self.username}"
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or str(self.telegram_id)


@dataclass(frozen=True, slots=True)
class TelegramProfile:
    """What Telegram tells us about a person; the input to registration."""

    telegram_id: int
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    language_code: str | None = None

    def __post_init__(self) -> None:
        if self.telegram_id <= 0:
            raise ValidationError(
                f"a Telegram user id is a positive number, got {self.telegram_id}", field="telegram_id"
            )


@dataclass(frozen=True, slots=True)
class ExchangeKeys:
    """Decrypted credentials for one target. Only the exchange layer should ever need these."""

    api_key: Secret | None = None
    api_secret: Secret | None = None
    private_key: Secret | None = None
    wallet_address: str | None = None
    """Public: HyperLiquid's main wallet address (the agent key signs for it)."""


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    """What may be shown about stored credentials: never a secret, only a hint of the key."""

    id: int
    user_id: int
    target: Target
    label: str
    key_hint: str | None
    """Last four characters of the API key (or of the wallet address), to tell keys apart."""
    wallet_address: str | None
    created_at: int
    last_verified_at: int | None


class SettingsScope(StrEnum):
    """Levels of user settings, most specific first: resolution walks them in this order."""

    STRATEGY_SIDE = "strategy_side"
    STRATEGY = "strategy"
    EXCHANGE = "exchange"
    GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class SettingsKey:
    """Which level a block of settings belongs to; fields beyond the level must be empty."""

    scope: SettingsScope
    exchange: Exchange | None = None
    strategy: str | None = None
    side: PositionSide | None = None

    def __post_init__(self) -> None:
        needs = {
            SettingsScope.GLOBAL: (False, False, False),
            SettingsScope.EXCHANGE: (True, False, False),
            SettingsScope.STRATEGY: (False, True, False),
            SettingsScope.STRATEGY_SIDE: (False, True, True),
        }[self.scope]
        present = (self.exchange is not None, bool(self.strategy), self.side is not None)
        if present != needs:
            raise ValidationError(
                f"{self.scope} settings take exchange={needs[0]}, strategy={needs[1]}, side={needs[2]}", field="scope"
            )


@dataclass(frozen=True, slots=True)
class UserSettings:
    user_id: int
    key: SettingsKey
    values: Mapping[str, Any] = field(default_factory=dict, hash=False)
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what to whom, kept for every change of state that matters."""

    action: str
    actor_user_id: int | None
    subject: str
    details: Mapping[str, Any] = field(default_factory=dict, hash=False)
    at: int = 0
    id: int | None = None
