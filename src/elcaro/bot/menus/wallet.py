"""Wallet: the ELC balance (available and staked), the deposit address, transfers to other users (confirmed,
with the fee shown first), the ledger history, and the referral link with what it has earned."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elcaro.bot.callbacks import Callback, Pending, R
from elcaro.bot.context import Access, Session
from elcaro.bot.delivery import Outgoing
from elcaro.bot.i18n import Formats, Markup, translate
from elcaro.bot.keyboards import Section, button, confirm_row, inline
from elcaro.bot.registry import Registry
from elcaro.models import AccountKind, AccountRef
from elcaro.models.errors import ValidationError
from elcaro.models.ledger import InsufficientBalanceError, elc_decimal, parse_elc
from elcaro.services.desk import Directory

HISTORY = 10


def register(registry: Registry) -> None:
    registry.section(Section.WALLET, Access.TRADER, show)
    registry.on(R.WALLET, Access.TRADER, open_part)
    registry.on_input("transfer", Access.TRADER, take_transfer)
    registry.on_confirm("transfer", Access.TRADER, transfer)


def elc(fmt: Formats, minor: int) -> str:
    return f"{fmt.number(elc_decimal(minor))} ELC"


async def show(session: Session) -> None:
    platform, user = session.svc.runtime.platform, session.me
    balance = await platform.ledger.balance(user.id)
    earnings = await platform.referrals.earnings(user.id)
    address = await platform.wallets.address_for(user.id)
    link = f"https://t.me/{session.svc.bot_username}?start={user.referral_code}"
    text = session.t(
        "wallet.title",
        available=elc(session.fmt, balance.available),
        locked=elc(session.fmt, balance.locked),
        address=address,
        link=link,
        referees=earnings.referees,
        earned=elc(session.fmt, earnings.total),
    )
    rows = [
        [button(session.t("wallet.send"), R.WALLET("send")), button(session.t("wallet.history"), R.WALLET("history"))],
        [button(session.t("common.refresh"), R.WALLET("home"))],
    ]
    await session.show(text, inline(rows))


async def open_part(session: Session, callback: Callback) -> None:
    part = callback.args[0]
    if part == "home":
        await show(session)
    elif part == "send":
        session.expect("transfer")
        await session.show(
            session.t("wallet.send_ask"), inline([[button(session.t("common.cancel"), R.INPUT_CANCEL())]])
        )
    elif part == "history":
        await _history(session)
    else:
        await session.notify("common.stale", alert=True)


async def _history(session: Session) -> None:
    user = session.me
    transactions = await session.svc.runtime.platform.ledger.history(user.id, limit=HISTORY)
    mine = (AccountRef(AccountKind.AVAILABLE, user.id), AccountRef(AccountKind.LOCKED, user.id))
    lines = [
        session.t(
            "wallet.history_line",
            at=session.fmt.datetime(transaction.created_at),
            kind=session.t(f"ledger_kind.{transaction.kind}")
            if f"{transaction.kind}" in _KINDS
            else str(transaction.kind),
            amount=session.fmt.signed(elc_decimal(sum(transaction.amount_for(account) for account in mine))),
            memo=transaction.memo or "",
        )
        for transaction in transactions
    ]
    text = (
        session.t("wallet.history_title", lines=Markup("\n".join(lines))) if lines else session.t("wallet.history_none")
    )
    await session.show(text, inline([[button(session.t("common.back"), R.WALLET("home"))]]))


_KINDS = frozenset(
    {"purchase", "transfer", "payment", "lock", "unlock", "reward", "staking_interest", "referral", "adjustment"}
)


async def take_transfer(session: Session, expected: Mapping[str, Any]) -> None:
    parts = session.text.split()
    if len(parts) != 2:
        await session.send(session.t("wallet.send_ask"))
        return
    recipient = await Directory(session.svc.runtime.platform.database).find(parts[0])
    if recipient is None:
        await session.send(session.t("wallet.recipient_unknown", who=parts[0]))
        return
    if recipient.id == session.me.id:
        await session.send(session.t("wallet.not_yourself"))
        return
    try:
        amount = parse_elc(parts[1].replace(",", "."))
    except ValidationError:
        await session.send(session.t("wallet.amount_invalid", amount=parts[1]))
        return
    if amount <= 0:
        await session.send(session.t("wallet.amount_invalid", amount=parts[1]))
        return
    session.clear_expected()
    fee = session.svc.runtime.platform.ledger.policy.transfer_fee(amount)
    token = session.svc.confirmations.issue("transfer", session.chat_id, to=recipient.id, amount=amount)
    text = session.t(
        "wallet.send_confirm",
        amount=elc(session.fmt, amount),
        to=recipient.display_name,
        fee=elc(session.fmt, fee),
        total=elc(session.fmt, amount + fee),
    )
    await session.send(text, inline([confirm_row(session.lang, token, "wallet.send_button")]))


async def transfer(session: Session, pending: Pending) -> None:
    platform, user = session.svc.runtime.platform, session.me
    to, amount = int(pending.payload["to"]), int(pending.payload["amount"])
    try:
        await platform.ledger.transfer(user.id, to, amount, key=f"bot:{pending.payload['token']}")
    except InsufficientBalanceError as error:
        await session.show(
            session.t(
                "wallet.not_enough", balance=elc(session.fmt, error.balance), needed=elc(session.fmt, error.needed)
            )
        )
        return
    recipient = await session.svc.users.get(to)
    await session.show(session.t("wallet.sent", amount=elc(session.fmt, amount), to=recipient.display_name))
    text = translate(
        recipient.language,
        "wallet.received",
        amount=elc(Formats(recipient.language), amount),
        sender=user.display_name,
    )
    session.svc.delivery.submit(Outgoing(recipient.telegram_id, text, None, recipient.id))
