"""The venues' request limits, as data: which bucket each call draws from and how much.

Two kinds of bucket. An **account** bucket is per (target, account, category): venues limit an API
key (Bybit per UID and endpoint, Binance's order counts per account). An **IP** bucket is per
target and shared by every account of the process, because a venue counts all traffic from one
address against one budget (Bybit's 600 per 5 s, Binance's request weight, HyperLiquid's weight);
public market data draws from it only.

A ``Rate`` is what the venue allows in a window. The bucket built from it holds ``burst`` tokens and
refills at ``(limit − burst) / period``, so no window of ``period`` seconds — fixed or rolling,
however the venue counts — ever sees more than ``limit``. Headroom is left on purpose: the
venues ask clients not to run at the edge, and a user may trade by hand with the same key.

Sources (read 2025; venues change these, so they are data a deployment can override):

- Bybit v5 — https://bybit-exchange.github.io/docs/v5/rate-limit : HTTP IP limit 600 requests in
  any 5-second window ("403, access too frequent" bans the IP for 10 minutes); per UID and per
  endpoint, rolling 1 s: order create/amend/cancel 10/s for linear, order and execution queries
  50/s, position list 50/s, set-leverage / trading-stop / switch-isolated 10/s, wallet balance
  50/s. retCode 10006 is the per-UID limit, 10018 the IP limit. Each endpoint has its own limit
  on the venue; here the endpoints of a category share one bucket at the lowest of their rates.
- Binance USDⓈ-M futures — https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info
  (Limits): REQUEST_WEIGHT 2400 per minute per IP (X-MBX-USED-WEIGHT-1M; code -1003, HTTP 429,
  repeated 429s become an HTTP 418 IP ban); ORDERS 300 per 10 s and 1200 per minute per account
  (X-MBX-ORDER-COUNT-10S / -1M; code -1015). Weights from each endpoint's page: new order 0 on
  the IP (it counts in ORDERS), cancel / query order 1, open orders 1 with a symbol and 40
  without, all orders 5, account / balance / position risk 5, user trades 5, income 30, depth 2
  at 50 levels, klines 5 at up to 1000 candles, 24 h tickers 40 for all symbols. Cancels do not
  count in ORDERS on Binance; here they share the order bucket (conservative).
- HyperLiquid — https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/rate-limits-and-user-limits :
  1200 weight per minute per IP for all REST requests; an exchange action weighs 1 (+1 per 40 in a
  batch); info requests l2Book, allMids, clearinghouseState, orderStatus weigh 2, all others 20,
  candleSnapshot and the fill/order histories more per item returned (one page of candles is
  counted as 30 here). Its address-based limit (a budget growing with volume traded) is not a
  rate and is left to the venue's own answer, which pauses the bucket.
- The paper exchange runs in process: no limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from elcaro.models import Environment, Exchange, Target
from elcaro.models.errors import ValidationError


class Category(StrEnum):
    ORDER = "order"
    """Place, amend, cancel."""
    QUERY = "query"
    """Orders, fills and closed PnL read back."""
    POSITION = "position"
    """Positions read, leverage, margin mode, position TP/SL."""
    ACCOUNT = "account"
    """Balance."""
    MARKET = "market"
    """Public data: no account bucket, only the IP one."""


#: Every rate-limited method of the adapter protocol (streams run on websockets and draw nothing).
METHOD_CATEGORIES: Final[Mapping[str, Category]] = MappingProxyType(
    {
        "place_order": Category.ORDER,
        "amend_order": Category.ORDER,
        "cancel_order": Category.ORDER,
        "cancel_all_orders": Category.ORDER,
        "fetch_order": Category.QUERY,
        "fetch_open_orders": Category.QUERY,
        "fetch_order_history": Category.QUERY,
        "fetch_fills": Category.QUERY,
        "fetch_closed_pnl": Category.QUERY,
        "fetch_positions": Category.POSITION,
        "set_leverage": Category.POSITION,
        "set_margin_mode": Category.POSITION,
        "set_position_protection": Category.POSITION,
        "fetch_balance": Category.ACCOUNT,
        "load_instruments": Category.MARKET,
        "fetch_ticker": Category.MARKET,
        "fetch_tickers": Category.MARKET,
        "fetch_order_book": Category.MARKET,
        "fetch_ohlcv": Category.MARKET,
        "fetch_funding_rate": Category.MARKET,
        "fetch_open_interest": Category.MARKET,
    }
)


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` tokens per ``period`` seconds, of which ``burst`` may go at once."""

    limit: float
    period: float
    burst: float

    def __post_init__(self) -> None:
        if self.period <= 0:
            raise ValidationError(f"a period is positive, got {self.period}", field="period")
        if not 1 <= self.burst < self.limit:
            raise ValidationError(f"need 1 ≤ burst < limit, got {self.burst} and {self.limit}", field="burst")

    @property
    def per_second(self) -> float:
        return (self.limit - self.burst) / self.period


