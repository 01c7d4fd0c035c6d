"""The admins' desk: users to find and pause, the global pause, closing a strategy's positions, signals with
what became of them for each user, the audience of a broadcast, and the platform's state at a glance.

Every method takes the acting admin's user id and checks the role first (``require_admin``); ``None`` is
the operator at the machine, as everywhere in the services.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from elcaro.core.clock import now_ms
from elcaro.exchanges.client.metrics import PLATFORM_REGISTRY
from elcaro.models import ApprovalState, AuditEntry, ExitReason, Role, SignalSource, Target, User
from elcaro.models.errors import NotFoundError
from elcaro.services.copy_trading import GLOBAL_PAUSE_FLAG
from elcaro.services.positions import PositionMonitor
from elcaro.services.users import require_admin
from elcaro.storage import Database, UnitOfWork

log = logging.getLogger(__name__)

_PAGE = 1000
_USER_NUMBER = re.compile(r"#?([0-9]{1,18})")
"""A platform id (``#12``) or a Telegram id: ASCII digits only, and few enough to fit the database's integers."""


class Segment(StrEnum):
    """Who a broadcast goes to. Everyone in a segment is approved, not banned and still reachable."""

    ALL = "all"
    TRADERS = "traders"
    """Approved users who have accepted the terms."""
    ADMINS = "admins"
    EN = "en"
    RU = "ru"


@dataclass(frozen=True, slots=True)
class ExecutionView:
    user_id: int
    target: Target
    status: str
    reason_code: str | None
    reason: str | None
    position_id: int | None


@dataclass(frozen=True, slots=True)
class SignalExecutions:
    signal_id: int
    source: SignalSource
    status: str
    symbol: str | None
    side: str | None
    strategy: str | None
    reason: str | None
    received_at: int
    executions: tuple[ExecutionView, ...]
    by_status: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SystemStatus:
    global_paused: bool
    pending_users: int
    open_positions: int
    managed_positions: int
    """Positions the monitor is following in this process."""
    exchange_errors: dict[str, int]
    """Failed exchange requests since start, by ``exchange:environment``."""
    last_signal_at: int | None
    last_signal_status: str | None


class AdminDesk:
    def __init__(self, database: Database, positions: PositionMonitor, *, clock: Callable[[], int] = now_ms) -> None:
        self._db = database
        self._monitor = positions
        self._clock = clock

    async def pending(self, actor_id: int | None, *, limit: int = 20) -> list[User]:
        async with self._db.reading() as tx:
            await require_admin(tx, actor_id)
            return await tx.users.list(approval=ApprovalState.PENDING, limit=limit)

    async def find_users(self, actor_id: int | None, query: str, *, limit: int = 10) -> list[User]:
        """By platform id (``#12``), Telegram id (``123456789``) or username (``@alice``, a prefix will do) or
        part of a name."""
        text = query.strip()
        async with self._db.reading() as tx:
            await require_admin(tx, actor_id)
            number = _USER_NUMBER.fullmatch(text)
            if number and text.startswith("#"):
                found = await tx.users.get(int(number[1]))
                return [found] if found else []
            if number:
                by_telegram = await tx.users.get_by_telegram_id(int(number[1]))
                by_id = await tx.users.get(int(number[1]))
                return [user for user in (by_telegram, by_id) if user is not None][:limit]
            name = text.removeprefix("@")
            return await tx.users.search(name, limit=limit) if name else []

    async def set_user_paused(self, actor_id: int | None, user_id: int, paused: bool) -> None:
        """Pause (or resume) one user's new entries; their open positions are still managed."""
        async with self._db.transaction() as tx:
            await require_admin(tx, actor_id)
            await tx.users.set_trading_paused(user_id, paused)
            await self._audit(tx, actor_id, "trading.pause" if paused else "trading.resume", f"user:{user_id}", {})

    async def global_paused(self) -> bool:
        async with self._db.reading() as tx:
            return bool(await tx.system_flags.get(GLOBAL_PAUSE_FLAG))

    async def set_global_pause(self, actor_id: int | None, paused: bool) -> None:
        """Stop (or allow again) every new entry on the platform; open positions are still managed."""
        async with self._db.transaction() as tx:
            await require_admin(tx, actor_id)
            await tx.system_flags.set(GLOBAL_PAUSE_FLAG, paused, now=self._clock())
            await self._audit(tx, actor_id, "trading.global_pause" if paused else "trading.global_resume", "system", {})
        log.warning("trading %s for everyone by user %s", "paused" if paused else "resumed", actor_id)

    async def open_by_strategy(self, actor_id: int | None) -> dict[str, int]:
        """How many positions are open per strategy (``manual`` for those opened by hand)."""
        async with self._db.reading() as tx:
            await require_admin(tx, actor_id)
            rows = await tx.positions.list_open()
        return dict(Counter(row.strategy or "manual" for row in rows))

    async def close_strategy(self, actor_id: int | None, strategy: str) -> int:
        """Close every open position of ``strategy`` for every user; how many closes were asked for."""
        async with self._db.reading() as tx:
            await require_admin(tx, actor_id)
            rows = [row for row in await tx.positions.list_open() if (row.strategy or "manual") == strategy]
        closed = 0
        for row in rows:
            assert row.id is not None  # stored rows carry their id
            try:
                await self._monitor.close_position(row.id, reason=ExitReason.MANUAL)
                closed += 1
            except NotFoundError:
                continue
        async with self._db.transaction() as tx:
            await self._audit(tx, actor_id, "positions.close_strategy", f"strategy:{strategy}", {"count": closed})
        return closed

    async def signal(self, actor_id: int | None, signal_id: int) -> SignalExecutions:
        async with self._db.reading() as tx:
            await require_admin(tx, actor_id)
            record = await tx.signals.get_record(signal_id)
            if record is None:
                raise NotFoundError(f"no signal {signal_id}")
            executions = await tx.executions.for_signal(signal_id)
        views = tuple(
            ExecutionView(e.user_id, e.target, e.status.value, e.reason_code, e.reason, e.position_id)
            for e in executions
        )
        parsed = record.signal
        return SignalExecutions(
            signal_id=record.id,
            source=record.source,
            status=record.status.value,
            symbol=record.symbol,
            side=parsed.side.value if parsed is not None else None,
            strategy=record.strategy,
            reason=record.reject_reason,
            received_at=record.received_at,
            executions=views,
            by_status=dict(Counter(view.status for view in views)),
        )

    async def audience(self, actor_id: int | None, segment: Segment) -> list[User]:
        """The users a broadcast to ``segment`` reaches: approved, not banned, not blocking the bot."""
        async with self._db.reading() as tx:
            await require_admin(tx, actor_id)
            users = await _all_users(tx, approval=ApprovalState.APPROVED)
        reachable = [user for user in users if not user.banned and user.bot_blocked_at is None]
        match segment:
            case Segment.ALL:
                return reachable
            case Segment.TRADERS:
                return [user for user in reachable if user.may_trade]
            case Segment.ADMINS:
                return [user for user in reachable if user.role is Role.ADMIN]
            case _:
                return [user for user in reachable if user.language == segment.value]

    async def admins(self) -> list[User]:
        """Admins who can be told things (not banned, not blocking the bot)."""
        async with self._db.reading() as tx:
            users = await tx.users.list(role=Role.ADMIN, limit=_PAGE)
        return [user for user in users if not user.banned and user.bot_blocked_at is None]

    async def status(self, actor_id: int | None) -> SystemStatus:
        async with self._db.reading() as tx:
            await require_admin(tx, actor_id)
            paused = bool(await tx.system_flags.get(GLOBAL_PAUSE_FLAG))
            pending = len(await tx.users.list(approval=ApprovalState.PENDING, limit=_PAGE))
            open_positions = len(await tx.positions.list_open())
            recent = await tx.signals.list_recent(1)
        last = recent[0] if recent else None
        return SystemStatus(
            global_paused=paused,
            pending_users=pending,
            open_positions=open_positions,
            managed_positions=len(self._monitor.position_ids),
            exchange_errors=_exchange_errors(),
            last_signal_at=last.received_at if last else None,
            last_signal_status=last.status.value if last else None,
        )

    async def _audit(
        self, tx: UnitOfWork, actor_id: int | None, action: str, subject: str, details: dict[str, Any]
    ) -> None:
        await tx.audit.add(AuditEntry(action, actor_id, subject, details, self._clock()))


async def _all_users(tx: UnitOfWork, *, approval: ApprovalState | None = None) -> list[User]:
    users: list[User] = []
    while True:
        page = await tx.users.list(approval=approval, limit=_PAGE, offset=len(users))
        users.extend(page)
        if len(page) < _PAGE:
            return users


def _exchange_errors() -> dict[str, int]:
    """Failed requests per venue from the platform's exchange metrics (counters since the process started)."""
    totals: Counter[str] = Counter()
    for metric in PLATFORM_REGISTRY.collect():
        if metric.name != "elcaro_exchange_errors":
            continue
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                venue = f"{sample.labels.get('exchange')}:{sample.labels.get('environment')}"
                totals[venue] += int(sample.value)
    return dict(totals)
