"""What every handler works with: the platform's services, the person writing, and how to answer them.

``run_guarded`` is the one door for a person's update: it finds the user, lets a banned user see only a
short notice, holds back whoever may not use a feature yet (not registered, awaiting approval, terms not
accepted, not an admin) with a message saying why, and turns any refusal of a service into a clear
message in the user's language. Handlers then only parse, call a service and render.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum
from html import unescape
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from elcaro.bot.callbacks import Confirmations, R
from elcaro.bot.delivery import Delivery
from elcaro.bot.i18n import Formats, Markup, has_key, language_of, translate
from elcaro.bot.keyboards import button, inline
from elcaro.bot.render import desk_message
from elcaro.models import ApprovalState, User
from elcaro.models.errors import (
    ConflictError,
    ElcaroError,
    ExchangeError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from elcaro.services.desk import AdminDesk, DeskError, Reachability, TradingDesk
from elcaro.services.runtime import Runtime
from elcaro.services.users import UserService

log = logging.getLogger(__name__)

SERVICES_KEY = "elcaro"
TOUCH_EVERY_S = 300.0
"""How often a user's last-seen time is written while they use the bot."""

Context = ContextTypes.DEFAULT_TYPE
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


class Access(IntEnum):
    PUBLIC = 0
    """Anyone who writes to the bot (``/start`` registers them)."""
    MEMBER = 1
    """Registered and not banned: language, help, the state of their account."""
    TRADER = 2
    """Approved, with the terms and risk disclaimer accepted."""
    ADMIN = 3


@dataclass
class BotServices:
    """Everything the handlers call, built once by ``bot.app``."""

    runtime: Runtime
    desk: TradingDesk
    admin: AdminDesk
    reach: Reachability
    delivery: Delivery
    confirmations: Confirmations
    bot_username: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    """The handler registry, and the optional sections offered (subscription, wallet) with their extras."""
    background: set[asyncio.Task[None]] = field(default_factory=set)
    """Work a handler started and did not wait for (a broadcast's report), kept until it ends."""
    dropped_notices: Callable[[], int] = lambda: 0
    """Notifications the bot's feed lost by falling behind the event stream."""
    seen_at: dict[int, float] = field(default_factory=dict)
    """When each user's last-seen time was last written (monotonic seconds)."""

    @property
    def users(self) -> UserService:
        return self.runtime.platform.users


def services(context: Context) -> BotServices:
    found = context.application.bot_data.get(SERVICES_KEY)
    if not isinstance(found, BotServices):
        raise RuntimeError("the bot's services are not set up (build the application with bot.app)")
    return found


