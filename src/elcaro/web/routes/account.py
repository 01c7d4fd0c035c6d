"""``/api/v1/licences``, ``/api/v1/payments`` and ``/api/v1/wallet``: the caller's subscription and ELC.

Idempotency keys chosen by a client are put in the caller's own namespace (``web:<user>:…``) before they
reach the ledger, so one user's key can never collide with, or replay, another's.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from elcaro.models import Licence, Payment, Price
from elcaro.models.errors import NotFoundError
from elcaro.models.ledger import format_elc, parse_elc
from elcaro.web.context import CurrentUser, OrderCaller, PathId, Svc
from elcaro.web.schemas.account import (
    BuyIn,
    CryptoInvoiceOut,
    DeclareIn,
    InvoiceIn,
    LedgerTxOut,
    LicenceOut,
    LicenceStatusOut,
    PaymentOut,
    PriceOut,
    PromoIn,
    PurchaseOut,
    RefereeOut,
    ReferralsOut,
    TransferIn,
    WalletOut,
)
from elcaro.web.schemas.common import MAX_ID, error_responses

licences = APIRouter(prefix="/licences", tags=["licences"])
payments = APIRouter(prefix="/payments", tags=["payments"])
wallet = APIRouter(prefix="/wallet", tags=["wallet"])


def price_out(price: Price) -> PriceOut:
    return PriceOut(
        tier=price.tier.value,
        months=price.months,
        days=price.days,
        list_elc=format_elc(price.list_minor),
        discount_pct=price.discount_pct,
        amount_elc=format_elc(price.amount_minor),
    )


def licence_out(licence: Licence | None) -> LicenceOut | None:
    return None if licence is None else LicenceOut.model_validate(licence)


def payment_out(payment: Payment) -> PaymentOut:
    return PaymentOut.model_validate(payment)


def _key(user_id: int, what: str, key: str) -> str:
    return f"web:{user_id}:{what}:{key}"


# ------------------------------------------------------------------------------ licences


@licences.get("/prices", response_model=list[PriceOut])
async def prices(caller: CurrentUser, svc: Svc) -> list[PriceOut]:
    return [price_out(price) for price in svc.runtime.platform.licences.prices()]


@licences.get("/current", response_model=LicenceStatusOut)
async def current(caller: CurrentUser, svc: Svc) -> LicenceStatusOut:
    return LicenceStatusOut.of(await svc.runtime.platform.licences.current(caller.user.id))


@licences.get("/history", response_model=list[LicenceOut])
async def licence_history(caller: CurrentUser, svc: Svc) -> list[LicenceOut]:
    return [LicenceOut.model_validate(item) for item in await svc.runtime.platform.licences.history(caller.user.id)]


@licences.get("/quote", response_model=PriceOut)
async def quote(caller: CurrentUser, svc: Svc, tier: str, months: Annotated[int, Query(ge=1, le=12)]) -> PriceOut:
    return price_out((await svc.runtime.platform.licences.quote(caller.user.id, tier, months)).price)


@licences.post("/trial", response_model=LicenceOut)
async def trial(caller: CurrentUser, svc: Svc) -> LicenceOut:
    """Start the free trial (once per user)."""
    return LicenceOut.model_validate(await svc.runtime.platform.licences.start_trial(caller.user.id))


@licences.post("/buy", response_model=PurchaseOut)
async def buy(body: BuyIn, caller: OrderCaller, svc: Svc) -> PurchaseOut:
    """Buy a licence with ELC from the wallet; the same ``key`` again returns the first purchase."""
    bought = await svc.runtime.platform.licences.buy_with_elc(
        caller.user.id, body.tier, body.months, key=_key(caller.user.id, "licence", body.key)
    )
    return PurchaseOut(
        payment=payment_out(bought.payment), licence=licence_out(bought.licence), replayed=bought.replayed
    )


@licences.post("/promo", response_model=LicenceOut)
async def promo(body: PromoIn, caller: OrderCaller, svc: Svc) -> LicenceOut:
    return LicenceOut.model_validate(await svc.runtime.platform.licences.redeem_promo(caller.user.id, body.code))


# ------------------------------------------------------------------------------ payments


@payments.get("", response_model=list[PaymentOut])
async def my_payments(caller: CurrentUser, svc: Svc) -> list[PaymentOut]:
    return [payment_out(item) for item in await svc.runtime.platform.payments.payments_for(caller.user.id)]


@payments.get("/{payment_id}", response_model=PaymentOut)
async def my_payment(payment_id: PathId, caller: CurrentUser, svc: Svc) -> PaymentOut:
    found = await svc.runtime.platform.payments.get(payment_id)
    if found.user_id != caller.user.id:
        raise NotFoundError(f"no payment {payment_id}")
    return payment_out(found)


@payments.post("/crypto", response_model=CryptoInvoiceOut, status_code=201, responses=error_responses(502, 503))
async def crypto_invoice(body: InvoiceIn, caller: OrderCaller, svc: Svc) -> CryptoInvoiceOut:
    """An invoice of the crypto provider for a licence: send the user to ``pay_url``."""
    invoice = await svc.runtime.platform.payments.crypto_invoice(caller.user.id, body.tier, body.months)
    return CryptoInvoiceOut.model_validate(invoice)


@payments.post("/manual", response_model=PaymentOut, status_code=201)
async def declare(body: DeclareIn, caller: OrderCaller, svc: Svc) -> PaymentOut:
    """Say you paid by transfer (with its reference): an admin reviews it and the licence follows."""
    declared = await svc.runtime.platform.payments.declare(
        caller.user.id, body.tier, body.months, amount=body.amount, currency=body.currency, reference=body.reference
    )
    return payment_out(declared)


# ------------------------------------------------------------------------------ wallet


@wallet.get("", response_model=WalletOut)
async def balance(caller: CurrentUser, svc: Svc) -> WalletOut:
    found = await svc.runtime.platform.ledger.balance(caller.user.id)
    address = await svc.runtime.platform.wallets.address_for(caller.user.id)
    return WalletOut(
        available_elc=format_elc(found.available),
        locked_elc=format_elc(found.locked),
        total_elc=format_elc(found.total),
        deposit_address=address,
    )


@wallet.get("/history", response_model=list[LedgerTxOut])
async def wallet_history(
    caller: CurrentUser,
    svc: Svc,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[LedgerTxOut]:
    """The caller's ELC transactions, newest first; pass the last ``seq`` seen as ``before`` for the next page."""
    found = await svc.runtime.platform.ledger.history(caller.user.id, limit=limit, before=before)
    return [LedgerTxOut.of(tx, caller.user) for tx in found]


