"""A user's copy-trading settings: validated values and their resolution across levels.

Settings are stored per level (strategy × side, strategy, exchange, global) as partial blocks
(``SettingsPatch``); ``resolve`` takes, field by field, the most specific level that sets it and
falls back to the platform defaults. Every value is checked where it enters, with the allowed
range in the message, because the person who reads it is a trader typing into a bot.

A field set to ``None`` in a patch means "off at this level" (a level may switch off the
break-even rule the global level turned on); a field absent from a patch means "inherit". Fields
that cannot be off (risk %, stop %, ...) refuse ``None``.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping, Sequence
from datetime import time
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Any, Self, Union, get_args, get_origin

import pydantic
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_serializer, field_validator, model_validator

from elcaro.models import Exchange, PositionSide, to_decimal
from elcaro.models.errors import ValidationError
from elcaro.models.user import SettingsKey, SettingsScope, UserSettings

D = Decimal


class Direction(StrEnum):
    LONG = "long"
    SHORT = "short"
    BOTH = "both"

    def allows(self, side: PositionSide) -> bool:
        return self is Direction.BOTH or self.value == side.value


class EntryOrderType(StrEnum):
    """How a single-price entry goes in. Zones and ladders are always resting limit orders."""

    MARKET = "market"
    LIMIT = "limit"


class LeverageMode(StrEnum):
    SIGNAL = "signal"
    """The signal's leverage when it gives one, else ``leverage``."""
    FIXED = "fixed"
    """Always ``leverage``."""


class DistributionKind(StrEnum):
    """How a quantity spreads over several prices (entry legs, targets), first-reached first."""

    SIGNAL = "signal"
    """The shares the signal gives, else equal."""
    EQUAL = "equal"
    FRONT_LOADED = "front_loaded"
    """Most on the first price reached, decreasing linearly (n, n−1, …, 1)."""
    BACK_LOADED = "back_loaded"
    """Most on the last price reached (1, 2, …, n)."""


#: A kind, or explicit relative weights (``[50, 30, 20]``) for the first prices in order.
Distribution = DistributionKind | tuple[Decimal, ...]


class TrailingType(StrEnum):
    """How the stop follows a winning position (the break-even rule applies with any of them)."""

    NONE = "none"
    MOVING_TARGET = "moving_target"
    """Each filled target moves the stop to the previous one (to break-even after the first)."""
    ATR = "atr"
    """The stop trails the best price by ``atr_multiplier`` × ATR once ``atr_trigger_pct`` is reached."""


#: Allowed ranges, inclusive. Messages quote them, so a trader sees what to type.
RANGES: Mapping[str, tuple[Decimal, Decimal]] = {
    "risk_pct": (D("0.01"), D(10)),
    "sl_pct": (D("0.1"), D(50)),
    "tp_pct": (D("0.1"), D(500)),
    "leverage": (D(1), D(125)),
    "limit_offset_pct": (D(-5), D(5)),
    "zone_legs": (D(1), D(10)),
    "break_even_after_tp": (D(1), D(20)),
    "break_even_at_pct": (D("0.1"), D(100)),
    "break_even_offset_pct": (D(0), D(10)),
    "atr_period": (D(2), D(200)),
    "atr_multiplier": (D("0.1"), D(20)),
    "atr_trigger_pct": (D(0), D(100)),
    "max_open_positions": (D(1), D(100)),
    "cooldown_minutes": (D(0), D(10080)),
    "daily_loss_limit_pct": (D("0.1"), D(100)),
    "max_hold_minutes": (D(1), D(43200)),
    "profit_pct": (D("0.1"), D(1000)),
    "close_pct": (D(1), D(100)),
    "offset_pct": (D("0.1"), D(50)),
    "size_multiplier": (D("0.1"), D(10)),
}
WHOLE_NUMBERS = frozenset(
    {
        "leverage",
        "zone_legs",
        "break_even_after_tp",
        "atr_period",
        "max_open_positions",
        "cooldown_minutes",
        "max_hold_minutes",
    }
)
WEIGHT_RANGE = (D("0.01"), D(100))
MAX_WEIGHTS = 20
MAX_STEPS = 10
_ENUMS: Mapping[str, type[StrEnum]] = {
    "direction": Direction,
    "order_type": EntryOrderType,
    "leverage_mode": LeverageMode,
    "trailing_type": TrailingType,
}
_GRADE = re.compile(r"^[A-F][+-]?$")
_COIN = re.compile(r"^[A-Z0-9]{1,20}$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")


