"""The platform's paper exchange, kept in the database so paper accounts survive a restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from elcaro.core.clock import now_ms
from elcaro.exchanges.paper import AccountEvent, EngineEvent, PaperConfig, PaperEngine, PaperExchangeAdapter
from elcaro.models import ZERO, Instrument
from elcaro.storage import Database

log = logging.getLogger(__name__)


class PaperVenue:
    """One paper engine under a name, restored from its last saved state and saved after changes.

    Saving is explicit (:meth:`save`) or periodic (:meth:`autosave`), and only account changes —
    orders, fills, positions — make the state worth saving; market ticks alone do not.
    """

    def __init__(
        self,
        database: Database,
        engine: PaperEngine,
        name: str,
        *,
        snapshot: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        """``snapshot`` gives the state to save; by default the engine's, while the simulator adds its own records."""
        self._db = database
        self.engine = engine
        self.name = name
        self._snapshot = snapshot or engine.snapshot
        self._dirty = False
        self._unsubscribe = engine.subscribe(self._on_event)

    @staticmethod
    async def saved(database: Database, name: str) -> dict[str, Any] | None:
        async with database.transaction() as tx:
            return await tx.paper_venues.load(name)

    @classmethod
    async def open(
        cls,
        database: Database,
        *,
        name: str = "default",
        instruments: Iterable[Instrument] = (),
        config: PaperConfig | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> PaperVenue:
        """Restore the saved engine, or start a new one with ``instruments``; instruments new since are added."""
        snapshot = await cls.saved(database, name)
        if snapshot is None:
            engine = PaperEngine(instruments, clock=clock, config=config)
        else:
            engine = PaperEngine.restore(snapshot, clock=clock)
            for instrument in instruments:
                if instrument.symbol not in engine.instruments:
                    engine.add_instrument(instrument)
            log.info("paper venue %r restored: %s accounts", name, len(engine.account_ids))
        return cls(database, engine, name)

    def adapter(self, account_id: str, *, deposit: Decimal = ZERO) -> PaperExchangeAdapter:
        """The adapter for one paper account, opened with ``deposit`` on first use."""
        if account_id not in self.engine.account_ids:
            self.engine.open_account(account_id, deposit)
            self._dirty = True
        return PaperExchangeAdapter(self.engine, account_id)

    async def save(self) -> None:
        snapshot = self._snapshot()
        self._dirty = False
        async with self._db.transaction() as tx:
            await tx.paper_venues.save(self.name, snapshot, now=now_ms())

    async def autosave(self, stop: asyncio.Event, *, interval: float = 5.0) -> None:
        """Save every ``interval`` seconds while something changed, and once more when ``stop`` is set."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
            if self._dirty:
                await self.save()
            if stop.is_set():
                return

    def close(self) -> None:
        self._unsubscribe()

    def _on_event(self, event: EngineEvent) -> None:
        if isinstance(event, AccountEvent):
            self._dirty = True