@wallet.post("/transfers", response_model=LedgerTxOut, status_code=201)
async def transfer(body: TransferIn, caller: OrderCaller, svc: Svc) -> LedgerTxOut:
    """Send ELC to another user (by platform user id); the fee, if any, is paid on top."""
    sent = await svc.runtime.platform.ledger.transfer(
        caller.user.id,
        body.to_user_id,
        parse_elc(body.amount),
        key=_key(caller.user.id, "transfer", body.key),
        memo=body.memo,
    )
    return LedgerTxOut.of(sent, caller.user)


@wallet.get("/referrals", response_model=ReferralsOut)
async def referrals(caller: CurrentUser, svc: Svc) -> ReferralsOut:
    service = svc.runtime.platform.referrals
    earned = await service.earnings(caller.user.id)
    people = await service.referees(caller.user.id)
    return ReferralsOut(
        referral_code=caller.user.referral_code,
        referees=earned.referees,
        earned_elc=format_elc(earned.total),
        signup_rewards=earned.signup_rewards,
        payment_rewards=earned.payment_rewards,
        people=[
            RefereeOut(
                user_id=p.user_id,
                username=p.username,
                first_name=p.first_name,
                approval=p.approval.value,
                joined_at=p.joined_at,
                earned_elc=format_elc(p.earned),
            )
            for p in people
        ],
    )
