"""The admin menu: pending approvals, users (find, approve, ban, pause trading), signals with their execution
records, signal channels, the global pause, closing a strategy's positions, broadcasts and system status."""

from __future__ import annotations

import asyncio
import html
from collections import Counter
from collections.abc import Mapping
from typing import Any

from telegram import InlineKeyboardButton

from elcaro.bot.callbacks import Callback, Pending, R, fits
from elcaro.bot.context import Access, Session
from elcaro.bot.delivery import Outcome, Outgoing
from elcaro.bot.i18n import Markup, translate
from elcaro.bot.keyboards import Section, button, confirm_row, inline, main_menu
from elcaro.bot.menus.start import available_sections
from elcaro.bot.registry import Registry
from elcaro.bot.render import reason_label, symbol_label, target_label
from elcaro.models import ApprovalState, SourceKind, User
from elcaro.models.errors import ConflictError, NotFoundError, ValidationError
from elcaro.services.desk import Segment

SHOWN = 10
BROADCAST_MAX = 3500


def register(registry: Registry) -> None:
    registry.section(Section.ADMIN, Access.ADMIN, show_home)
    registry.on(R.ADMIN, Access.ADMIN, open_part)
    registry.on(R.ADMIN_USER, Access.ADMIN, open_user)
    registry.on(R.APPROVE, Access.ADMIN, approve)
    registry.on(R.BAN, Access.ADMIN, ban)
    registry.on(R.UNBAN, Access.ADMIN, unban)
    registry.on(R.PAUSE_USER, Access.ADMIN, toggle_user_pause)
    registry.on(R.SIGNAL, Access.ADMIN, open_signal)
    registry.on(R.CLOSE_STRATEGY, Access.ADMIN, ask_close_strategy)
    registry.on(R.GLOBAL_PAUSE, Access.ADMIN, ask_global_pause)
    registry.on(R.BROADCAST, Access.ADMIN, ask_broadcast)
    registry.on(R.CHANNEL_TOGGLE, Access.ADMIN, toggle_channel)
    registry.on(R.CHANNEL_DELETE, Access.ADMIN, delete_channel)
    registry.on_confirm("close_strategy", Access.ADMIN, close_strategy)
    registry.on_confirm("global_pause", Access.ADMIN, set_global_pause)
    registry.on_confirm("broadcast", Access.ADMIN, broadcast)
    registry.on_input("admin_find", Access.ADMIN, find)
    registry.on_input("broadcast", Access.ADMIN, take_broadcast)
    registry.on_input("channel_add", Access.ADMIN, add_channel)


_PARTS = ("pending", "find", "signals", "channels", "pause", "close", "broadcast", "status")


async def show_home(session: Session) -> None:
    paused = await session.svc.admin.global_paused()
    buttons = [button(session.t(f"admin.part.{part}"), R.ADMIN(part)) for part in _PARTS]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    await session.show(
        session.t("admin.title", pause=session.t("admin.paused" if paused else "admin.running")), inline(rows)
    )


async def open_part(session: Session, callback: Callback) -> None:
    part = callback.args[0]
    handler = {
        "home": show_home,
        "pending": _pending,
        "find": _ask_find,
        "signals": _signals,
        "channels": _channels,
        "channels_add": _ask_channel,
        "pause": _pause_overview,
        "close": _close_overview,
        "broadcast": _broadcast_segments,
        "status": _status,
    }.get(part)
    if handler is None:
        await session.notify("common.stale", alert=True)
        return
    await handler(session)


def _home_row(session: Session) -> list[InlineKeyboardButton]:
    return [button(session.t("common.back"), R.ADMIN("home"))]


# ---------------------------------------------------------------------------------- users


async def _pending(session: Session) -> None:
    users = await session.svc.admin.pending(session.me.id, limit=SHOWN)
    rows = [
        [
            button(user.display_name, R.ADMIN_USER(user.id)),
            button(session.t("admin.approve"), R.APPROVE(user.id)),
            button(session.t("admin.ban"), R.BAN(user.id)),
        ]
        for user in users
    ]
    rows.append(_home_row(session))
    await session.show(session.t("admin.pending" if users else "admin.pending_none", count=len(users)), inline(rows))


