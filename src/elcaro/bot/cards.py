"""Trading events as messages: the entry card, fills, targets, stop moves, the close card, refusals, error
digests, and the admins' events — each rendered in the reader's language from the event's stable kind,
code and figures (exact decimal strings)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from telegram import InlineKeyboardMarkup

from elcaro.bot.callbacks import R
from elcaro.bot.i18n import Formats, Markup, translate
from elcaro.bot.keyboards import button, inline
from elcaro.bot.render import exit_label, reason_label, side_label, symbol_label, target_label
from elcaro.models import PositionSide
from elcaro.models.events import EventKind, TradingEvent
from elcaro.services.notifications import ErrorDigest, Notice

Card = tuple[Markup, InlineKeyboardMarkup | None]


def render(notice: Notice, language: str) -> Card:
    """The message for ``notice`` in ``language``."""
    if isinstance(notice, ErrorDigest):
        return _digest(notice, language), None
    return _event(notice, language)


def _event(event: TradingEvent, language: str) -> Card:  # noqa: PLR0911 - one answer per kind of event
    fmt = Formats(language)
    data = event.data
    common = {
        "symbol": symbol_label(event.symbol) if event.symbol else "—",
        "target": target_label(language, event.target) if event.target else "—",
    }
    position = _position_button(event, language)
    match event.kind:
        case EventKind.ENTRY_PLACED:
            side = data.get("side")
            return translate(
                language,
                "card.entry",
                **common,
                side=side_label(language, PositionSide(side)) if side in ("long", "short") else "—",
                qty=_number(fmt, data, "qty"),
                filled=_number(fmt, data, "filled_qty"),
                stop=_number(fmt, data, "stop_loss"),
                leverage=_number(fmt, data, "leverage"),
                notional=_money(fmt, data, "notional"),
                margin=_money(fmt, data, "margin"),
                risk=_money(fmt, data, "risk"),
            ), position
        case EventKind.ENTRY_FILLED | EventKind.DCA_FILLED:
            key = "card.dca_filled" if event.kind is EventKind.DCA_FILLED else "card.entry_filled"
            return translate(
                language,
                key,
                **common,
                qty=_number(fmt, data, "qty"),
                price=_number(fmt, data, "price"),
                entry=_number(fmt, data, "entry_price"),
                size=_number(fmt, data, "position_qty"),
            ), position
        case EventKind.TAKE_PROFIT | EventKind.PARTIAL_TAKE_PROFIT:
            key = "card.take_profit" if event.kind is EventKind.TAKE_PROFIT else "card.partial_take_profit"
            return translate(
                language,
                key,
                **common,
                number=data.get("target", "—"),
                qty=_number(fmt, data, "qty"),
                price=_number(fmt, data, "price"),
                pnl=_signed_money(fmt, data, "pnl"),
            ), position
        case EventKind.BREAK_EVEN | EventKind.STOP_MOVED:
            key = "card.break_even" if event.kind is EventKind.BREAK_EVEN else "card.stop_moved"
            return translate(
                language, key, **common, stop=_number(fmt, data, "stop"), previous=_number(fmt, data, "previous_stop")
            ), position
        case EventKind.POSITION_CLOSED:
            return translate(
                language,
                "card.closed",
                **common,
                reason=exit_label(language, data.get("exit_reason")),
                qty=_number(fmt, data, "qty"),
                entry=_number(fmt, data, "entry_price"),
                exit=_number(fmt, data, "exit_price"),
                pnl=_signed_money(fmt, data, "realized_pnl"),
                fees=_money(fmt, data, "fees"),
            ), None
        case EventKind.ENTRY_SKIPPED | EventKind.ENTRY_FAILED:
            key = "card.skipped" if event.kind is EventKind.ENTRY_SKIPPED else "card.failed"
            return translate(language, key, **common, reason=reason_label(language, event.code)), None
        case EventKind.ENTRY_CANCELLED:
            return translate(
                language,
                "card.entry_cancelled",
                **common,
                reason=reason_label(language, event.code),
                qty=_number(fmt, data, "withdrawn_qty"),
                size=_number(fmt, data, "position_qty"),
            ), position if data.get("position_open") == "true" else None
        case EventKind.SIGNAL_EXPIRED:
            return translate(language, "card.signal_expired", **common, id=event.signal_id or "—"), None
        case EventKind.SIGNAL_REJECTED:
            return translate(
                language,
                "card.signal_rejected",
                id=event.signal_id or "—",
                source=data.get("source", "—"),
                reason=data.get("reason", event.message),
            ), None
        case EventKind.ERROR if event.user_id is None:
            return translate(language, "card.system_error", code=event.code or "—", message=event.message), None
        case EventKind.ERROR:
            return translate(language, "card.error", **common, reason=reason_label(language, event.code)), position
        case _:  # a kind newer than this bot: said plainly rather than dropped
            return translate(
                language, "card.other", **common, kind=event.kind.value, reason=reason_label(language, event.code)
            ), position


def _digest(digest: ErrorDigest, language: str) -> Markup:
    fmt = Formats(language)
    codes = ", ".join(f"{reason_label(language, code)} ×{count}" for code, count in sorted(digest.codes.items()))
    return translate(
        language,
        "card.digest",
        count=digest.count,
        codes=Markup(codes),
        first=fmt.datetime(digest.first_at),
        last=fmt.datetime(digest.last_at),
    )


def _position_button(event: TradingEvent, language: str) -> InlineKeyboardMarkup | None:
    if event.position_id is None:
        return None
    return inline([[button(translate(language, "card.open_position"), R.POSITION(event.position_id))]])


def _decimal(data: Mapping[str, str], key: str) -> Decimal | None:
    try:
        return Decimal(data[key])
    except (KeyError, InvalidOperation):
        return None


def _number(fmt: Formats, data: Mapping[str, str], key: str) -> str:
    value = _decimal(data, key)
    return "—" if value is None else fmt.number(value)


def _money(fmt: Formats, data: Mapping[str, str], key: str) -> str:
    value = _decimal(data, key)
    return "—" if value is None else fmt.money(value)


def _signed_money(fmt: Formats, data: Mapping[str, str], key: str) -> str:
    value = _decimal(data, key)
    return "—" if value is None else fmt.signed_money(value)
