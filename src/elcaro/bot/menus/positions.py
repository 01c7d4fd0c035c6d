"""Positions: a paged list with live PnL, a card per position with its close and move-stop buttons, close-all
with confirmation, and positions opened by hand elsewhere, which can be put under management."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from elcaro.bot.callbacks import Callback, Pending, R
from elcaro.bot.context import Access, Session
from elcaro.bot.i18n import Markup
from elcaro.bot.keyboards import Section, button, confirm_row, inline
from elcaro.bot.registry import Registry
from elcaro.bot.render import position_card, position_line, side_label, symbol_label, target_label
from elcaro.models import Target, canonical_symbol
from elcaro.models.errors import ValidationError
from elcaro.services.desk import DeskError, PositionView, normalise_number

PAGE_SIZE = 5


def register(registry: Registry) -> None:
    registry.section(Section.POSITIONS, Access.TRADER, show_first)
    registry.on(R.POSITIONS, Access.TRADER, show_page)
    registry.on(R.POSITION, Access.TRADER, show_position)
    registry.on(R.CLOSE, Access.TRADER, close)
    registry.on(R.MOVE_STOP, Access.TRADER, ask_stop)
    registry.on_input("stop", Access.TRADER, take_stop)
    registry.on(R.CLOSE_ALL, Access.TRADER, ask_close_all)
    registry.on(R.ADOPT, Access.TRADER, adopt)
    registry.on_confirm("close_all", Access.TRADER, close_all)


async def show_first(session: Session) -> None:
    await show(session, 0)


async def show_page(session: Session, callback: Callback) -> None:
    await show(session, callback.int(0))


async def show(session: Session, page: int) -> None:
    desk, user = session.svc.desk, session.me
    listed = await desk.positions(user.id, page=page, page_size=PAGE_SIZE)
    unmanaged = await desk.unmanaged(user.id) if listed.page == 0 else []
    lines = [position_line(session.lang, session.fmt, view) for view in listed.items]
    rows: list[list[InlineKeyboardButton]] = [
        [button(f"{symbol_label(view.symbol)} {side_label(session.lang, view.side)}", R.POSITION(view.id))]
        for view in listed.items
        if view.id is not None
    ]
    nav = []
    if listed.page > 0:
        nav.append(button(session.t("common.previous"), R.POSITIONS(listed.page - 1)))
    if listed.page + 1 < listed.pages:
        nav.append(button(session.t("common.next"), R.POSITIONS(listed.page + 1)))
    rows.append(nav)
    for view in unmanaged:
        assert view.target is not None  # unmanaged positions are read from a target
        base = view.position.symbol.split("/")[0]
        label = session.t(
            "positions.adopt", symbol=symbol_label(view.symbol), target=target_label(session.lang, view.target)
        )
        rows.append([button(label, R.ADOPT(str(view.target), base))])
    actions = [button(session.t("common.refresh"), R.POSITIONS(listed.page))]
    if listed.total:
        actions.append(button(session.t("positions.close_all"), R.CLOSE_ALL()))
    rows.append(actions)
    if listed.total:
        body = session.t(
            "positions.title",
            count=listed.total,
            page=listed.page + 1,
            pages=listed.pages,
            lines=Markup("\n".join(lines)),
        )
    else:
        body = session.t("positions.none")
    if unmanaged:
        body = Markup(f"{body}\n\n{session.t('positions.unmanaged', count=len(unmanaged))}")
    await session.show(body, inline(rows))


async def show_position(session: Session, callback: Callback) -> None:
    position_id = callback.int(0)
    try:
        view = await session.svc.desk.position(session.me.id, position_id)
    except DeskError:
        await session.notify("positions.gone", alert=True)
        await show(session, 0)
        return
    await session.show(position_card(session.lang, session.fmt, view), _card_buttons(session, position_id))


def _card_buttons(session: Session, position_id: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [button(session.t("positions.move_stop"), R.MOVE_STOP(position_id))],
            [button(session.t("positions.close"), R.CLOSE(position_id))],
            [
                button(session.t("common.refresh"), R.POSITION(position_id)),
                button(session.t("common.back"), R.POSITIONS(0)),
            ],
        ]
    )


async def ask_stop(session: Session, callback: Callback) -> None:
    position_id = callback.int(0)
    try:
        view = await session.svc.desk.position(session.me.id, position_id)
    except DeskError:
        await session.notify("positions.gone", alert=True)
        return
    session.expect("stop", position_id=position_id)
    await session.show(_stop_question(session, view), inline([[button(session.t("common.cancel"), R.INPUT_CANCEL())]]))


def _stop_question(session: Session, view: PositionView) -> str:
    fmt = session.fmt
    return session.t(
        "positions.ask_stop",
        symbol=symbol_label(view.symbol),
        side=side_label(session.lang, view.side),
        stop="—" if view.position.stop_loss is None else fmt.number(view.position.stop_loss),
        mark="—" if view.mark_price is None else fmt.number(view.mark_price),
    )


async def take_stop(session: Session, expected: Mapping[str, Any]) -> None:
    """The new stop, typed; a level the position cannot take is explained and the next try awaited."""
    position_id = int(expected["position_id"])
    try:
        stop = Decimal(normalise_number(session.text))
    except InvalidOperation:
        stop = Decimal(0)
    if not stop.is_finite() or stop <= 0:
        await session.send(session.t("positions.stop_not_number", got=session.text.strip()[:40]))
        return
    try:
        view = await session.svc.desk.modify_exits(session.me.id, position_id, stop=stop)
    except DeskError as error:  # gone, or refused by the exchange and being closed: nothing left to type for
        session.clear_expected()
        await session.fail(error)
        return
    except ValidationError as error:
        await session.send(session.t("positions.stop_refused", reason=error.reason))
        return
    session.clear_expected()
    stop_now = "—" if view.position.stop_loss is None else session.fmt.number(view.position.stop_loss)
    await session.send(session.t("positions.stop_set", symbol=symbol_label(view.symbol), stop=stop_now))
    await session.send(position_card(session.lang, session.fmt, view), _card_buttons(session, position_id))


async def close(session: Session, callback: Callback) -> None:
    position_id = callback.int(0)
    try:
        view = await session.svc.desk.position(session.me.id, position_id)
        await session.svc.desk.close_position(session.me.id, position_id)
    except DeskError:
        await session.notify("positions.gone", alert=True)
        return
    await session.notify("positions.closing_short")
    text = session.t("positions.closing", symbol=symbol_label(view.symbol), side=side_label(session.lang, view.side))
    await session.show(text, inline([[button(session.t("common.back"), R.POSITIONS(0))]]))


async def ask_close_all(session: Session, callback: Callback) -> None:
    listed = await session.svc.desk.positions(session.me.id, page=0, page_size=1)
    if not listed.total:
        await session.notify("positions.none_to_close", alert=True)
        return
    token = session.svc.confirmations.issue("close_all", session.chat_id)
    await session.show(
        session.t("positions.close_all_confirm", count=listed.total), inline([confirm_row(session.lang, token)])
    )


async def close_all(session: Session, pending: Pending) -> None:
    count = await session.svc.desk.close_all(session.me.id)
    await session.show(
        session.t("positions.closing_all", count=count), inline([[button(session.t("common.back"), R.POSITIONS(0))]])
    )


async def adopt(session: Session, callback: Callback) -> None:
    target = Target.parse(callback.args[0])
    symbol = canonical_symbol(callback.args[1])
    position_id = await session.svc.desk.adopt(session.me.id, target, symbol)
    await session.notify("positions.adopted", symbol=symbol_label(symbol))
    view = await session.svc.desk.position(session.me.id, position_id)
    rows = [
        [button(session.t("positions.close"), R.CLOSE(position_id))],
        [button(session.t("common.back"), R.POSITIONS(0))],
    ]
    await session.show(position_card(session.lang, session.fmt, view), inline(rows))