async def _ask_find(session: Session) -> None:
    session.expect("admin_find")
    await session.show(session.t("admin.find_ask"), inline([[button(session.t("common.cancel"), R.INPUT_CANCEL())]]))


async def find(session: Session, expected: Mapping[str, Any]) -> None:
    session.clear_expected()
    users = await session.svc.admin.find_users(session.me.id, session.text)
    if not users:
        await session.send(session.t("admin.find_none"), inline([_home_row(session)]))
        return
    rows = [[button(f"{user.display_name} · #{user.id}", R.ADMIN_USER(user.id))] for user in users]
    rows.append(_home_row(session))
    await session.send(session.t("admin.find_results", count=len(users)), inline(rows))


async def open_user(session: Session, callback: Callback) -> None:
    await _user_card(session, callback.int(0))


async def _user_card(session: Session, user_id: int) -> None:
    try:
        user = await session.svc.users.get(user_id)
    except NotFoundError:
        await session.notify("admin.user_gone", alert=True)
        return
    fmt = session.fmt
    text = session.t(
        "admin.user_card",
        name=user.display_name,
        id=user.id,
        telegram=user.telegram_id,
        approval=session.t(f"approval.{user.approval.value}"),
        role=session.t(f"role.{user.role.value}"),
        banned=session.t("common.yes" if user.banned else "common.no"),
        paused=session.t("common.yes" if user.trading_paused else "common.no"),
        terms=fmt.datetime(user.terms_accepted_at) if user.terms_accepted_at else session.t("common.no"),
        language=user.language,
        joined=fmt.datetime(user.created_at),
        seen=fmt.datetime(user.last_seen_at) if user.last_seen_at else "—",
        reachable=session.t("common.no" if user.bot_blocked_at else "common.yes"),
    )
    rows: list[list[InlineKeyboardButton]] = []
    if user.approval is not ApprovalState.APPROVED:
        rows.append([button(session.t("admin.approve"), R.APPROVE(user.id))])
    rows.append(
        [
            button(
                session.t("admin.unban" if user.banned else "admin.ban"), (R.UNBAN if user.banned else R.BAN)(user.id)
            ),
            button(
                session.t("admin.resume_user" if user.trading_paused else "admin.pause_user"), R.PAUSE_USER(user.id)
            ),
        ]
    )
    extra = session.svc.extras.get("admin_user_buttons")
    if callable(extra):
        rows.extend(extra(session, user))
    rows.append(_home_row(session))
    await session.show(text, inline(rows))


async def approve(session: Session, callback: Callback) -> None:
    user_id = callback.int(0)
    user = await session.svc.users.get(user_id)
    if user.approval is ApprovalState.APPROVED:
        await session.notify("admin.already_approved", alert=True, name=user.display_name)
        return
    user = await session.svc.users.approve(user_id, actor_id=session.me.id)  # pays the referrer's signup reward
    await session.notify("admin.approved", name=user.display_name)
    await _user_card(session, user_id)
    await tell_approved(session, user)


async def tell_approved(session: Session, user: User) -> None:
    """The user hears they were approved, with the main menu, or the terms if they are still to accept them."""
    text = translate(user.language, "account.approved")
    markup = None
    if user.terms_accepted_at is not None:
        markup = main_menu(user.language, admin=user.is_admin, available=available_sections(session))
    session.svc.delivery.submit(Outgoing(user.telegram_id, text, markup, user.id))
    if user.terms_accepted_at is None:
        session.svc.delivery.submit(
            Outgoing(user.telegram_id, translate(user.language, "terms.reminder"), None, user.id)
        )


async def ban(session: Session, callback: Callback) -> None:
    user_id = callback.int(0)
    user = await session.svc.users.get(user_id)
    if user.banned:
        await session.notify("admin.already_banned", alert=True, name=user.display_name)
        return
    if user.id == session.me.id:
        await session.notify("admin.not_yourself", alert=True)
        return
    user = await session.svc.users.ban(user_id, actor_id=session.me.id, reason="admin, from the bot")
    await session.notify("admin.banned", name=user.display_name)
    await _user_card(session, user_id)


