"""Who a signal is for: users allowed to trade, on their enabled targets, whose settings enable its strategy.

Selection reads everything in one transaction and in as few statements as the repositories allow, so a
signal for thousands of users costs a handful of queries before the first order goes out. A user who is
not subscribed (strategy off for this side and exchange) gets no execution record at all: the signal was
never theirs. A subscribed user refused by a gate does get one, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from elcaro.models import ApprovalState, Signal, User, UserSettings
from elcaro.storage import UnitOfWork, UserTarget
from elcaro.trading import SettingsError, TradingSettings, resolve_for

GLOBAL_PAUSE_FLAG = "trading.paused"
"""The system flag an admin sets to stop every new entry (open positions are still managed)."""

_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Subscriber:
    user: User
    target: UserTarget
    settings: TradingSettings | None
    """None when the user's stored levels contradict each other (``settings_error`` says how)."""
    settings_error: str | None
    paused: bool


@dataclass(frozen=True, slots=True)
class Audience:
    global_paused: bool
    subscribers: tuple[Subscriber, ...]


async def select_audience(tx: UnitOfWork, signal: Signal) -> Audience:
    users = await _users_who_may_trade(tx)
    ids = [user.id for user in users]
    targets = await tx.user_targets.active_for_users(ids)
    paused = await tx.users.paused_user_ids(ids)
    subscribers: list[Subscriber] = []
    for user in users:
        if not targets[user.id]:
            continue
        stored = await tx.settings.list_for_user(user.id)
        for target in targets[user.id]:
            subscriber = _subscriber(user, target, stored, signal, paused=user.id in paused)
            if subscriber is not None:
                subscribers.append(subscriber)
    return Audience(bool(await tx.system_flags.get(GLOBAL_PAUSE_FLAG)), tuple(subscribers))


def _subscriber(
    user: User, target: UserTarget, stored: list[UserSettings], signal: Signal, *, paused: bool
) -> Subscriber | None:
    try:
        settings = resolve_for(stored, strategy=signal.strategy, side=signal.side, exchange=target.target.exchange)
    except SettingsError as error:
        return Subscriber(user, target, None, str(error), paused)
    if not settings.enabled:
        return None
    return Subscriber(user, target, settings, None, paused)


async def _users_who_may_trade(tx: UnitOfWork) -> list[User]:
    """Approved users, filtered to those not banned and with the terms accepted."""
    users: list[User] = []
    while True:
        page = await tx.users.list(approval=ApprovalState.APPROVED, limit=_PAGE, offset=len(users))
        users.extend(page)
        if len(page) < _PAGE:
            return [user for user in users if user.may_trade]
