"""The caller's profile, settings, strategies, targets and exchange keys."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from elcaro.models import CredentialInfo, User, UserSettings
from elcaro.services.desk import SettingField, StrategyView, TargetView
from elcaro.web.schemas.common import Body, Model


class Profile(Model):
    id: int
    telegram_id: int
    username: str | None
    first_name: str | None
    last_name: str | None
    language: str
    role: str
    approval: str
    terms_accepted: bool
    terms_accepted_at: int | None
    trading_paused: bool
    may_trade: bool
    referral_code: str
    created_at: int

    @classmethod
    def of(cls, user: User) -> Profile:
        return cls(
            id=user.id,
            telegram_id=user.telegram_id,
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
            language=user.language,
            role=user.role.value,
            approval=user.approval.value,
            terms_accepted=user.terms_accepted_at is not None,
            terms_accepted_at=user.terms_accepted_at,
            trading_paused=user.trading_paused,
            may_trade=user.may_trade,
            referral_code=user.referral_code,
            created_at=user.created_at,
        )


class LanguageChange(Body):
    language: str = Field(min_length=2, max_length=8)


class PauseChange(Body):
    paused: bool


class SettingsChange(Body):
    """Fields of one level to set (``null`` switches a rule off at this level); validated whole."""

    changes: dict[str, Any] = Field(min_length=1, max_length=64)


class StoredSettings(Model):
    """One level as stored: only the fields set there (the rest come from the levels below)."""

    scope: str
    exchange: str | None
    strategy: str | None
    side: str | None
    values: dict[str, Any]
    updated_at: int

    @classmethod
    def of(cls, stored: UserSettings) -> StoredSettings:
        key = stored.key
        return cls(
            scope=key.scope.value,
            exchange=None if key.exchange is None else key.exchange.value,
            strategy=key.strategy,
            side=None if key.side is None else key.side.value,
            values=dict(stored.values),
            updated_at=stored.updated_at,
        )


class SettingFieldOut(Model):
    name: str
    kind: str
    low: Decimal | None
    high: Decimal | None
    choices: list[str]
    nullable: bool

    @classmethod
    def of(cls, described: SettingField) -> SettingFieldOut:
        return cls(
            name=described.name,
            kind=described.kind,
            low=described.low,
            high=described.high,
            choices=list(described.choices),
            nullable=described.nullable,
        )


class StrategyOut(Model):
    name: str
    enabled: bool
    direction: str

    @classmethod
    def of(cls, view: StrategyView) -> StrategyOut:
        return cls(name=view.name, enabled=view.enabled, direction=view.direction)


class StrategyChange(Body):
    enabled: bool | None = None
    direction: Literal["long", "short", "both"] | None = None


class TargetOut(Model):
    target: str
    enabled: bool
    live_opted_in: bool

    @classmethod
    def of(cls, view: TargetView) -> TargetOut:
        return cls(target=str(view.target), enabled=view.enabled, live_opted_in=view.live_opted_in)


class TargetChange(Body):
    enabled: bool
    live_opt_in: bool = Field(False, description="Required to enable a live target: it trades real money.")


class CredentialOut(Model):
    """Stored keys as they may be shown: the target and the last four characters, never a secret."""

    id: int
    target: str
    label: str
    key_hint: str | None
    wallet_address: str | None
    created_at: int
    last_verified_at: int | None

    @classmethod
    def of(cls, info: CredentialInfo) -> CredentialOut:
        return cls(
            id=info.id,
            target=str(info.target),
            label=info.label,
            key_hint=info.key_hint,
            wallet_address=info.wallet_address,
            created_at=info.created_at,
            last_verified_at=info.last_verified_at,
        )


class CredentialIn(Body):
    target: str = Field(max_length=48, description="`bybit:demo`, `binance:live`, `hyperliquid:testnet`, ...")
    api_key: str | None = Field(None, max_length=256)
    api_secret: str | None = Field(None, max_length=256)
    private_key: str | None = Field(None, max_length=256)
    wallet_address: str | None = Field(None, max_length=64)


class BalanceOut(Model):
    asset: str
    wallet: Decimal
    available: Decimal
    unrealized_pnl: Decimal
    equity: Decimal


class CredentialTest(Model):
    credential: CredentialOut
    balance: BalanceOut
