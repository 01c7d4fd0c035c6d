"""Position management rules as a pure state machine: ``step(state, event, settings)``.

Rules, each from the user's settings at the time of the event:

- take-profit ladder: reduce-only limits that always add up to what may be closed; re-sized
  (amended, placed, cancelled) whenever the open quantity changes other than by a target fill;
- partial take-profit steps: at +x % from the average entry, have y % of the largest size held
  closed (market, reduce-only; target fills count); a step too small for the venue waits for the next;
- break-even: after target N, or at +x %, the stop moves to the entry plus the offset;
- DCA: a filled add re-averages the entry and re-sizes the targets (re-priced to keep their
  distance from the new average if configured); the stop stays where the plan put it, because
  the size was computed for every add filling at that stop;
- trailing: moving target (each filled target moves the stop to the one before, to break-even
  after the first) or ATR (best price ∓ multiplier × ATR once the trigger % is reached);
- time: a daily auto-close time (UTC) and a maximum holding time.

Stops only ever tighten and land on the tick; a level the price has already crossed closes the
position at market instead (the venue's stop would have fired there). Closes never exceed the
open quantity less the closes already in flight.

A person may set the stop either way and re-price the targets not yet hit (``AmendExits``). A stop
looser than what one of the rules above demands right now is refused rather than taken: the rule
would move it back at the next price, behind the person's back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import time
from decimal import Decimal

from elcaro.models import ZERO, AtrExit, ExitReason, Fill, Order, OrderType, PositionSide, round_to_step
from elcaro.models.decimals import Rounding
from elcaro.models.errors import ValidationError
from elcaro.models.timeframe import DAY_MS, MINUTE_MS
from elcaro.trading.exits import classify_exit
from elcaro.trading.ids import LegKind
from elcaro.trading.legs import merge_small, split
from elcaro.trading.plan import stop_side
from elcaro.trading.position import (
    Action,
    AddLeg,
    AmendExits,
    AmendOrder,
    CancelOrder,
    ClosePosition,
    CloseRequest,
    Event,
    ExitPart,
    Liquidation,
    PlaceOrder,
    PositionState,
    PriceUpdate,
    SetStop,
    Step,
    TargetLeg,
    TimeTick,
    WithdrawEntries,
)
from elcaro.trading.settings import TradingSettings, TrailingType


def step(state: PositionState, event: Event, settings: TradingSettings) -> Step:
    """The state after ``event`` and what to do on the venue. Events after the close are ignored,
    except an entry fill that arrives late: that quantity is closed again at once."""
    run = _Run(state, settings)
    if isinstance(event, AmendExits):  # refused, not ignored, once the position is over
        run.amend_exits(event)
    elif state.is_closed:
        if isinstance(event, Fill) and event.side is state.side.entry_side:
            run.late_entry(event)
        return run.result()
    elif isinstance(event, Fill):
        run.fill(event)
    elif isinstance(event, PriceUpdate):
        run.price(event)
    elif isinstance(event, TimeTick):
        run.time_exits(event.at)
    elif isinstance(event, Liquidation):
        run.reduce(state.qty, event.price, event.at, event.fee, None, ExitReason.LIQUIDATION)
    elif isinstance(event, CloseRequest):
        run.close_request(event)
    elif isinstance(event, WithdrawEntries):
        run.withdraw(event.at)
    run.relay_targets()
    return run.result()


class _Run:
    """One event's worth of changes: the evolving state and the actions and exits it produced."""

    def __init__(self, state: PositionState, settings: TradingSettings) -> None:
        self.state = state
        self.settings = settings
        self.actions: list[Action] = []
        self.exits: list[ExitPart] = []
        self.repriced = False

    def result(self) -> Step:
        return Step(self.state, tuple(self.actions), tuple(self.exits))

    def set(self, **changes: object) -> None:
        self.state = replace(self.state, **changes)  # type: ignore[arg-type]

    # ---- fills

    def fill(self, fill: Fill) -> None:
        s = self.state
        if fill.symbol != s.instrument.symbol:
            raise ValidationError(f"a fill of {fill.symbol} sent to the {s.instrument.symbol} position", field="symbol")
        if fill.side is s.side.entry_side:
            self.add(fill)
            return
        reason = classify_exit(s, fill.price, client_order_id=fill.client_order_id)
        self.reduce(fill.qty, fill.price, fill.timestamp, fill.fee, fill.client_order_id, reason)
        if self.state.is_open:
            self.stop_rules()

    def add(self, fill: Fill) -> None:
        s = self.state
        kind = next((leg.kind for leg in s.adds if leg.client_order_id == fill.client_order_id), None)
        adds = tuple(
            _add_filled(leg, fill.qty) if leg.client_order_id == fill.client_order_id else leg for leg in s.adds
        )
        first = not s.is_open
        qty = s.qty + fill.qty
        entry = fill.price if first else (s.qty * s.entry_price + fill.qty * fill.price) / qty
        self.set(
            adds=adds,
            qty=qty,
            entry_price=entry,
            peak_qty=max(s.peak_qty, qty),
            opened_at=fill.timestamp if s.opened_at is None else s.opened_at,
            entry_fees=s.entry_fees + fill.fee,
            highest=fill.price if s.highest is None else max(s.highest, fill.price),
            lowest=fill.price if s.lowest is None else min(s.lowest, fill.price),
            last_price=s.last_price or fill.price,
        )
        if first:
            self.actions.append(SetStop(s.stop, s.stop_kind, s.key.client_order_id(LegKind.STOP, 0)))
        if s.closing is not None:  # an entry that filled while the position was being closed goes too
            self.close_all(s.closing)
        elif kind is LegKind.DCA and self.settings.dca_reprice_targets:
            self.reprice_targets(entry / s.entry_price)

    def late_entry(self, fill: Fill) -> None:
        """A resting entry filled after the position closed: track it and close it straight away."""
        reason = self.state.exit_reason or ExitReason.EXTERNAL
        self.set(closed_at=None, exit_reason=None, closing=reason)
        self.add(fill)

    def reduce(
        self, qty: Decimal, price: Decimal, at: int, fee: Decimal, client_order_id: str | None, reason: ExitReason
    ) -> None:
        s = self.state
        if not s.is_open:
            return
        part = min(qty, s.qty)
        fee_share = s.entry_fees * part / s.qty
        targets = tuple(
            _target_filled(t, part) if client_order_id and t.client_order_id == client_order_id else t
            for t in s.targets
        )
        ours = client_order_id is not None and any(
            s.key.client_order_id(LegKind.CLOSE, n) == client_order_id for n in range(len(s.closes))
        )
        remaining = s.qty - part
        pending = max(ZERO, s.pending_close - part) if ours else s.pending_close
        opened_at = s.opened_at if s.opened_at is not None else at
        self.exits.append(ExitPart(part, s.entry_price, price, reason, opened_at, at, fee + fee_share))
        self.set(
            qty=remaining,
            targets=targets,
            pending_close=min(pending, remaining),
            entry_fees=s.entry_fees - fee_share,
            last_price=price,
        )
        if remaining == 0:
            self.cancel_adds()
            self.cancel_targets()
            self.set(closed_at=at, exit_reason=reason, pending_close=ZERO)

    # ---- market data and time

    def price(self, update: PriceUpdate) -> None:
        s = self.state
        self.set(last_price=update.price)
        if not s.is_open:
            return
        self.set(
            highest=max(s.highest or update.price, update.price), lowest=min(s.lowest or update.price, update.price)
        )
        if self.time_exits(update.at):
            return
        self.partial_steps(update.price)
        at_pct = self.settings.break_even_at_pct
        if at_pct is not None and self.state.move_pct(update.price) >= at_pct:
            self.tighten(self.break_even_level(), ExitReason.BREAK_EVEN, _toward_price(self.state))
        self.stop_rules()
        self.atr_trailing(update.price, update.atr)

    def time_exits(self, at: int) -> bool:
        s, settings = self.state, self.settings
        if not s.is_open or s.opened_at is None:
            return False
        if settings.max_hold_minutes is not None and at - s.opened_at >= settings.max_hold_minutes * MINUTE_MS:
            self.close_all(ExitReason.MAX_HOLD)
            return True
        if settings.auto_close_at is not None and at >= next_time_of_day(s.opened_at, settings.auto_close_at):
            self.close_all(ExitReason.AUTO_CLOSE)
            return True
        return False

    # ---- rules

    def partial_steps(self, price: Decimal) -> None:
        """Take off the steps' cumulative share of the largest size held; what targets (or anything
        else) already closed counts toward it, so steps and the ladder never close twice."""
        s, steps = self.state, self.settings.partial_tp_steps
        done = s.steps_done
        while done < len(steps) and s.move_pct(price) >= steps[done].profit_pct:
            done += 1
        if done == s.steps_done:
            return
        self.set(steps_done=done)
        share = sum((item.close_pct for item in steps[:done]), ZERO)
        goal = round_to_step(s.peak_qty * share / 100, s.instrument.qty_step, "down")
        want = goal - (s.peak_qty - s.free_qty)
        if want <= 0:
            return
        if share >= 100 or s.free_qty - want < _min_close(s):  # leave no remainder the venue could not close
            want = s.free_qty
        if want >= _min_close(s):
            self.close(want, ExitReason.TAKE_PROFIT)

    def stop_rules(self) -> None:
        """Break-even after target N and moving-target trailing: both follow the targets hit."""
        hits = _targets_hit(self.state)
        after = self.settings.break_even_after_tp
        if after is not None and hits >= after:
            self.tighten(self.break_even_level(), ExitReason.BREAK_EVEN, _toward_price(self.state))
        if self.settings.trailing_type is TrailingType.MOVING_TARGET and hits >= 1:
            if hits == 1:
                self.tighten(self.break_even_level(), ExitReason.BREAK_EVEN, _toward_price(self.state))
            else:
                level = self.state.targets[hits - 2].price
                self.tighten(level, ExitReason.TRAILING_STOP, stop_side(self.state.side))

    def atr_trailing(self, price: Decimal, atr: Decimal | None) -> None:
        s, settings = self.state, self.settings
        if settings.trailing_type is not TrailingType.ATR or atr is None or atr <= 0:
            return
        params = s.atr or AtrExit(settings.atr_period, settings.atr_multiplier, settings.atr_trigger_pct)
        if not s.trailing_active and s.move_pct(price) < (params.trigger_pct or ZERO):
            return
        self.set(trailing_active=True)
        best = s.best_price or price
        self.tighten(best - s.side.sign * params.multiplier * atr, ExitReason.TRAILING_STOP, stop_side(s.side))

    def break_even_level(self) -> Decimal:
        s = self.state
        return s.entry_price * (1 + s.side.sign * self.settings.break_even_offset_pct / 100)

    def tighten(self, level: Decimal, kind: ExitReason, rounding: Rounding) -> None:
        """Move the stop to ``level`` if that is tighter; close at market if price is already past it."""
        s = self.state
        if s.free_qty <= 0:
            return
        level = s.instrument.round_price(level, rounding)
        sign = s.side.sign
        if sign * (level - s.stop) <= 0:
            return
        if s.last_price is not None and sign * (s.last_price - level) <= 0:
            self.close_all(kind)
            return
        self.set(stop=level, stop_kind=kind)
        self.actions.append(SetStop(level, kind, s.key.client_order_id(LegKind.STOP, 0)))

    # ---- orders

    def close_request(self, request: CloseRequest) -> None:
        s = self.state
        if request.qty is None:
            self.close_all(request.reason)
            if not self.state.is_open:  # nothing filled yet: withdrawing the entries was the whole close
                self.set(closed_at=request.at, exit_reason=request.reason)
            return
        qty = min(round_to_step(request.qty, s.instrument.qty_step, "down"), s.free_qty)
        if qty >= _min_close(s):
            self.close(qty, request.reason)

    def amend_exits(self, request: AmendExits) -> None:
        """Exits set by hand: checked whole before anything changes, so a refusal leaves the position as it was."""
        s = self.state
        if s.is_closed or s.closing is not None:
            raise ValidationError(
                "the position is closed or being closed: its exits can no longer change", field="position"
            )
        if not s.is_open or s.last_price is None:
            # Until an entry fills, the stop rides on the entry orders themselves.
            raise ValidationError(
                "nothing has filled yet: the exits can change once the position is open", field="position"
            )
        stop = None if request.stop is None else self.hand_stop(request.stop, s.last_price)
        prices = None if request.target_prices is None else self.hand_targets(request.target_prices, s.last_price)
        if stop is not None and stop != s.stop:
            # The kind names what a fill at the stop will be recorded as (``classify_exit``), so it follows where the
            # stop sits, not who set it: MANUAL is a close a person asks for now, while this one fires when the
            # market gets there, and statistics tell losses cut (below a long's entry) from gains kept.
            gain = s.side.sign * (stop - s.entry_price)
            kind = (
                ExitReason.STOP_LOSS if gain < 0 else ExitReason.BREAK_EVEN if gain == 0 else ExitReason.TRAILING_STOP
            )
            self.set(stop=stop, stop_kind=kind)
            self.actions.append(SetStop(stop, kind, s.key.client_order_id(LegKind.STOP, 0)))
        if prices is not None:
            remaining = iter(prices)
            targets = tuple(t if t.hit else replace(t, price=next(remaining)) for t in s.targets)
            if targets != s.targets:
                self.set(targets=targets)
                self.repriced = True  # working orders are amended to their new prices by ``relay_targets``

    def hand_stop(self, wanted: Decimal, last: Decimal) -> Decimal:
        s = self.state
        # Toward the price: the loss a person accepted is never exceeded by rounding.
        stop = s.instrument.round_price(wanted, _toward_price(s))
        if stop <= 0 or s.side.sign * (last - stop) <= 0:
            where = "below" if s.side is PositionSide.LONG else "above"
            raise ValidationError(
                f"a {s.side.value}'s stop must be {where} the last price {_shown(last)}: "
                f"at {_shown(stop)} it would close at once",
                field="stop",
            )
        demanded = self.rules_level(stop)
        if demanded is not None:
            level, kind = demanded
            raise ValidationError(
                f"the {kind.value.replace('_', ' ')} rule of your settings keeps the stop at {_shown(level)} "
                f"or tighter: {_shown(stop)} would be moved back at the next price",
                field="stop",
            )
        return stop

    def rules_level(self, stop: Decimal) -> tuple[Decimal, ExitReason] | None:
        """Where the automatic stop rules would move ``stop`` as things stand (None: they leave it)."""
        s = self.state
        if self.settings.trailing_type is TrailingType.ATR and s.trailing_active and s.side.sign * (stop - s.stop) < 0:
            return s.stop, ExitReason.TRAILING_STOP  # the trail follows the best price: it takes back any loosening
        probe = _Run(replace(s, stop=stop), self.settings)
        probe.stop_rules()
        at_pct = self.settings.break_even_at_pct
        if at_pct is not None and s.last_price is not None and s.move_pct(s.last_price) >= at_pct:
            probe.tighten(probe.break_even_level(), ExitReason.BREAK_EVEN, _toward_price(s))
        moved = [a for a in probe.actions if isinstance(a, SetStop)]
        if moved:
            return moved[-1].price, moved[-1].kind
        if probe.actions:  # a rule's level is already past the price: it would close the position
            return s.stop, s.stop_kind
        return None

    def hand_targets(self, wanted: tuple[Decimal, ...], last: Decimal) -> tuple[Decimal, ...]:
        s = self.state
        open_targets = sum(1 for t in s.targets if not t.hit)
        if len(wanted) != open_targets:
            raise ValidationError(
                f"{open_targets} target(s) are not hit yet: give one price for each, not {len(wanted)}",
                field="target_prices",
            )
        # Toward the stop, as the plan rounds targets: never further than asked.
        prices = tuple(s.instrument.round_price(price, stop_side(s.side)) for price in wanted)
        where = "above" if s.side is PositionSide.LONG else "below"
        for position, price in enumerate(prices):
            if s.side.sign * (price - last) <= 0:
                raise ValidationError(
                    f"a take-profit must be {where} the last price {_shown(last)}, not at {_shown(price)}",
                    field=f"target_prices.{position}",  # the position in the list sent: a form marks that field
                )
        for position in range(1, len(prices)):
            if s.side.sign * (prices[position] - prices[position - 1]) < 0:
                raise ValidationError(
                    "targets go nearest first: each one no nearer than the one before",
                    field=f"target_prices.{position}",
                )
        return prices

    def withdraw(self, at: int) -> None:
        self.cancel_adds()
        if not self.state.is_open:
            self.set(closed_at=at, exit_reason=ExitReason.SIGNAL_CANCEL)

    def close_all(self, reason: ExitReason) -> None:
        self.cancel_adds()
        self.set(closing=reason)
        if self.state.free_qty > 0:
            self.close(self.state.free_qty, reason)

    def close(self, qty: Decimal, reason: ExitReason) -> None:
        s = self.state
        order = Order(
            client_order_id=s.key.client_order_id(LegKind.CLOSE, len(s.closes)),
            symbol=s.instrument.symbol,
            side=s.side.exit_side,
            type=OrderType.MARKET,
            qty=qty,
            reduce_only=True,
        )
        self.set(pending_close=s.pending_close + qty, closes=(*s.closes, reason))
        self.actions.append(ClosePosition(order, reason))

    def cancel_adds(self) -> None:
        resting = [leg.client_order_id for leg in self.state.adds if leg.resting]
        self.actions.extend(CancelOrder(order_id) for order_id in resting)
        self.set(adds=tuple(replace(leg, resting=False) for leg in self.state.adds))

    def cancel_targets(self) -> None:
        working = [t.client_order_id for t in self.state.targets if t.client_order_id is not None]
        self.actions.extend(CancelOrder(order_id) for order_id in working)
        self.set(targets=tuple(replace(t, client_order_id=None, qty=ZERO, filled=ZERO) for t in self.state.targets))

    def reprice_targets(self, factor: Decimal) -> None:
        """Keep each open target's distance, in percent, from the new average entry."""
        s = self.state
        rounding = stop_side(s.side)
        targets = tuple(
            t if t.hit else replace(t, price=s.instrument.round_price(t.price * factor, rounding)) for t in s.targets
        )
        self.set(targets=targets)
        self.repriced = True

    def relay_targets(self) -> None:
        """Make the working target orders add up to the quantity that may still be closed."""
        s = self.state
        active = [i for i, t in enumerate(s.targets) if not t.hit]
        if not s.is_open or not active:
            return
        step_size = s.instrument.qty_step
        free = round_to_step(s.free_qty, step_size, "down")
        working = sum((s.targets[i].qty - s.targets[i].filled for i in active), ZERO)
        if working == free and not self.repriced:
            return
        parts = split(free, [s.targets[i].weight for i in active], step_size)
        merged = merge_small(parts, [_min_close(s)] * len(active))
        wanted = merged.qtys if free >= _min_close(s) else (ZERO,) * len(active)
        targets = list(s.targets)
        for i, want in zip(active, wanted, strict=True):
            targets[i] = self.work_target(targets[i], want)
        self.set(targets=tuple(targets))

    def work_target(self, target: TargetLeg, want: Decimal) -> TargetLeg:
        """Place, amend or cancel one target's order so that ``want`` is working at its price."""
        s = self.state
        working = target.qty - target.filled
        if target.client_order_id is None:
            if want <= 0:
                return target
            order_id = s.key.client_order_id(LegKind.TP, target.index, target.revision)
            order = Order(
                client_order_id=order_id,
                symbol=s.instrument.symbol,
                side=s.side.exit_side,
                type=OrderType.LIMIT,
                qty=want,
                price=target.price,
                reduce_only=True,
            )
            self.actions.append(PlaceOrder(order))
            return replace(target, client_order_id=order_id, qty=want, filled=ZERO, revision=target.revision + 1)
        if want <= 0:
            self.actions.append(CancelOrder(target.client_order_id))
            return replace(target, client_order_id=None, qty=ZERO, filled=ZERO)
        if want != working or self.repriced:
            self.actions.append(AmendOrder(target.client_order_id, target.filled + want, target.price))
            return replace(target, qty=target.filled + want)
        return target


