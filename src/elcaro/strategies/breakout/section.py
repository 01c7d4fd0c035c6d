"""The base of the breakout preset's sections: strict, frozen, closed to unknown keys.

Each section of a preset (``[levels]``, ``[signals]``, ``[risk]``, ``[management]``) is a model
deriving from :class:`Section`, defined next to the code that reads it. Validation is *strict*: a
preset file is typed TOML, so ``lookback = "300"`` or ``tp1_r = true`` is a mistake to report, not
a value to coerce (an integer is still accepted where a float is expected). NaN and infinity are
refused. Ranges are declared with ``Field(ge=…, le=…)`` so that :mod:`preset` can quote them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A preset section: every field is required, typed strictly and range-checked."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def must_exceed(name: str, value: float, other_name: str, other: float | None) -> None:
    """Refuse ``value`` unless it is above ``other``; the message starts with ``name`` (preset errors rely on it)."""
    if other is not None and value <= other:
        raise ValueError(f"{name} must be above {other_name} ({other}), got {value}")
