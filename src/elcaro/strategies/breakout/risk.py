"""The breakout strategy's risk gate: may this signal be traded now, and with how much.

Settings (``[risk]`` in a preset; every field is required, ranges inclusive unless noted):

===============================  =====  ===============================================================
field                            type   meaning (allowed range)
===============================  =====  ===============================================================
``risk_per_trade_pct``           float  equity lost if the stop is hit, % (> 0, ≤ 10)
``max_position_pct``             float  largest notional, % of equity (> 0, ≤ 10000; 300 = 3× equity)
``max_position_notional``        float  largest notional in quote currency; 0 = no absolute cap (≥ 0)
``min_position_notional``        float  a smaller position is refused, quote currency (≥ 0)
``book_band_pct``                float  book depth counted within ±this % of mid (> 0, ≤ 10)
``max_book_fraction``            float  largest share of that depth one entry may take (> 0, ≤ 1)
``max_concurrent_positions``     int    open positions at most (1…1000)
``daily_loss_limit_pct``         float  no entries for the rest of the UTC day once the day lost this
                                        % of its starting equity (> 0, ≤ 100)
``kill_switch_drawdown_pct``     float  equity this % below its peak trips the kill switch (> 0, ≤ 100)
``correlation_threshold``        float  symbols with |correlation| at least this count as one exposure
                                        (0…1)
``max_correlated_exposure_pct``  float  notional of one correlated group, % of equity (> 0, ≤ 10000)
``max_consecutive_losses``       int    after this many losing trades in a row, no entries for the rest
                                        of the UTC day (1…1000)
===============================  =====  ===============================================================

:meth:`RiskBook.check` applies, in order (the first refusal wins; its code is stable, interfaces
translate it): ``no_equity``, ``kill_switch_drawdown``, ``daily_loss``, ``consecutive_losses``,
``position_open`` (the symbol already has one), ``max_positions``, ``invalid_stop``, then sizes::

    quantity = equity × risk_per_trade_pct % ÷ |entry − stop|

and caps it, smallest wins (``limited_by``): ``max_position`` (notional ≤ ``max_position_pct`` % of
equity and ≤ ``max_position_notional``), ``book_depth`` (≤ ``max_book_fraction`` × the quantity resting
within ``book_band_pct`` % of mid on the side the entry takes: asks for a buy, bids for a sell),
``correlated_exposure`` (the group's notional stays ≤ ``max_correlated_exposure_pct`` % of equity; the
group is every open symbol whose |correlation| with the signal's symbol is at least
``correlation_threshold``). No room left in the group is the refusal ``correlated_exposure``; a notional
below ``min_position_notional`` is ``below_min_size``. A cap can only lower the size, so the loss at the
stop never exceeds the risk budget. Without a book the depth cap is *skipped* (listed in
``skipped``), as is the correlation cap without correlations while positions are open.

Day and streak rules use UTC days of the timestamps given (a signal's ``bar_ts``, a close's ``ts``).
The day's loss is the larger of its realised loss and the fall of equity since the day's first
reading. The kill switch latches: once tripped it stays tripped until :meth:`RiskBook.reset_kill_switch`.
The book holds floats: it decides; the executor rounds the quantity to the instrument's step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from elcaro.models.enums import Side
from elcaro.models.errors import ValidationError
from elcaro.models.market import OrderBook
from elcaro.models.timeframe import DAY_MS
from elcaro.strategies.breakout.section import Section
from elcaro.strategies.breakout.signals import BreakoutSignal


class RiskSettings(Section):
    """Limits of the risk gate; see the module docstring for each field."""

    risk_per_trade_pct: float = Field(gt=0, le=10)
    max_position_pct: float = Field(gt=0, le=10_000)
    max_position_notional: float = Field(ge=0)
    min_position_notional: float = Field(ge=0)
    book_band_pct: float = Field(gt=0, le=10)
    max_book_fraction: float = Field(gt=0, le=1)
    max_concurrent_positions: int = Field(ge=1, le=1000)
    daily_loss_limit_pct: float = Field(gt=0, le=100)
    kill_switch_drawdown_pct: float = Field(gt=0, le=100)
    correlation_threshold: float = Field(ge=0, le=1)
    max_correlated_exposure_pct: float = Field(gt=0, le=10_000)
    max_consecutive_losses: int = Field(ge=1, le=1000)


class RiskCode(StrEnum):
    """Why an entry was refused: stable codes that interfaces translate."""

    NO_EQUITY = "no_equity"
    KILL_SWITCH_DRAWDOWN = "kill_switch_drawdown"
    DAILY_LOSS = "daily_loss"
    CONSECUTIVE_LOSSES = "consecutive_losses"
    POSITION_OPEN = "position_open"
    MAX_POSITIONS = "max_positions"
    INVALID_STOP = "invalid_stop"
    CORRELATED_EXPOSURE = "correlated_exposure"
    BELOW_MIN_SIZE = "below_min_size"


class SizeCap(StrEnum):
    """What set the quantity of an allowed entry."""

    RISK = "risk"
    MAX_POSITION = "max_position"
    BOOK_DEPTH = "book_depth"
    CORRELATED_EXPOSURE = "correlated_exposure"


@dataclass(frozen=True, slots=True)
class RiskDecision:
    allowed: bool
    reason: RiskCode | None
    """``None`` when allowed."""
    quantity: float
    """Base-currency quantity to enter (0 when refused), before rounding to the instrument's step."""
    message: str
    """What a trader reads: the figures behind the decision."""
    notional: float = 0.0
    risk_amount: float = 0.0
    """Loss at the stop for ``quantity`` (quote currency, before fees and slippage)."""
    limited_by: SizeCap | None = None
    skipped: tuple[str, ...] = ()
    """Caps not applied for want of data: ``book_depth``, ``correlation``."""


