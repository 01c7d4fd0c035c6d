"""Gates before any order: may this user copy this signal on this target right now?

Evaluated from a plain snapshot the service fills (pauses, credentials, positions, orders, the
day's losses), so the decision itself is pure and every gate can be tested alone. The first
gate that fails is the reason recorded for the skipped user; codes are stable so that the bot
can translate them, the text is for logs and admins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from elcaro.models import Signal, Target
from elcaro.models.timeframe import MINUTE_MS
from elcaro.trading.licence import ALLOW_ALL, LicencePolicy
from elcaro.trading.settings import TradingSettings

_GRADE = re.compile(r"^([A-F])([+-]?)$")


class GateCode(StrEnum):
    """In the order the gates run."""

    GLOBAL_PAUSE = "global_pause"
    ACCOUNT_NOT_ALLOWED = "account_not_allowed"
    USER_PAUSE = "user_pause"
    STRATEGY_DISABLED = "strategy_disabled"
    DIRECTION = "direction"
    BLACKLISTED = "blacklisted"
    NOT_IN_COIN_GROUP = "not_in_coin_group"
    BELOW_MIN_QUALITY = "below_min_quality"
    LICENCE = "licence"
    LIVE_NOT_OPTED_IN = "live_not_opted_in"
    NO_CREDENTIALS = "no_credentials"
    DAILY_LOSS_LIMIT = "daily_loss_limit"
    IN_POSITION = "in_position"
    OPEN_ORDERS = "open_orders"
    MAX_POSITIONS = "max_positions"
    COOLDOWN = "cooldown"


@dataclass(frozen=True, slots=True)
class Blocked:
    code: GateCode
    message: str


@dataclass(frozen=True, slots=True)
class GateSnapshot:
    """One user on one target when the signal arrives. No defaults: a forgotten fact must not pass."""

    now: int
    global_paused: bool
    user_paused: bool
    user_may_trade: bool
    """Approved, not banned, terms accepted (``User.may_trade``)."""
    has_credentials: bool
    """Keys stored for the target (paper targets need none)."""
    live_opted_in: bool
    """The user explicitly enabled real-money trading on this target."""
    open_positions: int
    """Positions open on this target."""
    position_symbols: frozenset[str]
    open_order_symbols: frozenset[str]
    """Symbols with resting orders of any kind on this target."""
    last_closed_at: Mapping[str, int]
    """Symbol → when the user's last position on it closed (this target)."""
    day_start_equity: Decimal
    loss_today: Decimal
    """Net realised loss since 00:00 UTC (positive when money was lost)."""


def check_gates(
    signal: Signal,
    settings: TradingSettings,
    target: Target,
    user_id: int,
    snapshot: GateSnapshot,
    licence: LicencePolicy = ALLOW_ALL,
) -> Blocked | None:
    """The first gate that refuses, or ``None`` when the user may enter."""
    return (
        _pauses(snapshot)
        or _filters(signal, settings)
        or _target_access(signal, target, user_id, snapshot, licence)
        or _account_state(signal, settings, snapshot)
    )


def _pauses(snap: GateSnapshot) -> Blocked | None:
    if snap.global_paused:
        return Blocked(GateCode.GLOBAL_PAUSE, "trading is paused for everyone")
    if not snap.user_may_trade:
        return Blocked(
            GateCode.ACCOUNT_NOT_ALLOWED, "the account is not approved, is banned or has not accepted the terms"
        )
    if snap.user_paused:
        return Blocked(GateCode.USER_PAUSE, "the user paused copy trading")
    return None


def _filters(signal: Signal, settings: TradingSettings) -> Blocked | None:
    if not settings.enabled:
        return Blocked(GateCode.STRATEGY_DISABLED, f"strategy {signal.strategy} is not enabled")
    if not settings.direction.allows(signal.side):
        return Blocked(GateCode.DIRECTION, f"{signal.side} signals are filtered out (direction {settings.direction})")
    coin = base_asset(signal.symbol)
    if coin in settings.blacklist:
        return Blocked(GateCode.BLACKLISTED, f"{coin} is on the blacklist")
    if settings.coin_group and coin not in settings.coin_group:
        return Blocked(GateCode.NOT_IN_COIN_GROUP, f"{coin} is not in the coin group")
    if settings.min_quality and signal.quality is not None:
        have, need = grade_rank(signal.quality), grade_rank(settings.min_quality)
        if have is None or need is None or have < need:
            return Blocked(
                GateCode.BELOW_MIN_QUALITY, f"quality {signal.quality} is below the minimum {settings.min_quality}"
            )
    return None


def _target_access(
    signal: Signal, target: Target, user_id: int, snap: GateSnapshot, licence: LicencePolicy
) -> Blocked | None:
    decision = licence.allows(user_id, signal.strategy, target)
    if not decision.allowed:
        reason = decision.reason or f"no licence for {signal.strategy} on {target}"
        return Blocked(GateCode.LICENCE, reason)
    if target.environment.is_real_money and not snap.live_opted_in:
        return Blocked(GateCode.LIVE_NOT_OPTED_IN, f"{target} trades real money and the user has not opted in")
    if target.needs_credentials and not snap.has_credentials:
        return Blocked(GateCode.NO_CREDENTIALS, f"no API keys for {target}")
    return None


def _account_state(signal: Signal, settings: TradingSettings, snap: GateSnapshot) -> Blocked | None:
    limit_pct = settings.daily_loss_limit_pct
    if limit_pct is not None and snap.day_start_equity > 0:
        limit = snap.day_start_equity * limit_pct / 100
        if snap.loss_today >= limit:
            return Blocked(
                GateCode.DAILY_LOSS_LIMIT,
                f"daily loss limit reached: lost {snap.loss_today:.2f} of {limit:.2f} allowed ({limit_pct}% of "
                f"{snap.day_start_equity:.2f}); new entries resume at 00:00 UTC",
            )
    if signal.symbol in snap.position_symbols:
        return Blocked(GateCode.IN_POSITION, f"already in a position on {signal.symbol}")
    if signal.symbol in snap.open_order_symbols:
        return Blocked(GateCode.OPEN_ORDERS, f"orders are already open on {signal.symbol}")
    if snap.open_positions >= settings.max_open_positions:
        return Blocked(
            GateCode.MAX_POSITIONS,
            f"{snap.open_positions} positions open, the maximum is {settings.max_open_positions}",
        )
    closed_at = snap.last_closed_at.get(signal.symbol)
    cooldown_ms = settings.cooldown_minutes * MINUTE_MS
    if closed_at is not None and snap.now - closed_at < cooldown_ms:
        minutes = (snap.now - closed_at) // MINUTE_MS
        return Blocked(
            GateCode.COOLDOWN,
            f"{signal.symbol} closed {minutes} min ago; the cool-down is {settings.cooldown_minutes} min",
        )
    return None


def base_asset(symbol: str) -> str:
    """``AVAX`` of ``AVAX/USDT:USDT``."""
    return symbol.split("/", 1)[0].upper()


def grade_rank(grade: str) -> int | None:
    """A+ > A > A- > B+ … > F-; ``None`` for text that is not a grade."""
    match = _GRADE.match(grade.strip().upper())
    if not match:
        return None
    return (ord("F") - ord(match[1])) * 3 + {"+": 2, "": 1, "-": 0}[match[2]]
