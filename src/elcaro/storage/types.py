"""Column types that keep the domain's values exact on both databases."""

from __future__ import annotations

from decimal import Context, Decimal
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import JSON, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from elcaro.models.errors import ValidationError

#: NUMERIC(38, 18): 20 digits before the point and 18 after cover any price, quantity or balance.
PRECISION = 38
SCALE = 18
_QUANTUM = Decimal(1).scaleb(-SCALE)
_LIMIT = Decimal(10) ** (PRECISION - SCALE)
# Wide enough that normalising or quantising a NUMERIC(38, 18) value never rounds.
_EXACT = Context(prec=PRECISION * 2)

E = TypeVar("E", bound=StrEnum)

#: JSON everywhere, JSONB on PostgreSQL (smaller, comparable, indexable).
JSONType = JSON().with_variant(JSONB(), "postgresql")


def canonical_decimal(value: Decimal) -> Decimal:
    """The one form a stored number comes back in: no trailing zeros, no exponent on whole numbers.

    PostgreSQL pads NUMERIC(38, 18) to 18 places and SQLite keeps the text as written, so without
    this ``Decimal('1.50')`` would read back differently per backend.
    """
    if value.is_zero():
        return Decimal(0)
    normal = value.normalize(_EXACT)
    return normal.quantize(Decimal(1), context=_EXACT) if normal.as_tuple().exponent > 0 else normal  # type: ignore[operator]


def storable_decimal(value: Decimal) -> Decimal:
    """Check and round a number to what NUMERIC(38, 18) holds, identically on both backends.

    More than 18 places are rounded half-even (PostgreSQL would round anyway, SQLite would not);
    20 or more integer digits are refused rather than silently wrapped or truncated.
    """
    if not value.is_finite():
        raise ValidationError(f"cannot store {value}: numbers must be finite")
    too_big = ValidationError(f"cannot store {value}: more than {PRECISION - SCALE} digits before the decimal point")
    if value.copy_abs() >= _LIMIT:  # copy_abs, unlike abs(), never rounds to the context's 28 digits
        raise too_big
    rounded = value.quantize(_QUANTUM, context=_EXACT) if value.as_tuple().exponent < -SCALE else value  # type: ignore[operator]
    if rounded.copy_abs() >= _LIMIT:  # 99.99…9 with too many nines rounds up to the limit
        raise too_big
    return canonical_decimal(rounded)


class ExactDecimal(TypeDecorator[Decimal]):
    """NUMERIC(38, 18) on PostgreSQL; TEXT on SQLite, whose NUMERIC is a float and loses digits.

    Money columns on SQLite therefore do not sort or compare numerically in SQL: do arithmetic in Python.
    """

    impl = Numeric(PRECISION, SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(PRECISION, SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> Decimal | str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal | int) or isinstance(value, bool):
            raise TypeError(f"a Decimal is required, got {type(value).__name__}")
        stored = storable_decimal(Decimal(value))
        return f"{stored:f}" if dialect.name == "sqlite" else stored  # plain notation: readable in the file

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else canonical_decimal(Decimal(value))


class StrEnumType(TypeDecorator[E]):
    """An enum stored as its value in a plain string column, without a CHECK constraint.

    The enums grow with the product (exit reasons, venues, statuses); a CHECK would make every new
    member a table rebuild on SQLite, and the platform is the only writer and converts both ways.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 32) -> None:
        super().__init__(length)
        self._enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self._enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self._enum(value)