class SettingsError(ValidationError):
    """One or more settings refused; ``problems`` lists (field path, message) for each."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.field = next((field for field, _ in problems if field), None)
        self.problems = tuple(problems)


def _check_number(name: str, value: object) -> Decimal | int:
    low, high = RANGES[name]
    whole = name in WHOLE_NUMBERS
    kind = "a whole number" if whole else "a number"
    try:
        number = to_decimal(value, field=name)  # type: ignore[arg-type]
    except ValidationError:
        raise ValueError(f"{name} must be {kind} between {low} and {high}, got {value!r}") from None
    if whole and number != number.to_integral_value():
        raise ValueError(f"{name} must be {kind} between {low} and {high}, got {value}")
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return int(number) if whole else number


class _Checked(BaseModel):
    """Shared checks: every numeric field against ``RANGES``, with the range in the message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator(*RANGES, mode="before", check_fields=False)
    @classmethod
    def _in_range(cls, value: object, info: ValidationInfo) -> object:
        return None if value is None else _check_number(str(info.field_name), value)


class PartialTpStep(_Checked):
    """At ``profit_pct`` in favour of the average entry, have ``close_pct`` of the largest size held closed."""

    profit_pct: Decimal
    close_pct: Decimal


class DcaLeg(_Checked):
    """A resting add ``offset_pct`` against the entry, sized ``size_multiplier`` × the entry size."""

    offset_pct: Decimal
    size_multiplier: Decimal


