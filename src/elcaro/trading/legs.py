"""Spreading a quantity over several prices: entry legs, DCA legs, take-profit targets.

Legs are always listed in the order price reaches them (entries: first fill first; targets:
nearest first). Quantities are whole steps, the remainder of rounding goes to one chosen leg so
the legs add up exactly, and a leg below the venue's minimum is folded into a neighbour rather
than dropped, so the total never changes behind the trader's back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from elcaro.models.errors import ValidationError
from elcaro.trading.settings import Distribution, DistributionKind

ONE = Decimal(1)


def leg_weights(distribution: Distribution, count: int, signal_shares: Sequence[Decimal] = ()) -> tuple[Decimal, ...]:
    """Relative weights for ``count`` prices; explicit weights may name fewer (the rest go unused)."""
    if isinstance(distribution, tuple):
        return distribution[:count]
    if distribution is DistributionKind.SIGNAL:
        return tuple(signal_shares) if len(signal_shares) == count else (ONE,) * count
    if distribution is DistributionKind.FRONT_LOADED:
        return tuple(Decimal(count - index) for index in range(count))
    if distribution is DistributionKind.BACK_LOADED:
        return tuple(Decimal(index + 1) for index in range(count))
    return (ONE,) * count


def split(total: Decimal, weights: Sequence[Decimal], step: Decimal, remainder_to: int = -1) -> list[Decimal]:
    """Whole steps in proportion to ``weights``; what rounding leaves goes to leg ``remainder_to``.

    Exact — integers throughout, no 28-digit division — so the parts always add up to ``total``.
    """
    if total < 0 or total % step:
        raise ValidationError(f"{total} is not a whole number of steps {step}", field="qty")
    units = int(total / step)
    scale = max(0, *(-int(weight.as_tuple().exponent) for weight in weights))
    whole_weights = [int(weight.scaleb(scale)) for weight in weights]
    whole = sum(whole_weights)
    parts = [units * weight // whole for weight in whole_weights]
    parts[remainder_to] += units - sum(parts)
    return [part * step for part in parts]


@dataclass(frozen=True, slots=True)
class Merged:
    qtys: tuple[Decimal, ...]
    """Per leg; a leg folded into another is zero."""
    into: dict[int, int]
    """Folded leg → the leg that carries its quantity now."""


def merge_small(qtys: Sequence[Decimal], minimums: Sequence[Decimal], toward: int = 1) -> Merged:
    """Fold every leg below its minimum into the nearest live neighbour in direction ``toward``
    (+1: later legs; the other way at the end), until each live leg meets its minimum or one is
    left. A single remaining leg may still be below its minimum: the caller decides what that means.
    """
    result = list(qtys)
    live = list(range(len(result)))
    into: dict[int, int] = {}
    while len(live) > 1:
        small = next((i for i in live if result[i] < minimums[i]), None)
        if small is None:
            break
        position = live.index(small)
        neighbour = position + toward if 0 <= position + toward < len(live) else position - toward
        target = live[neighbour]
        result[target] += result[small]
        result[small] = Decimal(0) * result[small]
        into[small] = target
        live.remove(small)
    return Merged(tuple(result), {leg: _final(into, leg) for leg in into})


def _final(into: dict[int, int], leg: int) -> int:
    """Follow a chain of folds (a into b, then b into c) to the leg that holds the quantity."""
    while leg in into:
        leg = into[leg]
    return leg
