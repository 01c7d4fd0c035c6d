"""The simulated venue behind the HTTP API: the paper engine with its accounts, markets by Bybit id, the order
registry and the journal; every price change goes through here so the price watchers (the streams) see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from elcaro.core.clock import now_ms
from elcaro.exchanges.paper.clock import ManualClock
from elcaro.exchanges.paper.engine import PaperEngine
from elcaro.exchanges.simulator import codes
from elcaro.exchanges.simulator.config import AccountConfig, InstrumentConfig, ReplayPrices, SimulatorConfig
from elcaro.exchanges.simulator.journal import Journal
from elcaro.exchanges.simulator.registry import Registry
from elcaro.exchanges.simulator.wire import BybitError
from elcaro.marketdata.bars import MinuteBars
from elcaro.models import Instrument
from elcaro.models.errors import ValidationError
from elcaro.models.market import Candle

SNAPSHOT_FORMAT: Final = 1


@dataclass(frozen=True, slots=True)
class Market:
    """One instrument under its Bybit id (``BTCUSDT``)."""

    id: str
    config: InstrumentConfig
    instrument: Instrument

    @property
    def symbol(self) -> str:
        return self.instrument.symbol


class Venue:
    def __init__(
        self,
        config: SimulatorConfig,
        engine: PaperEngine,
        *,
        clock: ManualClock | None,
        registry: Registry | None = None,
        journal: dict[str, Any] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        """The replay's clock when candles drive time; None when the venue runs on the wall clock."""
        self.registry = registry or Registry(engine)
        self.journal = Journal(engine) if journal is None else Journal.restore(engine, journal)
        self.markets = {item.market_id: Market(item.market_id, item, item.instrument()) for item in config.instruments}
        self._ids = {market.symbol: market.id for market in self.markets.values()}
        self._accounts: dict[str, AccountConfig] = {}
        self._price_watchers: list[Callable[[str], None]] = []
        self._margin_mode = config.margin_mode
        self.funding = config.funding
        for market in self.markets.values():
            engine.add_instrument(market.instrument)  # the configured rules win over a snapshot's
        for account in config.accounts:
            self.add_account(account)

    @classmethod
    def create(cls, config: SimulatorConfig) -> Venue:
        clock = ManualClock(0) if isinstance(config.prices, ReplayPrices) else None
        engine = PaperEngine(clock=clock or now_ms, config=config.fees.paper())
        venue = cls(config, engine, clock=clock)
        replayed = config.prices.files if isinstance(config.prices, ReplayPrices) else {}
        for market in venue.markets.values():
            if market.config.price is not None and market.id not in replayed:
                venue.set_price(market.id, market.instrument.round_price(market.config.price))
        return venue

    @classmethod
    def restore(cls, config: SimulatorConfig, snapshot: dict[str, Any]) -> Venue:
        """Carry on from ``snapshot()``: its accounts, orders and prices; accounts and instruments new in ``config``
        are added."""
        if snapshot.get("format") != SNAPSHOT_FORMAT:
            raise ValidationError(f"unknown simulator snapshot format {snapshot.get('format')!r}", field="snapshot")
        clock = ManualClock(int(snapshot["clock"])) if isinstance(config.prices, ReplayPrices) else None
        clock_fn: Callable[[], int] = clock or now_ms
        engine = PaperEngine.restore(snapshot["engine"], clock=clock_fn)
        configured = {item.symbol for item in config.instruments}
        traded = {order.symbol for account_id in engine.account_ids for order in engine.orders(account_id)}
        if traded - configured:
            unlisted = ", ".join(sorted(traded - configured))
            raise ValidationError(
                f"the snapshot has orders on {unlisted}, which the config no longer lists", field="snapshot"
            )
        registry = Registry.restore(engine, snapshot["orders"])
        return cls(config, engine, clock=clock, registry=registry, journal=snapshot["journal"])

    def snapshot(self) -> dict[str, Any]:
        return {
            "format": SNAPSHOT_FORMAT,
            "clock": self.engine.now(),
            "engine": self.engine.snapshot(),
            "orders": self.registry.snapshot(),
            "journal": self.journal.snapshot(),
        }

    def close(self) -> None:
        self.journal.stop()

    # ------------------------------------------------------------------------------------------- accounts

    def add_account(self, account: AccountConfig) -> None:
        """Serve ``account``'s key; its engine account is opened with the starting balance unless it exists."""
        self._accounts[account.api_key] = account
        if account.account_id not in self.engine.account_ids:
            self.engine.open_account(account.account_id, account.balance)
            for market in self.markets.values():
                self.engine.set_margin_mode(account.account_id, market.symbol, self._margin_mode)

    def account(self, api_key: str) -> AccountConfig | None:
        return self._accounts.get(api_key)

    # -------------------------------------------------------------------------------------------- markets

    def market(self, market_id: str | None) -> Market:
        """The market a request names; Bybit's "Not supported symbols" (ccxt: BadSymbol) for any other."""
        market = None if market_id is None else self.markets.get(market_id)
        if market is None:
            raise BybitError(codes.PARAMS, f"params error: Not supported symbols ({market_id or 'symbol missing'})")
        return market

    def market_id(self, symbol: str) -> str:
        return self._ids[symbol]

    def set_price(self, market_id: str, mark: Decimal, last: Decimal | None = None) -> None:
        market = self.markets[market_id]
        self.engine.update_mark(market.symbol, mark, last=last)
        self.priced(market.symbol, mark if last is None else last)

    def apply_candle(self, market_id: str, candle: Candle, timeframe: str | None) -> None:
        market = self.markets[market_id]
        self.engine.apply_candle(market.symbol, candle, timeframe=timeframe)
        self.candled(market.symbol, candle)

    @property
    def bars(self) -> MinuteBars:
        """The engine's one-minute bars of every price it was set to and every candle it walked."""
        return self.engine.bars

    def priced(self, symbol: str, last: Decimal) -> None:
        """The engine's last price of ``symbol`` moved to ``last`` (here or by a price driver)."""
        self._moved(symbol)

    def candled(self, symbol: str, candle: Candle) -> None:
        """The engine walked ``candle`` (here or by a replay)."""
        self._moved(symbol)

    def watch_prices(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback`` with the symbol after every price move; returns the function that stops it."""
        self._price_watchers.append(callback)
        return lambda: self._price_watchers.remove(callback)

    def _moved(self, symbol: str) -> None:
        for callback in list(self._price_watchers):
            callback(symbol)

    def apply_funding(self, market_id: str, rate: Decimal) -> None:
        market = self.markets[market_id]
        self.engine.apply_funding(market.symbol, rate)
        self.journal.funding_paid(market.symbol, rate, self.engine.now())
