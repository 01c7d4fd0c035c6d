"""Open orders on every enabled target, each cancellable unless it belongs to a managed position."""

from __future__ import annotations

from elcaro.bot.callbacks import Callback, R
from elcaro.bot.context import Access, Session
from elcaro.bot.i18n import Markup
from elcaro.bot.keyboards import Section, button, inline
from elcaro.bot.registry import Registry
from elcaro.bot.render import order_line, symbol_label
from elcaro.models import Target
from elcaro.services.desk import DeskError

SHOWN = 10


def register(registry: Registry) -> None:
    registry.section(Section.ORDERS, Access.TRADER, show)
    registry.on(R.ORDERS, Access.TRADER, refresh)
    registry.on(R.CANCEL_ORDER, Access.TRADER, cancel)


async def show(session: Session) -> None:
    orders = await session.svc.desk.open_orders(session.me.id)
    rows = []
    lines = []
    for view in orders[:SHOWN]:
        line = order_line(session.lang, session.fmt, view.target, view.order)
        lines.append(Markup(f"{line} {session.t('orders.managed')}") if view.managed else line)
        if not view.managed:
            label = session.t(
                "orders.cancel", symbol=symbol_label(view.order.symbol), qty=session.fmt.number(view.order.qty)
            )
            rows.append([button(label, R.CANCEL_ORDER(str(view.target), view.ref))])
    rows.append([button(session.t("common.refresh"), R.ORDERS())])
    if orders:
        text = session.t("orders.title", count=len(orders), lines=Markup("\n".join(lines)))
    else:
        text = session.t("orders.none")
    await session.show(text, inline(rows))


async def refresh(session: Session, callback: Callback) -> None:
    await show(session)


async def cancel(session: Session, callback: Callback) -> None:
    target = Target.parse(callback.args[0])
    try:
        order = await session.svc.desk.cancel_order(session.me.id, target, callback.args[1])
    except DeskError as error:
        await session.fail(error)
        await show(session)
        return
    await session.notify("orders.cancelled", symbol=symbol_label(order.symbol))
    await show(session)
