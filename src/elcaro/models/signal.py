"""The one ``Signal`` type every source is parsed into (see shared/SIGNALS.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from elcaro.models.enums import PositionSide
from elcaro.models.errors import InvalidSignalError

#: Prices further apart than this factor are a typo (a lost or extra digit), not a trade.
MAX_PRICE_RATIO = Decimal(10)
MAX_LEVERAGE = Decimal(250)


class SourceKind(StrEnum):
    CHANNEL = "channel"
    WEBHOOK = "webhook"
    ENGINE = "engine"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class SignalSource:
    """Where a signal came from: a channel id, a webhook source name, an engine name, an admin."""

    kind: SourceKind
    ref: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.ref}"


class EntryKind(StrEnum):
    MARKET = "market"
    """Enter now. ``prices`` may hold the price the post quoted, for sizing and checks."""
    LIMIT = "limit"
    """One limit price."""
    LADDER = "ladder"
    """Several limit prices (``100-200`` in a Cornix post), optionally with shares."""
    ZONE = "zone"
    """Anywhere between two prices (``Buy zone 100-200``); settings decide how to spread orders."""
    TRIGGER = "trigger"
    """Breakout: enter when price crosses ``prices[0]`` (``Enter above``/``Enter below``)."""


@dataclass(frozen=True, slots=True)
class Entry:
    kind: EntryKind
    prices: tuple[Decimal, ...] = ()
    shares: tuple[Decimal, ...] = ()
    """Fraction of the position per price (LADDER only); empty means the user's settings decide."""

    def __post_init__(self) -> None:
        expected = {
            EntryKind.MARKET: (0, 1),
            EntryKind.LIMIT: (1, 1),
            EntryKind.TRIGGER: (1, 1),
            EntryKind.ZONE: (2, 2),
            EntryKind.LADDER: (2, 20),
        }[self.kind]
        if not expected[0] <= len(self.prices) <= expected[1]:
            raise InvalidSignalError(f"a {self.kind} entry takes {expected[0]}–{expected[1]} prices", field="entry")
        if any(p <= 0 for p in self.prices):
            raise InvalidSignalError("entry prices must be positive", field="entry")
        if self.kind is EntryKind.ZONE and self.prices[0] >= self.prices[1]:
            raise InvalidSignalError("an entry zone is written low–high with two different prices", field="entry")
        _check_shares(self.shares, len(self.prices), "entry")

    @property
    def reference_price(self) -> Decimal | None:
        """One price standing for the entry: the midpoint of a zone, the average of a ladder."""
        if not self.prices:
            return None
        return sum(self.prices, Decimal(0)) / len(self.prices)


@dataclass(frozen=True, slots=True)
class TakeProfit:
    price: Decimal
    share: Decimal | None = None
    """Fraction of the position closed at this target; ``None``: the user's settings decide."""


@dataclass(frozen=True, slots=True)
class AtrExit:
    """ATR trailing-exit settings carried by a signal (the ``elcaro`` format)."""

    period: int
    multiplier: Decimal
    trigger_pct: Decimal | None = None


def _check_shares(shares: tuple[Decimal, ...], count: int, name: str) -> None:
    if not shares:
        return
    if len(shares) != count:
        raise InvalidSignalError(f"{len(shares)} shares given for {count} {name} prices", field=name)
    if any(not Decimal(0) < s <= 1 for s in shares) or sum(shares) > 1:
        raise InvalidSignalError(f"{name} shares must each be in (0, 1] and add up to at most 100%", field=name)


@dataclass(frozen=True, slots=True)
class Signal:
    """A trade idea from any source, consistent by construction.

    Building one with a stop on the wrong side, targets on the wrong side, prices an order of
    magnitude apart or an impossible leverage raises ``InvalidSignalError`` with the reason,
    which is what an admin sees for a rejected post.
    """

    source: SignalSource
    strategy: str
    symbol: str
    side: PositionSide
    entry: Entry
    take_profits: tuple[TakeProfit, ...] = ()
    stop_loss: Decimal | None = None
    leverage: Decimal | None = None
    timeframe: str | None = None
    score: Decimal | None = None
    quality: str | None = None
    """A grade such as ``B``; ``quality_score`` the number behind it (0–100) when given."""
    quality_score: Decimal | None = None
    rsi: Decimal | None = None
    oi_change_pct: Decimal | None = None
    atr_exit: AtrExit | None = None
    details: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    """Anything else the post said that is worth showing (indicator readings, trigger text)."""
    raw_text: str = ""
    received_at: int = 0
    id: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.strategy:
            raise InvalidSignalError("a signal belongs to a strategy", field="strategy")
        if not self.symbol:
            raise InvalidSignalError("a signal needs a symbol", field="symbol")
        if self.leverage is not None and not Decimal(1) <= self.leverage <= MAX_LEVERAGE:
            raise InvalidSignalError(f"leverage {self.leverage} is outside 1–{MAX_LEVERAGE}", field="leverage")
        self._check_prices()

    def _check_prices(self) -> None:
        sign = self.side.sign
        entries = self.entry.prices
        targets = [tp.price for tp in self.take_profits]
        if any(p <= 0 for p in targets) or (self.stop_loss is not None and self.stop_loss <= 0):
            raise InvalidSignalError("prices must be positive", field="take_profits")
        everything = [*entries, *targets, *([self.stop_loss] if self.stop_loss is not None else [])]
        if everything and max(everything) > min(everything) * MAX_PRICE_RATIO:
            raise InvalidSignalError(
                f"prices {min(everything)} and {max(everything)} are more than ×{MAX_PRICE_RATIO} apart", field="entry"
            )
        if entries:
            worst_entry = max(entries) if sign > 0 else min(entries)
            best_entry = min(entries) if sign > 0 else max(entries)
            if self.stop_loss is not None and sign * (best_entry - self.stop_loss) <= 0:
                where = "below" if sign > 0 else "above"
                raise InvalidSignalError(
                    f"a {self.side}'s stop {self.stop_loss} must be {where} its entry {best_entry}", field="stop_loss"
                )
            for price in targets:
                if sign * (price - worst_entry) <= 0:
                    where = "above" if sign > 0 else "below"
                    raise InvalidSignalError(
                        f"a {self.side}'s target {price} must be {where} its entry {worst_entry}", field="take_profits"
                    )
        if any(sign * (b - a) <= 0 for a, b in pairwise(targets)):
            raise InvalidSignalError("targets must move away from the entry one after another", field="take_profits")
        shares = tuple(tp.share for tp in self.take_profits if tp.share is not None)
        if shares and len(shares) != len(targets):
            raise InvalidSignalError("give a share for every target or for none", field="take_profits")
        _check_shares(shares, len(targets), "take_profits")

    @property
    def content_hash(self) -> str:
        """Identity for de-duplication: same source and same text (case and spacing aside)."""
        text = " ".join(self.raw_text.split()).casefold() if self.raw_text else repr(self._essence())
        return hashlib.sha256(f"{self.source}\x1f{text}".encode()).hexdigest()

    def _essence(self) -> tuple[object, ...]:
        return (self.strategy, self.symbol, self.side, self.entry, self.take_profits, self.stop_loss)


@dataclass(frozen=True, slots=True)
class SignalCancel:
    """A post withdrawing an earlier signal of the same source for ``symbol``."""

    source: SignalSource
    symbol: str
    raw_text: str = ""
    received_at: int = 0