class SettingsPatch(_Checked):
    """The values one level sets; anything absent is inherited from the level below."""

    enabled: bool | None = None
    direction: Direction | None = None
    risk_pct: Decimal | None = None
    sl_pct: Decimal | None = None
    tp_pct: Decimal | None = None
    leverage: int | None = None
    leverage_mode: LeverageMode | None = None
    order_type: EntryOrderType | None = None
    limit_offset_pct: Decimal | None = None
    entry_distribution: Distribution | None = None
    zone_legs: int | None = None
    tp_distribution: Distribution | None = None
    partial_tp_steps: tuple[PartialTpStep, ...] | None = None
    break_even_after_tp: int | None = None
    break_even_at_pct: Decimal | None = None
    break_even_offset_pct: Decimal | None = None
    dca_legs: tuple[DcaLeg, ...] | None = None
    dca_reprice_targets: bool | None = None
    trailing_type: TrailingType | None = None
    atr_period: int | None = None
    atr_multiplier: Decimal | None = None
    atr_trigger_pct: Decimal | None = None
    max_open_positions: int | None = None
    cooldown_minutes: int | None = None
    coin_group: tuple[str, ...] | None = None
    blacklist: tuple[str, ...] | None = None
    min_quality: str | None = None
    daily_loss_limit_pct: Decimal | None = None
    auto_close_at: time | None = None
    max_hold_minutes: int | None = None

    @classmethod
    def parse(cls, values: Mapping[str, Any]) -> Self:
        """Validate stored or typed values; ``SettingsError`` lists every problem found."""
        try:
            return cls.model_validate(dict(values))
        except pydantic.ValidationError as error:
            raise SettingsError(_problems(error)) from None

    def to_values(self) -> dict[str, Any]:
        """JSON-native values of the fields this level sets, for storage."""
        return self.model_dump(mode="json", exclude_unset=True)

    @field_validator("enabled", "dca_reprice_targets", mode="before")
    @classmethod
    def _boolean(cls, value: object, info: ValidationInfo) -> object:
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"{info.field_name} must be true or false, got {value!r}")
        return value

    @field_validator(*_ENUMS, mode="before")
    @classmethod
    def _choice(cls, value: object, info: ValidationInfo) -> object:
        enum = _ENUMS[str(info.field_name)]
        if value is None or isinstance(value, enum):
            return value
        if isinstance(value, str) and value.lower() in enum._value2member_map_:
            return enum(value.lower())
        raise ValueError(f"{info.field_name} must be one of {', '.join(enum)}, got {value!r}")

    @field_validator("entry_distribution", "tp_distribution", mode="before")
    @classmethod
    def _distribution(cls, value: object, info: ValidationInfo) -> object:
        name = info.field_name
        if value is None or isinstance(value, DistributionKind):
            return value
        if isinstance(value, str):
            if value.lower() in DistributionKind._value2member_map_:
                return DistributionKind(value.lower())
        elif isinstance(value, list | tuple) and 1 <= len(value) <= MAX_WEIGHTS:
            return tuple(_weight(str(name), index, weight) for index, weight in enumerate(value))
        raise ValueError(
            f"{name} must be one of {', '.join(DistributionKind)} or a list of 1–{MAX_WEIGHTS} weights, got {value!r}"
        )

    @field_validator("partial_tp_steps", mode="after")
    @classmethod
    def _steps(cls, steps: tuple[PartialTpStep, ...] | None) -> tuple[PartialTpStep, ...] | None:
        if steps is None:
            return None
        if len(steps) > MAX_STEPS:
            raise ValueError(f"partial_tp_steps takes at most {MAX_STEPS} steps, got {len(steps)}")
        if any(b.profit_pct <= a.profit_pct for a, b in pairwise(steps)):
            raise ValueError("partial_tp_steps must be in order of rising profit_pct")
        total = sum((step.close_pct for step in steps), D(0))
        if total > 100:
            raise ValueError(f"partial_tp_steps must close at most 100% in all, got {total}%")
        return steps

    @field_validator("dca_legs", mode="after")
    @classmethod
    def _dca(cls, legs: tuple[DcaLeg, ...] | None) -> tuple[DcaLeg, ...] | None:
        if legs is None:
            return None
        if len(legs) > MAX_STEPS:
            raise ValueError(f"dca_legs takes at most {MAX_STEPS} legs, got {len(legs)}")
        if any(b.offset_pct <= a.offset_pct for a, b in pairwise(legs)):
            raise ValueError("dca_legs must be in order of rising offset_pct")
        return legs

    @field_validator("coin_group", "blacklist", mode="before")
    @classmethod
    def _coins(cls, value: object, info: ValidationInfo) -> object:
        if value is None:
            return None
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ValueError(f"{info.field_name} must be a list of coins such as BTC, got {value!r}")
        coins = set()
        for coin in value:
            if not isinstance(coin, str) or not _COIN.match(coin.strip().upper()):
                raise ValueError(f"{info.field_name} takes coins such as BTC or 1000PEPE, got {coin!r}")
            coins.add(coin.strip().upper())
        return tuple(sorted(coins))

    @field_validator("min_quality", mode="before")
    @classmethod
    def _grade(cls, value: object) -> object:
        if value is None:
            return None
        if not isinstance(value, str) or not _GRADE.match(value.strip().upper()):
            raise ValueError(f"min_quality must be a grade from A to F (optionally with + or -), got {value!r}")
        return value.strip().upper()

    @field_validator("auto_close_at", mode="before")
    @classmethod
    def _time_of_day(cls, value: object) -> object:
        if value is None:
            return None
        if isinstance(value, time) and value.tzinfo is None:
            return value.replace(second=0, microsecond=0)
        match = _TIME.match(value.strip()) if isinstance(value, str) else None
        if match and int(match[1]) < 24 and int(match[2]) < 60:
            return time(int(match[1]), int(match[2]))
        raise ValueError(f"auto_close_at must be a time of day from 00:00 to 23:59 (UTC), got {value!r}")

    @field_serializer("auto_close_at", when_used="json")
    def _hh_mm(self, value: time | None) -> str | None:
        return None if value is None else value.strftime("%H:%M")

    @field_validator("*", mode="after")
    @classmethod
    def _not_empty(cls, value: object, info: ValidationInfo) -> object:
        if value is None and not _nullable(str(info.field_name)):
            raise ValueError(f"{info.field_name} cannot be empty: leave it out to use the value of the level below")
        return value


