"""Paying for licences on SQLite and PostgreSQL: ELC balance, Telegram Stars, manual payments an admin reviews."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from licence_accounts import ELC, T0, Accounts

from elcaro.models.errors import ConfigError, ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from elcaro.models.ledger import InsufficientBalanceError
from elcaro.models.licence import LicenceSource, LicenceTier
from elcaro.models.payment import PaymentMethod, PaymentStatus
from elcaro.models.timeframe import DAY_MS
from elcaro.services.payments import PaymentConfig, PaymentService

pytestmark = pytest.mark.db


async def rows(accounts: Accounts, user_id: int) -> tuple[int, int, int]:
    """Payments, licences and ledger transactions of the user: what a refused request must leave as it was."""
    async with accounts.database.transaction() as tx:
        payments = len(await tx.payments.for_user(user_id))
        licences = len(await tx.licences.for_user(user_id))
    history = await accounts.ledger.history(user_id)
    return payments, licences, len(history)


# --- ELC --------------------------------------------------------------------------------------------


async def test_buying_with_elc_pays_the_treasury_grants_the_licence_and_rewards_the_referrer(
    accounts: Accounts,
) -> None:
    referrer = await accounts.user()
    buyer = await accounts.user(referred_by=referrer)
    await accounts.fund(buyer, 100)

    purchase = await accounts.licences.buy_with_elc(buyer, "basic", 3, key="tg-callback-1")
    assert not purchase.replayed
    assert (purchase.licence.tier, purchase.licence.source) == (LicenceTier.BASIC, LicenceSource.PURCHASE)
    assert purchase.licence.expires_at == T0 + 90 * DAY_MS
    payment = purchase.payment
    assert (payment.method, payment.status, payment.amount, payment.currency) == (
        PaymentMethod.ELC,
        PaymentStatus.PAID,
        Decimal("71.25"),
        "ELC",
    )
    assert payment.licence_id == purchase.licence.id
    assert await accounts.balance(buyer) == 100 * ELC - 7125 * ELC // 100
    assert await accounts.balance(referrer) == 7125 * ELC // 1000  # 10 % of the payment
    assert [e.to_status for e in await accounts.payments.history(payment.id)] == [PaymentStatus.PAID]
    assert (await accounts.ledger.verify()).ok


async def test_the_same_key_again_returns_the_first_purchase_and_changes_nothing(accounts: Accounts) -> None:
    buyer = await accounts.user()
    await accounts.fund(buyer, 100)
    first = await accounts.licences.buy_with_elc(buyer, "premium", 1, key="k1")
    before = await rows(accounts, buyer), await accounts.balance(buyer)

    again = await accounts.licences.buy_with_elc(buyer, "premium", 1, key="k1")
    assert again.replayed and again.payment == first.payment and again.licence.id == first.licence.id
    assert (await rows(accounts, buyer), await accounts.balance(buyer)) == before
    with pytest.raises(ConflictError, match="this key was used for 1 months of premium"):
        await accounts.licences.buy_with_elc(buyer, "basic", 1, key="k1")

    concurrent = await asyncio.gather(*(accounts.licences.buy_with_elc(buyer, "basic", 1, key="k2") for _ in range(5)))
    assert len({purchase.payment.id for purchase in concurrent}) == 1
    assert sum(1 for purchase in concurrent if not purchase.replayed) == 1
    assert await accounts.balance(buyer) == 100 * ELC - 50 * ELC - 25 * ELC


async def test_insufficient_balance_is_refused_and_nothing_is_written(accounts: Accounts) -> None:
    buyer = await accounts.user()
    await accounts.fund(buyer, 20)
    before = await rows(accounts, buyer)
    with pytest.raises(InsufficientBalanceError, match="insufficient balance"):
        await accounts.licences.buy_with_elc(buyer, "basic", 1, key="k")
    assert await rows(accounts, buyer) == before
    assert await accounts.balance(buyer) == 20 * ELC
    with pytest.raises(NotFoundError, match="no user with id 999"):
        await accounts.licences.buy_with_elc(999, "basic", 1, key="k")
    with pytest.raises(ValidationError, match="months"):
        await accounts.licences.buy_with_elc(buyer, "basic", 2, key="k")
    with pytest.raises(ValidationError, match="tier"):
        await accounts.licences.buy_with_elc(buyer, "trial", 1, key="k")
    with pytest.raises(ValidationError, match="idempotency key"):
        await accounts.licences.buy_with_elc(buyer, "basic", 1, key=" ")
    assert await rows(accounts, buyer) == before


# --- Telegram Stars ---------------------------------------------------------------------------------


async def test_a_stars_payment_grants_the_licence_exactly_once(accounts: Accounts) -> None:
    referrer = await accounts.user()
    user = await accounts.user(referred_by=referrer)
    invoice = await accounts.payments.stars_invoice(user, "premium", 1)
    assert (invoice.currency, invoice.amount) == ("XTR", 2500)  # 50 ELC × 50 Stars
    assert invoice.payload.startswith(f"lic:{invoice.payment_id}:premium:1:") and len(invoice.payload) <= 128
    assert "premium" in invoice.title and "30 days" in invoice.description

    await accounts.payments.pre_checkout(user, invoice.payload, 2500)
    result = await accounts.payments.successful_stars_payment(user, invoice.payload, "charge-1", 2500)
    assert not result.replayed and result.licence is not None
    assert (result.payment.status, result.payment.external_id) == (PaymentStatus.PAID, "charge-1")
    assert (result.licence.tier, result.licence.expires_at) == (LicenceTier.PREMIUM, T0 + 30 * DAY_MS)
    assert await accounts.balance(referrer) == 5 * ELC  # 10 % of the plan's ELC price
    state = await rows(accounts, user), await accounts.payments.history(result.payment.id)

    replay = await accounts.payments.successful_stars_payment(user, invoice.payload, "charge-1", 2500)
    assert replay.replayed and replay.payment == result.payment and replay.licence == result.licence
    assert (await rows(accounts, user), await accounts.payments.history(result.payment.id)) == state
    assert [e.to_status for e in state[1]] == [PaymentStatus.PENDING, PaymentStatus.PAID]
    with pytest.raises(ConflictError, match="paid already"):
        await accounts.payments.pre_checkout(user, invoice.payload, 2500)


async def test_concurrent_deliveries_of_one_stars_update_grant_once(accounts: Accounts) -> None:
    user = await accounts.user()
    invoice = await accounts.payments.stars_invoice(user, "basic", 1)
    results = await asyncio.gather(
        *(accounts.payments.successful_stars_payment(user, invoice.payload, "charge-9", 1250) for _ in range(4))
    )
    assert sum(1 for result in results if not result.replayed) == 1
    assert len({result.payment.id for result in results}) == 1
    [licence] = await accounts.licences.history(user)
    assert licence.expires_at == T0 + 30 * DAY_MS


async def test_a_wrong_amount_user_or_payload_is_refused_before_payment(accounts: Accounts) -> None:
    user, other = await accounts.user(), await accounts.user()
    invoice = await accounts.payments.stars_invoice(user, "basic", 1)
    with pytest.raises(ValidationError, match="the invoice is for 1250 XTR, the payment is 1 XTR"):
        await accounts.payments.pre_checkout(user, invoice.payload, 1)
    with pytest.raises(ValidationError, match="issued to another user"):
        await accounts.payments.pre_checkout(other, invoice.payload, 1250)
    forged = invoice.payload.replace(":basic:", ":enterprise:")
    with pytest.raises(ValidationError, match="plan does not match"):
        await accounts.payments.pre_checkout(user, forged, 1250)
    other_nonce = invoice.payload[:-1] + ("1" if invoice.payload.endswith("0") else "0")
    with pytest.raises(ValidationError, match="not issued by the platform"):
        await accounts.payments.pre_checkout(user, other_nonce, 1250)
    with pytest.raises(ValidationError, match="not issued by the platform"):
        await accounts.payments.pre_checkout(user, "something else", 1250)
    with pytest.raises(ValidationError, match="the payment is 1250 USD"):
        await accounts.payments.pre_checkout(user, invoice.payload, 1250, "USD")
    before = await rows(accounts, user)
    with pytest.raises(ValidationError, match="the payment is 1 XTR"):
        await accounts.payments.successful_stars_payment(user, invoice.payload, "charge-x", 1)
    assert await rows(accounts, user) == before
    assert (await accounts.payments.get(invoice.payment_id)).status is PaymentStatus.PENDING


async def test_a_second_charge_for_a_paid_invoice_is_its_own_payment(accounts: Accounts) -> None:
    user = await accounts.user()
    invoice = await accounts.payments.stars_invoice(user, "basic", 1)
    first = await accounts.payments.successful_stars_payment(user, invoice.payload, "charge-a", 1250)
    second = await accounts.payments.successful_stars_payment(user, invoice.payload, "charge-b", 1250)
    assert second.payment.id != first.payment.id and not second.replayed
    assert second.licence is not None and second.licence.expires_at == T0 + 60 * DAY_MS  # the user paid twice


async def test_stars_need_a_price_in_stars(database: object, accounts: Accounts) -> None:
    off = PaymentService(accounts.database, accounts.licences, PaymentConfig())
    with pytest.raises(ConfigError, match="ELCARO_STARS_PER_ELC"):
        await off.stars_invoice(await accounts.user(), "basic", 1)
    with pytest.raises(ConfigError, match="crypto payments are not set up"):
        await off.crypto_invoice(await accounts.user(), "basic", 1)


# --- manual payments --------------------------------------------------------------------------------


async def test_an_admin_approves_a_manual_payment_once(accounts: Accounts) -> None:
    admin = await accounts.user(admin=True)
    user = await accounts.user()
    declared = await accounts.payments.declare(
        user, "enterprise", 12, amount=Decimal("2400"), currency="usdt", reference="TRC20 tx 9f2c…"
    )
    assert (declared.status, declared.currency, declared.method) == (
        PaymentStatus.PENDING,
        "USDT",
        PaymentMethod.MANUAL,
    )
    assert [p.id for p in await accounts.payments.pending()] == [declared.id]

    with pytest.raises(PermissionDeniedError):
        await accounts.payments.approve(user, declared.id)
    approved = await accounts.payments.approve(admin, declared.id, "seen on chain")
    assert approved.payment.status is PaymentStatus.PAID and approved.licence is not None
    assert approved.licence.tier is LicenceTier.ENTERPRISE and approved.licence.expires_at == T0 + 365 * DAY_MS
    with pytest.raises(ConflictError, match="is paid already"):
        await accounts.payments.approve(admin, declared.id)
    with pytest.raises(ConflictError, match="is paid already"):
        await accounts.payments.reject(admin, declared.id, "changed my mind")
    assert len(await accounts.licences.history(user)) == 1
    assert await accounts.payments.pending() == []
    events = await accounts.payments.history(declared.id)
    assert [(e.to_status, e.actor_user_id, e.note) for e in events] == [
        (PaymentStatus.PENDING, user, None),
        (PaymentStatus.PAID, admin, "seen on chain"),
    ]
    async with accounts.database.transaction() as tx:
        audit = await tx.audit.list(subject=f"payment:{declared.id}")
    assert [(entry.action, entry.actor_user_id) for entry in audit] == [("payment.approve", admin)]


async def test_an_admin_rejects_a_manual_payment_with_a_reason(accounts: Accounts) -> None:
    user = await accounts.user()
    declared = await accounts.payments.declare(
        user, "basic", 1, amount=Decimal(25), currency="USD", reference="wire 77"
    )
    rejected = await accounts.payments.reject(None, declared.id, "no such transfer arrived")
    assert (rejected.status, rejected.reason) == (PaymentStatus.REJECTED, "no such transfer arrived")
    with pytest.raises(ConflictError, match="is rejected already"):
        await accounts.payments.approve(None, declared.id)
    assert await accounts.licences.history(user) == []
    assert [p.status for p in await accounts.payments.payments_for(user)] == [PaymentStatus.REJECTED]

    with pytest.raises(ValidationError, match="reference"):
        await accounts.payments.declare(user, "basic", 1, amount=Decimal(25), currency="USD", reference="")
    with pytest.raises(ValidationError, match="positive amount"):
        await accounts.payments.declare(user, "basic", 1, amount=Decimal(0), currency="USD", reference="r")
    with pytest.raises(NotFoundError, match="no payment with id 999"):
        await accounts.payments.approve(None, 999)
    invoice = await accounts.payments.stars_invoice(user, "basic", 1)
    with pytest.raises(ConflictError, match="only manual ones are reviewed"):
        await accounts.payments.approve(None, invoice.payment_id)
