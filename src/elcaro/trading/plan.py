"""Entry plan: the exact orders one signal becomes for one user on one target.

Rounding follows one rule: every price rounds toward the stop side (down for a long, up for a
short), so a stop is never tighter, a limit entry never worse and a target never further than
the signal asked. Only a breakout trigger rounds the other way, so that the breakout is real.

Sizes come from ``elcaro.risk.size_position`` at the weighted average of all legs (entries and
DCA adds, as if all fill), so the loss at the stop stays within the user's risk % even after
every add. Legs are then whole steps: the rounding remainder goes to the leg nearest the stop,
which can only lower the risk, and a leg below the venue's minimum is folded into its neighbour
toward the stop. The result is checked against the risk and margin budgets and shrunk by whole
steps until it fits — a plan never exceeds either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from elcaro.models import AtrExit, EntryKind, Instrument, Order, OrderType, PositionSide, Signal, Target, round_to_step
from elcaro.models.decimals import Rounding
from elcaro.models.errors import ValidationError
from elcaro.risk import SizeLimit, SizeRefused, SizingCode, size_position, smallest_order
from elcaro.trading.ids import LegKind, OrderKey
from elcaro.trading.legs import leg_weights, merge_small, split
from elcaro.trading.settings import EntryOrderType, LeverageMode, TradingSettings, TrailingType

HUNDRED = Decimal(100)


class PlanCode(StrEnum):
    INSTRUMENT_INACTIVE = "instrument_inactive"
    PRICE_PAST_STOP = "price_past_stop"
    """A market entry (or a limit the market has already passed) would be at or beyond the stop."""
    PRICE_PAST_TARGET = "price_past_target"
    """A market entry after the price already reached the first target: the move is over."""
    ENTRY_PAST_STOP = "entry_past_stop"
    """The limit offset puts an entry at or beyond the stop."""


@dataclass(frozen=True, slots=True)
class Refusal:
    code: PlanCode | SizingCode
    reason: str


@dataclass(frozen=True, slots=True)
class PlannedTarget:
    """A take-profit price and its relative share of the position (kept for later re-sizing)."""

    index: int
    price: Decimal
    weight: Decimal


@dataclass(frozen=True, slots=True)
class EntryPlan:
    """Everything the service places for one (signal, user, target), and what it stores.

    ``take_profits`` are sized for the full entry and go on the venue once the entry has filled
    (reduce-only orders need a position); the position manager re-sizes them when fills differ.
    The stop is the whole position's protection: attached to every entry order and set on the
    position (``stop_client_order_id`` names it on venues that need a separate stop order).
    """

    key: OrderKey
    strategy: str
    symbol: str
    side: PositionSide
    price: Decimal
    """The market price the plan was built at (where its market orders were sized)."""
    leverage: int
    entries: tuple[Order, ...]
    dca: tuple[Order, ...]
    stop_loss: Decimal
    stop_client_order_id: str
    take_profits: tuple[Order, ...]
    targets: tuple[PlannedTarget, ...]
    qty: Decimal
    """Entry quantity, without DCA adds."""
    dca_qty: Decimal
    risk: Decimal
    """Loss at the stop if every entry and DCA leg fills (quote currency, before fees)."""
    risk_budget: Decimal
    notional: Decimal
    margin: Decimal
    limited_by: SizeLimit
    atr: AtrExit | None
    """ATR trailing parameters for the position manager (the signal's when it gives them)."""
    notes: tuple[str, ...]
    """Decisions the trader should know about: merged legs, unused targets, fallbacks."""

    @property
    def summary(self) -> str:
        """One paragraph in English for notifications and logs (interfaces render their own)."""
        entries = ", ".join(_describe(order) for order in self.entries)
        parts = [
            f"{self.side.upper()} {self.symbol} on {self.key.target} at {self.leverage}×: {entries}",
            f"stop {self.stop_loss}",
        ]
        if self.take_profits:
            parts.append("targets " + ", ".join(f"{o.price} ×{o.qty}" for o in self.take_profits))
        if self.dca:
            parts.append("DCA " + ", ".join(f"{o.price} ×{o.qty}" for o in self.dca))
        parts.append(f"risk {self.risk:.2f} of {self.risk_budget:.2f} allowed")
        return "; ".join(parts) + "." + "".join(f" {note}." for note in self.notes)


@dataclass(frozen=True, slots=True)
class _Leg:
    kind: LegKind
    index: int
    type: OrderType
    price: Decimal
    """Where it fills: the limit or trigger price, or the current price for a market order."""
    weight: Decimal


@dataclass(frozen=True, slots=True)
class _Account:
    equity: Decimal
    free_margin: Decimal
    risk_pct: Decimal
    leverage: int
    instrument: Instrument


@dataclass(frozen=True, slots=True)
class _Fit:
    qtys: tuple[Decimal, ...]
    budget: Decimal
    limited_by: SizeLimit
    notes: tuple[str, ...]


def build_plan(
    signal: Signal,
    settings: TradingSettings,
    instrument: Instrument,
    *,
    target: Target,
    user_id: int,
    equity: Decimal,
    free_margin: Decimal,
    price: Decimal,
) -> EntryPlan | Refusal:
    """Plan the orders for ``signal`` at the current ``price``; a ``Refusal`` says why not."""
    if signal.id is None:
        raise ValidationError("plan only stored signals: the id names the orders", field="signal")
    if signal.symbol != instrument.symbol:
        raise ValidationError(f"instrument {instrument.symbol} is not the signal's {signal.symbol}", field="symbol")
    if price <= 0:
        raise ValidationError(f"price must be positive, got {price}", field="price")
    if not instrument.active:
        return Refusal(PlanCode.INSTRUMENT_INACTIVE, f"{instrument.symbol} is not trading")
    notes: list[str] = []
    entries = _entry_legs(signal, settings, instrument, price, notes)
    targets = _targets(signal, settings, instrument, entries, notes)
    account = _Account(equity, free_margin, settings.risk_pct, _leverage(signal, settings, instrument), instrument)
    dca = _dca_legs(settings, instrument, signal.side, entries)
    attempt = _attempt(signal, settings, price, account, entries, dca, notes)
    if isinstance(attempt, Refusal) and dca:
        notes.append(f"DCA legs left out: {attempt.reason}")
        attempt = _attempt(signal, settings, price, account, entries, [], notes)
    if isinstance(attempt, Refusal):
        return attempt
    stop, dca, fit = attempt
    notes.extend(fit.notes)
    key = OrderKey(signal.id, user_id, target)
    return _assemble(signal, settings, price, key, account, (entries, dca), stop, targets, fit, notes)


def _attempt(
    signal: Signal,
    settings: TradingSettings,
    price: Decimal,
    account: _Account,
    entries: Sequence[_Leg],
    dca: Sequence[_Leg],
    notes: list[str],
) -> tuple[Decimal, list[_Leg], _Fit] | Refusal:
    """The stop and the sizes for these legs (a stop from ``sl_pct`` depends on which legs there are)."""
    stop = _stop(signal, settings, account.instrument, [*entries, *dca])
    refusal = _check_entries(signal, entries, stop, price)
    if refusal:
        return refusal
    beyond_stop = [leg for leg in dca if signal.side.sign * (leg.price - stop) <= 0]
    if beyond_stop:
        notes.append(f"DCA legs {_numbers(leg.index for leg in beyond_stop)} lie beyond the stop and are left out")
    kept = [leg for leg in dca if leg not in beyond_stop]
    fit = _fit([*entries, *kept], len(entries), stop, account)
    return fit if isinstance(fit, Refusal) else (stop, kept, fit)


def _assemble(
    signal: Signal,
    settings: TradingSettings,
    price: Decimal,
    key: OrderKey,
    account: _Account,
    legs: tuple[Sequence[_Leg], Sequence[_Leg]],
    stop: Decimal,
    targets: Sequence[PlannedTarget],
    fit: _Fit,
    notes: list[str],
) -> EntryPlan:
    side, instrument, cs = signal.side, account.instrument, account.instrument.contract_size
    entries, dca = legs
    sized = list(zip([*entries, *dca], fit.qtys, strict=True))
    entry_qtys, dca_qtys = fit.qtys[: len(entries)], fit.qtys[len(entries) :]
    entry_qty = sum(entry_qtys, Decimal(0))
    take_profits = take_profit_orders(key, signal.symbol, side, instrument, targets, entry_qty)
    if len(take_profits) < len(targets):
        notes.append("targets too small for the minimum order are folded into the next one")
    notional = sum((qty * leg.price * cs for leg, qty in sized), Decimal(0))
    return EntryPlan(
        key=key,
        strategy=signal.strategy,
        symbol=signal.symbol,
        side=side,
        price=price,
        leverage=account.leverage,
        entries=tuple(_order(key, signal.symbol, side, leg, qty, stop) for leg, qty in sized[: len(entries)] if qty),
        dca=tuple(_order(key, signal.symbol, side, leg, qty, None) for leg, qty in sized[len(entries) :] if qty),
        stop_loss=stop,
        stop_client_order_id=key.client_order_id(LegKind.STOP, 0),
        take_profits=take_profits,
        targets=tuple(targets),
        qty=entry_qty,
        dca_qty=sum(dca_qtys, Decimal(0)),
        risk=sum((qty * abs(leg.price - stop) * cs for leg, qty in sized), Decimal(0)),
        risk_budget=fit.budget,
        notional=notional,
        margin=notional / account.leverage,
        limited_by=fit.limited_by,
        atr=_atr(signal, settings),
        notes=tuple(notes),
    )


def _entry_legs(
    signal: Signal, settings: TradingSettings, instrument: Instrument, price: Decimal, notes: list[str]
) -> list[_Leg]:
    """Entry legs in the order price reaches them."""
    side, entry = signal.side, signal.entry
    toward_stop = stop_side(side)
    offset = Decimal(1) - side.sign * settings.limit_offset_pct / HUNDRED

    def limit(index: int, at: Decimal, weight: Decimal = Decimal(1)) -> _Leg:
        return _Leg(LegKind.ENTRY, index, OrderType.LIMIT, instrument.round_price(at * offset, toward_stop), weight)

    if entry.kind is EntryKind.TRIGGER:
        trigger = instrument.round_price(entry.prices[0], "up" if side is PositionSide.LONG else "down")
        if side.sign * (price - trigger) >= 0:
            notes.append(f"the price {price} is already past the trigger {trigger}: entering at market")
            return [_Leg(LegKind.ENTRY, 0, OrderType.MARKET, price, Decimal(1))]
        return [_Leg(LegKind.ENTRY, 0, OrderType.STOP_MARKET, trigger, Decimal(1))]
    if entry.kind in (EntryKind.MARKET, EntryKind.LIMIT):
        if settings.order_type is EntryOrderType.MARKET:
            return [_Leg(LegKind.ENTRY, 0, OrderType.MARKET, price, Decimal(1))]
        return [limit(0, entry.prices[0] if entry.prices else price)]

    distribution = settings.entry_distribution
    if entry.kind is EntryKind.ZONE:
        count = len(distribution) if isinstance(distribution, tuple) else settings.zone_legs
        first, last = entry.prices if side is PositionSide.SHORT else reversed(entry.prices)
        prices = (
            [(first + last) / 2] if count == 1 else [first + (last - first) * k / (count - 1) for k in range(count)]
        )
        shares: tuple[Decimal, ...] = ()
    else:
        pairs = sorted(
            zip(entry.prices, entry.shares or (None,) * len(entry.prices), strict=True),
            key=lambda pair: -side.sign * pair[0],
        )
        prices = [p for p, _ in pairs]
        shares = tuple(s for _, s in pairs if s is not None)
    weights = leg_weights(distribution, len(prices), shares)
    if len(weights) < len(prices):
        notes.append(f"only the first {len(weights)} of {len(prices)} entry prices are used (entry_distribution)")
    legs: list[_Leg] = []
    for index, weight in enumerate(weights):
        leg = limit(index, prices[index], weight)
        if legs and legs[-1].price == leg.price:  # a zone narrower than its legs: same tick twice
            legs[-1] = _Leg(LegKind.ENTRY, legs[-1].index, OrderType.LIMIT, leg.price, legs[-1].weight + weight)
        else:
            legs.append(leg)
    return legs


def _dca_legs(
    settings: TradingSettings, instrument: Instrument, side: PositionSide, entries: Sequence[_Leg]
) -> list[_Leg]:
    """Adds below a long's (above a short's) average planned entry; weights relative to the entry."""
    if not settings.dca_legs:
        return []
    total = sum((leg.weight for leg in entries), Decimal(0))
    average = sum((leg.weight * leg.price for leg in entries), Decimal(0)) / total
    return [
        _Leg(
            LegKind.DCA,
            index,
            OrderType.LIMIT,
            instrument.round_price(average * (1 - side.sign * leg.offset_pct / HUNDRED), stop_side(side)),
            leg.size_multiplier * total,
        )
        for index, leg in enumerate(settings.dca_legs)
    ]


def _stop(signal: Signal, settings: TradingSettings, instrument: Instrument, legs: Sequence[_Leg]) -> Decimal:
    """The signal's stop, else ``sl_pct`` beyond the deepest planned fill (DCA adds included)."""
    toward_stop = stop_side(signal.side)
    if signal.stop_loss is not None:
        return instrument.round_price(signal.stop_loss, toward_stop)
    prices = [leg.price for leg in legs]
    deepest = min(prices) if signal.side is PositionSide.LONG else max(prices)
    return instrument.round_price(deepest * (1 - signal.side.sign * settings.sl_pct / HUNDRED), toward_stop)


def _check_entries(signal: Signal, entries: Sequence[_Leg], stop: Decimal, price: Decimal) -> Refusal | None:
    sign = signal.side.sign
    resting = entries[0].type is OrderType.STOP_MARKET
    if not resting and sign * (price - stop) <= 0:
        return Refusal(PlanCode.PRICE_PAST_STOP, f"the price {price} is already at or past the stop {stop}")
    past = [leg for leg in entries if sign * (leg.price - stop) <= 0]
    if past:
        return Refusal(PlanCode.ENTRY_PAST_STOP, f"the entry {past[0].price} is at or past the stop {stop}")
    first_target = signal.take_profits[0].price if signal.take_profits else None
    if entries[0].type is OrderType.MARKET and first_target is not None and sign * (price - first_target) >= 0:
        return Refusal(PlanCode.PRICE_PAST_TARGET, f"the price {price} has already reached the target {first_target}")
    return None


def _targets(
    signal: Signal, settings: TradingSettings, instrument: Instrument, entries: Sequence[_Leg], notes: list[str]
) -> list[PlannedTarget]:
    """Targets beyond the worst entry, nearest first, with their relative weights."""
    side = signal.side
    worst = max(leg.price for leg in entries) if side is PositionSide.LONG else min(leg.price for leg in entries)
    if signal.take_profits:
        shares = tuple(tp.share for tp in signal.take_profits if tp.share is not None)
        weights = leg_weights(settings.tp_distribution, len(signal.take_profits), shares)
        if len(weights) < len(signal.take_profits):
            notes.append(
                f"only the first {len(weights)} of {len(signal.take_profits)} targets are used (tp_distribution)"
            )
        raw = [(tp.price, weight) for tp, weight in zip(signal.take_profits, weights, strict=False)]
    elif settings.tp_pct is not None:
        notes.append(f"the signal has no target: {settings.tp_pct}% from the entry")
        raw = [(worst * (1 + side.sign * settings.tp_pct / HUNDRED), Decimal(1))]
    else:
        return []
    targets: list[PlannedTarget] = []
    for index, (price, weight) in enumerate(raw):
        rounded = instrument.round_price(price, stop_side(side))
        if side.sign * (rounded - worst) <= 0:
            rounded = instrument.round_price(price, "up" if side is PositionSide.LONG else "down")
        if side.sign * (rounded - worst) <= 0:
            notes.append(f"target {price} is not beyond the entry {worst} and is left out")
        elif targets and targets[-1].price == rounded:
            targets[-1] = PlannedTarget(targets[-1].index, rounded, targets[-1].weight + weight)
        else:
            targets.append(PlannedTarget(index, rounded, weight))
    return targets


def take_profit_orders(
    key: OrderKey,
    symbol: str,
    side: PositionSide,
    instrument: Instrument,
    targets: Sequence[PlannedTarget],
    qty: Decimal,
) -> tuple[Order, ...]:
    """Reduce-only limits adding up to ``qty`` exactly: the remainder of rounding goes to the last
    target, and a target below the minimum quantity is folded into the next one."""
    if not targets or qty <= 0:
        return ()
    minimum = max(instrument.min_qty, instrument.qty_step)
    parts = split(qty, [t.weight for t in targets], instrument.qty_step)
    merged = merge_small(parts, [minimum] * len(targets))
    return tuple(
        Order(
            client_order_id=key.client_order_id(LegKind.TP, target.index),
            symbol=symbol,
            side=side.exit_side,
            type=OrderType.LIMIT,
            qty=part,
            price=target.price,
            reduce_only=True,
        )
        for target, part in zip(targets, merged.qtys, strict=True)
        if part > 0
    )


def _fit(legs: Sequence[_Leg], entry_count: int, stop: Decimal, account: _Account) -> _Fit | Refusal:
    """Whole-step quantities per leg within the risk and margin budgets, or why none exist."""
    instrument = account.instrument
    step, cs = instrument.qty_step, instrument.contract_size
    weights = [leg.weight for leg in legs]
    average = sum((leg.weight * leg.price for leg in legs), Decimal(0)) / sum(weights, Decimal(0))
    sized = size_position(
        equity=account.equity,
        free_margin=account.free_margin,
        risk_pct=account.risk_pct,
        entry_price=average,
        stop_price=stop,
        leverage=Decimal(account.leverage),
        instrument=instrument,
    )
    if isinstance(sized, SizeRefused):
        return Refusal(sized.code, sized.reason)
    nearest_stop = min(range(len(legs)), key=lambda i: abs(legs[i].price - stop))
    minimums = [smallest_order(instrument, leg.price) for leg in legs]
    qty = sized.qty
    while True:
        parts = split(qty, weights, step, nearest_stop)
        groups = (range(entry_count), range(entry_count, len(legs)))
        qtys: list[Decimal] = []
        notes: list[str] = []
        for group, name in zip(groups, ("entry", "DCA"), strict=True):
            if not group:
                continue
            merged = merge_small([parts[i] for i in group], [minimums[i] for i in group])
            qtys.extend(merged.qtys)
            for offset, part in enumerate(merged.qtys):
                leg = group.start + offset
                if offset not in merged.into and part < minimums[leg]:  # one leg left, still too small
                    return _below_minimum(instrument, legs[leg], part, minimums[leg])
            if merged.into:
                notes.append(_merge_note(name, merged.into, [legs[i] for i in group]))
        risk = sum((q * abs(leg.price - stop) * cs for leg, q in zip(legs, qtys, strict=True)), Decimal(0))
        notional = sum((q * leg.price * cs for leg, q in zip(legs, qtys, strict=True)), Decimal(0))
        if risk <= sized.risk_budget and notional <= sized.notional_cap:
            return _Fit(tuple(qtys), sized.risk_budget, sized.limited_by, tuple(notes))
        scale = min(sized.risk_budget / risk, sized.notional_cap / notional)
        qty = min(qty - step, round_to_step(qty * scale, step, "down"))


def _below_minimum(instrument: Instrument, leg: _Leg, qty: Decimal, minimum: Decimal) -> Refusal:
    what = "the entry" if leg.kind is LegKind.ENTRY else "the DCA add"
    small_qty = qty < max(instrument.min_qty, instrument.qty_step)
    code = SizingCode.BELOW_MIN_QTY if small_qty else SizingCode.BELOW_MIN_NOTIONAL
    return Refusal(
        code, f"{what} at {leg.price} would be {qty}, below the smallest order {minimum} for {instrument.symbol}"
    )


def _merge_note(name: str, into: dict[int, int], legs: Sequence[_Leg]) -> str:
    pairs = ", ".join(f"{legs[a].price} into {legs[b].price}" for a, b in sorted(into.items()))
    return f"{name} legs below the minimum order folded together: {pairs}"


def _order(key: OrderKey, symbol: str, side: PositionSide, leg: _Leg, qty: Decimal, stop: Decimal | None) -> Order:
    return Order(
        client_order_id=key.client_order_id(leg.kind, leg.index),
        symbol=symbol,
        side=side.entry_side,
        type=leg.type,
        qty=qty,
        price=leg.price if leg.type is OrderType.LIMIT else None,
        trigger_price=leg.price if leg.type is OrderType.STOP_MARKET else None,
        stop_loss=stop,
    )


def _leverage(signal: Signal, settings: TradingSettings, instrument: Instrument) -> int:
    """Whole leverage (not every venue takes fractions), never above what the instrument allows."""
    wanted = Decimal(settings.leverage)
    if settings.leverage_mode is LeverageMode.SIGNAL and signal.leverage is not None:
        wanted = signal.leverage
    return max(1, int(min(wanted, instrument.max_leverage)))


def _atr(signal: Signal, settings: TradingSettings) -> AtrExit | None:
    if settings.trailing_type is not TrailingType.ATR:
        return None
    if signal.atr_exit is not None:
        return signal.atr_exit
    return AtrExit(settings.atr_period, settings.atr_multiplier, settings.atr_trigger_pct)


def stop_side(side: PositionSide) -> Rounding:
    """Rounding toward the stop: down for a long, up for a short."""
    return "down" if side is PositionSide.LONG else "up"


def _numbers(indexes: Iterable[int]) -> str:
    """1-based, as a trader counts legs."""
    return ", ".join(str(i + 1) for i in indexes)


def _describe(order: Order) -> str:
    if order.type is OrderType.MARKET:
        return f"market ×{order.qty}"
    if order.type is OrderType.STOP_MARKET:
        return f"stop-entry at {order.trigger_price} ×{order.qty}"
    return f"limit {order.price} ×{order.qty}"
