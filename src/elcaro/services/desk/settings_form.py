"""The settings a trader edits per strategy from a chat or a form, described once for every interface.

Each field carries what a form needs to ask for it and to explain a refusal in the trader's language: its
kind, its allowed range (from ``elcaro.trading.settings.RANGES``, the rule that validates it) or choices,
and whether it can be switched off. Validation itself stays in ``elcaro.trading.settings``.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal, Union, get_args, get_origin

from elcaro.trading import Direction, EntryOrderType, LeverageMode, TradingSettings, TrailingType
from elcaro.trading.settings import RANGES, WHOLE_NUMBERS

Kind = Literal["number", "whole", "choice", "bool"]

_CHOICES: dict[str, type[StrEnum]] = {
    "direction": Direction,
    "order_type": EntryOrderType,
    "leverage_mode": LeverageMode,
    "trailing_type": TrailingType,
}

EDITABLE: tuple[str, ...] = (
    "risk_pct",
    "sl_pct",
    "tp_pct",
    "leverage",
    "leverage_mode",
    "order_type",
    "max_open_positions",
    "cooldown_minutes",
    "daily_loss_limit_pct",
    "break_even_after_tp",
    "trailing_type",
    "max_hold_minutes",
)
"""The fields offered per strategy, most asked-for first."""


@dataclass(frozen=True, slots=True)
class SettingField:
    name: str
    kind: Kind
    low: Decimal | None = None
    high: Decimal | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = False
    """Can be switched off (``None``) at a level."""


def setting_field(name: str) -> SettingField:
    """The description of a settings field; ``KeyError`` for a name that is not a setting."""
    annotation = TradingSettings.model_fields[name].annotation
    nullable = get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)
    if name in RANGES:
        low, high = RANGES[name]
        return SettingField(name, "whole" if name in WHOLE_NUMBERS else "number", low, high, nullable=nullable)
    if name in _CHOICES:
        return SettingField(name, "choice", choices=tuple(_CHOICES[name]), nullable=nullable)
    if annotation in (bool, bool | None):
        return SettingField(name, "bool", nullable=nullable)
    raise KeyError(f"{name} is not a setting this form edits")


def normalise_number(text: str) -> str:
    """``1,5`` as a Russian keyboard types it is ``1.5``; anything else is passed on for validation as typed."""
    text = text.strip()
    if text.count(",") == 1 and "." not in text:
        _, _, fraction = text.partition(",")
        if len(fraction) != 3:  # ``1,000`` could be a thousand: left for the validator to refuse
            return text.replace(",", ".")
    return text
