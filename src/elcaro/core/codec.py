"""Dataclasses to JSON-ready values and back, exactly: Decimals travel as strings, so ``0.10`` stays ``0.10``.

Driven by the type hints of the dataclasses, so the engine's records and the shared models need no
hand-written serialisers and a field added to either is carried without further code.
"""

from __future__ import annotations

import dataclasses
import types
from collections import deque
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

from elcaro.models import Target
from elcaro.models.errors import ValidationError


def encode(value: Any) -> Any:
    if isinstance(value, Decimal | Target):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple | deque):
        return [encode(item) for item in value]
    return value


def decode(hint: Any, data: Any) -> Any:
    """Rebuild a value of type ``hint`` from what ``encode`` produced; ValidationError on anything else."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return _decode_union(get_args(hint), data)
    if origin is list:
        (item,) = get_args(hint)
        return [decode(item, element) for element in _expect(list, data)]
    if origin is tuple:
        item = get_args(hint)[0]
        return tuple(decode(item, element) for element in _expect(list, data))
    if origin is dict:
        key, item = get_args(hint)
        return {decode(key, k): decode(item, v) for k, v in _expect(dict, data).items()}
    return _decode_plain(hint, data)


def _decode_union(options: tuple[Any, ...], data: Any) -> Any:
    if data is None and type(None) in options:
        return None
    (hint,) = (option for option in options if option is not type(None))
    return decode(hint, data)


def _decode_plain(hint: Any, data: Any) -> Any:
    if hint is Decimal:
        try:
            return Decimal(_expect(str, data))
        except InvalidOperation:
            raise ValidationError(f"not a number: {data!r}", field="snapshot") from None
    if hint is Target:
        return Target.parse(_expect(str, data))
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(data)
        except ValueError:
            raise ValidationError(f"{data!r} is not a {hint.__name__}", field="snapshot") from None
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        hints = get_type_hints(hint)
        fields = _expect(dict, data)
        try:
            return hint(**{f.name: decode(hints[f.name], fields[f.name]) for f in dataclasses.fields(hint) if f.init})
        except KeyError as missing:
            raise ValidationError(f"{hint.__name__} lacks {missing}", field="snapshot") from None
    if hint in (int, str, bool):
        return _expect(hint, data)
    raise ValidationError(f"cannot decode a {hint!r}", field="snapshot")


def _expect(kind: type, data: Any) -> Any:
    # bool is an int in Python; a snapshot that swaps them is broken, not equivalent.
    if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
        raise ValidationError(f"expected {kind.__name__}, got {data!r}", field="snapshot")
    return data
