"""The Telegram bot as a running service on top of the platform's ``Runtime``.

``running_bot(runtime, config)`` builds python-telegram-bot's ``Application`` (long polling), the delivery
queue, the trading desk and the notification feed, starts them and stops them on the way out;
``serve(runtime, settings)`` is what ``elcaro run`` starts when a bot token is configured.

Updates of one chat are handled one at a time and in order, chats concurrently
(``PerChatUpdateProcessor``): two quick presses of one person never race each other, and a slow
exchange call for one person never holds up another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from elcaro.bot import channels, dispatch
from elcaro.bot.callbacks import Confirmations
from elcaro.bot.cards import render
from elcaro.bot.context import SERVICES_KEY, BotServices, Context
from elcaro.bot.delivery import Delivery, Limits, Outgoing
from elcaro.bot.i18n import SHIPPED, Formats, translate
from elcaro.bot.keyboards import Section
from elcaro.bot.menus import subscription, wallet
from elcaro.core.config import Settings
from elcaro.core.logging import register_secret
from elcaro.models.errors import ElcaroError, NotFoundError
from elcaro.services.desk import AdminDesk, Reachability
from elcaro.services.notifications import Notice
from elcaro.services.runtime import Runtime

log = logging.getLogger(__name__)

TELEGRAM_API = "https://api.telegram.org"
ALLOWED_UPDATES = [
    "message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "pre_checkout_query",
    "my_chat_member",
]
COMMANDS = ("start", "menu", "help", "language", "cancel")


@dataclass(frozen=True, slots=True)
class BotConfig:
    token: str
    api_base_url: str = TELEGRAM_API
    """Telegram's Bot API, or a local Bot API server (tests run a fake one on loopback)."""
    poll_timeout: float = 10.0
    """Seconds a getUpdates long poll may wait for an update."""
    limits: Limits = field(default_factory=Limits)
    delivery_clock: Callable[[], float] | None = None
    delivery_sleep: Callable[[float], Awaitable[None]] | None = None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, one at a time and in order within a chat."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._users[chat.id] = self._users.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[chat.id] -= 1
            if not self._users[chat.id]:  # no update of this chat waits: forget its lock
                del self._users[chat.id]
                self._locks.pop(chat.id, None)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def build_application(runtime: Runtime, config: BotConfig) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB application with every handler and the bot's services attached (not started)."""
    base = config.api_base_url.rstrip("/")
    application = (
        Application.builder()
        .token(config.token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .concurrent_updates(PerChatUpdateProcessor())
        .build()
    )

    async def send(message: Outgoing) -> None:
        await application.bot.send_message(message.chat_id, message.text, reply_markup=message.markup)

    reach = Reachability(runtime.platform.database)

    async def blocked(message: Outgoing) -> None:
        if message.user_id is not None:
            await reach.mark_blocked(message.user_id)

    delivery_options: dict[str, Any] = {}
    if config.delivery_clock is not None:
        delivery_options["clock"] = config.delivery_clock
    if config.delivery_sleep is not None:
        delivery_options["sleep"] = config.delivery_sleep
    svc = BotServices(
        runtime=runtime,
        desk=runtime.desk,
        admin=AdminDesk(runtime.platform.database, runtime.positions),
        reach=reach,
        delivery=Delivery(send, on_blocked=blocked, limits=config.limits, **delivery_options),
        confirmations=Confirmations(),
    )
    svc.extras["registry"] = dispatch.build_registry(subscription, wallet)
    svc.extras[Section.SUBSCRIPTION.value] = True
    svc.extras[Section.WALLET.value] = True
    svc.extras["admin_user_buttons"] = subscription.admin_buttons
    application.bot_data[SERVICES_KEY] = svc
    _add_handlers(application)
    return application


def _add_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(filters.UpdateType.CHANNEL_POSTS, channels.on_post))
    application.add_handler(ChatMemberHandler(channels.on_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    for name, callback in (
        ("start", dispatch.on_start),
        ("menu", dispatch.on_menu),
        ("help", dispatch.on_help),
        ("language", dispatch.on_language),
        ("cancel", dispatch.on_cancel),
        ("admin", dispatch.on_admin),
    ):
        application.add_handler(CommandHandler(name, callback, filters=private))
    application.add_handler(CallbackQueryHandler(dispatch.on_callback))
    application.add_handler(PreCheckoutQueryHandler(subscription.on_pre_checkout))
    application.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT & private, subscription.on_paid))
    application.add_handler(MessageHandler(filters.COMMAND & private, dispatch.on_unknown_command))
    application.add_handler(MessageHandler(filters.TEXT & private, dispatch.on_text))
    application.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, dispatch.on_other))
    application.add_error_handler(_on_error)