class TradingSettings(SettingsPatch):
    """Complete, resolved settings: every field has a value. ``TradingSettings()`` is the default."""

    enabled: bool = False
    direction: Direction = Direction.BOTH
    risk_pct: Decimal = D(1)
    sl_pct: Decimal = D(3)
    tp_pct: Decimal | None = D(6)
    leverage: int = 5
    leverage_mode: LeverageMode = LeverageMode.SIGNAL
    order_type: EntryOrderType = EntryOrderType.MARKET
    limit_offset_pct: Decimal = D(0)
    entry_distribution: Distribution = DistributionKind.SIGNAL
    zone_legs: int = 3
    tp_distribution: Distribution = DistributionKind.SIGNAL
    partial_tp_steps: tuple[PartialTpStep, ...] = ()
    break_even_after_tp: int | None = None
    break_even_at_pct: Decimal | None = None
    break_even_offset_pct: Decimal = D(0)
    dca_legs: tuple[DcaLeg, ...] = ()
    dca_reprice_targets: bool = False
    trailing_type: TrailingType = TrailingType.NONE
    atr_period: int = 14
    atr_multiplier: Decimal = D("1.5")
    atr_trigger_pct: Decimal = D(0)
    max_open_positions: int = 5
    cooldown_minutes: int = 30
    coin_group: tuple[str, ...] = ()
    blacklist: tuple[str, ...] = ()
    min_quality: str | None = None
    daily_loss_limit_pct: Decimal | None = None
    auto_close_at: time | None = None
    max_hold_minutes: int | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.break_even_at_pct is not None and self.break_even_at_pct <= self.break_even_offset_pct:
            raise ValueError(
                f"break_even_at_pct ({self.break_even_at_pct}) must be above break_even_offset_pct "
                f"({self.break_even_offset_pct}): the stop would move to or past the price"
            )
        return self


DEFAULTS = TradingSettings()


def resolve(
    levels: Sequence[Mapping[str, Any] | SettingsPatch], defaults: TradingSettings = DEFAULTS
) -> TradingSettings:
    """Each field from the first level (most specific first) that sets it, else from ``defaults``.

    Raises ``SettingsError`` for an invalid value at any level, or for a combination of values
    from different levels that contradict each other.
    """
    patches = [level if isinstance(level, SettingsPatch) else SettingsPatch.parse(level) for level in levels]
    merged: dict[str, Any] = {}
    for name in TradingSettings.model_fields:
        source = next((patch for patch in patches if name in patch.model_fields_set), defaults)
        merged[name] = getattr(source, name)
    return TradingSettings.parse(merged)


def lookup_order(strategy: str, side: PositionSide, exchange: Exchange) -> tuple[SettingsKey, ...]:
    """The levels that apply to one trade, most specific first."""
    return (
        SettingsKey(SettingsScope.STRATEGY_SIDE, strategy=strategy, side=side),
        SettingsKey(SettingsScope.STRATEGY, strategy=strategy),
        SettingsKey(SettingsScope.EXCHANGE, exchange=exchange),
        SettingsKey(SettingsScope.GLOBAL),
    )


def resolve_for(
    stored: Iterable[UserSettings],
    *,
    strategy: str,
    side: PositionSide,
    exchange: Exchange,
    defaults: TradingSettings = DEFAULTS,
) -> TradingSettings:
    """Resolve one user's stored blocks for a trade of ``strategy`` on ``side`` at ``exchange``."""
    by_key = {block.key: block.values for block in stored}
    return resolve([by_key[key] for key in lookup_order(strategy, side, exchange) if key in by_key], defaults)


def _weight(name: str, index: int, value: object) -> Decimal:
    low, high = WEIGHT_RANGE
    try:
        weight = to_decimal(value, field=name)  # type: ignore[arg-type]
    except ValidationError:
        weight = D(-1)
    if not low <= weight <= high:
        raise ValueError(f"{name} weights must each be between {low} and {high}, got {value!r} at {index + 1}")
    return weight


def _nullable(name: str) -> bool:
    annotation = TradingSettings.model_fields[name].annotation
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def _problems(error: pydantic.ValidationError) -> list[tuple[str, str]]:
    problems = []
    for item in error.errors():
        loc = item["loc"]
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
        if item["type"] == "value_error":
            message = str(item["ctx"]["error"])
            leaf = str(loc[-1]) if loc else ""
            # Validators name the field they check; nested ones gain the path above them.
            if leaf and message.startswith(leaf) and path != leaf:
                message = path + message[len(leaf) :]
        elif item["type"] == "extra_forbidden":
            message = f"{path} is not a setting"
        elif item["type"] == "missing":
            message = f"{path} is required"
        else:
            message = f"{path}: {item['msg']}"
        problems.append((path.split(".")[0].split("[")[0], message))
    return problems
