"""Exchanges & API keys: add, test and delete keys per exchange and environment.

The message holding a key is deleted the moment it is read, before anything else is done with it; keys
are registered with the log scrubber at once, and a key is never shown back (only its last four
characters, as the credential service keeps them).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from telegram.error import BadRequest

from elcaro.bot.callbacks import Callback, Pending, R
from elcaro.bot.context import Access, Session
from elcaro.bot.i18n import Markup
from elcaro.bot.keyboards import Section, button, confirm_row, inline
from elcaro.bot.registry import Registry
from elcaro.bot.render import reason_label, target_label
from elcaro.core.logging import register_secret
from elcaro.models import SUPPORTED_ENVIRONMENTS, Environment, Exchange, ExchangeKeys, Secret, Target
from elcaro.models.errors import AuthenticationError, ElcaroError, ExchangeError, ValidationError
from elcaro.services.desk import DeskError

log = logging.getLogger(__name__)

_ADDRESS_LENGTH = 42


def register(registry: Registry) -> None:
    registry.section(Section.EXCHANGES, Access.TRADER, show)
    registry.on(R.KEYS, Access.TRADER, refresh)
    registry.on(R.KEY_EXCHANGE, Access.TRADER, choose_environment)
    registry.on(R.KEY_ADD, Access.TRADER, ask_keys)
    registry.on(R.KEY_TEST, Access.TRADER, test)
    registry.on(R.KEY_DELETE, Access.TRADER, ask_delete)
    registry.on_confirm("key_delete", Access.TRADER, delete)
    registry.on_input("keys", Access.TRADER, take_keys)


async def show(session: Session) -> None:
    keys = await session.svc.desk.keys(session.me.id)
    fmt = session.fmt
    lines = [
        session.t(
            "keys.line",
            target=target_label(session.lang, info.target),
            hint=info.key_hint or "—",
            verified=fmt.datetime(info.last_verified_at) if info.last_verified_at else session.t("keys.never"),
        )
        for info in keys
    ]
    rows = [
        [
            button(session.t("keys.test", target=target_label(session.lang, info.target)), R.KEY_TEST(info.id)),
            button(session.t("keys.delete"), R.KEY_DELETE(info.id)),
        ]
        for info in keys
    ]
    rows.append([button(session.t("keys.add"), R.KEY_EXCHANGE("choose"))])
    text = session.t("keys.title", lines=Markup("\n".join(lines))) if keys else session.t("keys.none")
    await session.show(text, inline(rows))


async def refresh(session: Session, callback: Callback) -> None:
    await show(session)


async def choose_environment(session: Session, callback: Callback) -> None:
    choice = callback.args[0]
    if choice not in Exchange._value2member_map_:
        rows = [
            [button(session.t(f"exchange.{exchange.value}"), R.KEY_EXCHANGE(exchange.value))] for exchange in Exchange
        ]
        rows.append([button(session.t("common.back"), R.KEYS())])
        await session.show(session.t("keys.choose_exchange"), inline(rows))
        return
    exchange = Exchange(choice)
    environments = [
        env for env in Environment if env in SUPPORTED_ENVIRONMENTS[exchange] and env is not Environment.PAPER
    ]
    rows = [
        [button(target_label(session.lang, Target(exchange, env)), R.KEY_ADD(str(Target(exchange, env))))]
        for env in environments
    ]
    rows.append([button(session.t("common.back"), R.KEY_EXCHANGE("choose"))])
    await session.show(session.t("keys.choose_environment"), inline(rows))


async def ask_keys(session: Session, callback: Callback) -> None:
    target = Target.parse(callback.args[0])
    if not target.needs_credentials:
        await session.notify("common.stale", alert=True)
        return
    session.expect("keys", target=str(target))
    text = session.t(
        "keys.ask", target=target_label(session.lang, target), shape=session.t(f"keys.shape.{target.exchange.value}")
    )
    await session.show(text, inline([[button(session.t("common.cancel"), R.INPUT_CANCEL())]]))


async def take_keys(session: Session, expected: Mapping[str, Any]) -> None:
    """Delete the message first, then read it; the keys are never repeated back."""
    message = session.update.effective_message
    typed = session.text
    for token in typed.split():
        register_secret(token)
    if message is not None:
        try:
            await message.delete()
        except BadRequest as error:
            log.warning("a message holding API keys could not be deleted: %s", error.message)
            await session.send(session.t("keys.delete_it_yourself"))
    target = Target.parse(str(expected["target"]))
    try:
        keys = _read_keys(target, typed)
        info = await session.svc.desk.save_keys(session.me.id, target, keys)
    except ValidationError as error:
        if isinstance(error, DeskError):
            raise
        key = f"keys.invalid.{error.field}" if error.field in _FIELDS else "keys.invalid.format"
        await session.send(session.t(key, shape=session.t(f"keys.shape.{target.exchange.value}")))
        return
    session.clear_expected()
    await session.send(session.t("keys.saved", target=target_label(session.lang, target), hint=info.key_hint or "—"))
    await _verify(session, info.id)


_FIELDS = ("api_key", "api_secret", "private_key", "wallet_address")
_SECRET_LIKE = 16


def looks_like_keys(text: str) -> bool:
    """Whether a message no one asked for holds something shaped like an API key or a private key."""
    return any(
        len(token) >= _SECRET_LIKE
        and token.isalnum()
        and any(c.isdigit() for c in token)
        and any(c.isalpha() for c in token)
        for token in text.removeprefix("0x").split()
    )


async def delete_stray_keys(session: Session) -> None:
    """Keys sent when none were asked for: deleted all the same, never read, and the user told how to add keys."""
    for token in session.text.split():
        register_secret(token)
    message = session.update.effective_message
    if message is not None:
        try:
            await message.delete()
        except BadRequest as error:
            log.warning("a message that looked like API keys could not be deleted: %s", error.message)
            await session.send(session.t("keys.delete_it_yourself"))
            return
    await session.send(session.t("keys.stray"))


def _read_keys(target: Target, text: str) -> ExchangeKeys:
    tokens = text.split()
    if len(tokens) != 2:
        raise ValidationError("send the two parts separated by a space or a new line", field="format")
    if target.exchange is Exchange.HYPERLIQUID:
        address = next((t for t in tokens if t.lower().startswith("0x") and len(t) == _ADDRESS_LENGTH), None)
        private = next((t for t in tokens if t is not address), tokens[0])
        return ExchangeKeys(private_key=Secret(private), wallet_address=address or tokens[1])
    return ExchangeKeys(api_key=Secret(tokens[0]), api_secret=Secret(tokens[1]))


async def test(session: Session, callback: Callback) -> None:
    await session.notify("keys.testing")
    await _verify(session, callback.int(0))


async def _verify(session: Session, credential_id: int) -> None:
    try:
        info, balance = await session.svc.desk.test_keys(session.me.id, credential_id)
    except DeskError:
        await session.send(session.t("keys.gone"))
        return
    except AuthenticationError:
        await session.send(session.t("keys.refused"))
        return
    except ExchangeError as error:
        await session.send(session.t("keys.unreachable", reason=reason_label(session.lang, type(error).__name__)))
        return
    except ElcaroError:
        await session.send(session.t("keys.unreachable", reason=reason_label(session.lang, None)))
        return
    text = session.t(
        "keys.works",
        target=target_label(session.lang, info.target),
        equity=session.fmt.money(balance.equity, balance.asset),
    )
    await session.send(text, inline([[button(session.t("common.back"), R.KEYS())]]))


async def ask_delete(session: Session, callback: Callback) -> None:
    credential_id = callback.int(0)
    info = next((i for i in await session.svc.desk.keys(session.me.id) if i.id == credential_id), None)
    if info is None:
        await session.notify("keys.gone", alert=True)
        await show(session)
        return
    token = session.svc.confirmations.issue("key_delete", session.chat_id, credential_id=credential_id)
    text = session.t("keys.delete_confirm", target=target_label(session.lang, info.target), hint=info.key_hint or "—")
    await session.show(text, inline([confirm_row(session.lang, token)]))


async def delete(session: Session, pending: Pending) -> None:
    try:
        info = await session.svc.desk.delete_keys(session.me.id, int(pending.payload["credential_id"]))
    except DeskError:
        await session.notify("keys.gone", alert=True)
        return
    await session.show(
        session.t("keys.deleted", target=target_label(session.lang, info.target)),
        inline([[button(session.t("common.back"), R.KEYS())]]),
    )
