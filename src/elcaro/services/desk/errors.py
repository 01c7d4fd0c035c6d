"""Refusals of the trading desk, each with a stable code an interface translates and the figures it quotes."""

from __future__ import annotations

from collections.abc import Mapping

from elcaro.models.errors import ValidationError


class DeskError(ValidationError):
    """A request the desk refuses. ``code`` is stable (``manual.qty_min``, ``position.closed``, ...);
    ``params`` are the figures of the reason as exact strings; the message is the English fallback."""

    def __init__(self, code: str, message: str, *, field: str | None = None, **params: str) -> None:
        super().__init__(message, field=field)
        self.code = code
        self.params: Mapping[str, str] = params
