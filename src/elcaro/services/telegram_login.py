"""Proof that Telegram vouches for a person: Mini App ``initData`` and the Login Widget, checked as Telegram specifies.

Both carry fields signed with the bot's token; a check builds the *data-check-string* — every field but
``hash``, sorted by name, as ``key=value`` lines joined by ``\\n`` — and compares the hex HMAC-SHA-256 of
it with ``hash`` in constant time. They differ only in the HMAC key:

- **Mini App** (``Telegram.WebApp.initData``, a URL query string): ``HMAC-SHA-256(key="WebAppData",
  msg=bot_token)``; the ``user`` field is a JSON object.
- **Login Widget** (the fields the widget hands the page): ``SHA-256(bot_token)``; the person's fields
  are top-level (``id``, ``first_name``, ``username``, ...).

``auth_date`` (Unix seconds) older than the allowed age is refused, so a captured payload cannot be
replayed for ever; one dated in the future beyond a small clock skew is refused too. Every refusal is a
:class:`TelegramLoginError` whose message says what was wrong and never echoes the payload.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl

from elcaro.models import TelegramProfile
from elcaro.models.errors import PermissionDeniedError, ValidationError

MAX_PAYLOAD_CHARS = 4096
"""initData is a few hundred characters; anything far larger is not from Telegram."""
CLOCK_SKEW_S = 60
"""How far in the future an ``auth_date`` may be (the two clocks are never exactly together)."""
_HASH = re.compile(r"[0-9a-fA-F]{64}")
_DIGITS = re.compile(r"[0-9]{1,20}")


class LoginMethod(StrEnum):
    MINI_APP = "mini_app"
    LOGIN_WIDGET = "login_widget"


class TelegramLoginError(PermissionDeniedError):
    """The payload is not a valid, fresh Telegram login (forged, altered, malformed or too old)."""


@dataclass(frozen=True, slots=True)
class TelegramLogin:
    """A person Telegram vouched for, and when it did (Unix seconds)."""

    profile: TelegramProfile
    auth_date: int
    method: LoginMethod


def mini_app_secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def login_widget_secret(bot_token: str) -> bytes:
    return hashlib.sha256(bot_token.encode()).digest()


def bot_id(bot_token: str) -> int | None:
    """The bot's numeric id: the part of its token before the colon (public: Telegram's login page asks for it)."""
    head, colon, _ = bot_token.partition(":")
    return int(head) if colon and _DIGITS.fullmatch(head) else None


def data_check_string(fields: Mapping[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign(fields: Mapping[str, str], secret: bytes) -> str:
    """The ``hash`` Telegram would send with ``fields`` (also how tests make genuine payloads)."""
    # Text Telegram sends is valid UTF-8; a lone surrogate from a forged JSON body is hashed as it is (and
    # so never matches) instead of failing to encode.
    message = data_check_string(fields).encode("utf-8", "surrogatepass")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify_mini_app(init_data: str, bot_token: str, *, max_age_s: int, now_s: int) -> TelegramLogin:
    """Check ``Telegram.WebApp.initData`` as received (the raw query string)."""
    fields = _query_fields(init_data)
    _check(fields, mini_app_secret(bot_token), max_age_s=max_age_s, now_s=now_s)
    try:
        user = json.loads(fields.get("user", ""))
    except ValueError:
        raise TelegramLoginError("initData has no readable user") from None
    if not isinstance(user, dict):
        raise TelegramLoginError("initData has no readable user")
    return TelegramLogin(_profile(user), int(fields["auth_date"]), LoginMethod.MINI_APP)


def verify_login_widget(fields: Mapping[str, object], bot_token: str, *, max_age_s: int, now_s: int) -> TelegramLogin:
    """Check the fields the Login Widget gave the page (``id``, ``first_name``, ..., ``auth_date``, ``hash``)."""
    if len(fields) > 16 or any(not isinstance(key, str) for key in fields):
        raise TelegramLoginError("not a Telegram login")
    # The widget's values are strings or numbers; Telegram signs their text form.
    text = {key: _text(value) for key, value in fields.items() if value is not None}
    _check(text, login_widget_secret(bot_token), max_age_s=max_age_s, now_s=now_s)
    return TelegramLogin(_profile(text), int(text["auth_date"]), LoginMethod.LOGIN_WIDGET)


def _text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TelegramLoginError("not a Telegram login")
    return str(value)


def _query_fields(init_data: str) -> dict[str, str]:
    if not init_data or len(init_data) > MAX_PAYLOAD_CHARS:
        raise TelegramLoginError("not a Telegram initData string")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True, max_num_fields=32)
    except ValueError:
        raise TelegramLoginError("not a Telegram initData string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):  # a repeated field could be read one way and checked another
        raise TelegramLoginError("initData repeats a field")
    return fields


def _check(fields: Mapping[str, str], secret: bytes, *, max_age_s: int, now_s: int) -> None:
    given = fields.get("hash", "")
    if not _HASH.fullmatch(given):
        raise TelegramLoginError("the login is not signed by Telegram")
    expected = sign(fields, secret)
    if not hmac.compare_digest(expected.encode(), given.lower().encode()):
        raise TelegramLoginError("the login is not signed by Telegram for this bot")
    auth_date = fields.get("auth_date", "")
    if not _DIGITS.fullmatch(auth_date):
        raise TelegramLoginError("the login carries no auth_date")
    age = now_s - int(auth_date)
    if age > max_age_s:
        raise TelegramLoginError(f"the login is {age} s old (at most {max_age_s} s): open the app again")
    if age < -CLOCK_SKEW_S:
        raise TelegramLoginError("the login is dated in the future: check this machine's clock")


def _profile(user: Mapping[str, object]) -> TelegramProfile:
    telegram_id = user.get("id")
    if isinstance(telegram_id, str) and _DIGITS.fullmatch(telegram_id):
        telegram_id = int(telegram_id)
    if not isinstance(telegram_id, int) or isinstance(telegram_id, bool):
        raise TelegramLoginError("the login names no Telegram user")

    def text(name: str) -> str | None:
        value = user.get(name)
        return value[:64] if isinstance(value, str) and value else None

    try:
        return TelegramProfile(
            telegram_id=telegram_id,
            username=text("username"),
            first_name=text("first_name"),
            last_name=text("last_name"),
            language_code=text("language_code"),
        )
    except ValidationError:
        raise TelegramLoginError("the login names no Telegram user") from None
