"""History of closed trades (paged) and statistics by period (today, week, month, all) and strategy."""

from __future__ import annotations

from telegram import InlineKeyboardButton

from elcaro.bot.callbacks import Callback, R
from elcaro.bot.context import Access, Session
from elcaro.bot.i18n import Markup
from elcaro.bot.keyboards import Section, button, inline
from elcaro.bot.registry import Registry
from elcaro.bot.render import exit_label, side_label, symbol_label
from elcaro.trading import Period, TradeStats


def register(registry: Registry) -> None:
    registry.section(Section.HISTORY, Access.TRADER, show_first)
    registry.on(R.HISTORY, Access.TRADER, show_page)
    registry.on(R.STATS, Access.TRADER, show_stats)
    registry.on(R.STATS_STRATEGY, Access.TRADER, show_strategy_stats)


def _periods(session: Session) -> list[InlineKeyboardButton]:
    return [button(session.t(f"stats.period.{period.value}"), R.STATS(period.value)) for period in Period]


async def show_first(session: Session) -> None:
    await show(session, 0)


async def show_page(session: Session, callback: Callback) -> None:
    await show(session, callback.int(0))


async def show(session: Session, page: int) -> None:
    history = await session.svc.desk.history(session.me.id, page=page)
    fmt = session.fmt
    lines = [
        session.t(
            "history.line",
            symbol=symbol_label(trade.symbol),
            side=side_label(session.lang, trade.side),
            qty=fmt.number(trade.qty),
            entry=fmt.number(trade.entry_price),
            exit=fmt.number(trade.exit_price),
            pnl=fmt.signed_money(trade.net_pnl),
            reason=exit_label(session.lang, trade.exit_reason.value),
            closed=fmt.datetime(trade.closed_at),
        )
        for trade in history.trades
    ]
    nav = []
    if history.page > 0:
        nav.append(button(session.t("common.newer"), R.HISTORY(history.page - 1)))
    if history.has_more:
        nav.append(button(session.t("common.older"), R.HISTORY(history.page + 1)))
    if lines:
        text = session.t("history.title", page=history.page + 1, lines=Markup("\n\n".join(lines)))
    else:
        text = session.t("history.none")
    await session.show(text, inline([nav, _periods(session)]))


async def show_stats(session: Session, callback: Callback) -> None:
    await _stats(session, Period(callback.args[0]), None)


async def show_strategy_stats(session: Session, callback: Callback) -> None:
    await _stats(session, Period(callback.args[0]), callback.args[1])


async def _stats(session: Session, period: Period, strategy: str | None) -> None:
    report = await session.svc.desk.statistics(session.me.id, period, strategy=strategy)
    heading = session.t(f"stats.period.{period.value}")
    if strategy is not None:
        heading = session.t("stats.strategy_heading", period=heading, strategy=strategy)
    body = _figures(session, report.overall)
    parts = [session.t("stats.title", heading=heading), body]
    if strategy is None and report.by_strategy:
        lines = [
            session.t(
                "stats.strategy_line",
                strategy=name,
                count=stats.count,
                win_rate="—" if stats.win_rate is None else session.fmt.percent(stats.win_rate, 1),
                pnl=session.fmt.signed_money(stats.total_pnl),
            )
            for name, stats in sorted(report.by_strategy.items())
        ]
        parts.append(session.t("stats.by_strategy", lines=Markup("\n".join(lines))))
    rows = [_periods(session)]
    if strategy is None:
        rows.extend(
            [button(name, R.STATS_STRATEGY(period.value, name))] for name in sorted(report.by_strategy) if _fits(name)
        )
    else:
        rows.append([button(session.t("common.back"), R.STATS(period.value))])
    rows.append([button(session.t("menu.history"), R.HISTORY(0))])
    await session.show(Markup("\n\n".join(parts)), inline(rows))


def _fits(name: str) -> bool:
    try:
        R.STATS_STRATEGY(Period.ALL.value, name)
    except ValueError:  # a name a button cannot carry
        return False
    return True


def _figures(session: Session, stats: TradeStats) -> Markup:
    fmt = session.fmt
    if not stats.count:
        return session.t("stats.empty")
    return session.t(
        "stats.figures",
        count=stats.count,
        wins=stats.wins,
        losses=stats.losses,
        win_rate="—" if stats.win_rate is None else fmt.percent(stats.win_rate, 1),
        total=fmt.signed_money(stats.total_pnl),
        average="—" if stats.avg_pnl is None else fmt.signed_money(stats.avg_pnl),
        profit_factor="—" if stats.profit_factor is None else fmt.number(stats.profit_factor, 2),
        best="—" if stats.best is None else fmt.signed_money(stats.best),
        worst="—" if stats.worst is None else fmt.signed_money(stats.worst),
        fees=fmt.money(stats.fees),
        long_count=stats.long.count,
        long_pnl=fmt.signed_money(stats.long.pnl),
        short_count=stats.short.count,
        short_pnl=fmt.signed_money(stats.short.pnl),
    )
