"""The engine on the platform's real paper exchange, driven through recorded BTC/USDT candles.

The paper venue is the one the platform runs (``PaperVenue``, kept in the database); the engine
reaches it the way the main job does, through ``ExchangeAccess`` and the unified client, as the
operator user's paper account. ``ReplayBars`` plays ``shared/data/ohlcv/BTC_USDT-5m.csv`` into the
paper engine bar by bar, on a manual clock the venue and the engine share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from elcaro.core.secrets import Keyring, generate_key
from elcaro.exchanges.client import ClientSettings, ExchangeClient, RetryPolicy
from elcaro.exchanges.paper import ManualClock, PaperEngine, PaperExchangeAdapter
from elcaro.marketdata import read_candles
from elcaro.models import Instrument, Order, OrderType, Target, TelegramProfile
from elcaro.models.errors import InvalidOrderError
from elcaro.models.market import Candle
from elcaro.services.credentials import CredentialService
from elcaro.services.engine import EngineConfig, EngineService, ReplayBars, SignalPublisher, TradeLog
from elcaro.services.exchange_access import DEFAULT_PAPER_DEPOSIT as DEPOSIT
from elcaro.services.exchange_access import ExchangeAccess, paper_account_id
from elcaro.services.paper_venue import PaperVenue
from elcaro.services.users import UserService
from elcaro.storage import Database
from elcaro.strategies.breakout.preset import BreakoutPreset, load_preset

D = Decimal
DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "ohlcv"
PAPER = Target.parse("bybit:paper")
BTC = Instrument(
    "BTC/USDT:USDT", "BTC", "USDT", "USDT", D("0.1"), D("0.001"), D("0.001"), min_notional=D(5), max_leverage=D(100)
)
ETH = Instrument(
    "ETH/USDT:USDT", "ETH", "USDT", "USDT", D("0.01"), D("0.01"), D("0.01"), min_notional=D(5), max_leverage=D(100)
)

# The liquid preset with the filters that need data a replay has not (books, open interest, trade
# streams) or a one-symbol universe cannot pass (volume ranks, BTC correlation of BTC itself) opened up.
REPLAY_OVERRIDES: dict[str, Any] = {
    "scanner.min_volume_24h": 0.0,
    "scanner.min_open_interest": 0.0,
    "scanner.min_oi_change_pct": -100.0,
    "scanner.min_atr_pct": 0.0,
    "scanner.max_atr_pct": 100.0,
    "scanner.min_bb_width_pct": 0.0,
    "scanner.max_bb_width_pct": 1000.0,
    "scanner.min_volume_surge_5m": 0.0,
    "scanner.min_volume_surge_1h": 0.0,
    "scanner.max_btc_correlation": 1.0,
    "scanner.max_gaps": 1000,
}


def replay_preset(**more: Any) -> BreakoutPreset:
    return load_preset("liquid").with_values({**REPLAY_OVERRIDES, **more})


def btc_candles() -> list[Candle]:
    return list(read_candles(DATA / "BTC_USDT-5m.csv"))


class FaultyAdapter(PaperExchangeAdapter):
    """A paper account whose calls fail on demand: ``faults[method]`` is raised by every call of ``method``."""

    def __init__(self, engine: PaperEngine, account_id: str) -> None:
        super().__init__(engine, account_id)
        self.faults: dict[str, Exception] = {}
        self.refuse: set[OrderType] = set()
        """Order types the venue refuses (``InvalidOrderError``)."""

    def _fault(self, method: str) -> None:
        if method in self.faults:
            raise self.faults[method]

    async def fetch_ohlcv(self, *args: Any, **kwargs: Any) -> Any:
        self._fault("fetch_ohlcv")
        return await super().fetch_ohlcv(*args, **kwargs)

    async def fetch_balance(self) -> Any:
        self._fault("fetch_balance")
        return await super().fetch_balance()

    async def fetch_positions(self, symbols: list[str] | None = None) -> Any:
        self._fault("fetch_positions")
        return await super().fetch_positions(symbols)

    async def place_order(self, order: Order) -> Order:
        self._fault("place_order")
        if order.type in self.refuse:
            raise InvalidOrderError(f"{order.type} orders are refused here", exchange="paper")
        return await super().place_order(order)


@dataclass
class EngineWorld:
    database: Database
    clock: ManualClock
    venue: PaperVenue
    access: ExchangeAccess
    user_id: int
    replay: ReplayBars

    faulty: FaultyAdapter | None = None

    async def client(self) -> ExchangeClient:
        return await self.access.client(self.user_id, PAPER)

    def use_faulty_account(self) -> FaultyAdapter:
        """From now on the engine's account answers through a :class:`FaultyAdapter` (the client does not retry)."""
        self.venue.adapter(paper_account_id(self.user_id), deposit=DEPOSIT)
        self.faulty = FaultyAdapter(self.venue.engine, paper_account_id(self.user_id))
        return self.faulty

    async def _faulty_client(self) -> ExchangeClient:
        assert self.faulty is not None
        return ExchangeClient(self.faulty, settings=ClientSettings(retry=RetryPolicy(attempts=1)))

    def engine(
        self,
        preset: BreakoutPreset | None = None,
        *,
        publisher: SignalPublisher | None = None,
        status_file: Path | None = None,
        **config: Any,
    ) -> EngineService:
        settings = EngineConfig(user_id=self.user_id, target=PAPER, **config)
        return EngineService(
            settings,
            self._faulty_client if self.faulty is not None else self.client,
            pacer=self.replay,
            clock=self.clock,
            trade_log=TradeLog(self.database, self.user_id, PAPER),
            publisher=publisher,
            status_file=status_file,
            preset=preset or replay_preset(),
        )

    async def positions(self) -> list[Any]:
        return await (await self.client()).fetch_positions()

    async def open_orders(self) -> list[Any]:
        return await (await self.client()).fetch_open_orders()

    async def close(self) -> None:
        await self.access.close()
        self.venue.close()


async def make_world(database: Database, *, candles: Sequence[Candle] | None = None, warmup: int = 400) -> EngineWorld:
    """The platform's paper venue with BTC and ETH, the operator user, and ``warmup`` bars already played."""
    series = list(candles) if candles is not None else btc_candles()
    clock = ManualClock(series[0].timestamp)
    venue = PaperVenue(database, PaperEngine([BTC, ETH], clock=clock), "default")
    venue.engine.update_mark(ETH.symbol, D(1200))
    credentials = CredentialService(database, Keyring([generate_key()]))
    access = ExchangeAccess(credentials, venue)
    user = await UserService(database).register(TelegramProfile(4242, username="engine"))
    replay = ReplayBars(venue.engine, clock, {BTC.symbol: series}, "5m")
    replay.prime(warmup)
    return EngineWorld(database, clock, venue, access, user.id, replay)
