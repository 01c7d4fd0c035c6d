"""A string that never shows itself by accident."""

from __future__ import annotations

import hmac
from typing import Final

_MASK: Final = "***"


class Secret:
    """Holds an API secret, key or private key in memory.

    ``str()``, ``repr()`` and f-strings print ``***``; only ``reveal()`` gives the value, so a secret
    reaches a log or a message only through code that asked for it by name.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> str:
        raise TypeError("a Secret is not picklable")
