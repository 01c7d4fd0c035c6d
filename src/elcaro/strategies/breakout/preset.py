"""Breakout presets: one validated TOML file holds every threshold the strategy uses.

A preset file has three top-level keys and six tables::

    name = "liquid"
    description = "Breakouts on the most liquid perpetuals"   # optional
    timeframe = "5m"                                          # one of elcaro.models.TIMEFRAMES

    [scanner]      # ScannerSettings   (elcaro.strategies.breakout.scanner)
    [scanner.weights]
    [activity]     # ActivitySettings  (elcaro.strategies.breakout.activity)
    [levels]       # LevelSettings     (elcaro.strategies.breakout.levels)
    [signals]      # SignalSettings    (elcaro.strategies.breakout.signals)
    [risk]         # RiskSettings      (elcaro.strategies.breakout.risk)
    [management]   # ManagementSettings (elcaro.strategies.breakout.exits)

Each section's module docstring lists its fields with their meaning and allowed range. Every field
is required (a preset states all its thresholds; nothing is filled in behind the reader's back), an
unknown key is an error, and so is a value of the wrong type or outside its range. Errors are a
:class:`PresetError` (a ``ValidationError``) whose ``field`` is the dotted path, e.g.
``signals.tp2_r``, and whose message gives the reason and the allowed range.

Shipped presets live in ``presets/*.toml`` inside this package: ``liquid``, ``conservative``,
``retest``, ``scalping`` and ``swing``. :func:`load_preset` takes one of those names or a path.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import annotated_types
import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator

from elcaro.models.errors import NotFoundError, ValidationError
from elcaro.models.timeframe import TIMEFRAMES, Timeframe
from elcaro.strategies.breakout.activity import ActivitySettings
from elcaro.strategies.breakout.exits import ManagementSettings
from elcaro.strategies.breakout.levels import LevelSettings
from elcaro.strategies.breakout.risk import RiskSettings
from elcaro.strategies.breakout.scanner import ScannerSettings
from elcaro.strategies.breakout.signals import SignalSettings

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_LEADING_FIELD = re.compile(r"^([a-z_][a-z0-9_]*) (.+)$", re.DOTALL)


class BreakoutPreset(BaseModel):
    """Every threshold of the breakout strategy, by section."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(min_length=1, max_length=64)
    description: str = ""
    timeframe: str
    """Candle timeframe the strategy reads (the backtester resamples recorded candles to it)."""
    scanner: ScannerSettings
    activity: ActivitySettings
    levels: LevelSettings
    signals: SignalSettings
    risk: RiskSettings
    management: ManagementSettings

    @field_validator("timeframe")
    @classmethod
    def _known_timeframe(cls, value: str) -> str:
        if value not in TIMEFRAMES:
            raise ValueError(f"must be one of {', '.join(TIMEFRAMES)}, got {value!r}")
        return value

    @property
    def timeframe_ms(self) -> int:
        return Timeframe.parse(self.timeframe).ms

    @property
    def warmup_bars(self) -> int:
        """Bars of history the strategy needs before its first signal (levels, signals and exits)."""
        return max(self.levels.warmup_bars, self.signals.warmup_bars, self.management.atr_period + 1)

    def with_values(self, overrides: Mapping[str, Any]) -> BreakoutPreset:
        """A copy with dotted fields replaced (``{"levels.lookback": 400}``), validated like a file.

        This is how a parameter grid varies a preset: an unknown path or a bad value is a
        :class:`PresetError` naming it.
        """
        data = self.model_dump()
        for path, value in overrides.items():
            *parents, leaf = path.split(".")
            node: Any = data
            for depth, part in enumerate(parents):
                node = node.get(part) if isinstance(node, dict) else None
                if not isinstance(node, dict):
                    raise PresetError([(".".join(parents[: depth + 1]), "is not a section of the preset")])
            node[leaf] = value
        return parse_preset(data)


class PresetError(ValidationError):
    """A preset that cannot be used; ``problems`` lists every ``(dotted field, reason)`` found."""

    def __init__(self, problems: list[tuple[str, str]], *, source: str | None = None) -> None:
        field, reason = problems[0]
        if len(problems) > 1:
            others = "; ".join(f"{path}: {text}" for path, text in problems[1:])
            reason = f"{reason} (also {others})"
        if source:
            reason = f"{reason} [in {source}]"
        super().__init__(reason, field=field)
        self.problems = tuple(problems)
        self.source = source


