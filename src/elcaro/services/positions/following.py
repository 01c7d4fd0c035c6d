"""How an account is followed: its venue streams where enabled, and a reconciliation loop beside them.

A stream is the fast path; the loop is the guarantee. The client subscribes a dropped stream again
by itself, but what the venue sent in between is not replayed, so the loop reconciles by REST at an
interval whatever the streams do, at once when something suggests it is needed (``wake``), and a
stream that ends is followed again after a pause, with a reconciliation first.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from elcaro.models.errors import ElcaroError
from elcaro.services.positions.account import AccountWatcher

log = logging.getLogger(__name__)


async def follow_fills(watcher: AccountWatcher, pause: float) -> None:
    while True:
        try:
            async for fill in (await watcher.client()).watch_fills():
                await watcher.on_fill(fill)
        except ElcaroError as error:
            log.warning("fills of user %s on %s: %s", watcher.user_id, watcher.target, error)
        except Exception:  # a database hiccup or a bug must not end the account's management for good
            log.exception("fills of user %s on %s", watcher.user_id, watcher.target)
        watcher.wake.set()  # what the stream missed is only on REST
        await asyncio.sleep(pause)


async def follow_orders(watcher: AccountWatcher, pause: float) -> None:
    while True:
        try:
            async for order in (await watcher.client()).watch_orders():
                watcher.on_order(order)
        except ElcaroError as error:
            log.warning("orders of user %s on %s: %s", watcher.user_id, watcher.target, error)
        except Exception:
            log.exception("orders of user %s on %s", watcher.user_id, watcher.target)
        watcher.wake.set()
        await asyncio.sleep(pause)


async def reconcile(watcher: AccountWatcher, interval: float) -> None:
    """Sync every ``interval`` seconds, or at once when woken; the owner hears when syncing starts failing."""
    failing = False
    while True:
        try:
            await watcher.sync()
            failing = False
        except ElcaroError as error:
            log.warning("sync of user %s on %s failed: %s", watcher.user_id, watcher.target, error)
            if not failing:
                watcher.report("sync_failed", f"cannot reach {watcher.target}: {error}")
            failing = True
        except Exception:
            log.exception("sync of user %s on %s failed", watcher.user_id, watcher.target)
        with suppress(TimeoutError):
            await asyncio.wait_for(watcher.wake.wait(), timeout=interval)
        watcher.wake.clear()
