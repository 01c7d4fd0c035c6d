"""Portfolio: the balance of every enabled target."""

from __future__ import annotations

from elcaro.bot.callbacks import Callback, R
from elcaro.bot.context import Access, Session
from elcaro.bot.i18n import Markup
from elcaro.bot.keyboards import Section, button, inline
from elcaro.bot.registry import Registry
from elcaro.bot.render import reason_label, target_label
from elcaro.services.desk import TargetBalance


def register(registry: Registry) -> None:
    registry.section(Section.PORTFOLIO, Access.TRADER, show)
    registry.on(R.PORTFOLIO, Access.TRADER, refresh)


async def show(session: Session) -> None:
    balances = await session.svc.desk.balances(session.me.id)
    if not balances:
        body = session.t("portfolio.no_targets")
    else:
        body = Markup("\n\n".join(_block(session, balance) for balance in balances))
    markup = inline(
        [
            [
                button(session.t("common.refresh"), R.PORTFOLIO()),
                button(session.t("menu.positions"), R.POSITIONS(0)),
            ]
        ]
    )
    await session.show(session.t("portfolio.title", body=body), markup)


async def refresh(session: Session, callback: Callback) -> None:
    await show(session)


def _block(session: Session, entry: TargetBalance) -> str:
    label = target_label(session.lang, entry.target)
    if entry.balance is None:
        return session.t("portfolio.unavailable", target=label, reason=reason_label(session.lang, entry.error))
    balance, fmt = entry.balance, session.fmt
    return session.t(
        "portfolio.balance",
        target=label,
        equity=fmt.money(balance.equity, balance.asset),
        available=fmt.money(balance.available, balance.asset),
        used=fmt.money(balance.used, balance.asset),
        pnl=fmt.signed_money(balance.unrealized_pnl, balance.asset),
    )