async def unban(session: Session, callback: Callback) -> None:
    user_id = callback.int(0)
    user = await session.svc.users.get(user_id)
    if not user.banned:
        await session.notify("common.stale", alert=True)
        return
    user = await session.svc.users.unban(user_id, actor_id=session.me.id)
    await session.notify("admin.unbanned", name=user.display_name)
    await _user_card(session, user_id)


async def toggle_user_pause(session: Session, callback: Callback) -> None:
    user_id = callback.int(0)
    user = await session.svc.users.get(user_id)
    await session.svc.admin.set_user_paused(session.me.id, user_id, not user.trading_paused)
    await session.notify("admin.user_resumed" if user.trading_paused else "admin.user_paused", name=user.display_name)
    await _user_card(session, user_id)


# ---------------------------------------------------------------------------------- signals and channels


async def _signals(session: Session) -> None:
    recent = await session.svc.runtime.platform.signal_sources.recent_signals(SHOWN, actor_id=session.me.id)
    fmt = session.fmt
    lines = [
        session.t(
            "admin.signal_line",
            id=signal.id,
            status=session.t(f"signal_status.{signal.status}"),
            strategy=signal.strategy or "—",
            symbol=symbol_label(signal.symbol) if signal.symbol else "—",
            side=session.t(f"side.{signal.side}") if signal.side in ("long", "short") else "—",
            received=fmt.datetime(signal.received_at),
        )
        for signal in recent
    ]
    rows = [
        [button(f"#{signal.id}", R.SIGNAL(signal.id)) for signal in recent[i : i + 5]] for i in range(0, len(recent), 5)
    ]
    rows.append(_home_row(session))
    text = session.t("admin.signals", lines=Markup("\n".join(lines))) if recent else session.t("admin.signals_none")
    await session.show(text, inline(rows))


async def open_signal(session: Session, callback: Callback) -> None:
    try:
        found = await session.svc.admin.signal(session.me.id, callback.int(0))
    except NotFoundError:
        await session.notify("common.stale", alert=True)
        return
    counts = ", ".join(
        f"{session.t(f'execution_status.{status}')}: {count}" for status, count in sorted(found.by_status.items())
    )
    lines = [
        session.t(
            "admin.execution_line",
            user=execution.user_id,
            target=target_label(session.lang, execution.target),
            status=session.t(f"execution_status.{execution.status}"),
            reason=reason_label(session.lang, execution.reason_code) if execution.reason_code else "",
        )
        for execution in found.executions[:SHOWN]
    ]
    text = session.t(
        "admin.signal_card",
        id=found.signal_id,
        source=str(found.source),
        status=session.t(f"signal_status.{found.status}"),
        strategy=found.strategy or "—",
        symbol=symbol_label(found.symbol) if found.symbol else "—",
        reason=found.reason or "—",
        received=session.fmt.datetime(found.received_at),
        counts=counts or "—",
        lines=Markup("\n".join(lines)) if lines else session.t("admin.no_executions"),
    )
    await session.show(text, inline([[button(session.t("common.back"), R.ADMIN("signals"))]]))


async def _channels(session: Session) -> None:
    sources = await session.svc.runtime.platform.signal_sources.list_sources(actor_id=session.me.id)
    channels = [s for s in sources if s.source.kind is SourceKind.CHANNEL]
    lines = [
        session.t(
            "admin.channel_line",
            channel=source.source.ref,
            strategy=source.strategy or session.t("admin.channel_any_strategy"),
            state=session.t("admin.channel_on" if source.enabled else "admin.channel_off"),
        )
        for source in channels
    ]
    rows = [
        [
            button(session.t("admin.channel_toggle", channel=source.source.ref), R.CHANNEL_TOGGLE(source.source.ref)),
            button(session.t("admin.channel_delete"), R.CHANNEL_DELETE(source.source.ref)),
        ]
        for source in channels
        if fits(R.CHANNEL_TOGGLE, source.source.ref)
    ]
    rows.append([button(session.t("admin.channel_add"), R.ADMIN("channels_add"))])
    rows.append(_home_row(session))
    text = session.t("admin.channels", lines=Markup("\n".join(lines))) if channels else session.t("admin.channels_none")
    await session.show(text, inline(rows))


async def _ask_channel(session: Session) -> None:
    session.expect("channel_add")
    await session.show(session.t("admin.channel_ask"), inline([[button(session.t("common.cancel"), R.INPUT_CANCEL())]]))


