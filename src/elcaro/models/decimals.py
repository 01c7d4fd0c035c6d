"""Exact numbers: every price, quantity and amount is a finite ``Decimal``."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Literal

from elcaro.models.errors import ValidationError

Rounding = Literal["down", "up", "nearest"]
_MODES = {"down": ROUND_FLOOR, "up": ROUND_CEILING, "nearest": ROUND_HALF_EVEN}

ZERO = Decimal(0)


def to_decimal(value: Decimal | int | str | float, *, field: str = "value") -> Decimal:
    """Convert exactly. A float goes through its shortest repr, so 0.1 becomes Decimal('0.1')."""
    if isinstance(value, bool):
        raise ValidationError("a number is required, not a boolean", field=field)
    try:
        result = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError(f"not a number: {value!r}", field=field) from None
    if not result.is_finite():
        raise ValidationError(f"must be finite, got {value!r}", field=field)
    return result


def round_to_step(value: Decimal, step: Decimal, mode: Rounding = "nearest") -> Decimal:
    """Round ``value`` to a whole multiple of ``step`` (a tick size or a quantity step).

    The result carries the step's exponent, so ``round_to_step(Decimal('1.23456'), Decimal('0.01'))``
    is ``Decimal('1.23')`` and prints the way the venue expects.
    """
    if step <= 0:
        raise ValidationError(f"step must be positive, got {step}", field="step")
    units = (value / step).quantize(Decimal(1), rounding=_MODES[mode])
    return units * step


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return step > 0 and value % step == 0
