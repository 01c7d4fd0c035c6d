"""``elcaro licence``: licences, promo codes and payments, for the operator at the machine.

Everything here acts as the operator (``admin_id`` None) and is audited like an admin's action.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from elcaro.cli.common import fail, resolve_user, with_platform

if TYPE_CHECKING:
    from rich.table import Table

    from elcaro.models import Licence, Payment, PromoCode
    from elcaro.services.licences import LicenceStatus
    from elcaro.services.platform import Platform

app = typer.Typer(help="Licences, promo codes and payments.", no_args_is_help=True)

UserArg = Annotated[str, typer.Argument(help="Platform user id, or tg:<Telegram id>.")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")]


def _print(table: Table) -> None:
    from rich.console import Console

    # Piped output (a script, a test) gets full width rather than rich's 80-column default.
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def _when(ms: int | None) -> str:
    from elcaro.core.clock import to_datetime

    return "" if ms is None else to_datetime(ms).strftime("%Y-%m-%d %H:%M")


def _print_licences(licences: Iterable[Licence], title: str | None = None) -> None:
    from rich.table import Table

    table = Table("id", "user", "tier", "source", "starts (UTC)", "expires (UTC)", "revoked", title=title)
    for licence in licences:
        revoked = f"{_when(licence.revoked_at)} {licence.revoke_reason or ''}".strip() if licence.revoked else ""
        table.add_row(
            str(licence.id),
            str(licence.user_id),
            licence.tier.value,
            licence.source.value,
            _when(licence.starts_at),
            _when(licence.expires_at),
            revoked,
        )
    _print(table)


def _print_status(status: LicenceStatus, history: list[Licence]) -> None:
    summary = "no active licence" if status.tier is None else f"{status.tier} until {_when(status.expires_at)} UTC"
    if status.admin:
        summary += " (admin: needs no licence)"
    typer.echo(f"user {status.user_id}: {summary}; trial {'available' if status.trial_available else 'used'}")
    if status.features:
        typer.echo(f"features: {', '.join(sorted(status.features))}")
    _print_licences(history, title="licences")


def _print_payments(payments: Iterable[Payment]) -> None:
    from rich.table import Table

    table = Table("id", "user", "method", "status", "amount", "plan", "reference", "created (UTC)", "reason")
    for payment in payments:
        table.add_row(
            str(payment.id),
            str(payment.user_id),
            payment.method.value,
            payment.status.value,
            f"{payment.amount} {payment.currency}",
            f"{payment.tier} × {payment.months} mo",
            payment.reference or payment.external_id or "",
            _when(payment.created_at),
            payment.reason or "",
        )
    _print(table)


def _print_promos(promos: Iterable[PromoCode]) -> None:
    from rich.table import Table

    table = Table("code", "tier", "days", "uses", "valid until (UTC)", "created (UTC)")
    for promo in promos:
        # Stored as the first moment it no longer works: shown as the last minute it does.
        valid = _when(promo.valid_until - 1) if promo.valid_until is not None else "no end"
        table.add_row(
            promo.code,
            promo.tier.value,
            str(promo.days),
            f"{promo.uses}/{promo.max_uses}",
            valid,
            _when(promo.created_at),
        )
    _print(table)


@app.command("show")
def show(user: UserArg) -> None:
    """What the user holds now, and every licence they held."""

    async def go(platform: Platform) -> tuple[LicenceStatus, list[Licence]]:
        found = await resolve_user(platform, user)
        return await platform.licences.current(found.id), await platform.licences.history(found.id)

    _print_status(*with_platform(go))


@app.command("prices")
def prices() -> None:
    """Prices of every tier and period, in ELC."""
    from rich.table import Table

    from elcaro.models import format_elc

    async def go(platform: Platform) -> None:
        table = Table("tier", "months", "days", "list (ELC)", "discount", "price (ELC)")
        for price in platform.licences.prices():
            table.add_row(
                price.tier.value,
                str(price.months),
                str(price.days),
                format_elc(price.list_minor),
                f"{price.discount_pct} %",
                format_elc(price.amount_minor),
            )
        _print(table)

    with_platform(go)


@app.command("grant")
def grant(
    user: UserArg,
    tier: Annotated[str, typer.Argument(help="trial, basic, premium or enterprise.")],
    days: Annotated[int, typer.Argument(min=1, help="Days to give.")],
    reason: ReasonOpt,
) -> None:
    """Give a licence: the same tier extends it, a higher one upgrades, a lower one runs alongside."""

    async def go(platform: Platform) -> Licence:
        found = await resolve_user(platform, user)
        return await platform.licences.grant(None, found.id, tier, days, reason)

    _print_licences([with_platform(go)])


@app.command("extend")
def extend(
    user: UserArg,
    days: Annotated[int, typer.Argument(min=1, help="Days to add.")],
    reason: ReasonOpt,
) -> None:
    """Add days to the user's highest active licence."""

    async def go(platform: Platform) -> Licence:
        found = await resolve_user(platform, user)
        return await platform.licences.extend(None, found.id, days, reason)

    _print_licences([with_platform(go)])