class Session:
    """One update from one person, with their user (None before registration) and language."""

    def __init__(self, update: Update, context: Context, svc: BotServices, user: User | None, language: str) -> None:
        self.update = update
        self.context = context
        self.svc = svc
        self.user = user
        self.lang = language
        self._answered = False

    # ------------------------------------------------------------------------------ who and where

    @property
    def chat_id(self) -> int:
        chat = self.update.effective_chat
        assert chat is not None  # run_guarded admits only updates from a chat
        return chat.id

    @property
    def query(self) -> CallbackQuery | None:
        return self.update.callback_query

    @property
    def text(self) -> str:
        message = self.update.effective_message
        return (message.text or "") if message is not None else ""

    @property
    def me(self) -> User:
        """The user, for handlers that run only for registered users."""
        assert self.user is not None  # guarded: MEMBER and above have a user
        return self.user

    # ------------------------------------------------------------------------------ words and figures

    def t(self, key: str, /, **params: object) -> Markup:
        return translate(self.lang, key, **params)

    @property
    def fmt(self) -> Formats:
        return Formats(self.lang)

    # ------------------------------------------------------------------------------ answering

    async def show(self, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        """Show a menu: edit the message whose button was pressed, or send a new one."""
        query = self.query
        if query is not None and isinstance(query.message, Message):
            try:
                await query.message.edit_text(text, reply_markup=markup)
                return
            except BadRequest as error:
                if "not modified" in error.message:
                    return
                log.info("menu message could not be edited (%s): sending a new one", error.message)
        await self.send(text, markup)

    async def send(self, text: str, markup: ReplyMarkup | None = None) -> Message:
        return await self.context.bot.send_message(self.chat_id, text, reply_markup=markup)

    async def notify(self, key: str, /, *, alert: bool = False, **params: object) -> None:
        """A short answer: the pop-up of a pressed button, or a message."""
        text = self.t(key, **params)
        if self.query is not None and not self._answered:
            self._answered = True
            await self.query.answer(_plain(text)[:200], show_alert=alert)
        else:
            await self.send(text)

    async def finish(self) -> None:
        """Stop the spinner on a pressed button that nothing else answered."""
        if self.query is not None and not self._answered:
            self._answered = True
            try:
                await self.query.answer()
            except BadRequest as error:  # too old to answer: nothing is waiting for it any more
                log.debug("callback not answered: %s", error.message)

    # ------------------------------------------------------------------------------ typed input

    def expect(self, kind: str, **data: Any) -> None:
        """The next text this person sends is input of ``kind`` (a key, a setting value, ...)."""
        assert self.context.user_data is not None  # private chats have user data
        self.context.user_data["await"] = {"kind": kind, **data}

    def expected(self) -> dict[str, Any] | None:
        data = self.context.user_data
        value = data.get("await") if data is not None else None
        return value if isinstance(value, dict) else None

    def clear_expected(self) -> None:
        if self.context.user_data is not None:
            self.context.user_data.pop("await", None)

    # ------------------------------------------------------------------------------ refusals

    async def fail(self, error: ElcaroError) -> None:
        """Tell the person why a service refused, in their language."""
        if isinstance(error, DeskError) and has_key(f"desk.{error.code}"):
            text = desk_message(self.lang, self.fmt, error)
            if self.query is not None and not self._answered:
                self._answered = True
                await self.query.answer(_plain(text)[:200], show_alert=True)
            else:
                await self.send(text)
            return
        key, params = error_message(error)
        await self.notify(key, alert=True, **params)


_GENERIC: tuple[tuple[type[ElcaroError], str], ...] = (
    (NotFoundError, "errors.not_found"),
    (PermissionDeniedError, "errors.permission"),
    (ConflictError, "errors.conflict"),
    (ValidationError, "errors.invalid"),
)


def error_message(error: ElcaroError) -> tuple[str, dict[str, object]]:
    """The catalog key and parameters for a service's refusal."""
    if isinstance(error, DeskError) and has_key(f"desk.{error.code}"):
        return f"desk.{error.code}", dict(error.params)
    if isinstance(error, ExchangeError):
        name = type(error).__name__
        return (f"exchange_error.{name}" if has_key(f"exchange_error.{name}") else "exchange_error.ExchangeError"), {}
    key = next((key for kind, key in _GENERIC if isinstance(error, kind)), "errors.generic")
    return key, {}


def _plain(text: str) -> str:
    """A pop-up shows no HTML: drop the tags of a template."""
    return unescape(_TAG.sub("", text))


_TAG = re.compile(r"<[^>]+>")


Handler = Callable[[Session], Awaitable[None]]


async def run_guarded(update: Update, context: Context, access: Access, handler: Handler) -> None:
    """Run ``handler`` for a person's update if they may use it; otherwise tell them why not."""
    svc = services(context)
    person, chat = update.effective_user, update.effective_chat
    if person is None or chat is None or chat.type != "private":
        return
    user = await svc.runtime.platform.users.find_by_telegram_id(person.id)
    session = Session(update, context, svc, user, language_of(user.language if user else person.language_code))
    try:
        if await _admit(session, access):
            await handler(session)
    except ElcaroError as error:
        await session.fail(error)
    finally:
        await session.finish()


async def _admit(session: Session, access: Access) -> bool:
    user = session.user
    if user is not None and not user.banned:
        await _seen(session.svc, user)
    refused = refusal(user, access)
    if refused == "terms":
        await show_terms(session)
    elif refused == "account.banned" and session.query is None:
        await session.send(session.t(refused), ReplyKeyboardRemove())  # the menu goes with the access
    elif refused is not None:
        await session.notify(refused)
    return refused is None


def refusal(user: User | None, access: Access) -> str | None:
    """Why ``user`` may not use a feature needing ``access`` (a catalog key, or ``terms``); None: they may."""
    if user is None:
        return None if access is Access.PUBLIC else "account.register_first"
    if user.banned:
        return "account.banned"
    if access >= Access.TRADER and user.approval is not ApprovalState.APPROVED:
        return "account.rejected" if user.approval is ApprovalState.REJECTED else "account.pending"
    if access >= Access.TRADER and user.terms_accepted_at is None:
        return "terms"
    if access is Access.ADMIN and not user.is_admin:
        return "common.unknown_command"
    return None


async def _seen(svc: BotServices, user: User) -> None:
    if user.bot_blocked_at is not None:
        await svc.reach.mark_reachable(user.id)
    now = time.monotonic()
    if now - svc.seen_at.get(user.id, -TOUCH_EVERY_S) >= TOUCH_EVERY_S:
        svc.seen_at[user.id] = now
        await svc.runtime.platform.users.touch(user.id)


async def show_terms(session: Session) -> None:
    """The terms and the risk disclaimer, with the button that accepts them."""
    markup = inline([[button(session.t("terms.accept"), R.TERMS())]])
    await session.send(session.t("terms.text"), markup)
