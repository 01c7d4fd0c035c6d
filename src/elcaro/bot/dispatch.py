"""The bot's doors: buttons, typed text, commands. Each finds its handler in the registry and runs it through
``run_guarded``; anything the bot does not understand gets a clear answer in the user's language."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol

from telegram import Update

from elcaro.bot.callbacks import Callback, R, decode
from elcaro.bot.context import Access, Context, Handler, Session, refusal, run_guarded, services, show_terms
from elcaro.bot.keyboards import Section, section_of
from elcaro.bot.menus import (
    admin,
    exchanges,
    history,
    manual,
    mode,
    orders,
    portfolio,
    positions,
    start,
    strategies,
)
from elcaro.bot.registry import Registry
from elcaro.services.desk import looks_like_manual_order

log = logging.getLogger(__name__)


class Menu(Protocol):
    """A menu module: it registers its handlers."""

    def register(self, registry: Registry) -> None: ...


MENUS: tuple[Menu, ...] = (start, portfolio, positions, orders, history, strategies, exchanges, mode, manual, admin)


def build_registry(*extra: Menu) -> Registry:
    """Every menu's handlers; ``extra`` modules (subscription, wallet) register theirs too."""
    registry = Registry()
    register_common(registry)
    for menu in (*MENUS, *extra):
        menu.register(registry)
    return registry


def _registry(context: Context) -> Registry:
    found = services(context).extras.get("registry")
    if not isinstance(found, Registry):
        raise RuntimeError("the bot's registry is not set up (build the application with bot.app)")
    return found


# ---------------------------------------------------------------------------------- buttons


async def on_callback(update: Update, context: Context) -> None:
    callback = decode(update.callback_query.data if update.callback_query else None)
    if callback is None:
        await run_guarded(update, context, Access.MEMBER, _stale)
        return
    if callback.route in (R.CONFIRM, R.CONFIRM_CHOICE, R.DECLINE):
        await run_guarded(update, context, Access.MEMBER, lambda session: _confirmation(session, callback))
        return
    if callback.route is R.MENU:
        await run_guarded(update, context, Access.MEMBER, lambda session: open_section(session, callback.args[0]))
        return
    access, handler = _registry(context).callbacks[callback.route.code]
    await run_guarded(update, context, access, lambda session: handler(session, callback))


async def _stale(session: Session) -> None:
    await session.notify("common.stale", alert=True)


async def _confirmation(session: Session, callback: Callback) -> None:
    token = callback.args[0]
    confirmations = session.svc.confirmations
    if callback.route is R.DECLINE:
        confirmations.discard(token, session.chat_id)
        await session.show(session.t("common.cancelled"))
        return
    pending = confirmations.take(token, session.chat_id)
    if pending is None:
        await session.notify("common.stale", alert=True)
        return
    access, handler = _registry(session.context).confirms[pending.action]
    refused = refusal(session.user, access)
    if refused is not None:
        await session.notify(refused if refused != "terms" else "account.pending", alert=True)
        return
    extra: dict[str, object] = {"token": token}
    if callback.route is R.CONFIRM_CHOICE:
        extra["choice"] = callback.int(1)
    await handler(session, replace(pending, payload={**pending.payload, **extra}))


async def open_section(session: Session, name: str) -> None:
    section = Section._value2member_map_.get(name)
    entry = _registry(session.context).sections.get(section) if isinstance(section, Section) else None
    if entry is None or (section in (Section.SUBSCRIPTION, Section.WALLET) and name not in session.svc.extras):
        await session.notify("common.stale", alert=True)
        return
    access, handler = entry
    refused = refusal(session.user, access)
    if refused == "terms":
        await show_terms(session)
    elif refused is not None:
        await session.notify(refused)
    else:
        await handler(session)


# ---------------------------------------------------------------------------------- text


async def on_text(update: Update, context: Context) -> None:
    await run_guarded(update, context, Access.MEMBER, _route_text)


async def _route_text(session: Session) -> None:
    text = session.text.strip()
    section = section_of(text)
    expected = session.expected()
    if expected is not None and section is None:
        access, handler = _registry(session.context).inputs[str(expected["kind"])]
        refused = refusal(session.user, access)
        if refused is None:
            await handler(session, expected)
            return
        session.clear_expected()
    elif expected is not None:
        session.clear_expected()  # a menu button ends whatever was being typed
    if section is not None:
        await open_section(session, section.value)
    elif looks_like_manual_order(text):
        await _guarded_inline(session, Access.TRADER, manual.prepare)
    elif exchanges.looks_like_keys(text):
        await exchanges.delete_stray_keys(session)
    else:
        await session.send(session.t("common.unknown_text"))


async def _guarded_inline(session: Session, access: Access, handler: Handler) -> None:
    refused = refusal(session.user, access)
    if refused is None:
        await handler(session)
    else:
        await session.notify(refused if refused != "terms" else "account.pending")


async def on_other(update: Update, context: Context) -> None:
    """Stickers, photos, voice: nothing the bot reads."""
    await run_guarded(update, context, Access.MEMBER, _unknown_text)


async def _unknown_text(session: Session) -> None:
    await session.send(session.t("common.unknown_text"))


# ---------------------------------------------------------------------------------- commands


async def on_start(update: Update, context: Context) -> None:
    await run_guarded(update, context, Access.PUBLIC, start.start)


async def on_menu(update: Update, context: Context) -> None:
    await run_guarded(update, context, Access.MEMBER, lambda session: start.show_status(session, session.me))


async def on_help(update: Update, context: Context) -> None:
    await run_guarded(update, context, Access.MEMBER, start.show_help)


async def on_language(update: Update, context: Context) -> None:
    await run_guarded(update, context, Access.MEMBER, start.show_languages)


async def on_admin(update: Update, context: Context) -> None:
    await run_guarded(update, context, Access.ADMIN, admin.show_home)


async def on_cancel(update: Update, context: Context) -> None:
    await run_guarded(update, context, Access.MEMBER, cancel_input)


async def cancel_input(session: Session) -> None:
    had = session.expected() is not None
    session.clear_expected()
    await session.notify("common.cancelled" if had else "common.nothing_to_cancel")


async def on_input_cancel(session: Session, callback: Callback) -> None:
    session.clear_expected()
    await session.show(session.t("common.cancelled"))


async def on_unknown_command(update: Update, context: Context) -> None:
    await run_guarded(update, context, Access.PUBLIC, _unknown_command)


async def _unknown_command(session: Session) -> None:
    await session.send(session.t("common.unknown_command"))


def register_common(registry: Registry) -> None:
    registry.on(R.INPUT_CANCEL, Access.MEMBER, on_input_cancel)
