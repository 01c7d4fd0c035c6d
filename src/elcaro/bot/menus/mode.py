"""Trading mode: the targets (exchange × environment) a user trades on. Real money needs a clear opt-in:
enabling a live target asks for an explicit confirmation that names the risk."""

from __future__ import annotations

from elcaro.bot.callbacks import Callback, Pending, R
from elcaro.bot.context import Access, Session
from elcaro.bot.keyboards import Section, button, confirm_row, inline
from elcaro.bot.registry import Registry
from elcaro.bot.render import target_label
from elcaro.models import SUPPORTED_ENVIRONMENTS, Environment, Exchange, Target


def register(registry: Registry) -> None:
    registry.section(Section.MODE, Access.TRADER, show)
    registry.on(R.TARGETS, Access.TRADER, refresh)
    registry.on(R.TARGET_TOGGLE, Access.TRADER, toggle)
    registry.on_confirm("live_opt_in", Access.TRADER, opt_in)


def all_targets() -> list[Target]:
    return [
        Target(exchange, environment)
        for exchange in Exchange
        for environment in Environment
        if environment in SUPPORTED_ENVIRONMENTS[exchange]
    ]


async def show(session: Session) -> None:
    views = {view.target: view for view in await session.svc.desk.targets(session.me.id)}
    rows = []
    for target in all_targets():
        view = views.get(target)
        enabled = view is not None and view.enabled
        mark = "mode.on" if enabled else ("mode.live" if target.environment is Environment.LIVE else "mode.off")
        label = session.t("mode.row", mark=session.t(mark), target=target_label(session.lang, target))
        rows.append([button(label, R.TARGET_TOGGLE(str(target)))])
    await session.show(session.t("mode.title"), inline(rows))


async def refresh(session: Session, callback: Callback) -> None:
    await show(session)


async def toggle(session: Session, callback: Callback) -> None:
    target = Target.parse(callback.args[0])
    views = {view.target: view for view in await session.svc.desk.targets(session.me.id)}
    current = views.get(target)
    if current is not None and current.enabled:
        await session.svc.desk.set_target(session.me.id, target, enabled=False)
        await session.notify("mode.disabled", target=target_label(session.lang, target))
        await show(session)
        return
    if target.environment is Environment.LIVE:
        token = session.svc.confirmations.issue("live_opt_in", session.chat_id, target=str(target))
        text = session.t("mode.live_warning", target=target_label(session.lang, target))
        await session.show(text, inline([confirm_row(session.lang, token, "mode.live_confirm")]))
        return
    await session.svc.desk.set_target(session.me.id, target, enabled=True)
    await _enabled(session, target)


async def opt_in(session: Session, pending: Pending) -> None:
    target = Target.parse(str(pending.payload["target"]))
    await session.svc.desk.set_target(session.me.id, target, enabled=True, live_opt_in=True)
    await _enabled(session, target)


async def _enabled(session: Session, target: Target) -> None:
    await session.notify("mode.enabled", target=target_label(session.lang, target))
    if target.needs_credentials and not any(
        info.target == target for info in await session.svc.desk.keys(session.me.id)
    ):
        await session.send(session.t("mode.needs_keys", target=target_label(session.lang, target)))
    await show(session)
