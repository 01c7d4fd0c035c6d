"""Keyboards: the main menu (a reply keyboard under the input field) and inline button helpers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from elcaro.bot.callbacks import R
from elcaro.bot.i18n import SHIPPED, translate


class Section(StrEnum):
    """The main menu's entries; each names its catalog key ``menu.<value>``."""

    PORTFOLIO = "portfolio"
    POSITIONS = "positions"
    ORDERS = "orders"
    HISTORY = "history"
    STRATEGIES = "strategies"
    EXCHANGES = "exchanges"
    MODE = "mode"
    SUBSCRIPTION = "subscription"
    WALLET = "wallet"
    LANGUAGE = "language"
    HELP = "help"
    ADMIN = "admin"


_LAYOUT: tuple[tuple[Section, ...], ...] = (
    (Section.PORTFOLIO, Section.POSITIONS),
    (Section.ORDERS, Section.HISTORY),
    (Section.STRATEGIES, Section.EXCHANGES),
    (Section.MODE, Section.SUBSCRIPTION),
    (Section.WALLET, Section.LANGUAGE),
    (Section.HELP, Section.ADMIN),
)


def main_menu(language: str, *, admin: bool, available: Iterable[Section]) -> ReplyKeyboardMarkup:
    """The reply keyboard, with the sections this platform offers (and Admin for admins)."""
    offered = set(available)
    rows = []
    for row in _LAYOUT:
        shown = [s for s in row if s in offered and (s is not Section.ADMIN or admin)]
        if shown:
            rows.append([KeyboardButton(translate(language, f"menu.{s.value}")) for s in shown])
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


def section_of(text: str) -> Section | None:
    """The main-menu entry whose label (in any shipped language) is ``text``."""
    return _LABELS.get(text.strip())


_LABELS: dict[str, Section] = {}


def _learn_labels() -> None:
    for language in SHIPPED:
        for section in Section:
            _LABELS[str(translate(language, f"menu.{section.value}"))] = section


_learn_labels()


def button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def inline(rows: Iterable[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(row) for row in rows if row])


def back(language: str, section: Section) -> InlineKeyboardButton:
    return button(translate(language, "common.back"), R.MENU(section.value))


def confirm_row(language: str, token: str, yes_key: str = "common.confirm") -> list[InlineKeyboardButton]:
    return [
        button(translate(language, yes_key), R.CONFIRM(token)),
        button(translate(language, "common.cancel"), R.DECLINE(token)),
    ]
