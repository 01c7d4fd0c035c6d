"""Market activity from the public trade stream: trade rate, buy/sell balance, and a sharp drop to exit on.

Settings (``[activity]`` in a preset; every field is required and typed strictly, see ``section.py``):

=========================  ===============  ===============================================================
field                      type             meaning (allowed range)
=========================  ===============  ===============================================================
``windows_s``              list of int      windows reported, seconds, strictly increasing (1…86400 each,
                                            1…8 windows), e.g. ``[60, 300, 900]``
``index_short_s``          int              window of the current trade rate; one of ``windows_s``
``index_long_s``           int              window of the baseline trade rate (the lookback); one of
                                            ``windows_s``, longer than ``index_short_s``
``drop_threshold``         float            the activity index below which activity has dropped (0 < x < 1)
``min_baseline_trades``    int              trades the long window must hold before a drop counts, so the
                                            noise of a quiet market is not read as a drop (1…1000000)
=========================  ===============  ===============================================================

Definitions
-----------
- A window of ``w`` seconds at ``now`` holds the trades with ``now − w·1000 < timestamp``; trades
  stamped after ``now`` (an exchange clock slightly ahead of ours) count as current.
- *trades per minute* = trades in the window ÷ (``w`` ÷ 60).
- *volume delta* = taker-buy quantity − taker-sell quantity (base currency);
  *buy/sell ratio* = taker-buy quantity ÷ taker-sell quantity (``None`` without sell volume).
- *activity index* = trades per minute over ``index_short_s`` ÷ trades per minute over
  ``index_long_s`` (the long window includes the short one). 1 is a steady market, 0.3 means the
  last minute traded at 30 % of the baseline pace. It is ``None`` until the meter has watched the
  market for the whole long window (a shorter watch would understate the baseline) and while the
  long window is empty.
- :meth:`ActivityMeter.dropped` is true when the index is below ``drop_threshold`` and the long
  window holds at least ``min_baseline_trades`` trades.

Cost: each trade is appended once to one deque per window and removed once when it leaves the
window, with running sums, so a trade costs O(number of windows) amortised whatever the trade rate.
Quantities are summed as exact decimals, so adding and removing millions of trades leaves no drift.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from itertools import pairwise
from typing import Annotated

from pydantic import Field, Strict, ValidationInfo, field_validator

from elcaro.models.enums import Side
from elcaro.models.market import PublicTrade
from elcaro.strategies.breakout.section import Section

# Running sums add and subtract the same quantities: an unbounded context keeps them exact.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
_ZERO = Decimal(0)


class ActivitySettings(Section):
    """Windows and drop rule of the activity meter; see the module docstring for each field."""

    # A TOML array arrives as a list: the container is converted to a tuple, each window stays strict.
    windows_s: tuple[Annotated[int, Strict()], ...] = Field(min_length=1, max_length=8, strict=False)
    index_short_s: int
    index_long_s: int
    drop_threshold: float = Field(gt=0, lt=1)
    min_baseline_trades: int = Field(ge=1, le=1_000_000)

    @field_validator("windows_s")
    @classmethod
    def _increasing(cls, windows: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= window <= 86_400 for window in windows):
            raise ValueError(f"each window must be 1…86400 seconds, got {list(windows)}")
        if any(later <= earlier for earlier, later in pairwise(windows)):
            raise ValueError(f"windows must be strictly increasing, got {list(windows)}")
        return windows

    @field_validator("index_short_s", "index_long_s")
    @classmethod
    def _one_of_windows(cls, value: int, info: ValidationInfo) -> int:
        windows = info.data.get("windows_s")
        if windows is not None and value not in windows:
            raise ValueError(f"must be one of windows_s {list(windows)}, got {value}")
        short = info.data.get("index_short_s")
        if info.field_name == "index_long_s" and short is not None and value <= short:
            raise ValueError(f"must be longer than index_short_s ({short}), got {value}")
        return value


@dataclass(frozen=True, slots=True)
class WindowActivity:
    """The trades of one window at one moment."""

    seconds: int
    trades: int
    trades_per_minute: float
    buy_qty: float
    """Taker-buy quantity, base currency."""
    sell_qty: float
    volume_delta: float
    """``buy_qty − sell_qty``, computed exactly before the conversion to float."""
    buy_sell_ratio: float | None
    """``buy_qty / sell_qty``; ``None`` when nothing was sold."""
    complete: bool
    """The meter has watched the market for the whole window (else the rate understates it)."""


@dataclass(frozen=True, slots=True)
class ActivitySnapshot:
    timestamp: int
    windows: tuple[WindowActivity, ...]
    """One entry per ``windows_s``, shortest first."""
    index: float | None
    """Short-window trade rate over long-window trade rate; ``None`` before warm-up or without trades."""

    def window(self, seconds: int) -> WindowActivity:
        """The figures of the ``seconds`` window; ``KeyError`` for a window the settings do not have."""
        for window in self.windows:
            if window.seconds == seconds:
                return window
        raise KeyError(seconds)


class _Window:
    """Trades of the last ``ms`` milliseconds with their count and quantities kept as running sums."""

    __slots__ = ("buy", "ms", "seconds", "sell", "trades")

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self.ms = seconds * 1000
        self.trades: deque[tuple[int, bool, Decimal]] = deque()
        self.buy = _ZERO
        self.sell = _ZERO

    def add(self, timestamp: int, is_buy: bool, qty: Decimal) -> None:
        self.trades.append((timestamp, is_buy, qty))
        if is_buy:
            self.buy = _EXACT.add(self.buy, qty)
        else:
            self.sell = _EXACT.add(self.sell, qty)

    def evict(self, now: int) -> None:
        cutoff = now - self.ms
        trades = self.trades
        while trades and trades[0][0] <= cutoff:
            _, is_buy, qty = trades.popleft()
            if is_buy:
                self.buy = _EXACT.subtract(self.buy, qty)
            else:
                self.sell = _EXACT.subtract(self.sell, qty)

    def rate(self) -> float:
        """Trades per minute."""
        return len(self.trades) * 60.0 / self.seconds


class ActivityMeter:
    """Rolling trade statistics of one symbol, fed trade by trade.

    ``since`` is when the meter started watching (epoch ms); by default the first trade's time. Feed
    trades in time order: a trade older than the newest one already added (a replay after a
    reconnect) is not counted, and :attr:`late_trades` says how many were refused. Call
    :meth:`snapshot` and :meth:`dropped` with a non-decreasing ``now``: trades that left a window
    are gone from it.
    """

    def __init__(self, settings: ActivitySettings, *, since: int | None = None) -> None:
        self.settings = settings
        self._windows = tuple(_Window(seconds) for seconds in settings.windows_s)
        self._short = self._windows[settings.windows_s.index(settings.index_short_s)]
        self._long = self._windows[settings.windows_s.index(settings.index_long_s)]
        self._since = since
        self._newest: int | None = None
        self.late_trades = 0

    def add(self, trade: PublicTrade) -> None:
        """Count ``trade`` in every window."""
        timestamp = trade.timestamp
        if self._newest is not None and timestamp < self._newest:
            self.late_trades += 1
            return
        self._newest = timestamp
        if self._since is None:
            self._since = timestamp
        is_buy = trade.side is Side.BUY
        for window in self._windows:
            window.add(timestamp, is_buy, trade.qty)
            # Evicting here too keeps memory bounded when nobody asks for a snapshot for a while.
            window.evict(timestamp)

    def snapshot(self, now: int) -> ActivitySnapshot:
        """Every window's figures and the activity index at ``now`` (epoch ms)."""
        watched = self._watched(now)
        windows = []
        for window in self._windows:
            window.evict(now)
            buy, sell = window.buy, window.sell
            windows.append(
                WindowActivity(
                    seconds=window.seconds,
                    trades=len(window.trades),
                    trades_per_minute=window.rate(),
                    buy_qty=float(buy),
                    sell_qty=float(sell),
                    volume_delta=float(_EXACT.subtract(buy, sell)),
                    buy_sell_ratio=float(buy / sell) if sell else None,
                    complete=watched >= window.ms,
                )
            )
        return ActivitySnapshot(now, tuple(windows), self._index(now, watched))

    def index(self, now: int) -> float | None:
        """The activity index at ``now``; see the module docstring."""
        return self._index(now, self._watched(now))

    def dropped(self, now: int) -> bool:
        """Whether activity has just fallen sharply: the exit signal of the strategy's ``activity_drop`` rule."""
        index = self.index(now)
        return (
            index is not None
            and len(self._long.trades) >= self.settings.min_baseline_trades
            and index < self.settings.drop_threshold
        )

    def _watched(self, now: int) -> int:
        return 0 if self._since is None else now - self._since

    def _index(self, now: int, watched: int) -> float | None:
        self._short.evict(now)
        self._long.evict(now)
        if watched < self._long.ms or not self._long.trades:
            return None
        return self._short.rate() / self._long.rate()
