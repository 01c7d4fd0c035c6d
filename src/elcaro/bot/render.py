"""Pieces of text several menus and cards share: targets, sides, positions, orders, reason codes."""

from __future__ import annotations

from decimal import Decimal

from elcaro.bot.i18n import Formats, Markup, has_key, translate
from elcaro.models import Order, PositionSide, Side, Target
from elcaro.services.desk import DeskError, PositionView


def target_label(language: str, target: Target) -> Markup:
    return translate(
        language,
        "target.label",
        exchange=translate(language, f"exchange.{target.exchange.value}"),
        environment=translate(language, f"environment.{target.environment.value}"),
    )


def side_label(language: str, side: PositionSide | Side) -> Markup:
    return translate(language, f"side.{side.value}")


def symbol_label(symbol: str) -> str:
    """``BTC/USDT:USDT`` as traders write it: ``BTCUSDT``."""
    base, _, rest = symbol.partition("/")
    quote = rest.split(":")[0]
    return f"{base}{quote}"


def reason_label(language: str, code: str | None) -> Markup:
    """A skip, refusal or error code (gates, plans, sizing, exchange errors) in words."""
    if code and has_key(f"reason.{code}"):
        return translate(language, f"reason.{code}")
    return translate(language, "reason.unknown", code=code or "-")


def exit_label(language: str, reason: str | None) -> Markup:
    if reason and has_key(f"exit.{reason}"):
        return translate(language, f"exit.{reason}")
    return translate(language, "exit.external")


def pnl_text(fmt: Formats, value: Decimal | None, asset: str = "USDT") -> str:
    return "—" if value is None else fmt.signed_money(value, asset)


def position_line(language: str, fmt: Formats, view: PositionView) -> Markup:
    """One line of the positions list: symbol, side, size and live PnL."""
    position = view.position
    return translate(
        language,
        "positions.line",
        symbol=symbol_label(position.symbol),
        side=side_label(language, position.side),
        qty=fmt.number(position.qty),
        pnl=pnl_text(fmt, view.unrealized_pnl),
        change="—" if view.change_pct is None else fmt.percent(view.change_pct, signed=True),
    )


def position_card(language: str, fmt: Formats, view: PositionView) -> Markup:
    position = view.position

    def optional(value: Decimal | None) -> str:
        return "—" if value is None else fmt.number(value)

    return translate(
        language,
        "positions.card",
        symbol=symbol_label(position.symbol),
        side=side_label(language, position.side),
        target=target_label(language, position.target) if position.target else "—",
        strategy=position.strategy or translate(language, "positions.manual"),
        qty=fmt.number(position.qty),
        entry=fmt.number(position.entry_price),
        mark=optional(view.mark_price),
        pnl=pnl_text(fmt, view.unrealized_pnl),
        change="—" if view.change_pct is None else fmt.percent(view.change_pct, signed=True),
        stop=optional(position.stop_loss),
        take_profit=optional(position.take_profit),
        leverage=fmt.number(position.leverage),
        realized=fmt.signed_money(position.realized_pnl),
        opened=fmt.datetime(position.opened_at) if position.opened_at else "—",
    )


def order_line(language: str, fmt: Formats, target: Target, order: Order) -> Markup:
    price = order.price or order.trigger_price
    return translate(
        language,
        "orders.line",
        target=target_label(language, target),
        symbol=symbol_label(order.symbol),
        side=side_label(language, order.side),
        type=translate(language, f"order_type.{order.type.value}"),
        qty=fmt.number(order.qty),
        price="—" if price is None else fmt.number(price),
        filled=fmt.number(order.filled_qty),
    )


def desk_message(language: str, fmt: Formats, error: DeskError) -> Markup:
    """A desk refusal in words, its figures formatted (symbols as traders write them, numbers grouped)."""
    params: dict[str, object] = {}
    for name, value in error.params.items():
        if name == "symbol":
            params[name] = symbol_label(value)
        elif name == "target":
            params[name] = target_label(language, Target.parse(value))
        elif name in ("minimum", "maximum"):
            params[name] = fmt.number(Decimal(value))
        else:
            params[name] = value
    return translate(language, f"desk.{error.code}", **params)