async def add_channel(session: Session, expected: Mapping[str, Any]) -> None:
    parts = session.text.split()
    if not 1 <= len(parts) <= 2:
        await session.send(session.t("admin.channel_ask"))
        return
    strategy = parts[1].lower() if len(parts) == 2 else None
    try:
        await session.svc.runtime.platform.signal_sources.add_channel(
            parts[0], strategy=strategy, actor_id=session.me.id
        )
    except ValidationError as error:
        await session.send(session.t("admin.channel_invalid", field=error.field or "-"))
        return
    except ConflictError:
        await session.send(session.t("admin.channel_exists", channel=parts[0]))
        return
    session.clear_expected()
    await session.send(
        session.t("admin.channel_added", channel=parts[0], strategy=strategy or session.t("admin.channel_any_strategy"))
    )
    await _channels(session)


async def toggle_channel(session: Session, callback: Callback) -> None:
    service = session.svc.runtime.platform.signal_sources
    ref = callback.args[0]
    current = next(
        (
            s
            for s in await service.list_sources(actor_id=session.me.id)
            if s.source.kind is SourceKind.CHANNEL and s.source.ref == ref
        ),
        None,
    )
    if current is None:
        await session.notify("common.stale", alert=True)
        return
    await service.update_source(SourceKind.CHANNEL, ref, enabled=not current.enabled, actor_id=session.me.id)
    await _channels(session)


async def delete_channel(session: Session, callback: Callback) -> None:
    try:
        await session.svc.runtime.platform.signal_sources.delete_source(
            SourceKind.CHANNEL, callback.args[0], actor_id=session.me.id
        )
    except NotFoundError:
        await session.notify("common.stale", alert=True)
        return
    await session.notify("admin.channel_deleted", channel=callback.args[0])
    await _channels(session)


# ---------------------------------------------------------------------------------- pause and closes


async def _pause_overview(session: Session) -> None:
    paused = await session.svc.admin.global_paused()
    text = session.t("admin.pause_state", state=session.t("admin.paused" if paused else "admin.running"))
    label = session.t("admin.resume_all" if paused else "admin.pause_all")
    await session.show(text, inline([[button(label, R.GLOBAL_PAUSE())], _home_row(session)]))


async def ask_global_pause(session: Session, callback: Callback) -> None:
    paused = await session.svc.admin.global_paused()
    token = session.svc.confirmations.issue("global_pause", session.chat_id, pause=not paused)
    key = "admin.resume_confirm" if paused else "admin.pause_confirm"
    await session.show(session.t(key), inline([confirm_row(session.lang, token)]))


async def set_global_pause(session: Session, pending: Pending) -> None:
    pause = bool(pending.payload["pause"])
    if await session.svc.admin.global_paused() == pause:  # someone else did it meanwhile
        await session.notify("common.stale", alert=True)
        return
    await session.svc.admin.set_global_pause(session.me.id, pause)
    await session.show(session.t("admin.paused_all" if pause else "admin.resumed_all"), inline([_home_row(session)]))


async def _close_overview(session: Session) -> None:
    counts = await session.svc.admin.open_by_strategy(session.me.id)
    rows = [
        [button(session.t("admin.close_row", strategy=name, count=count), R.CLOSE_STRATEGY(name))]
        for name, count in sorted(counts.items())
        if fits(R.CLOSE_STRATEGY, name)
    ]
    rows.append(_home_row(session))
    await session.show(session.t("admin.close_title" if counts else "admin.close_none"), inline(rows))


async def ask_close_strategy(session: Session, callback: Callback) -> None:
    name = callback.args[0]
    count = (await session.svc.admin.open_by_strategy(session.me.id)).get(name, 0)
    if not count:
        await session.notify("admin.close_nothing", alert=True, strategy=name)
        return
    token = session.svc.confirmations.issue("close_strategy", session.chat_id, strategy=name)
    await session.show(
        session.t("admin.close_confirm", strategy=name, count=count), inline([confirm_row(session.lang, token)])
    )


