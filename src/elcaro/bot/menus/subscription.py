"""Subscription: the licence held, prices per tier and period, the free trial, paying with ELC or Telegram Stars,
promo codes; and the admins' grant of a licence from a user's card.

Paying with ELC is confirmed on the plan's own screen (its Pay button carries a one-shot token, which is also the
purchase's idempotency key: a second press never pays twice). Stars go through Telegram's invoice: the
pre-checkout query is checked by the payment service, and the successful payment grants the licence once per
charge.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from telegram import InlineKeyboardButton, LabeledPrice, Update

from elcaro.bot.callbacks import Callback, Pending, R
from elcaro.bot.context import Access, Context, Session, run_guarded, services
from elcaro.bot.i18n import Markup, language_of, translate
from elcaro.bot.keyboards import Section, button, confirm_row, inline
from elcaro.bot.registry import Registry
from elcaro.models import LicenceTier, User
from elcaro.models.errors import ConfigError, ConflictError, ElcaroError, NotFoundError, ValidationError
from elcaro.models.ledger import InsufficientBalanceError, elc_decimal

log = logging.getLogger(__name__)

PAID = tuple(tier for tier in LicenceTier if tier.is_paid)
GRANT_DAYS = (7, 30, 90, 365)


def register(registry: Registry) -> None:
    registry.section(Section.SUBSCRIPTION, Access.TRADER, show)
    registry.on(R.SUBSCRIPTION, Access.TRADER, open_part)
    registry.on(R.PLAN, Access.TRADER, show_plan)
    registry.on(R.STARS, Access.TRADER, send_invoice)
    registry.on(R.GRANT_MENU, Access.ADMIN, grant_menu)
    registry.on(R.GRANT, Access.ADMIN, ask_grant)
    registry.on_confirm("buy_elc", Access.TRADER, buy)
    registry.on_confirm("grant", Access.ADMIN, grant)
    registry.on_input("promo", Access.TRADER, redeem)


def _elc(session: Session, minor: int) -> str:
    return f"{session.fmt.number(elc_decimal(minor))} ELC"


async def show(session: Session) -> None:
    platform = session.svc.runtime.platform
    status = await platform.licences.current(session.me.id)
    balance = await platform.ledger.balance(session.me.id)
    if status.admin:
        held = session.t("subscription.admin")
    elif status.tier is not None and status.expires_at is not None:
        held = session.t(
            "subscription.held",
            tier=session.t(f"tier.{status.tier.value}"),
            until=session.fmt.datetime(status.expires_at),
        )
    else:
        held = session.t("subscription.none")
    lines = []
    for tier in PAID:
        prices = [price for price in platform.licences.prices() if price.tier is tier]
        offers = " · ".join(
            session.t("subscription.offer", months=price.months, price=_elc(session, price.amount_minor))
            for price in sorted(prices, key=lambda price: price.months)
        )
        lines.append(session.t("subscription.tier_line", tier=session.t(f"tier.{tier.value}"), offers=offers))
    text = session.t(
        "subscription.title", held=held, prices=Markup("\n".join(lines)), balance=_elc(session, balance.available)
    )
    rows: list[list[InlineKeyboardButton]] = [
        [button(session.t(f"tier.{tier.value}"), R.SUBSCRIPTION(tier.value)) for tier in PAID]
    ]
    if status.trial_available and not status.admin:
        rows.append([button(session.t("subscription.trial"), R.SUBSCRIPTION("trial"))])
    rows.append([button(session.t("subscription.promo"), R.SUBSCRIPTION("promo"))])
    await session.show(text, inline(rows))


async def open_part(session: Session, callback: Callback) -> None:
    part = callback.args[0]
    if part == "home":
        await show(session)
    elif part == "trial":
        await _trial(session)
    elif part == "promo":
        session.expect("promo")
        await session.show(
            session.t("subscription.promo_ask"), inline([[button(session.t("common.cancel"), R.INPUT_CANCEL())]])
        )
    elif part in LicenceTier._value2member_map_ and LicenceTier(part).is_paid:
        await _periods(session, LicenceTier(part))
    else:
        await session.notify("common.stale", alert=True)


async def _periods(session: Session, tier: LicenceTier) -> None:
    prices = sorted(
        (price for price in session.svc.runtime.platform.licences.prices() if price.tier is tier),
        key=lambda p: p.months,
    )
    rows = [
        [
            button(
                session.t("subscription.period", months=price.months, price=_elc(session, price.amount_minor)),
                R.PLAN(tier.value, price.months),
            )
        ]
        for price in prices
    ]
    rows.append([button(session.t("common.back"), R.SUBSCRIPTION("home"))])
    await session.show(session.t("subscription.choose_period", tier=session.t(f"tier.{tier.value}")), inline(rows))


async def show_plan(session: Session, callback: Callback) -> None:
    platform = session.svc.runtime.platform
    tier, months = callback.args[0], callback.int(1)
    try:
        quote = await platform.licences.quote(session.me.id, tier, months)
    except ValidationError:
        await session.notify("common.stale", alert=True)
        return
    price, fmt = quote.price, session.fmt
    text = session.t(
        "subscription.plan",
        tier=session.t(f"tier.{price.tier.value}"),
        months=price.months,
        days=price.days,
        price=_elc(session, price.amount_minor),
        discount=fmt.number(price.discount_pct),
        until=fmt.datetime(quote.plan.expires_at),
    )
    token = session.svc.confirmations.issue("buy_elc", session.chat_id, tier=price.tier.value, months=months)
    rows = [[button(session.t("subscription.pay_elc", price=_elc(session, price.amount_minor)), R.CONFIRM(token))]]
    try:
        stars = platform.payments.stars_price(price.tier, months)
    except ConfigError:  # Stars payments are not set up on this platform
        stars = None
    if stars is not None:
        rows.append([button(session.t("subscription.pay_stars", stars=stars), R.STARS(price.tier.value, months))])
    rows.append([button(session.t("common.back"), R.SUBSCRIPTION(price.tier.value))])
    await session.show(text, inline(rows))


async def buy(session: Session, pending: Pending) -> None:
    tier, months = str(pending.payload["tier"]), int(pending.payload["months"])
    try:
        purchase = await session.svc.runtime.platform.licences.buy_with_elc(
            session.me.id, tier, months, key=f"bot:{pending.payload['token']}"
        )
    except InsufficientBalanceError as error:
        text = session.t(
            "subscription.not_enough", balance=_elc(session, error.balance), price=_elc(session, error.needed)
        )
        await session.show(text, inline([[button(session.t("common.back"), R.SUBSCRIPTION("home"))]]))
        return
    licence = purchase.licence
    text = session.t(
        "subscription.bought",
        tier=session.t(f"tier.{licence.tier.value}"),
        until=session.fmt.datetime(licence.expires_at),
        price=f"{session.fmt.number(purchase.payment.amount)} ELC",
    )
    await session.show(text, inline([[button(session.t("common.back"), R.SUBSCRIPTION("home"))]]))


async def _trial(session: Session) -> None:
    try:
        licence = await session.svc.runtime.platform.licences.start_trial(session.me.id)
    except ConflictError:
        await session.notify("subscription.trial_used", alert=True)
        return
    text = session.t("subscription.trial_started", until=session.fmt.datetime(licence.expires_at))
    await session.show(text, inline([[button(session.t("common.back"), R.SUBSCRIPTION("home"))]]))


async def redeem(session: Session, expected: Mapping[str, Any]) -> None:
    code = session.text.strip()
    try:
        licence = await session.svc.runtime.platform.licences.redeem_promo(session.me.id, code)
    except NotFoundError:
        await session.send(session.t("subscription.promo_unknown"))
        return
    except ConflictError:
        session.clear_expected()
        await session.send(session.t("subscription.promo_refused"))
        return
    except ValidationError:
        await session.send(session.t("subscription.promo_invalid"))
        return
    session.clear_expected()
    await session.send(
        session.t(
            "subscription.promo_applied",
            tier=session.t(f"tier.{licence.tier.value}"),
            until=session.fmt.datetime(licence.expires_at),
        )
    )


# ---------------------------------------------------------------------------------- Telegram Stars


async def send_invoice(session: Session, callback: Callback) -> None:
    payments = session.svc.runtime.platform.payments
    tier, months = callback.args[0], callback.int(1)
    try:
        invoice = await payments.stars_invoice(session.me.id, tier, months)
    except (ConfigError, ValidationError):
        await session.notify("common.stale", alert=True)
        return
    name = session.t(f"tier.{LicenceTier(tier).value}")
    await session.context.bot.send_invoice(
        session.chat_id,
        title=session.t("subscription.invoice_title", tier=name),
        description=session.t("subscription.invoice_description", tier=name, months=months),
        payload=invoice.payload,
        currency=invoice.currency,
        prices=[LabeledPrice(session.t("subscription.invoice_label", tier=name, months=months), invoice.amount)],
    )


async def on_pre_checkout(update: Update, context: Context) -> None:
    """Telegram asks whether to take the Stars: yes only for a pending invoice of this user, as issued."""
    query = update.pre_checkout_query
    if query is None:
        return
    svc = services(context)
    language = language_of(query.from_user.language_code)
    user = await svc.users.find_by_telegram_id(query.from_user.id)
    if user is None or user.banned:
        await query.answer(ok=False, error_message=translate(language, "subscription.payment_refused"))
        return
    try:
        await svc.runtime.platform.payments.pre_checkout(
            user.id, query.invoice_payload, query.total_amount, query.currency
        )
    except ElcaroError as error:
        log.info("pre-checkout of user %s refused: %s", user.id, error)
        await query.answer(ok=False, error_message=translate(user.language, "subscription.payment_refused"))
        return
    await query.answer(ok=True)


async def on_paid(update: Update, context: Context) -> None:
    await run_guarded(update, context, Access.MEMBER, _paid)


async def _paid(session: Session) -> None:
    message = session.update.effective_message
    paid = message.successful_payment if message is not None else None
    if paid is None:
        return
    result = await session.svc.runtime.platform.payments.successful_stars_payment(
        session.me.id, paid.invoice_payload, paid.telegram_payment_charge_id, paid.total_amount, paid.currency
    )
    licence = result.licence
    if licence is None:
        await session.send(session.t("subscription.payment_pending"))
        return
    await session.send(
        session.t(
            "subscription.paid_stars",
            tier=session.t(f"tier.{licence.tier.value}"),
            until=session.fmt.datetime(licence.expires_at),
        )
    )


# ---------------------------------------------------------------------------------- admin grants


def admin_buttons(session: Session, user: User) -> list[list[InlineKeyboardButton]]:
    """For the admin's user card."""
    return [[button(session.t("subscription.grant"), R.GRANT_MENU(user.id))]]


