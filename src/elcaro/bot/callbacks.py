"""Callback data of inline buttons: compact, versioned, validated; and one-shot confirmations.

A button carries ``<version>|<route>|<arg>|…`` (Telegram allows 64 bytes). Every route declares the kind
of each argument, so data that was forged, truncated or written by an older version of the bot decodes to
``None`` and is answered as a button that no longer works, never acted on. Whether the thing a valid
button names still exists (a position already closed) is for its handler to check.

Confirmations (close all, a manual order, deleting a key, a live opt-in, admin actions) are kept here
under a random token bound to the chat: a token works once, within its lifetime, in its own chat. A
second press, a press after a restart or a copied token is stale and changes nothing.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

VERSION = "1"
SEPARATOR = "|"
MAX_BYTES = 64


class Arg(StrEnum):
    """Kinds of argument, each a pattern a value must match whole."""

    INT = r"0|[1-9][0-9]{0,14}"
    NAME = r"[a-z0-9][a-z0-9_.-]{0,31}"
    WORD = r"[a-z][a-z0-9_]{0,23}"
    TOKEN = r"[A-Za-z0-9_-]{12}"  # noqa: S105 - the pattern of a confirmation token, not a secret
    TARGET = r"[a-z]{3,12}:[a-z]{4,7}"
    REF = r"[0-9a-f]{12}"
    COIN = r"[A-Z0-9]{1,20}"
    CHAT = r"-?[1-9][0-9]{0,19}"


@dataclass(frozen=True, slots=True)
class Route:
    code: str
    args: tuple[Arg, ...] = ()

    def __call__(self, *args: object) -> str:
        """The callback data for this route with ``args``; ``ValueError`` for an argument of the wrong kind."""
        return encode(self, *args)


_ROUTES: dict[str, Route] = {}


def route(code: str, *args: Arg) -> Route:
    """Declare a route (once per code, at import)."""
    if code in _ROUTES or not re.fullmatch(r"[a-z]{1,3}", code):
        raise ValueError(f"route code {code!r} is taken or malformed")
    declared = _ROUTES[code] = Route(code, args)
    return declared


@dataclass(frozen=True, slots=True)
class Callback:
    route: Route
    args: tuple[str, ...]

    def int(self, index: int) -> int:
        return int(self.args[index])


def encode(target: Route, *args: object) -> str:
    values = [str(arg) for arg in args]
    if len(values) != len(target.args):
        raise ValueError(f"route {target.code} takes {len(target.args)} arguments, got {len(values)}")
    for kind, value in zip(target.args, values, strict=True):
        if not re.fullmatch(kind.value, value):
            raise ValueError(f"{value!r} is not a {kind.name} argument of route {target.code}")
    data = SEPARATOR.join((VERSION, target.code, *values))
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data {data!r} is longer than Telegram's {MAX_BYTES} bytes")
    return data


def fits(target: Route, *args: object) -> bool:
    """Whether a button of ``target`` can carry ``args`` (a long or unusual name cannot)."""
    try:
        encode(target, *args)
    except ValueError:
        return False
    return True


def decode(data: str | None) -> Callback | None:
    """The callback a button carries, or None for data this version of the bot did not write."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    version, _, rest = data.partition(SEPARATOR)
    if version != VERSION or not rest:
        return None
    code, *values = rest.split(SEPARATOR)
    found = _ROUTES.get(code)
    if found is None or len(values) != len(found.args):
        return None
    for kind, value in zip(found.args, values, strict=True):
        if not re.fullmatch(kind.value, value):
            return None
    return Callback(found, tuple(values))


@dataclass(frozen=True, slots=True)
class Pending:
    """A confirmation waiting for its button: what to do, for whom, and the details it needs."""

    action: str
    chat_id: int
    expires_at: float
    payload: Mapping[str, Any] = field(default_factory=dict)