@app.command("revoke")
def revoke(user: UserArg, reason: ReasonOpt) -> None:
    """End the user's active licences now (open positions stay managed; new entries stop)."""

    async def go(platform: Platform) -> list[Licence]:
        found = await resolve_user(platform, user)
        return await platform.licences.revoke(None, found.id, reason)

    _print_licences(with_platform(go))


@app.command("promo-create")
def promo_create(
    code: Annotated[str, typer.Argument(help="The code people type (letters, digits, - and _).")],
    tier: Annotated[str, typer.Argument(help="trial, basic, premium or enterprise.")],
    days: Annotated[int, typer.Argument(min=1, help="Days each use gives.")],
    max_uses: Annotated[int, typer.Option("--max-uses", min=1, help="Uses in all (each user once).")] = 1,
    valid_until: Annotated[
        str | None, typer.Option("--valid-until", help="Last day it can be used, YYYY-MM-DD (UTC), inclusive.")
    ] = None,
) -> None:
    """Create a promo code."""
    until = _end_of_day(valid_until) if valid_until else None

    async def go(platform: Platform) -> PromoCode:
        return await platform.licences.create_promo(None, code, tier, days, max_uses, until)

    _print_promos([with_platform(go)])


@app.command("promo-list")
def promo_list(limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100) -> None:
    """Promo codes, newest first."""
    _print_promos(with_platform(lambda platform: platform.licences.promos(limit=limit)))


@app.command("payments")
def payments(
    pending: Annotated[bool, typer.Option("--pending", help="Only manual payments waiting for review.")] = False,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's (id or tg:<Telegram id>).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """Payments, newest first (pending ones oldest first, in the order to review them)."""

    async def go(platform: Platform) -> list[Payment]:
        if user is not None:
            found = await resolve_user(platform, user)
            listed = await platform.payments.payments_for(found.id, limit=limit)
            return [p for p in listed if not pending or p.status.value == "pending"]
        if pending:
            return await platform.payments.pending(limit=limit)
        return await platform.payments.recent(limit=limit)

    _print_payments(with_platform(go))


@app.command("approve-payment")
def approve_payment(
    payment_id: Annotated[int, typer.Argument(help="The payment's id (see `elcaro licence payments --pending`).")],
    note: Annotated[str | None, typer.Option("--note", help="What was checked.")] = None,
) -> None:
    """Approve a manual payment: its licence is granted (once)."""

    async def go(platform: Platform) -> Payment:
        return (await platform.payments.approve(None, payment_id, note)).payment

    _print_payments([with_platform(go)])


@app.command("reject-payment")
def reject_payment(
    payment_id: Annotated[int, typer.Argument(help="The payment's id.")],
    reason: ReasonOpt,
) -> None:
    """Reject a manual payment."""

    async def go(platform: Platform) -> Payment:
        return await platform.payments.reject(None, payment_id, reason)

    _print_payments([with_platform(go)])


def _end_of_day(day: str) -> int:
    try:
        date = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise fail(f"--valid-until: expected YYYY-MM-DD, got {day!r}") from None
    return int(date.timestamp() * 1000) + 86_400_000
