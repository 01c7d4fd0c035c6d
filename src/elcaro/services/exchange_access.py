"""The way from a user to their exchange account on a target, for every caller.

Paper targets open an account on the platform's paper venue; real venues get a ccxt adapter with
the user's decrypted keys. Either way the unified client wraps it, so rate limits, retries,
idempotency and metrics apply the same to every venue and every caller.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from elcaro.exchanges.ccxt import CcxtAdapter
from elcaro.exchanges.client import ExchangeClient, ExchangeClientPool
from elcaro.exchanges.factory import create_adapter
from elcaro.exchanges.protocol import ExchangeAdapter
from elcaro.models import Balance, Environment, ExchangeKeys, Target
from elcaro.models.errors import AuthenticationError, NotFoundError
from elcaro.services.credentials import CredentialService
from elcaro.services.paper_venue import PaperVenue

log = logging.getLogger(__name__)

DEFAULT_PAPER_DEPOSIT = Decimal(10_000)


def paper_account_id(user_id: int) -> str:
    return f"user:{user_id}"


class ExchangeAccess:
    def __init__(
        self,
        credentials: CredentialService,
        paper: PaperVenue,
        *,
        base_urls: Mapping[Target, str] | None = None,
        paper_deposit: Decimal = DEFAULT_PAPER_DEPOSIT,
    ) -> None:
        self._credentials = credentials
        self._paper = paper
        self._base_urls = dict(base_urls or {})
        self._paper_deposit = paper_deposit
        self._markets: dict[Target, Mapping[str, Any]] = {}
        self.pool = ExchangeClientPool(self._open, self._keys)

    async def client(self, user_id: int, target: Target) -> ExchangeClient:
        """The user's client on ``target``; NotFoundError when a real venue has no keys stored for them."""
        return await self.pool.get(user_id, target)

    async def verify(self, user_id: int, target: Target) -> Balance:
        """Prove the stored keys work (a balance read) and record when they last did."""
        await self.pool.discard(user_id, target)  # keys may just have changed: open afresh
        client = await self.client(user_id, target)
        try:
            balance = await client.fetch_balance()
        except AuthenticationError as exc:
            await self.pool.discard(user_id, target)
            raise AuthenticationError(
                f"{target} refused the API key: check it is active, has trade permission and, where the venue "
                "asks for one, that this machine's IP is allowed",
                exchange=exc.exchange,
                code=exc.code,
                venue_message=exc.venue_message,
            ) from None
        for info in await self._credentials.list_for_user(user_id):
            if info.target == target:
                await self._credentials.mark_verified(info.id)
        return balance

    async def close(self) -> None:
        await self.pool.close()

    async def _keys(self, user_id: int, target: Target) -> ExchangeKeys | None:
        if target.environment is Environment.PAPER:
            return None
        try:
            return await self._credentials.keys_for(user_id, target)
        except NotFoundError:
            raise NotFoundError(f"no API keys for {target}: add them before trading there") from None

    async def _open(self, user_id: int, target: Target, keys: ExchangeKeys | None) -> ExchangeAdapter:
        if target.environment is Environment.PAPER:
            return self._paper.adapter(paper_account_id(user_id), deposit=self._paper_deposit)
        adapter = create_adapter(target, keys, base_url=self._base_urls.get(target), markets=self._markets.get(target))
        if target not in self._markets and isinstance(adapter, CcxtAdapter):
            try:
                await adapter.load_instruments()
            except BaseException:
                # Nobody else holds this adapter: close its HTTP session, then report why the load failed.
                with contextlib.suppress(Exception):
                    await adapter.close()
                raise
            if adapter.markets is not None:
                self._markets[target] = adapter.markets
        return adapter
