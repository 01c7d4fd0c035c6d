"""Whether a user's messenger still takes messages from the platform: set when Telegram answers that the
user blocked the bot, cleared as soon as they write to it again."""

from __future__ import annotations

import logging
from collections.abc import Callable

from elcaro.core.clock import now_ms
from elcaro.models import AuditEntry
from elcaro.storage import Database

log = logging.getLogger(__name__)


class Reachability:
    def __init__(self, database: Database, *, clock: Callable[[], int] = now_ms) -> None:
        self._db = database
        self._clock = clock

    async def mark_blocked(self, user_id: int) -> None:
        """The user blocked the bot: deliveries and broadcasts skip them from now on."""
        async with self._db.transaction() as tx:
            user = await tx.users.get(user_id)
            if user is None or user.bot_blocked_at is not None:
                return
            at = self._clock()
            await tx.users.update(user_id, bot_blocked_at=at)
            await tx.audit.add(AuditEntry("user.bot_blocked", None, f"user:{user_id}", {}, at))
        log.info("user %s blocked the bot: marked unreachable", user_id)

    async def mark_reachable(self, user_id: int) -> None:
        async with self._db.transaction() as tx:
            user = await tx.users.get(user_id)
            if user is None or user.bot_blocked_at is None:
                return
            await tx.users.update(user_id, bot_blocked_at=None)
            await tx.audit.add(AuditEntry("user.bot_unblocked", None, f"user:{user_id}", {}, self._clock()))