@dataclass(frozen=True, slots=True)
class RiskState:
    """A snapshot of the book: what a dashboard shows and what :meth:`RiskBook.restore` takes back."""

    equity: float | None
    peak_equity: float | None
    day: int | None
    """UTC day number (epoch ms ÷ 86 400 000) the day figures belong to."""
    day_start_equity: float | None
    day_pnl: float
    consecutive_losses: int
    losses_blocked_day: int | None
    kill_switch: bool
    open_positions: Mapping[str, float]
    """Symbol → open notional (quote currency)."""
    open_pnl: Mapping[str, float]
    """Symbol → PnL realised so far by partial closes of the open position."""


class RiskBook:
    """Tracks equity, the day's PnL, the peak (drawdown), the losing streak and the open positions.

    Feed it as the account lives: :meth:`check` before an entry, :meth:`record_open` when one fills,
    :meth:`record_close` for every close (partial or final) and :meth:`observe_equity` whenever the
    account's equity is known (each bar in a backtest), so the drawdown and daily rules see
    unrealised losses too.
    """

    def __init__(self, settings: RiskSettings) -> None:
        self.settings = settings
        self._equity: float | None = None
        self._peak: float | None = None
        self._day: int | None = None
        self._day_start: float | None = None
        self._day_pnl = 0.0
        self._streak = 0
        self._blocked_day: int | None = None
        self._kill = False
        self._open: dict[str, float] = {}
        self._open_pnl: dict[str, float] = {}

    # -- feeding -------------------------------------------------------------------------------

    def observe_equity(self, equity: float, ts: int) -> None:
        """The account's equity at ``ts`` (realised and unrealised): updates the peak, the day and the kill switch."""
        self._roll(ts)
        self._equity = equity
        if self._day_start is None:
            self._day_start = equity
        if self._peak is None or equity > self._peak:
            self._peak = equity
        self._update_kill_switch()

    def record_open(self, symbol: str, notional: float) -> None:
        """An entry filled for ``notional`` (quote currency)."""
        if notional <= 0:
            raise ValidationError(f"must be above 0, got {notional}", field="notional")
        self._open[symbol] = self._open.get(symbol, 0.0) + notional
        self._open_pnl.setdefault(symbol, 0.0)

    def record_close(self, pnl: float, ts: int, *, symbol: str | None = None, remaining_notional: float = 0.0) -> None:
        """Realised ``pnl`` (after fees) at ``ts``.

        With ``symbol``: a close of that position, leaving ``remaining_notional`` open (0 = the
        trade is over, and its total PnL counts for the losing streak). Without: PnL not tied to a
        position (funding, fees).
        """
        self._roll(ts)
        if self._day_start is None and self._equity is not None:
            self._day_start = self._equity
        self._day_pnl += pnl
        if self._equity is not None:
            self._equity += pnl
            self._update_kill_switch()
        if symbol is None:
            return
        if symbol not in self._open:
            raise ValidationError(f"no open position for {symbol}", field="symbol")
        trade_pnl = self._open_pnl.get(symbol, 0.0) + pnl
        if remaining_notional > 0:
            self._open[symbol] = remaining_notional
            self._open_pnl[symbol] = trade_pnl
            return
        del self._open[symbol]
        self._open_pnl.pop(symbol, None)
        self._streak = self._streak + 1 if trade_pnl < 0 else 0
        if self._streak >= self.settings.max_consecutive_losses:
            self._blocked_day = self._day

    def reset_kill_switch(self) -> None:
        """Re-arm after a human looked: the peak restarts from the current equity."""
        self._kill = False
        self._peak = self._equity

    # -- reading -------------------------------------------------------------------------------

    def kill_switch_tripped(self) -> bool:
        return self._kill

    @property
    def open_positions(self) -> Mapping[str, float]:
        return dict(self._open)

    @property
    def consecutive_losses(self) -> int:
        return self._streak

    def snapshot(self) -> RiskState:
        return RiskState(
            equity=self._equity,
            peak_equity=self._peak,
            day=self._day,
            day_start_equity=self._day_start,
            day_pnl=self._day_pnl,
            consecutive_losses=self._streak,
            losses_blocked_day=self._blocked_day,
            kill_switch=self._kill,
            open_positions=dict(self._open),
            open_pnl=dict(self._open_pnl),
        )

    @classmethod
    def restore(cls, settings: RiskSettings, state: RiskState) -> RiskBook:
        book = cls(settings)
        book._equity, book._peak = state.equity, state.peak_equity
        book._day, book._day_start, book._day_pnl = state.day, state.day_start_equity, state.day_pnl
        book._streak, book._blocked_day, book._kill = (
            state.consecutive_losses,
            state.losses_blocked_day,
            state.kill_switch,
        )
        book._open, book._open_pnl = dict(state.open_positions), dict(state.open_pnl)
        return book

    # -- deciding ------------------------------------------------------------------------------

    def check(
        self,
        signal: BreakoutSignal,
        equity: float,
        *,
        book: OrderBook | None = None,
        correlation: Mapping[str, float] | None = None,
    ) -> RiskDecision:
        """Whether ``signal`` may be entered with ``equity`` now, and the quantity; see the module docstring.

        ``correlation`` maps other symbols to their correlation with ``signal.symbol`` (a symbol
        missing from it counts as uncorrelated). The book's state is updated with ``equity``.
        """
        if equity <= 0:
            return _refuse(RiskCode.NO_EQUITY, f"equity is {equity:g}")
        self.observe_equity(equity, signal.bar_ts)
        refusal = self._account_refusal(signal, equity)
        if refusal is not None:
            return refusal
        return self._size(signal, equity, book, correlation)

    def _account_refusal(self, signal: BreakoutSignal, equity: float) -> RiskDecision | None:
        """The first account rule that forbids an entry now, in the documented order."""
        s = self.settings
        day_loss = self._day_loss()
        limit = s.daily_loss_limit_pct / 100 * (self._day_start or equity)
        refusals: tuple[tuple[bool, RiskCode, str], ...] = (
            (
                self._kill,
                RiskCode.KILL_SWITCH_DRAWDOWN,
                (
                    f"kill switch: equity {equity:g} is {self._drawdown_pct():.2f} % below its peak "
                    f"{self._peak or 0.0:g} (limit {s.kill_switch_drawdown_pct:g} %)"
                ),
            ),
            (
                day_loss >= limit,
                RiskCode.DAILY_LOSS,
                f"today's loss {day_loss:g} reached the daily limit {limit:g}",
            ),
            (
                self._blocked_day is not None and self._blocked_day == self._day,
                RiskCode.CONSECUTIVE_LOSSES,
                (
                    f"{self._streak} losing trades in a row (limit {s.max_consecutive_losses}); "
                    "entries resume tomorrow (UTC)"
                ),
            ),
            (
                signal.symbol in self._open,
                RiskCode.POSITION_OPEN,
                f"{signal.symbol} already has an open position",
            ),
            (
                len(self._open) >= s.max_concurrent_positions,
                RiskCode.MAX_POSITIONS,
                f"{len(self._open)} positions open (limit {s.max_concurrent_positions})",
            ),
            (
                not (signal.risk_per_unit > 0 and signal.entry > 0),
                RiskCode.INVALID_STOP,
                f"entry {signal.entry:g} and stop {signal.stop:g} give no risk distance",
            ),
        )
        for applies, code, message in refusals:
            if applies:
                return _refuse(code, message)
        return None

    def _size(
        self,
        signal: BreakoutSignal,
        equity: float,
        book: OrderBook | None,
        correlation: Mapping[str, float] | None,
    ) -> RiskDecision:
        s = self.settings
        distance = signal.risk_per_unit
        budget = equity * s.risk_per_trade_pct / 100
        quantity, limited_by = budget / distance, SizeCap.RISK
        skipped: list[str] = []
        max_notional = equity * s.max_position_pct / 100
        if s.max_position_notional > 0:
            max_notional = min(max_notional, s.max_position_notional)
        quantity, limited_by = _cap(quantity, limited_by, max_notional / signal.entry, SizeCap.MAX_POSITION)
        if book is None:
            skipped.append("book_depth")
        else:
            depth = _depth_taken(book, signal.side, s.book_band_pct)
            quantity, limited_by = _cap(quantity, limited_by, s.max_book_fraction * depth, SizeCap.BOOK_DEPTH)
        if correlation is None and self._open:
            skipped.append("correlation")
        group = sum(
            notional
            for symbol, notional in self._open.items()
            if correlation is not None and abs(correlation.get(symbol, 0.0)) >= s.correlation_threshold
        )
        room = s.max_correlated_exposure_pct / 100 * equity - group
        if room <= 0:
            return _refuse(
                RiskCode.CORRELATED_EXPOSURE,
                f"correlated positions already hold {group:g} (limit {s.max_correlated_exposure_pct:g} % of equity)",
            )
        quantity, limited_by = _cap(quantity, limited_by, room / signal.entry, SizeCap.CORRELATED_EXPOSURE)
        notional = quantity * signal.entry
        if not quantity > 0 or notional < s.min_position_notional:
            return RiskDecision(
                False,
                RiskCode.BELOW_MIN_SIZE,
                0.0,
                f"size {notional:g} (limited by {limited_by}) is below the minimum {s.min_position_notional:g}",
                limited_by=limited_by,
                skipped=tuple(skipped),
            )
        return RiskDecision(
            True,
            None,
            quantity,
            f"{quantity:g} at {signal.entry:g}: notional {notional:g}, {quantity * distance:g} at risk "
            f"(limited by {limited_by})",
            notional=notional,
            risk_amount=quantity * distance,
            limited_by=limited_by,
            skipped=tuple(skipped),
        )

    # -- internals -----------------------------------------------------------------------------

    def _roll(self, ts: int) -> None:
        day = ts // DAY_MS
        if self._day is not None and day <= self._day:
            return
        self._day = day
        self._day_pnl = 0.0
        self._day_start = self._equity
        if self._blocked_day is not None and self._blocked_day < day:
            self._blocked_day = None
            self._streak = 0

    def _day_loss(self) -> float:
        fall = (self._day_start - self._equity) if self._day_start is not None and self._equity is not None else 0.0
        return max(-self._day_pnl, fall, 0.0)

    def _drawdown_pct(self) -> float:
        if not self._peak or self._equity is None:
            return 0.0
        return (self._peak - self._equity) / self._peak * 100

    def _update_kill_switch(self) -> None:
        if self._drawdown_pct() >= self.settings.kill_switch_drawdown_pct:
            self._kill = True


def _refuse(code: RiskCode, message: str) -> RiskDecision:
    return RiskDecision(False, code, 0.0, message)


def _cap(quantity: float, limited_by: SizeCap, cap: float, name: SizeCap) -> tuple[float, SizeCap]:
    return (cap, name) if cap < quantity else (quantity, limited_by)


def _depth_taken(book: OrderBook, side: Side, band_pct: float) -> float:
    """Base quantity resting within ``band_pct`` % of mid on the side a ``side`` order takes from."""
    depth = book.depth_within(Decimal(str(band_pct)) / 100)
    return float(depth.ask_qty if side is Side.BUY else depth.bid_qty)