async def close_strategy(session: Session, pending: Pending) -> None:
    name = str(pending.payload["strategy"])
    count = await session.svc.admin.close_strategy(session.me.id, name)
    await session.show(session.t("admin.closing_strategy", strategy=name, count=count), inline([_home_row(session)]))


# ---------------------------------------------------------------------------------- broadcast


async def _broadcast_segments(session: Session) -> None:
    rows = [[button(session.t(f"segment.{segment.value}"), R.BROADCAST(segment.value))] for segment in Segment]
    rows.append(_home_row(session))
    await session.show(session.t("admin.broadcast_title"), inline(rows))


async def ask_broadcast(session: Session, callback: Callback) -> None:
    segment = callback.args[0]
    if segment not in Segment._value2member_map_:
        await session.notify("common.stale", alert=True)
        return
    session.expect("broadcast", segment=segment)
    text = session.t("admin.broadcast_ask", segment=session.t(f"segment.{segment}"), limit=BROADCAST_MAX)
    await session.show(text, inline([[button(session.t("common.cancel"), R.INPUT_CANCEL())]]))


async def take_broadcast(session: Session, expected: Mapping[str, Any]) -> None:
    text = session.text.strip()
    if not text or len(text) > BROADCAST_MAX:
        await session.send(session.t("admin.broadcast_too_long", limit=BROADCAST_MAX))
        return
    session.clear_expected()
    segment = Segment(str(expected["segment"]))
    audience = await session.svc.admin.audience(session.me.id, segment)
    token = session.svc.confirmations.issue("broadcast", session.chat_id, segment=segment.value, text=text)
    preview = session.t(
        "admin.broadcast_preview", segment=session.t(f"segment.{segment.value}"), count=len(audience), text=text
    )
    await session.send(preview, inline([confirm_row(session.lang, token, "admin.broadcast_send")]))


async def broadcast(session: Session, pending: Pending) -> None:
    """Queue the message for everyone in the segment and report the delivery count when all have ended."""
    segment = Segment(str(pending.payload["segment"]))
    body = Markup(html.escape(str(pending.payload["text"]), quote=False))
    audience = await session.svc.admin.audience(session.me.id, segment)
    delivery = session.svc.delivery
    futures = [delivery.submit(Outgoing(user.telegram_id, body, None, user.id)) for user in audience]
    await session.show(session.t("admin.broadcast_queued", count=len(futures)))
    report = await session.send(session.t("admin.broadcast_progress", done=0, count=len(futures)))
    language, chat_id, bot = session.lang, session.chat_id, session.context.bot

    async def count_when_done() -> None:
        outcomes = Counter(await asyncio.gather(*futures))
        text = translate(
            language,
            "admin.broadcast_report",
            count=len(futures),
            sent=outcomes[Outcome.SENT],
            blocked=outcomes[Outcome.BLOCKED],
            failed=outcomes[Outcome.FAILED],
        )
        await bot.edit_message_text(text, chat_id=chat_id, message_id=report.message_id)

    task = asyncio.create_task(count_when_done(), name=f"broadcast report for {chat_id}")
    session.svc.background.add(task)
    task.add_done_callback(session.svc.background.discard)


# ---------------------------------------------------------------------------------- status


async def _status(session: Session) -> None:
    status = await session.svc.admin.status(session.me.id)
    fmt = session.fmt
    errors = ", ".join(f"{venue}: {count}" for venue, count in sorted(status.exchange_errors.items())) or "0"
    last = (
        session.t(
            "admin.last_signal",
            at=fmt.datetime(status.last_signal_at),
            status=session.t(f"signal_status.{status.last_signal_status}"),
        )
        if status.last_signal_at is not None
        else session.t("admin.no_signal_yet")
    )
    delivery = session.svc.delivery
    text = session.t(
        "admin.status",
        pause=session.t("admin.paused" if status.global_paused else "admin.running"),
        pending=status.pending_users,
        open=status.open_positions,
        managed=status.managed_positions,
        queue=delivery.pending,
        chats=delivery.waiting_chats,
        sent=delivery.sent,
        blocked=delivery.blocked,
        failed=delivery.failed,
        dropped=session.svc.dropped_notices(),
        errors=errors,
        last=last,
    )
    await session.show(text, inline([[button(session.t("common.refresh"), R.ADMIN("status"))], _home_row(session)]))
