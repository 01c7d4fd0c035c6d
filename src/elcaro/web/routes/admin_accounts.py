"""``/api/v1/admin``: licences (grant, extend, revoke, a user's history), promo codes, payments to review.

Every route needs the admin role (403); the licence and payment services check it again with the caller's
id and audit each change under it. A refused value answers 422 naming the field (``tier``, ``days``,
``reason``...); a user or payment that does not exist, 404; approving or rejecting a payment that is no
longer pending, 409.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from elcaro.models import PaymentMethod
from elcaro.web.context import AdminUser, PathId, Svc
from elcaro.web.routes.account import licence_out, payment_out
from elcaro.web.schemas.account import (
    ExtendIn,
    GrantIn,
    LicenceOut,
    LicenceStatusOut,
    PaymentEventOut,
    PaymentOut,
    PaymentReviewOut,
    PromoCreateIn,
    PromoOut,
    RejectIn,
    ReviewIn,
    RevokeIn,
    UserLicencesOut,
)

router = APIRouter(prefix="/admin", tags=["admin"])


# ------------------------------------------------------------------------------ licences


@router.get("/users/{user_id}/licences", response_model=UserLicencesOut)
async def user_licences(user_id: PathId, admin: AdminUser, svc: Svc) -> UserLicencesOut:
    """A user's standing (tier, expiry, trial) and every licence they ever held, newest first."""
    await svc.runtime.platform.users.get(user_id)  # 404 for no such user
    service = svc.runtime.platform.licences
    return UserLicencesOut(
        current=LicenceStatusOut.of(await service.current(user_id)),
        history=[LicenceOut.model_validate(item) for item in await service.history(user_id)],
    )


@router.post("/users/{user_id}/licences", response_model=LicenceOut, status_code=201)
async def grant(user_id: PathId, body: GrantIn, admin: AdminUser, svc: Svc) -> LicenceOut:
    """Give ``days`` of ``tier`` (the trial included); the same tier held already is extended."""
    granted = await svc.runtime.platform.licences.grant(admin.user.id, user_id, body.tier, body.days, body.reason)
    return LicenceOut.model_validate(granted)


@router.post("/users/{user_id}/licences/extend", response_model=LicenceOut)
async def extend(user_id: PathId, body: ExtendIn, admin: AdminUser, svc: Svc) -> LicenceOut:
    """Add ``days`` to the user's active licence (404 when none is active: grant one instead)."""
    extended = await svc.runtime.platform.licences.extend(admin.user.id, user_id, body.days, body.reason)
    return LicenceOut.model_validate(extended)


@router.post("/users/{user_id}/licences/revoke", response_model=list[LicenceOut])
async def revoke(user_id: PathId, body: RevokeIn, admin: AdminUser, svc: Svc) -> list[LicenceOut]:
    """End every active licence of the user now: new entries stop, open positions stay managed."""
    revoked = await svc.runtime.platform.licences.revoke(admin.user.id, user_id, body.reason)
    return [LicenceOut.model_validate(item) for item in revoked]


# ------------------------------------------------------------------------------ promo codes


@router.get("/promos", response_model=list[PromoOut])
async def promos(admin: AdminUser, svc: Svc, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[PromoOut]:
    """Promo codes, newest first, with how often each was used."""
    return [PromoOut.model_validate(item) for item in await svc.runtime.platform.licences.promos(limit=limit)]


@router.post("/promos", response_model=PromoOut, status_code=201)
async def create_promo(body: PromoCreateIn, admin: AdminUser, svc: Svc) -> PromoOut:
    """A code granting ``days`` of ``tier``, ``max_uses`` times (each user once); 409 when the code exists."""
    made = await svc.runtime.platform.licences.create_promo(
        admin.user.id, body.code, body.tier, body.days, body.max_uses, body.valid_until
    )
    return PromoOut.model_validate(made)


# ------------------------------------------------------------------------------ payments


@router.get("/payments", response_model=list[PaymentOut])
async def payments(admin: AdminUser, svc: Svc, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[PaymentOut]:
    """Every payment of every method and status, newest first."""
    return [payment_out(item) for item in await svc.runtime.platform.payments.recent(limit=limit)]


@router.get("/payments/pending", response_model=list[PaymentOut])
async def pending(
    admin: AdminUser,
    svc: Svc,
    method: PaymentMethod | None = PaymentMethod.MANUAL,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PaymentOut]:
    """Payments waiting, oldest first: by default the declared transfers an admin has to review."""
    found = await svc.runtime.platform.payments.pending(method=method, limit=limit)
    return [payment_out(item) for item in found]


@router.get("/payments/{payment_id}", response_model=PaymentReviewOut)
async def payment(payment_id: PathId, admin: AdminUser, svc: Svc) -> PaymentReviewOut:
    """One payment and every status it took, in order."""
    service = svc.runtime.platform.payments
    found = await service.get(payment_id)
    events = await service.history(payment_id)
    return PaymentReviewOut(
        payment=payment_out(found), licence=None, events=[PaymentEventOut.model_validate(e) for e in events]
    )


@router.post("/payments/{payment_id}/approve", response_model=PaymentReviewOut)
async def approve(payment_id: PathId, body: ReviewIn, admin: AdminUser, svc: Svc) -> PaymentReviewOut:
    """Mark a pending manual payment paid and grant its licence (once: 409 when it is no longer pending)."""
    service = svc.runtime.platform.payments
    result = await service.approve(admin.user.id, payment_id, body.note)
    events = await service.history(payment_id)
    return PaymentReviewOut(
        payment=payment_out(result.payment),
        licence=licence_out(result.licence),
        events=[PaymentEventOut.model_validate(e) for e in events],
    )


@router.post("/payments/{payment_id}/reject", response_model=PaymentOut)
async def reject(payment_id: PathId, body: RejectIn, admin: AdminUser, svc: Svc) -> PaymentOut:
    """Refuse a pending manual payment with the reason its payer is told."""
    return payment_out(await svc.runtime.platform.payments.reject(admin.user.id, payment_id, body.reason))
