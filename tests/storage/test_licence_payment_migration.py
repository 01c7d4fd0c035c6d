"""Migration 0005 (licences and payments) upgrades a database in use and downgrades to the same schema."""

from __future__ import annotations

from decimal import Decimal

import pytest
from storage_builders import read_schema, run_sql

from elcaro.models.licence import LicenceSource, LicenceTier
from elcaro.models.payment import PaymentMethod, PaymentStatus
from elcaro.storage import Database, current_async, downgrade_async, upgrade_async

pytestmark = pytest.mark.db

NEW_TABLES = {
    "licences",
    "licence_trials",
    "licence_warnings",
    "promo_codes",
    "promo_redemptions",
    "payments",
    "payment_events",
}


async def test_0005_adds_the_licence_and_payment_tables_and_takes_them_away(empty_database_url: str) -> None:
    url = empty_database_url
    await upgrade_async(url, "0004")
    schema_0004 = await read_schema(url)
    [user] = await run_sql(
        url,
        "INSERT INTO users (telegram_id, language, role, approval, banned, referral_code, created_at, trading_paused) "
        "VALUES (1, 'en', 'user', 'approved', false, 'R1', 1, false) RETURNING id",
    )

    await upgrade_async(url, "0005")
    assert await current_async(url) == "0005"
    assert set(await read_schema(url)) >= NEW_TABLES
    db = Database(url)
    try:
        async with db.transaction() as tx:
            licence = await tx.licences.add(
                user.id, LicenceTier.BASIC, LicenceSource.ADMIN, starts_at=1, expires_at=2, now=1
            )
            assert await tx.licences.record_trial(user.id, licence.id, now=1)
            assert not await tx.licences.record_trial(user.id, licence.id, now=1)
            promo = await tx.promo_codes.add(
                "WELCOME", LicenceTier.BASIC, days=7, max_uses=1, valid_until=None, created_by=None, now=1
            )
            assert await tx.promo_codes.take_use(promo.id, now=1)
            assert not await tx.promo_codes.take_use(promo.id, now=1)
            payment = await tx.payments.add(
                user.id,
                PaymentMethod.MANUAL,
                PaymentStatus.PENDING,
                amount=Decimal("12.50"),
                currency="USDT",
                tier=LicenceTier.BASIC,
                months=1,
                now=1,
                reference="wire",
            )
            assert payment.amount == Decimal("12.5")
    finally:
        await db.close()

    await downgrade_async(url, "0004")
    assert await current_async(url) == "0004"
    assert await read_schema(url) == schema_0004
    assert [row.id for row in await run_sql(url, "SELECT id FROM users")] == [user.id]

    await upgrade_async(url, "0005")  # the downgrade left nothing behind that would get in the way
    assert set(await read_schema(url)) >= NEW_TABLES