class Confirmations:
    """One-shot confirmation tokens, bound to a chat, expiring after ``ttl`` seconds."""

    def __init__(self, *, ttl: float = 600.0, clock: Callable[[], float] = time.monotonic, limit: int = 10_000) -> None:
        self._ttl = ttl
        self._clock = clock
        self._limit = limit
        self._pending: dict[str, Pending] = {}

    def issue(self, action: str, chat_id: int, **payload: Any) -> str:
        self._forget_expired()
        if len(self._pending) >= self._limit:  # a flood of unanswered questions must not grow without bound
            oldest = min(self._pending, key=lambda token: self._pending[token].expires_at)
            del self._pending[oldest]
        token = secrets.token_urlsafe(9)  # 12 characters, 72 bits
        self._pending[token] = Pending(action, chat_id, self._clock() + self._ttl, payload)
        return token

    def take(self, token: str, chat_id: int, action: str | None = None) -> Pending | None:
        """The confirmation, removed so it cannot be used again; None when it is unknown, used, expired, or
        issued in another chat or for another action."""
        pending = self._pending.get(token)
        if pending is None or pending.chat_id != chat_id or (action is not None and pending.action != action):
            return None
        del self._pending[token]
        return pending if pending.expires_at > self._clock() else None

    def discard(self, token: str, chat_id: int) -> bool:
        pending = self._pending.get(token)
        if pending is None or pending.chat_id != chat_id:
            return False
        del self._pending[token]
        return True

    def _forget_expired(self) -> None:
        now = self._clock()
        for token in [token for token, pending in self._pending.items() if pending.expires_at <= now]:
            del self._pending[token]


class R:
    """Every route of the bot, in one place so codes never collide."""

    MENU = route("m", Arg.WORD)
    TERMS = route("ta")
    INPUT_CANCEL = route("ic")
    CONFIRM = route("ok", Arg.TOKEN)
    CONFIRM_CHOICE = route("oc", Arg.TOKEN, Arg.INT)
    DECLINE = route("no", Arg.TOKEN)
    PORTFOLIO = route("pf")
    POSITIONS = route("ps", Arg.INT)
    POSITION = route("pv", Arg.INT)
    CLOSE = route("pc", Arg.INT)
    MOVE_STOP = route("pm", Arg.INT)
    CLOSE_ALL = route("pa")
    ADOPT = route("pu", Arg.TARGET, Arg.COIN)
    ORDERS = route("ol")
    CANCEL_ORDER = route("ox", Arg.TARGET, Arg.REF)
    HISTORY = route("hl", Arg.INT)
    STATS = route("sp", Arg.WORD)
    STATS_STRATEGY = route("sq", Arg.WORD, Arg.NAME)
    STRATEGIES = route("sl")
    STRATEGY = route("sv", Arg.NAME)
    STRATEGY_TOGGLE = route("se", Arg.NAME)
    STRATEGY_DIRECTION = route("sd", Arg.NAME)
    STRATEGY_FIELD = route("sf", Arg.NAME, Arg.WORD)
    TARGETS = route("tl")
    TARGET_TOGGLE = route("tt", Arg.TARGET)
    KEYS = route("kl")
    KEY_EXCHANGE = route("kx", Arg.WORD)
    KEY_ADD = route("ka", Arg.TARGET)
    KEY_TEST = route("kt", Arg.INT)
    KEY_DELETE = route("kd", Arg.INT)
    LANGUAGE = route("lg", Arg.WORD)
    ADMIN = route("ad", Arg.WORD)
    ADMIN_USER = route("au", Arg.INT)
    APPROVE = route("aa", Arg.INT)
    BAN = route("ab", Arg.INT)
    UNBAN = route("an", Arg.INT)
    PAUSE_USER = route("ap", Arg.INT)
    SIGNAL = route("as", Arg.INT)
    CLOSE_STRATEGY = route("ax", Arg.NAME)
    GLOBAL_PAUSE = route("ag")
    BROADCAST = route("bc", Arg.WORD)
    CHANNEL_TOGGLE = route("cn", Arg.CHAT)
    CHANNEL_DELETE = route("cd", Arg.CHAT)
    SUBSCRIPTION = route("sb", Arg.WORD)
    PLAN = route("sn", Arg.WORD, Arg.INT)
    STARS = route("sx", Arg.WORD, Arg.INT)
    GRANT_MENU = route("gc", Arg.INT)
    GRANT = route("gl", Arg.INT, Arg.WORD, Arg.INT)
    WALLET = route("wl", Arg.WORD)
