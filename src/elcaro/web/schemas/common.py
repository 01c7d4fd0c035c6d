"""Shared pieces of the API's bodies."""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from elcaro.models import Target

MAX_ID = 2**63 - 1
"""The database's integer range: an id beyond it names nothing, and must be refused before it reaches a driver."""
MAX_EPOCH_MS = 253_402_300_799_999
"""9999-12-31 23:59:59.999 UTC: the last moment a date field can name."""

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
EpochMs = Annotated[int, Field(ge=0, le=MAX_EPOCH_MS, description="Epoch milliseconds, UTC.")]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


class Body(BaseModel):
    """A request body: unknown fields are refused, so a typo is an error and not silently ignored; so is text
    no database can store (see :func:`unstorable_text`), naming its field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if unstorable_text(value):
            raise ValueError(UNSTORABLE)
        return value


UNSTORABLE = "text may not hold NUL characters or unpaired surrogates"


def unstorable_text(value: object) -> bool:
    """Whether ``value`` holds text no database stores — a NUL character (PostgreSQL refuses it) or an unpaired
    surrogate (not UTF-8 at all) — in a string, an object key, or anywhere inside lists and objects."""
    if isinstance(value, str):
        return "\x00" in value or not _utf8(value)
    if isinstance(value, dict):
        return any(unstorable_text(key) or unstorable_text(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(unstorable_text(item) for item in value)
    return False


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class ErrorDetail(Model):
    code: str = Field(description="Stable, for programs: `invalid`, `not_found`, `forbidden`, `not_configured`, ...")
    message: str = Field(description="For people: what went wrong and, for a refused value, the allowed range.")
    field: str | None = Field(None, description="The request field that was refused, when one was.")
    params: dict[str, Any] | None = None
    problems: list[dict[str, str]] | None = Field(None, description="Every refused field of an invalid request.")
    exchange: str | None = Field(None, description="The venue that failed or refused.")


class ErrorOut(Model):
    """Every error answer has this one shape."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for error answers a route gives on purpose (see :mod:`elcaro.web.errors`)."""
    return {status: {"model": ErrorOut, "description": _ERROR_MEANINGS[status]} for status in statuses}


_ERROR_MEANINGS = {
    502: "The exchange or payment provider failed or could not be reached.",
    503: "This platform is not set up for it (`not_configured`): a setting names what is missing.",
}


class Done(Model):
    ok: bool = True
    count: int | None = None


def finite(value: float) -> float | None:
    """A float figure as JSON allows it: NaN and infinities become null."""
    return value if math.isfinite(value) else None


def plain(value: object) -> object:
    """A domain value as JSON-ready data: dataclasses as objects, decimals and targets as strings, enums by value."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Decimal | Target):
        value = str(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    elif isinstance(value, dict):
        value = {str(key): plain(item) for key, item in value.items()}
    elif isinstance(value, list | tuple | set | frozenset):
        value = [plain(item) for item in value]
    elif isinstance(value, float) and not math.isfinite(value):
        value = None
    return value