def _frozen(mapping: Mapping[str, float] | None = None) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class VenueLimits:
    """One venue's limits. A method's IP weight is ``ip_weights`` (1 when absent; 0 draws nothing).

    ``ip_weights_all_symbols`` overrides the weight of a call made without a symbol, which some
    venues charge for every symbol. A ``RateLimitedError`` whose code is in ``ip_codes`` pauses the
    IP bucket, any other pauses the account buckets of the call (or the IP bucket when the call
    has none); for how long the venue's ``retry_after`` says, else ``pause_by_code``, else
    ``default_pause`` seconds.
    """

    account: Mapping[Category, tuple[Rate, ...]] = field(default_factory=dict)
    ip: tuple[Rate, ...] = ()
    ip_weights: Mapping[str, float] = field(default_factory=_frozen)
    ip_weights_all_symbols: Mapping[str, float] = field(default_factory=_frozen)
    ip_codes: frozenset[str] = frozenset()
    pause_by_code: Mapping[str, float] = field(default_factory=_frozen)
    default_pause: float = 1.0

    def __post_init__(self) -> None:
        unknown = (set(self.ip_weights) | set(self.ip_weights_all_symbols)) - set(METHOD_CATEGORIES)
        if unknown:
            raise ValidationError(f"weights for unknown methods: {', '.join(sorted(unknown))}", field="ip_weights")
        smallest_burst = min((rate.burst for rate in self.ip), default=None)
        heaviest = max([*self.ip_weights.values(), *self.ip_weights_all_symbols.values()], default=0.0)
        if smallest_burst is not None and heaviest > smallest_burst:
            # A call heavier than the bucket can ever hold would wait forever.
            raise ValidationError(f"a weight of {heaviest} exceeds the IP burst {smallest_burst}", field="ip_weights")

    def ip_weight(self, method: str, *, all_symbols: bool) -> float:
        if all_symbols and method in self.ip_weights_all_symbols:
            return self.ip_weights_all_symbols[method]
        return self.ip_weights.get(method, 1.0)


UNLIMITED: Final = VenueLimits()

BYBIT: Final = VenueLimits(
    account={
        Category.ORDER: (Rate(10, 1, burst=2),),
        Category.QUERY: (Rate(50, 1, burst=10),),
        Category.POSITION: (Rate(10, 1, burst=2),),
        Category.ACCOUNT: (Rate(50, 1, burst=10),),
    },
    ip=(Rate(600, 5, burst=100),),
    ip_codes=frozenset({"403", "10018"}),
    pause_by_code={"403": 600.0},
)

BINANCE: Final = VenueLimits(
    account={Category.ORDER: (Rate(300, 10, burst=30), Rate(1200, 60, burst=60))},
    ip=(Rate(2400, 60, burst=240),),
    ip_weights={
        "place_order": 0,
        "fetch_order_history": 5,
        "fetch_fills": 5,
        "fetch_closed_pnl": 30,
        "fetch_positions": 5,
        "fetch_balance": 5,
        "fetch_tickers": 40,
        "fetch_order_book": 2,
        "fetch_ohlcv": 5,
    },
    ip_weights_all_symbols={"fetch_open_orders": 40},
    ip_codes=frozenset({"-1003", "418"}),
)

HYPERLIQUID: Final = VenueLimits(
    ip=(Rate(1200, 60, burst=120),),
    ip_weights={
        "fetch_order": 2,
        "fetch_balance": 2,
        "fetch_positions": 2,
        "fetch_order_book": 2,
        "fetch_open_orders": 20,
        "fetch_order_history": 20,
        "fetch_fills": 20,
        "fetch_closed_pnl": 20,
        "load_instruments": 40,  # perpetual and spot metadata: two info requests
        "fetch_ticker": 20,
        "fetch_tickers": 20,
        "fetch_ohlcv": 30,
        "fetch_funding_rate": 20,
        "fetch_open_interest": 20,
    },
)

DEFAULT_LIMITS: Final[Mapping[Exchange, VenueLimits]] = MappingProxyType(
    {Exchange.BYBIT: BYBIT, Exchange.BINANCE: BINANCE, Exchange.HYPERLIQUID: HYPERLIQUID}
)


def limits_for(target: Target, table: Mapping[Exchange, VenueLimits] = DEFAULT_LIMITS) -> VenueLimits:
    """The in-process paper exchange has no limits; a venue missing from ``table`` has none either."""
    if target.environment is Environment.PAPER:
        return UNLIMITED
    return table.get(target.exchange, UNLIMITED)
