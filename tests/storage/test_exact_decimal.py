"""Money survives the database exactly, in the same form on both backends."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_builders import BYBIT_DEMO, add_user, make_order

from elcaro.models.errors import ValidationError
from elcaro.storage import Database
from elcaro.storage.types import canonical_decimal, storable_decimal

LIMIT = Decimal(10) ** 20
# Up to 20 digits before the point and up to 18 after: everything NUMERIC(38, 18) holds.
storable = st.integers(min_value=0, max_value=18).flatmap(
    lambda places: st.decimals(
        min_value=-LIMIT + 1, max_value=LIMIT - 1, places=places, allow_nan=False, allow_infinity=False
    )
)


@given(storable)
def test_canonical_form_keeps_the_value_and_drops_only_trailing_zeros(value: Decimal) -> None:
    canonical = canonical_decimal(value)
    assert canonical == value
    assert canonical_decimal(Decimal(str(canonical))) == canonical  # idempotent through text
    _, digits, exponent = canonical.as_tuple()
    assert exponent == 0 or (isinstance(exponent, int) and exponent < 0 and digits[-1] != 0)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("1.50", "1.5"),
        ("100", "100"),
        ("1E+3", "1000"),
        ("-0.000", "0"),
        ("0.000000000000000001", "0.000000000000000001"),
        ("0.0000000000000000015", "0.000000000000000002"),  # 19 places: half-even to 18
        ("0.0000000000000000025", "0.000000000000000002"),
        ("99999999999999999999.999999999999999999", "99999999999999999999.999999999999999999"),
    ],
)
def test_storable_form(value: str, stored: str) -> None:
    assert f"{storable_decimal(Decimal(value)):f}" == stored


@pytest.mark.parametrize(
    "value", ["1E+20", "-100000000000000000000", "99999999999999999999.9999999999999999999", "NaN", "Infinity"]
)
def test_numbers_the_column_cannot_hold_are_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="cannot store"):
        storable_decimal(Decimal(value))


@pytest.mark.db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fee=storable)
async def test_round_trip_through_the_database_is_exact(database: Database, fee: Decimal) -> None:
    async with database.transaction() as tx:
        owner = await tx.users.get_by_telegram_id(7)
        user = owner.id if owner else await add_user(tx, 7)
        await tx.orders.save(user, BYBIT_DEMO, make_order(fee=fee))
    async with database.transaction() as tx:
        stored = await tx.orders.get(user, BYBIT_DEMO, "0xabc")
    assert stored is not None
    assert stored.fee == fee
    assert stored.fee.as_tuple() == canonical_decimal(fee).as_tuple()  # the same form on both backends


@pytest.mark.db
async def test_a_number_too_large_rolls_the_transaction_back(database: Database) -> None:
    async def save_huge_fee() -> None:
        async with database.transaction() as tx:
            user = await add_user(tx, 7)
            await tx.orders.save(user, BYBIT_DEMO, make_order(fee=Decimal("1E+20")))

    with pytest.raises(ValidationError, match="more than 20 digits before the decimal point"):
        await save_huge_fee()
    async with database.transaction() as tx:
        assert await tx.users.list() == []
