"""Which handler answers what: button routes, confirmations, typed input and main-menu sections.

Each menu module registers its handlers here with the access they need; ``bot.app`` builds one registry
and the dispatchers (``bot.dispatch``) look handlers up in it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from elcaro.bot.callbacks import Callback, Pending, Route
from elcaro.bot.context import Access, Handler, Session
from elcaro.bot.keyboards import Section

CallbackHandler = Callable[[Session, Callback], Awaitable[None]]
ConfirmHandler = Callable[[Session, Pending], Awaitable[None]]
InputHandler = Callable[[Session, Mapping[str, Any]], Awaitable[None]]


@dataclass
class Registry:
    callbacks: dict[str, tuple[Access, CallbackHandler]] = field(default_factory=dict)
    confirms: dict[str, tuple[Access, ConfirmHandler]] = field(default_factory=dict)
    inputs: dict[str, tuple[Access, InputHandler]] = field(default_factory=dict)
    sections: dict[Section, tuple[Access, Handler]] = field(default_factory=dict)

    def on(self, route: Route, access: Access, handler: CallbackHandler) -> None:
        _add(self.callbacks, route.code, (access, handler))

    def on_confirm(self, action: str, access: Access, handler: ConfirmHandler) -> None:
        _add(self.confirms, action, (access, handler))

    def on_input(self, kind: str, access: Access, handler: InputHandler) -> None:
        _add(self.inputs, kind, (access, handler))

    def section(self, section: Section, access: Access, handler: Handler) -> None:
        _add(self.sections, section, (access, handler))


def _add(table: dict[Any, Any], key: object, value: object) -> None:
    if key in table:
        raise ValueError(f"{key} is registered twice")
    table[key] = value