def next_time_of_day(after: int, at: time) -> int:
    """The first moment strictly after ``after`` (epoch ms) when the UTC clock shows ``at``."""
    day_start = after - after % DAY_MS
    moment = day_start + (at.hour * 60 + at.minute) * MINUTE_MS
    return moment if moment > after else moment + DAY_MS


def _add_filled(leg: AddLeg, qty: Decimal) -> AddLeg:
    filled = leg.filled + qty
    return replace(leg, filled=filled, resting=leg.resting and filled < leg.qty)


def _target_filled(target: TargetLeg, qty: Decimal) -> TargetLeg:
    filled = target.filled + qty
    if filled < target.qty:
        return replace(target, filled=filled)
    return replace(target, client_order_id=None, qty=ZERO, filled=ZERO, hit=True)


def _targets_hit(state: PositionState) -> int:
    """How far up the ladder the position got: a target counts when its order filled, or, having
    no order (folded into the next for want of size), when the price reached it."""
    best = state.best_price
    reached = [
        position + 1
        for position, t in enumerate(state.targets)
        if t.hit or (t.client_order_id is None and best is not None and state.side.sign * (best - t.price) >= 0)
    ]
    return max(reached, default=0)


def _toward_price(state: PositionState) -> Rounding:
    """Break-even rounds toward the price, so that it never locks in a loss."""
    return "up" if state.side is PositionSide.LONG else "down"


def _shown(value: Decimal) -> str:
    """A level as a person typed it: ``60000``, not ``60000.00`` or ``6E+4``."""
    return format(value.normalize(), "f")


def _min_close(state: PositionState) -> Decimal:
    return max(state.instrument.min_qty, state.instrument.qty_step)
