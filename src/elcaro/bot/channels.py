"""Signal channels: every post (and edited post) of a channel the bot is in goes to signal ingest, which keeps
only those of channels an admin configured and maps each to its strategy. When the bot is made an admin of a
channel, the admins are told the channel's id so they can map it (Admin → Channels)."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update

from elcaro.bot.context import Context, services
from elcaro.bot.delivery import Outgoing
from elcaro.bot.i18n import translate
from elcaro.core.clock import from_datetime, now_ms
from elcaro.models.errors import ElcaroError

log = logging.getLogger(__name__)


async def on_post(update: Update, context: Context) -> None:
    post = update.channel_post or update.edited_channel_post
    if post is None:
        return
    text = post.text or post.caption
    if not text:
        return
    edited = update.edited_channel_post is not None
    moment = post.edit_date if edited and post.edit_date else post.date
    received_at = from_datetime(moment) if moment is not None else now_ms()
    try:
        result = await services(context).runtime.ingest.ingest_post(str(post.chat.id), text, received_at)
    except ElcaroError as error:  # ingest shutting down, or the database refused: the next post is taken anew
        log.warning("post %s of channel %s not ingested: %s", post.message_id, post.chat.id, error)
        return
    log.info(
        "%s %s of channel %s: %s%s",
        "edited post" if edited else "post",
        post.message_id,
        post.chat.id,
        result.outcome.value,
        f" (signal {result.signal_id})" if result.signal_id else "",
    )


async def on_membership(update: Update, context: Context) -> None:
    """The bot's own membership changed: tell the admins when it became an admin of a channel."""
    change = update.my_chat_member
    if change is None or change.chat.type != "channel":
        return
    if change.new_chat_member.status != ChatMember.ADMINISTRATOR:
        return
    svc = services(context)
    for admin in await svc.admin.admins():
        text = translate(admin.language, "admin.channel_joined", title=change.chat.title or "—", channel=change.chat.id)
        svc.delivery.submit(Outgoing(admin.telegram_id, text, None, admin.id))
