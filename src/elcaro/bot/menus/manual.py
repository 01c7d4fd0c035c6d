"""Manual trading: ``BTCUSDT LONG 0.01`` (market) or ``ETHUSDT SHORT 3400 0.5`` (limit) typed in the chat.

The desk checks the order against each enabled target first; the user sees what would be sent (size
rounded to the venue's step, value, the stop attached from their ``manual`` settings) and one button
per target. Nothing is sent before a button is pressed, and a confirmation places at most one order:
its token is the order's intent, so even a repeated press finds the same order on the venue.
"""

from __future__ import annotations

from elcaro.bot.callbacks import Pending, R
from elcaro.bot.context import Access, Session
from elcaro.bot.i18n import Markup
from elcaro.bot.keyboards import button, inline
from elcaro.bot.registry import Registry
from elcaro.bot.render import desk_message, side_label, symbol_label, target_label
from elcaro.models import OrderType
from elcaro.services.desk import DeskError, ManualOption, ManualOrderRequest, ManualPreview


def register(registry: Registry) -> None:
    registry.on_confirm("manual_order", Access.TRADER, place)


async def prepare(session: Session) -> None:
    """A typed order: show what would be sent, or why it cannot be."""
    try:
        preview = await session.svc.desk.prepare_manual(session.me.id, session.text)
    except DeskError as error:
        reason = desk_message(session.lang, session.fmt, error)
        await session.send(session.t("manual.refused", reason=reason))
        return
    token = session.svc.confirmations.issue("manual_order", session.chat_id, preview=preview)
    rows = [
        [
            button(
                session.t("manual.place_on", target=target_label(session.lang, option.target)),
                R.CONFIRM_CHOICE(token, index),
            )
        ]
        for index, option in enumerate(preview.options)
    ]
    rows.append([button(session.t("common.cancel"), R.DECLINE(token))])
    await session.send(_preview_text(session, preview), inline(rows))


def _preview_text(session: Session, preview: ManualPreview) -> Markup:
    request, fmt = preview.request, session.fmt
    lines = [
        session.t(
            "manual.option",
            target=target_label(session.lang, option.target),
            qty=fmt.number(option.qty),
            notional=fmt.money(option.notional),
            stop=fmt.number(option.stop_loss),
            leverage=option.leverage,
        )
        for option in preview.options
    ]
    kind = "manual.limit" if request.order_type is OrderType.LIMIT else "manual.market"
    return session.t(
        "manual.preview",
        symbol=symbol_label(request.symbol),
        side=side_label(session.lang, request.side),
        kind=session.t(kind, price=fmt.number(request.price or preview.options[0].reference_price)),
        options=Markup("\n".join(lines)),
    )


async def place(session: Session, pending: Pending) -> None:
    preview = pending.payload["preview"]
    index = int(pending.payload.get("choice", 0))
    if not isinstance(preview, ManualPreview) or not 0 <= index < len(preview.options):
        await session.notify("common.stale", alert=True)
        return
    request: ManualOrderRequest = preview.request
    option: ManualOption = preview.options[index]
    try:
        result = await session.svc.desk.place_manual(
            session.me.id, request, option, intent=str(pending.payload["token"])
        )
    except DeskError as error:
        await session.show(session.t("manual.refused", reason=desk_message(session.lang, session.fmt, error)))
        return
    order, fmt = result.order, session.fmt
    if result.position_id is not None:
        text = session.t(
            "manual.filled_managed",
            symbol=symbol_label(order.symbol),
            qty=fmt.number(order.filled_qty),
            price=fmt.number(order.avg_fill_price or option.reference_price),
            stop=fmt.number(option.stop_loss),
        )
        markup = inline([[button(session.t("manual.open_position"), R.POSITION(result.position_id))]])
        await session.show(text, markup)
    elif order.filled_qty > 0:
        await session.show(
            session.t("manual.filled_unmanaged", symbol=symbol_label(order.symbol), reason=result.adoption_error or "—")
        )
    else:
        text = session.t(
            "manual.resting",
            symbol=symbol_label(order.symbol),
            qty=fmt.number(order.qty),
            price=fmt.number(order.price or option.reference_price),
            target=target_label(session.lang, option.target),
        )
        await session.show(text, inline([[button(session.t("menu.orders"), R.ORDERS())]]))
