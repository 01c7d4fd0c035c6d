"""Strategies: follow each one or not, in which direction, and its settings — typed, validated by the
platform's settings rules, refused with the field and its allowed range in the user's language."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from decimal import Decimal
from typing import Any

from elcaro.bot.callbacks import Callback, R
from elcaro.bot.context import Access, Session
from elcaro.bot.i18n import Markup
from elcaro.bot.keyboards import Section, button, inline
from elcaro.bot.registry import Registry
from elcaro.services.desk import EDITABLE, SettingField, setting_field
from elcaro.trading import SettingsError, TradingSettings

_DIRECTIONS = ("both", "long", "short")


def register(registry: Registry) -> None:
    registry.section(Section.STRATEGIES, Access.TRADER, show_list)
    registry.on(R.STRATEGIES, Access.TRADER, refresh)
    registry.on(R.STRATEGY, Access.TRADER, open_strategy)
    registry.on(R.STRATEGY_TOGGLE, Access.TRADER, toggle)
    registry.on(R.STRATEGY_DIRECTION, Access.TRADER, cycle_direction)
    registry.on(R.STRATEGY_FIELD, Access.TRADER, ask_value)
    registry.on_input("setting", Access.TRADER, take_value)


async def show_list(session: Session) -> None:
    views = await session.svc.desk.strategies(session.me.id)
    rows = [
        [
            button(
                session.t(
                    "strategies.row",
                    mark=session.t("strategies.on" if view.enabled else "strategies.off"),
                    name=view.name,
                    direction=session.t(f"direction.{view.direction}"),
                ),
                R.STRATEGY(view.name),
            )
        ]
        for view in views
    ]
    await session.show(session.t("strategies.title"), inline(rows))


async def refresh(session: Session, callback: Callback) -> None:
    await show_list(session)


async def open_strategy(session: Session, callback: Callback) -> None:
    await show_strategy(session, callback.args[0])


async def show_strategy(session: Session, name: str, *, fresh: bool = False) -> None:
    settings = await session.svc.desk.strategy_settings(session.me.id, name)
    lines = [
        session.t(
            "strategies.setting_line", label=session.t(f"setting.{field}"), value=_value(session, field, settings)
        )
        for field in EDITABLE
    ]
    text = session.t(
        "strategies.card",
        name=name,
        state=session.t("strategies.following" if settings.enabled else "strategies.not_following"),
        direction=session.t(f"direction.{settings.direction.value}"),
        lines=Markup("\n".join(lines)),
    )
    rows = [
        [
            button(
                session.t("strategies.disable" if settings.enabled else "strategies.enable"), R.STRATEGY_TOGGLE(name)
            ),
            button(session.t("strategies.direction"), R.STRATEGY_DIRECTION(name)),
        ]
    ]
    fields = [button(session.t(f"setting.{field}"), R.STRATEGY_FIELD(name, field)) for field in EDITABLE]
    rows.extend(fields[i : i + 2] for i in range(0, len(fields), 2))
    rows.append([button(session.t("common.back"), R.STRATEGIES())])
    if fresh:
        await session.send(text, inline(rows))
    else:
        await session.show(text, inline(rows))


async def toggle(session: Session, callback: Callback) -> None:
    name = callback.args[0]
    settings = await session.svc.desk.strategy_settings(session.me.id, name)
    if await _apply(session, session.svc.desk.set_strategy_enabled(session.me.id, name, not settings.enabled)):
        await session.notify("strategies.enabled" if not settings.enabled else "strategies.disabled", name=name)
    await show_strategy(session, name)


async def cycle_direction(session: Session, callback: Callback) -> None:
    name = callback.args[0]
    settings = await session.svc.desk.strategy_settings(session.me.id, name)
    following = _DIRECTIONS[(_DIRECTIONS.index(settings.direction.value) + 1) % len(_DIRECTIONS)]
    await _apply(session, session.svc.desk.set_direction(session.me.id, name, following))
    await show_strategy(session, name)


async def ask_value(session: Session, callback: Callback) -> None:
    name, field = callback.args
    if field not in EDITABLE:
        await session.notify("common.stale", alert=True)
        return
    settings = await session.svc.desk.strategy_settings(session.me.id, name)
    described = setting_field(field)
    session.expect("setting", strategy=name, field=field)
    text = session.t(
        "strategies.ask",
        label=session.t(f"setting.{field}"),
        strategy=name,
        current=_value(session, field, settings),
        allowed=_allowed(session, described),
    )
    await session.show(text, inline([[button(session.t("common.cancel"), R.INPUT_CANCEL())]]))


async def take_value(session: Session, expected: Mapping[str, Any]) -> None:
    name, field = str(expected["strategy"]), str(expected["field"])
    try:
        await session.svc.desk.update_setting(session.me.id, name, field, session.text)
    except SettingsError as error:  # kept waiting: the user may type a better value
        await session.send(_refusal(session, error))
        return
    session.clear_expected()
    settings = await session.svc.desk.strategy_settings(session.me.id, name)
    await session.send(
        session.t("strategies.saved", label=session.t(f"setting.{field}"), value=_value(session, field, settings))
    )
    await show_strategy(session, name, fresh=True)


async def _apply(session: Session, change: Awaitable[None]) -> bool:
    """Whether the change was stored; a refusal (the level's other values contradict it) is explained."""
    try:
        await change
    except SettingsError as error:
        await session.send(_refusal(session, error))
        return False
    return True


def _refusal(session: Session, error: SettingsError) -> Markup:
    reasons = [_problem(session, field) for field, _ in error.problems] or [session.t("settings_error.combination")]
    return session.t("settings_error.title", reasons=Markup("\n".join(dict.fromkeys(reasons))))


def _problem(session: Session, field: str) -> Markup:
    try:
        described = setting_field(field)
    except KeyError:
        return session.t("settings_error.combination")
    label = session.t(f"setting.{field}")
    return session.t("settings_error.field", label=label, allowed=_allowed(session, described))


def _allowed(session: Session, described: SettingField) -> Markup:
    fmt = session.fmt
    if described.kind in ("number", "whole"):
        assert described.low is not None and described.high is not None  # numeric fields have a range
        key = "settings_allowed.whole" if described.kind == "whole" else "settings_allowed.number"
        text = session.t(key, low=fmt.number(described.low), high=fmt.number(described.high))
    elif described.kind == "choice":
        text = session.t("settings_allowed.choice", choices=", ".join(described.choices))
    else:
        text = session.t("settings_allowed.bool")
    if described.nullable:
        text = Markup(f"{text} {session.t('settings_allowed.off')}")
    return Markup(f"{text} {session.t('settings_allowed.default')}")


def _value(session: Session, field: str, settings: TradingSettings) -> Markup | str:
    value = getattr(settings, field)
    if value is None:
        return session.t("settings_value.off")
    if isinstance(value, bool):
        return session.t("settings_value.yes" if value else "settings_value.no")
    if isinstance(value, int | Decimal):
        number = session.fmt.number(value)
        return f"{number}%" if field.endswith("_pct") else number
    return str(value)
