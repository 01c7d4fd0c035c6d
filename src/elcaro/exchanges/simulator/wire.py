"""Bybit v5's wire format: the envelope, numbers as strings, its refusals, paging, and reading request parameters."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

from aiohttp import web

from elcaro.exchanges.simulator import codes
from elcaro.models.errors import ElcaroError

T = TypeVar("T")
CATEGORY: Final = "linear"
SETTLE: Final = "USDT"


class BybitError(Exception):
    """A refusal as Bybit words it: ``retCode`` and ``retMsg``, with ``result`` where Bybit fills one in."""

    def __init__(self, code: int, message: str, *, result: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.result = dict(result or {})


@contextmanager
def refusals(overrides: Mapping[type[ElcaroError], int] | None = None) -> Iterator[None]:
    """The engine's refusals as Bybit's: ``overrides`` gives the retCode of an error class where the endpoint has a
    code of its own (insufficient margin for a leverage change is 110044), the rest are ``codes.code_of``'s."""
    try:
        yield
    except ElcaroError as exc:
        code = next((code for kind, code in (overrides or {}).items() if isinstance(exc, kind)), codes.code_of(exc))
        raise BybitError(code, str(exc)) from None


def now_ms() -> int:
    """Wall-clock time, which signatures and the envelope use whatever clock the engine runs on."""
    return time.time_ns() // 1_000_000


def envelope(result: Mapping[str, Any] | None = None, *, code: int = 0, message: str = "OK") -> dict[str, Any]:
    return {"retCode": code, "retMsg": message, "result": dict(result or {}), "retExtInfo": {}, "time": now_ms()}


def answer(
    result: Mapping[str, Any] | None = None, *, code: int = 0, message: str = "OK", status: int = 200
) -> web.Response:
    return web.json_response(envelope(result, code=code, message=message), status=status, dumps=dumps)


def dumps(value: Any) -> str:
    """Compact JSON, as Bybit sends it."""
    return json.dumps(value, separators=(",", ":"))


def num(value: Decimal | None) -> str:
    """Bybit writes numbers as plain decimal strings (``"0.001"``, never ``"1E-3"``); an absent one as ``""``."""
    if value is None:
        return ""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def on_step(value: Decimal | None, step: Decimal) -> str:
    """A price or size with as many decimals as the instrument's tick or step (``"30000.10"``), as Bybit shows it."""
    if value is None:
        return ""
    exponent = step.as_tuple().exponent
    digits = max(-exponent, 0) if isinstance(exponent, int) else 0
    fine = num(value)
    return format(value, f".{digits}f") if len(fine.partition(".")[2]) <= digits else fine


def page(rows: Sequence[T], params: Mapping[str, str], *, default: int, maximum: int) -> tuple[list[T], str]:
    """Bybit's cursor paging; the cursor is the offset of the next page (opaque to clients, as Bybit's is)."""
    limit = integer(params, "limit", default)
    if not 1 <= limit <= maximum:
        raise BybitError(codes.PARAMS, f"limit must be between 1 and {maximum}")
    cursor = params.get("cursor") or "0"
    if not cursor.isdigit():
        raise BybitError(codes.PARAMS, "cursor invalid")
    start = int(cursor)
    chunk = list(rows[start : start + limit])
    return chunk, str(start + limit) if start + limit < len(rows) else ""


def listing(rows: list[Any], cursor: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"category": CATEGORY, "list": rows}
    if cursor is not None:
        result["nextPageCursor"] = cursor
    return result


# ------------------------------------------------------------------------------------------------ parameters


def text(params: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    return str(value)


def required(params: Mapping[str, Any], name: str) -> str:
    value = text(params, name)
    if value is None:
        raise BybitError(codes.PARAMS, f"params error: {name} is required")
    return value


def decimal(params: Mapping[str, Any], name: str) -> Decimal | None:
    """A number sent as a string (as ccxt does) or a JSON number; absent or empty is None."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BybitError(codes.PARAMS, f"params error: {name} invalid")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise BybitError(codes.PARAMS, f"params error: {name} invalid") from None
    if not result.is_finite() or result < 0:
        raise BybitError(codes.PARAMS, f"params error: {name} invalid")
    return result


def integer(params: Mapping[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise BybitError(codes.PARAMS, f"params error: {name} invalid")
    try:
        return int(str(value))
    except ValueError:
        raise BybitError(codes.PARAMS, f"params error: {name} invalid") from None


def flag(params: Mapping[str, Any], name: str) -> bool:
    """Bybit takes JSON booleans; ccxt sends them as such, some clients as strings."""
    value = params.get(name)
    if isinstance(value, bool):
        return value
    if value is None or value == "":
        return False
    if str(value).lower() in ("true", "1"):
        return True
    if str(value).lower() in ("false", "0"):
        return False
    raise BybitError(codes.PARAMS, f"params error: {name} invalid")


CATEGORIES: Final = frozenset({"spot", "linear", "inverse", "option"})


def category(params: Mapping[str, Any]) -> bool:
    """Whether a query asks about USDT perpetuals (``linear``), the only category the simulator lists. Another of
    Bybit's categories is valid and simply empty here, as it is for an account that never traded it."""
    value = text(params, "category")
    if value is None:
        raise BybitError(codes.PARAMS, "params error: category is required")
    if value not in CATEGORIES:
        raise BybitError(codes.PARAMS, f"params error: category {value} invalid")
    return value == CATEGORY


def linear(params: Mapping[str, Any]) -> None:
    """For requests that act: only USDT perpetuals are traded here."""
    if not category(params):
        raise BybitError(codes.PARAMS, f"params error: category {params.get('category')} is not served (linear only)")


WEEK_MS: Final = 7 * 86_400_000


def window(params: Mapping[str, Any], now: int) -> tuple[int, int]:
    """Bybit's time window of a history query: at most 7 days; the last 7 without bounds, 7 from one bound."""
    begin = integer(params, "startTime", -1) if text(params, "startTime") else None
    finish = integer(params, "endTime", -1) if text(params, "endTime") else None
    if begin is None:
        finish = now if finish is None else finish
        return finish - WEEK_MS, finish
    if finish is None:
        return begin, begin + WEEK_MS
    if not 0 <= finish - begin <= WEEK_MS:
        raise BybitError(codes.PARAMS, "params error: the time range must be within 7 days")
    return begin, finish
