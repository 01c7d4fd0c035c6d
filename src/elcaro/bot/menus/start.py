"""``/start`` (registration with a referral code from the deep link), terms acceptance, the main menu, help
and language.

A new user is registered pending approval and shown the terms and risk disclaimer at once; every admin gets
a message with Approve and Ban buttons. Once the user is approved and has accepted the terms, the main menu
(a reply keyboard) appears.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup

from elcaro.bot.callbacks import Callback, R
from elcaro.bot.context import Access, Session, show_terms
from elcaro.bot.delivery import Outgoing
from elcaro.bot.i18n import SHIPPED, translate
from elcaro.bot.keyboards import Section, button, inline, main_menu
from elcaro.bot.registry import Registry
from elcaro.models import ApprovalState, TelegramProfile, User
from elcaro.models.errors import ConflictError

log = logging.getLogger(__name__)

REFERRAL_CODE_MAX = 32


def register(registry: Registry) -> None:
    registry.on(R.TERMS, Access.MEMBER, accept_terms)
    registry.on(R.LANGUAGE, Access.MEMBER, set_language)
    registry.section(Section.HELP, Access.MEMBER, show_help)
    registry.section(Section.LANGUAGE, Access.MEMBER, show_languages)


async def start(session: Session) -> None:
    """``/start [referral code]``: register, or tell a returning user where they stand."""
    if session.user is None:
        await _register(session)
        return
    await show_status(session, session.user)


async def _register(session: Session) -> None:
    person = session.update.effective_user
    assert person is not None  # guarded: only updates from a person get here
    args = session.context.args or []
    code = args[0][:REFERRAL_CODE_MAX] if args else None
    profile = TelegramProfile(
        telegram_id=person.id,
        username=person.username,
        first_name=person.first_name,
        last_name=person.last_name,
        language_code=person.language_code,
    )
    try:
        user = await session.svc.users.register(profile, referral_code=code)
    except ConflictError:  # two /start at once: the other one registered them
        existing = await session.svc.users.find_by_telegram_id(person.id)
        if existing is None:
            raise
        await show_status(session, existing)
        return
    session.user, session.lang = user, user.language
    if user.approval is ApprovalState.APPROVED:  # an admin by configuration
        await session.send(session.t("start.welcome_admin"))
        await show_status(session, user)
        return
    await session.send(session.t("start.registered"))
    await show_terms(session)
    await announce_registration(session, user)


async def announce_registration(session: Session, user: User) -> None:
    """Every admin gets the new user with Approve and Ban buttons."""
    for admin in await session.svc.admin.admins():
        text = translate(
            admin.language, "admin.new_user", name=user.display_name, id=user.id, telegram=user.telegram_id
        )
        markup = inline(
            [
                [
                    button(translate(admin.language, "admin.approve"), R.APPROVE(user.id)),
                    button(translate(admin.language, "admin.ban"), R.BAN(user.id)),
                ]
            ]
        )
        session.svc.delivery.submit(Outgoing(admin.telegram_id, text, markup, admin.id))


async def show_status(session: Session, user: User) -> None:
    """Where a registered user stands: the terms to accept, approval to wait for, or the main menu."""
    if user.banned:
        await session.notify("account.banned")
    elif user.terms_accepted_at is None:
        await show_terms(session)
    elif user.approval is ApprovalState.PENDING:
        await session.notify("account.pending")
    elif user.approval is ApprovalState.REJECTED:
        await session.notify("account.rejected")
    else:
        await show_main_menu(session, user)


async def show_main_menu(session: Session, user: User, *, key: str = "start.menu") -> None:
    keyboard = main_menu(session.lang, admin=user.is_admin, available=available_sections(session))
    await session.send(session.t(key, name=user.first_name or user.display_name), keyboard)


def available_sections(session: Session) -> set[Section]:
    """Sections this platform offers: Subscription and Wallet only when their services are present."""
    offered = set(Section) - {Section.SUBSCRIPTION, Section.WALLET}
    offered.update(section for section in (Section.SUBSCRIPTION, Section.WALLET) if section.value in session.svc.extras)
    return offered


async def accept_terms(session: Session, callback: Callback) -> None:
    user = session.me
    if user.terms_accepted_at is not None:
        await session.notify("terms.already")
        return
    user = await session.svc.users.accept_terms(user.id)
    session.user = user
    await session.show(session.t("terms.accepted"))
    if user.approval is ApprovalState.APPROVED:
        await show_main_menu(session, user)
    else:
        await session.send(session.t("account.pending"))


async def show_help(session: Session) -> None:
    await session.show(session.t("help.text"))


async def show_languages(session: Session) -> None:
    rows = [[button(translate(language, "language.name"), R.LANGUAGE(language))] for language in SHIPPED]
    await session.show(session.t("language.choose"), InlineKeyboardMarkup(rows))


async def set_language(session: Session, callback: Callback) -> None:
    language = callback.args[0]
    if language not in SHIPPED:
        await session.notify("common.stale")
        return
    user = await session.svc.users.set_language(session.me.id, language)
    session.user, session.lang = user, user.language
    await session.show(session.t("language.set"))
    if user.may_trade:
        await show_main_menu(session, user, key="language.menu")
