"""What the position manager remembers about one tracked position, and what it reacts to.

The state is a frozen value: the service stores it and hands it back with the next event, so a
restart resumes exactly where the manager was. Events come from the venue (fills, prices) and
from people (close requests, exits set by hand, a withdrawn signal); actions go back to the venue.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from elcaro.models import ZERO, AtrExit, ExitReason, Fill, Instrument, Order, PositionSide, Trade
from elcaro.models.position import move_pct
from elcaro.trading.ids import LegKind, OrderKey
from elcaro.trading.plan import EntryPlan


@dataclass(frozen=True, slots=True)
class AddLeg:
    """A resting order of ours that adds to the position: an entry leg or a DCA leg."""

    client_order_id: str
    kind: LegKind
    qty: Decimal
    filled: Decimal = ZERO
    resting: bool = True


@dataclass(frozen=True, slots=True)
class TargetLeg:
    """One take-profit target and the reduce-only order currently working it, if any."""

    index: int
    price: Decimal
    weight: Decimal
    client_order_id: str | None = None
    qty: Decimal = ZERO
    """The current order's quantity (zero: no order on the venue)."""
    filled: Decimal = ZERO
    """Filled on the current order."""
    revision: int = 0
    """Orders placed for this target so far; the next one is named with this revision."""
    hit: bool = False


@dataclass(frozen=True, slots=True)
class PositionState:
    key: OrderKey
    strategy: str
    instrument: Instrument
    side: PositionSide
    stop: Decimal
    stop_kind: ExitReason = ExitReason.STOP_LOSS
    """What a fill at the stop would be: STOP_LOSS, BREAK_EVEN or TRAILING_STOP."""
    targets: tuple[TargetLeg, ...] = ()
    adds: tuple[AddLeg, ...] = ()
    atr: AtrExit | None = None
    qty: Decimal = ZERO
    entry_price: Decimal = ZERO
    """Average entry of the open quantity (zero before the first fill)."""
    pending_close: Decimal = ZERO
    """Quantity in our own market closes that have not filled yet."""
    peak_qty: Decimal = ZERO
    highest: Decimal | None = None
    lowest: Decimal | None = None
    last_price: Decimal | None = None
    opened_at: int | None = None
    closed_at: int | None = None
    exit_reason: ExitReason | None = None
    steps_done: int = 0
    """Partial take-profit steps reached so far."""
    trailing_active: bool = False
    closes: tuple[ExitReason, ...] = ()
    """The reason of each market close issued, in order: close ``n`` is named ``(close, n)``."""
    closing: ExitReason | None = None
    """Set once the whole position is being closed: anything that still fills is closed for this reason."""
    entry_fees: Decimal = ZERO
    """Entry fees not yet charged to a closed part."""

    @property
    def is_open(self) -> bool:
        return self.qty > 0

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def free_qty(self) -> Decimal:
        """What may still be closed: the open quantity less our closes in flight."""
        return self.qty - self.pending_close

    @property
    def best_price(self) -> Decimal | None:
        """The most favourable price since entry: the highest for a long, the lowest for a short."""
        return self.highest if self.side is PositionSide.LONG else self.lowest

    def move_pct(self, price: Decimal) -> Decimal:
        """How far ``price`` is in the position's favour from the average entry, in percent."""
        return move_pct(self.side, self.entry_price, price)

    def trade(self, part: ExitPart, funding: Decimal = ZERO) -> Trade:
        """The trade-log record of a closed part (``funding`` paid or received while it was open)."""
        return Trade(
            target=self.key.target,
            symbol=self.instrument.symbol,
            side=self.side,
            qty=part.qty,
            entry_price=part.entry_price,
            exit_price=part.exit_price,
            opened_at=part.opened_at,
            closed_at=part.closed_at,
            exit_reason=part.reason,
            strategy=self.strategy,
            fees=part.fees,
            funding=funding,
            contract_size=self.instrument.contract_size,
            user_id=self.key.user_id,
            signal_id=self.key.signal_id,
        )


def open_position(plan: EntryPlan, instrument: Instrument) -> PositionState:
    """The state to track from the moment a plan's orders are placed (nothing filled yet)."""
    adds = [AddLeg(order.client_order_id, LegKind.ENTRY, order.qty) for order in plan.entries]
    adds += [AddLeg(order.client_order_id, LegKind.DCA, order.qty) for order in plan.dca]
    return PositionState(
        key=plan.key,
        strategy=plan.strategy,
        instrument=instrument,
        side=plan.side,
        stop=plan.stop_loss,
        targets=tuple(TargetLeg(t.index, t.price, t.weight) for t in plan.targets),
        adds=tuple(adds),
        atr=plan.atr,
    )


@dataclass(frozen=True, slots=True)
class PriceUpdate:
    price: Decimal
    at: int
    atr: Decimal | None = None
    """The current ATR over the trailing period, when ATR trailing is on."""


@dataclass(frozen=True, slots=True)
class TimeTick:
    at: int


@dataclass(frozen=True, slots=True)
class Liquidation:
    """The venue liquidated what was left of the position."""

    price: Decimal
    at: int
    fee: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class CloseRequest:
    """A person (or the kill switch) asks to close; ``qty`` None closes everything."""

    at: int
    reason: ExitReason = ExitReason.MANUAL
    qty: Decimal | None = None


@dataclass(frozen=True, slots=True)
class WithdrawEntries:
    """The signal was cancelled: entries and DCA adds not yet filled are withdrawn."""

    at: int


@dataclass(frozen=True, slots=True)
class AmendExits:
    """A person sets the stop and/or the prices of the targets not yet hit (None leaves that part as it is).

    ``target_prices`` name one price per remaining target, nearest first."""

    at: int
    stop: Decimal | None = None
    target_prices: tuple[Decimal, ...] | None = None


Event = PriceUpdate | TimeTick | Fill | Liquidation | CloseRequest | WithdrawEntries | AmendExits


@dataclass(frozen=True, slots=True)
class SetStop:
    """Move the whole position's stop (``client_order_id`` names it where the venue needs an order)."""

    price: Decimal
    kind: ExitReason
    client_order_id: str


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    order: Order


@dataclass(frozen=True, slots=True)
class AmendOrder:
    client_order_id: str
    qty: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True)
class CancelOrder:
    client_order_id: str


@dataclass(frozen=True, slots=True)
class ClosePosition:
    """A reduce-only market order closing ``order.qty``."""

    order: Order
    reason: ExitReason


Action = SetStop | PlaceOrder | AmendOrder | CancelOrder | ClosePosition


@dataclass(frozen=True, slots=True)
class ExitPart:
    """A closed quantity: the service turns it into a ``Trade`` (target, user, strategy, funding)."""

    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    reason: ExitReason
    opened_at: int
    closed_at: int
    fees: Decimal
    """This part's exit fee plus its share of the entry fees."""


@dataclass(frozen=True, slots=True)
class Step:
    state: PositionState
    actions: tuple[Action, ...] = ()
    exits: tuple[ExitPart, ...] = ()