def parse_preset(data: Mapping[str, Any], *, source: str | None = None) -> BreakoutPreset:
    """Validate a preset already read into a mapping (a parsed TOML document)."""
    try:
        return BreakoutPreset.model_validate(dict(data))
    except pydantic.ValidationError as error:
        raise PresetError(_problems(error), source=source) from None


def load_preset(name_or_path: str | os.PathLike[str]) -> BreakoutPreset:
    """A shipped preset by name (``"liquid"``) or a preset file by path."""
    path: Path | resources.abc.Traversable
    if isinstance(name_or_path, os.PathLike) or "/" in name_or_path or name_or_path.endswith(".toml"):
        path = Path(name_or_path)
        if not path.is_file():
            raise NotFoundError(f"no preset file at {path}")
    else:
        if not _NAME.match(name_or_path) or name_or_path not in list_presets():
            raise NotFoundError(f"no preset named {name_or_path!r}; shipped presets: {', '.join(list_presets())}")
        path = _presets_dir() / f"{name_or_path}.toml"
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(f"not valid TOML: {error}", field=str(path)) from None
    return parse_preset(data, source=str(path))


def list_presets() -> list[str]:
    """Names of the shipped presets, sorted."""
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in _presets_dir().iterdir()
        if entry.is_file() and entry.name.endswith(".toml")
    )


def _presets_dir() -> resources.abc.Traversable:
    return resources.files("elcaro.strategies.breakout") / "presets"


# -- turning pydantic's errors into (dotted field, reason) a trader can act on ------------------

_TYPE_WORDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "string": "a string",
    "str": "a string",
    "model": "a table",
    "dict": "a table",
    "tuple": "a list",
    "list": "a list",
}


def _problems(error: pydantic.ValidationError) -> list[tuple[str, str]]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        kind = item["type"]
        given = item.get("input")
        if kind == "value_error":
            loc, reason = _split_leading_field(loc, str(item["ctx"]["error"]))
        elif kind == "extra_forbidden":
            allowed = sorted(_fields_at(loc[:-1]))
            reason = f"is not a setting here (allowed: {', '.join(allowed)})" if allowed else "is not a setting"
        elif kind == "missing":
            reason = "is required"
        elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            reason = f"must be {_range_text(loc, item.get('ctx', {}))}, got {given!r}"
        elif kind == "literal_error":
            reason = f"must be {item['ctx']['expected']}, got {given!r}"
        elif kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
            reason = f"{item['msg'][0].lower()}{item['msg'][1:]}, got {given!r}"
        else:
            word = next((text for prefix, text in _TYPE_WORDS.items() if kind.startswith(prefix)), None)
            reason = f"must be {word}, got {given!r}" if word else f"{item['msg']}, got {given!r}"
        problems.append((_dotted(loc), reason))
    return problems


def _dotted(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".") or "preset"


def _split_leading_field(loc: tuple[Any, ...], message: str) -> tuple[tuple[Any, ...], str]:
    """A model-level check names the field it is about first (``"tp2_r must be above …"``): move it into the path."""
    match = _LEADING_FIELD.match(message)
    if match and match.group(1) in _fields_at(loc):
        return (*loc, match.group(1)), match.group(2)
    return loc, message


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = BreakoutPreset
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _fields_at(loc: tuple[Any, ...]) -> set[str]:
    model = _model_at(loc)
    return set(model.model_fields) if model is not None else set()


def _range_text(loc: tuple[Any, ...], ctx: Mapping[str, Any]) -> str:
    """``between 20 and 10000`` (inclusive), ``above 0 and at most 10``, ``at least 0`` … as the field declares."""
    model = _model_at(loc[:-1])
    field = model.model_fields.get(str(loc[-1])) if model is not None else None
    bounds: dict[str, Any] = dict(ctx)
    for constraint in field.metadata if field is not None else ():
        for name in ("gt", "ge", "lt", "le"):
            if isinstance(constraint, getattr(annotated_types, name.capitalize())):
                bounds[name] = getattr(constraint, name)
    low = f"at least {bounds['ge']}" if "ge" in bounds else f"above {bounds['gt']}" if "gt" in bounds else None
    high = f"at most {bounds['le']}" if "le" in bounds else f"below {bounds['lt']}" if "lt" in bounds else None
    if "ge" in bounds and "le" in bounds:
        return f"between {bounds['ge']} and {bounds['le']}"
    return " and ".join(part for part in (low, high) if part)
