"""Payments for licences and the history of their status."""

from __future__ import annotations

import builtins
from decimal import Decimal
from typing import Any

from sqlalchemy import Update, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from elcaro.models.errors import ConflictError, NotFoundError
from elcaro.models.licence import LicenceTier
from elcaro.models.payment import Payment, PaymentEvent, PaymentMethod, PaymentStatus
from elcaro.storage.errors import translate_integrity_errors
from elcaro.storage.orm import PaymentEventRow, PaymentRow


class PaymentsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        user_id: int,
        method: PaymentMethod,
        status: PaymentStatus,
        *,
        amount: Decimal,
        currency: str,
        tier: LicenceTier,
        months: int,
        now: int,
        external_id: str | None = None,
        idempotency_key: str | None = None,
        reference: str | None = None,
        licence_id: int | None = None,
        actor_user_id: int | None = None,
        note: str | None = None,
    ) -> Payment:
        """Record a payment and its first status (an event from nothing to ``status``).

        ConflictError when the method already has a payment with this provider id or key.
        """
        row = PaymentRow(
            user_id=user_id,
            method=method,
            status=status,
            amount=amount,
            currency=currency,
            tier=tier,
            months=months,
            external_id=external_id,
            idempotency_key=idempotency_key,
            reference=reference,
            licence_id=licence_id,
            created_at=now,
            updated_at=now,
            paid_at=now if status is PaymentStatus.PAID else None,
        )
        self._session.add(row)
        with translate_integrity_errors(
            {
                "uq_payments_method_external_id": f"a {method} payment with id {external_id} is recorded already",
                "uq_payments_method_idempotency_key": f"a {method} payment with this key is recorded already",
            },
            missing=f"no user with id {user_id}",
        ):
            await self._session.flush()
        await self._event(row.id, None, status, now=now, actor_user_id=actor_user_id, note=note)
        return _payment(row)

    async def get(self, payment_id: int, *, lock: bool = False) -> Payment | None:
        """``lock``: hold the row until the transaction ends, so concurrent changes of one payment take turns."""
        query = select(PaymentRow).where(PaymentRow.id == payment_id)
        if lock:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return None if row is None else _payment(row)

    async def by_external_id(self, method: PaymentMethod, external_id: str) -> Payment | None:
        query = select(PaymentRow).where(PaymentRow.method == method, PaymentRow.external_id == external_id)
        row = await self._session.scalar(query)
        return None if row is None else _payment(row)

    async def by_key(self, method: PaymentMethod, idempotency_key: str) -> Payment | None:
        query = select(PaymentRow).where(PaymentRow.method == method, PaymentRow.idempotency_key == idempotency_key)
        row = await self._session.scalar(query)
        return None if row is None else _payment(row)

    async def move(
        self,
        payment_id: int,
        expected: PaymentStatus,
        status: PaymentStatus,
        *,
        now: int,
        actor_user_id: int | None = None,
        note: str | None = None,
        external_id: str | None = None,
        licence_id: int | None = None,
        reason: str | None = None,
    ) -> Payment:
        """Change the status from ``expected`` to ``status`` and record the event, in one conditional statement.

        ConflictError when the payment is no longer ``expected`` (a concurrent change won) or the change is not
        one a payment can make; a provider id or licence given is stored with it.
        """
        if not expected.can_become(status):
            raise ConflictError(f"a {expected} payment cannot become {status}")
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if status is PaymentStatus.PAID:
            values["paid_at"] = now
        if external_id is not None:
            values["external_id"] = external_id
        if licence_id is not None:
            values["licence_id"] = licence_id
        if reason is not None:
            values["reason"] = reason
        row = await self._update(
            update(PaymentRow).where(PaymentRow.id == payment_id, PaymentRow.status == expected).values(**values),
            external_id,
        )
        if row is None:
            current = await self.get(payment_id)
            if current is None:
                raise NotFoundError(f"no payment with id {payment_id}")
            raise ConflictError(f"payment {payment_id} is {current.status}, not {expected}")
        await self._event(payment_id, expected, status, now=now, actor_user_id=actor_user_id, note=note)
        return _payment(row)

    async def set_provider_invoice(self, payment_id: int, external_id: str, reference: str, *, now: int) -> Payment:
        """Attach the provider's invoice id and payment link to a pending payment (no status change)."""
        row = await self._update(
            update(PaymentRow)
            .where(PaymentRow.id == payment_id)
            .values(external_id=external_id, reference=reference, updated_at=now),
            external_id,
        )
        if row is None:
            raise NotFoundError(f"no payment with id {payment_id}")
        return _payment(row)

    async def for_user(self, user_id: int, *, limit: int = 100) -> builtins.list[Payment]:
        """Newest first."""
        query = (
            select(PaymentRow)
            .where(PaymentRow.user_id == user_id)
            .order_by(PaymentRow.created_at.desc(), PaymentRow.id.desc())
            .limit(limit)
        )
        return [_payment(row) for row in await self._session.scalars(query)]

    async def list(
        self, *, status: PaymentStatus | None = None, method: PaymentMethod | None = None, limit: int = 100
    ) -> builtins.list[Payment]:
        """Oldest first for a status queue (pending payments are reviewed in the order they came); else newest."""
        query = select(PaymentRow).limit(limit)
        if status is not None:
            query = query.where(PaymentRow.status == status).order_by(PaymentRow.id)
        else:
            query = query.order_by(PaymentRow.id.desc())
        if method is not None:
            query = query.where(PaymentRow.method == method)
        return [_payment(row) for row in await self._session.scalars(query)]

    async def events(self, payment_id: int) -> builtins.list[PaymentEvent]:
        """In the order they happened."""
        query = select(PaymentEventRow).where(PaymentEventRow.payment_id == payment_id).order_by(PaymentEventRow.id)
        return [_event(row) for row in await self._session.scalars(query)]

    async def _update(self, statement: Update, external_id: str | None) -> PaymentRow | None:
        """The row ``statement`` changed, if any; ConflictError when it gives a taken provider id."""
        with translate_integrity_errors(
            {"uq_payments_method_external_id": f"another payment has the provider id {external_id}"}
        ):
            return (await self._session.scalars(statement.returning(PaymentRow))).one_or_none()

    async def _event(
        self,
        payment_id: int,
        from_status: PaymentStatus | None,
        to_status: PaymentStatus,
        *,
        now: int,
        actor_user_id: int | None,
        note: str | None,
    ) -> None:
        self._session.add(
            PaymentEventRow(
                payment_id=payment_id,
                from_status=from_status,
                to_status=to_status,
                actor_user_id=actor_user_id,
                note=note,
                at=now,
            )
        )
        await self._session.flush()


def _payment(row: PaymentRow) -> Payment:
    return Payment(
        id=row.id,
        user_id=row.user_id,
        method=row.method,
        status=row.status,
        amount=row.amount,
        currency=row.currency,
        tier=row.tier,
        months=row.months,
        created_at=row.created_at,
        updated_at=row.updated_at,
        external_id=row.external_id,
        idempotency_key=row.idempotency_key,
        reference=row.reference,
        licence_id=row.licence_id,
        reason=row.reason,
        paid_at=row.paid_at,
    )


def _event(row: PaymentEventRow) -> PaymentEvent:
    return PaymentEvent(
        payment_id=row.payment_id,
        from_status=row.from_status,
        to_status=row.to_status,
        at=row.at,
        actor_user_id=row.actor_user_id,
        note=row.note,
        id=row.id,
    )