async def _on_error(update: object, context: Context) -> None:
    """Anything a handler did not expect: logged with its traceback; the person gets a plain apology."""
    log.error("a Telegram update could not be handled", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None or update.effective_chat.type != "private":
        return
    person = update.effective_user
    language = person.language_code if person else None
    try:
        await context.bot.send_message(update.effective_chat.id, translate(language or "en", "errors.unexpected"))
    except TelegramError:
        log.info("the apology for a failed update could not be sent either")


@dataclass
class TelegramBot:
    """The running bot: its application and services (tests and the admin status read them)."""

    application: Application[Any, Any, Any, Any, Any, Any]
    services: BotServices


@contextlib.asynccontextmanager
async def running_bot(runtime: Runtime, config: BotConfig) -> AsyncIterator[TelegramBot]:
    """Start the bot (long polling), the delivery queue and the notification feed; stop them all.

    The trading desk is the runtime's (shared with the web app), and so is its loop adopting manual fills.
    """
    register_secret(config.token)  # the token is in every request URL: masked wherever a log line shows one
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
    application = build_application(runtime, config)
    svc = services_of(application)
    async with application:
        svc.bot_username = application.bot.username
        await _publish_commands(application)
        async with svc.delivery.running():
            feed = NoticeFeed(svc)
            svc.dropped_notices = feed.dropped
            feeding = asyncio.create_task(feed.run(), name="telegram notices")
            warnings = asyncio.create_task(_expiry_warnings(svc), name="telegram licence warnings")
            await application.start()
            assert application.updater is not None  # the builder makes one unless told not to
            await application.updater.start_polling(timeout=int(config.poll_timeout), allowed_updates=ALLOWED_UPDATES)
            try:
                yield TelegramBot(application, svc)
            finally:
                await application.updater.stop()
                await application.stop()
                for task in (feeding, warnings):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                for task in list(svc.background):
                    task.cancel()
                await asyncio.gather(*svc.background, return_exceptions=True)


def services_of(application: Application[Any, Any, Any, Any, Any, Any]) -> BotServices:
    found = application.bot_data[SERVICES_KEY]
    assert isinstance(found, BotServices)  # build_application put it there
    return found


async def _publish_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The command list Telegram shows, in each shipped language (English also as the default)."""
    for language in SHIPPED:
        commands = [BotCommand(name, translate(language, f"commands.{name}")) for name in COMMANDS]
        await application.bot.set_my_commands(commands, language_code=language)
        if language == "en":
            await application.bot.set_my_commands(commands)


class NoticeFeed:
    """The platform's notices, each rendered in its reader's language and queued for delivery.

    A user's notice goes to that user (unless banned or blocking the bot); a notice without a user (a
    rejected signal, a system error) goes to every admin.
    """

    def __init__(self, svc: BotServices) -> None:
        self._svc = svc
        self._stream = svc.runtime.notifications.subscribe(None)

    def dropped(self) -> int:
        return self._stream.dropped

    async def run(self) -> None:
        try:
            async for notice in self._stream:
                try:
                    await self.deliver(notice)
                except ElcaroError as error:
                    log.warning("a notice could not be delivered: %s", error)
                except Exception:  # one notice that cannot be rendered must not stop the feed
                    log.exception("a notice could not be delivered")
        finally:
            self._stream.close()

    async def deliver(self, notice: Notice) -> None:
        svc = self._svc
        if notice.user_id is None:
            readers = await svc.admin.admins()
        else:
            try:
                user = await svc.users.get(notice.user_id)
            except NotFoundError:
                return
            readers = [] if user.banned or user.bot_blocked_at is not None else [user]
        for reader in readers:
            text, markup = render(notice, reader.language)
            svc.delivery.submit(Outgoing(reader.telegram_id, text, markup, reader.id))


async def _expiry_warnings(svc: BotServices) -> None:
    """Licence expiry warnings (published by the licence service) to their holders, in their language."""
    stream = svc.runtime.platform.licences.events.subscribe()
    try:
        async for warning in stream:
            try:
                user = await svc.users.get(warning.user_id)
            except NotFoundError:
                continue
            if user.banned or user.bot_blocked_at is not None:
                continue
            text = translate(
                user.language,
                "subscription.expiring",
                tier=translate(user.language, f"tier.{warning.tier.value}"),
                days=warning.threshold_days,
                until=Formats(user.language).datetime(warning.expires_at),
            )
            svc.delivery.submit(Outgoing(user.telegram_id, text, None, user.id))
    finally:
        stream.close()


@contextlib.asynccontextmanager
async def serve(runtime: Runtime, settings: Settings) -> AsyncIterator[str]:
    """For ``elcaro run``: the bot with the configured token and API URL; yields a line for the start-up log."""
    token = settings.telegram_bot_token
    if token is None:
        raise ValueError("serve() needs settings.telegram_bot_token")
    config = BotConfig(token.get_secret_value(), api_base_url=settings.telegram_api_base_url)
    async with running_bot(runtime, config) as bot:
        yield f"Telegram bot @{bot.services.bot_username}"