async def grant_menu(session: Session, callback: Callback) -> None:
    user_id = callback.int(0)
    rows = [
        [
            button(
                session.t("subscription.grant_option", tier=session.t(f"tier.{tier.value}"), days=days),
                R.GRANT(user_id, tier.value, days),
            )
            for days in GRANT_DAYS
        ]
        for tier in LicenceTier
    ]
    rows.append([button(session.t("common.back"), R.ADMIN_USER(user_id))])
    await session.show(session.t("subscription.grant_choose"), inline(rows))


async def ask_grant(session: Session, callback: Callback) -> None:
    user_id, tier, days = callback.int(0), callback.args[1], callback.int(2)
    if tier not in LicenceTier._value2member_map_ or days not in GRANT_DAYS:
        await session.notify("common.stale", alert=True)
        return
    user = await session.svc.users.get(user_id)
    token = session.svc.confirmations.issue("grant", session.chat_id, user_id=user_id, tier=tier, days=days)
    text = session.t("subscription.grant_confirm", name=user.display_name, tier=session.t(f"tier.{tier}"), days=days)
    await session.show(text, inline([confirm_row(session.lang, token)]))


async def grant(session: Session, pending: Pending) -> None:
    user_id, tier, days = int(pending.payload["user_id"]), str(pending.payload["tier"]), int(pending.payload["days"])
    licence = await session.svc.runtime.platform.licences.grant(
        session.me.id, user_id, tier, days, f"granted in the Telegram bot by admin #{session.me.id}"
    )
    user = await session.svc.users.get(user_id)
    await session.show(
        session.t(
            "subscription.granted",
            name=user.display_name,
            tier=session.t(f"tier.{licence.tier.value}"),
            until=session.fmt.datetime(licence.expires_at),
        ),
        inline([[button(session.t("common.back"), R.ADMIN_USER(user_id))]]),
    )
