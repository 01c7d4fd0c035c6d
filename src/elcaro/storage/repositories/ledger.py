"""The ELC journal: hash-chained transactions, their entries, cached balances and the chain head.

Every append locks the chain head row first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already admits one writer at a time). That one lock orders the whole ledger:
sequence numbers and hashes are assigned without gaps or forks, a concurrent holder of the same
idempotency key has committed before the key is tried, and the read-check-write of balances can
never race. Appends are short, so one lock costs less than ordering per-account locks would, and it
cannot deadlock against itself.

The append path runs Core statements on the session's connection, built once: it is the ledger's
hot path, and the ORM's per-statement overhead would double its cost.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from elcaro.models.errors import NotFoundError, ValidationError
from elcaro.models.ledger import (
    GENESIS_HASH,
    MAX_BALANCE,
    AccountKind,
    AccountRef,
    InsufficientBalanceError,
    LedgerDraft,
    LedgerEntry,
    LedgerKind,
    LedgerTransaction,
    transaction_hash,
)
from elcaro.storage.orm import (
    LedgerAccountRow,
    LedgerBalanceRow,
    LedgerChainHeadRow,
    LedgerEntryRow,
    LedgerTransactionRow,
    UserRow,
)

_HEAD_ID = 1

_TRANSACTION_COLUMNS = (
    LedgerTransactionRow.seq,
    LedgerTransactionRow.kind,
    LedgerTransactionRow.idempotency_key,
    LedgerTransactionRow.request_hash,
    LedgerTransactionRow.memo,
    LedgerTransactionRow.reference,
    LedgerTransactionRow.actor_user_id,
    LedgerTransactionRow.created_at,
    LedgerTransactionRow.prev_hash,
    LedgerTransactionRow.hash,
)
_LOCK_HEAD = (
    select(LedgerChainHeadRow.seq, LedgerChainHeadRow.hash).where(LedgerChainHeadRow.id == _HEAD_ID).with_for_update()
)
_READ_HEAD = select(LedgerChainHeadRow.seq, LedgerChainHeadRow.hash).where(LedgerChainHeadRow.id == _HEAD_ID)
_LAST_TRANSACTION = (
    select(LedgerTransactionRow.seq, LedgerTransactionRow.hash).order_by(LedgerTransactionRow.seq.desc()).limit(1)
)
_ACCOUNTS_WITH_BALANCES = (
    select(LedgerAccountRow.id, LedgerAccountRow.code, LedgerBalanceRow.balance)
    .join(LedgerBalanceRow, LedgerBalanceRow.account_id == LedgerAccountRow.id)
    .where(LedgerAccountRow.code.in_(bindparam("codes", expanding=True)))
)
_BY_KEY = select(*_TRANSACTION_COLUMNS).where(LedgerTransactionRow.idempotency_key == bindparam("key"))
_ENTRIES_OF = (
    select(LedgerEntryRow.transaction_seq, LedgerEntryRow.amount, LedgerAccountRow.code)
    .join(LedgerAccountRow, LedgerAccountRow.id == LedgerEntryRow.account_id)
    .where(LedgerEntryRow.transaction_seq.in_(bindparam("seqs", expanding=True)))
    .order_by(LedgerEntryRow.id)
)
_INSERT_ENTRY = insert(LedgerEntryRow)
_INSERT_BALANCE = insert(LedgerBalanceRow)
# SET takes balance, last_seq and updated_at from each parameter set.
_UPDATE_BALANCE = update(LedgerBalanceRow).where(LedgerBalanceRow.account_id == bindparam("id"))
_UPDATE_HEAD = update(LedgerChainHeadRow).where(LedgerChainHeadRow.id == _HEAD_ID)
# A key already stored makes the insert a no-op that returns nothing: the replay is detected by the
# same statement that claims the key, after the chain lock, so no second lookup is needed.
_CLAIM_KEY = {
    "postgresql": postgresql.insert(LedgerTransactionRow)
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(LedgerTransactionRow.seq),
    "sqlite": sqlite.insert(LedgerTransactionRow)
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(LedgerTransactionRow.seq),
}
_HEAD_IF_ABSENT = {
    "postgresql": postgresql.insert(LedgerChainHeadRow).on_conflict_do_nothing(index_elements=["id"]),
    "sqlite": sqlite.insert(LedgerChainHeadRow).on_conflict_do_nothing(index_elements=["id"]),
}
_ACCOUNT_IF_ABSENT = {
    "postgresql": postgresql.insert(LedgerAccountRow).on_conflict_do_nothing(index_elements=["code"]),
    "sqlite": sqlite.insert(LedgerAccountRow).on_conflict_do_nothing(index_elements=["code"]),
}


@dataclass(frozen=True, slots=True)
class ChainHead:
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class CachedBalance:
    account: AccountRef
    balance: int
    last_seq: int


@dataclass(frozen=True, slots=True)
class AppendResult:
    transaction: LedgerTransaction
    created: bool
    """False when a transaction with the same idempotency key already existed: nothing was written."""


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, draft: LedgerDraft, *, now: int) -> AppendResult:
        """Post ``draft`` as the next transaction of the chain, or return the one stored under its key.

        Refused before anything is written: NotFoundError for an account of a user who does not
        exist, :class:`InsufficientBalanceError` when an account that may not go negative would, and
        ValidationError when a balance would leave 64 bits. A key already stored wins over all of
        these: its transaction is returned (the caller compares ``request_hash`` with its own).
        """
        connection = await self._connection()
        head = await self._lock_head(connection, now)
        accounts = await self._accounts_with_balances(connection, [entry.account for entry in draft.entries])
        try:
            missing = [entry.account for entry in draft.entries if entry.account not in accounts]
            await self._require_users(connection, {a.user_id for a in missing if a.user_id is not None})
            after = _balances_after(draft, accounts)
        except (NotFoundError, ValidationError):
            existing = await self.find_by_key(draft.key)
            if existing is not None:
                return AppendResult(existing, created=False)
            raise

        seq = head.seq + 1
        content: dict[str, Any] = {
            "seq": seq,
            "kind": str(draft.kind),
            "key": draft.key,
            "request_hash": draft.request_hash,
            "entries": draft.entries,
            "created_at": now,
            "memo": draft.memo,
            "reference": draft.reference,
            "actor_user_id": draft.actor_user_id,
        }
        digest = transaction_hash(head.hash, **content)
        claimed = await connection.scalar(
            _CLAIM_KEY[connection.dialect.name],
            {
                "seq": seq,
                "kind": str(draft.kind),
                "idempotency_key": draft.key,
                "request_hash": draft.request_hash,
                "memo": draft.memo,
                "reference": draft.reference,
                "actor_user_id": draft.actor_user_id,
                "created_at": now,
                "prev_hash": head.hash,
                "hash": digest,
            },
        )
        if claimed is None:
            existing = await self.find_by_key(draft.key)
            assert existing is not None  # the key's row is committed: the chain lock was held for it
            return AppendResult(existing, created=False)

        ids = {account: account_id for account, (account_id, _) in accounts.items()}
        for account in missing:
            ids[account] = await self._create_account(connection, account, now)
        await connection.execute(
            _INSERT_ENTRY,
            [
                {"transaction_seq": seq, "account_id": ids[entry.account], "amount": entry.amount}
                for entry in draft.entries
            ],
        )
        known = [account for account in after if account in accounts]
        if known:
            await connection.execute(
                _UPDATE_BALANCE,
                [{"id": ids[a], "balance": after[a], "last_seq": seq, "updated_at": now} for a in known],
            )
        if missing:
            await connection.execute(
                _INSERT_BALANCE,
                [{"account_id": ids[a], "balance": after[a], "last_seq": seq, "updated_at": now} for a in missing],
            )
        await connection.execute(_UPDATE_HEAD, {"seq": seq, "hash": digest, "updated_at": now})
        transaction = LedgerTransaction(
            seq=seq,
            kind=draft.kind,
            key=draft.key,
            request_hash=draft.request_hash,
            entries=draft.entries,
            created_at=now,
            prev_hash=head.hash,
            hash=digest,
            memo=draft.memo,
            reference=draft.reference,
            actor_user_id=draft.actor_user_id,
        )
        return AppendResult(transaction, created=True)

    async def find_by_key(self, key: str) -> LedgerTransaction | None:
        connection = await self._connection()
        row = (await connection.execute(_BY_KEY, {"key": key})).one_or_none()
        return None if row is None else (await self._with_entries(connection, [row]))[0]

    async def get(self, seq: int) -> LedgerTransaction | None:
        connection = await self._connection()
        row = (
            await connection.execute(select(*_TRANSACTION_COLUMNS).where(LedgerTransactionRow.seq == seq))
        ).one_or_none()
        return None if row is None else (await self._with_entries(connection, [row]))[0]

    async def head(self) -> ChainHead | None:
        """The stored head, unlocked; None before the first append."""
        row = (await (await self._connection()).execute(_READ_HEAD)).one_or_none()
        return None if row is None else ChainHead(row.seq, row.hash)

    async def balance(self, account: AccountRef) -> int:
        found = await self._accounts_with_balances(await self._connection(), [account])
        return found[account][1] if account in found else 0

    async def user_balances(self, user_id: int) -> dict[AccountKind, int]:
        """The cached balance of each of the user's accounts that exists."""
        query = (
            select(LedgerAccountRow.kind, LedgerBalanceRow.balance)
            .join(LedgerBalanceRow, LedgerBalanceRow.account_id == LedgerAccountRow.id)
            .where(LedgerAccountRow.user_id == user_id)
        )
        return {AccountKind(row.kind): row.balance for row in await (await self._connection()).execute(query)}

    async def positive_balances(self, kind: AccountKind) -> builtins.list[tuple[int, int]]:
        """(user id, balance) of every user account of ``kind`` holding more than zero, by user id."""
        query = (
            select(LedgerAccountRow.user_id, LedgerBalanceRow.balance)
            .join(LedgerBalanceRow, LedgerBalanceRow.account_id == LedgerAccountRow.id)
            .where(LedgerAccountRow.kind == str(kind), LedgerBalanceRow.balance > 0)
            .order_by(LedgerAccountRow.user_id)
        )
        return [(int(row.user_id), row.balance) for row in await (await self._connection()).execute(query)]

    async def history(
        self, user_id: int, *, limit: int, before_seq: int | None = None
    ) -> builtins.list[LedgerTransaction]:
        """The user's transactions (on any of their accounts), newest first, older than ``before_seq``."""
        connection = await self._connection()
        query = (
            select(LedgerEntryRow.transaction_seq)
            .join(LedgerAccountRow, LedgerAccountRow.id == LedgerEntryRow.account_id)
            .where(LedgerAccountRow.user_id == user_id)
            .distinct()
            .order_by(LedgerEntryRow.transaction_seq.desc())
            .limit(limit)
        )
        if before_seq is not None:
            query = query.where(LedgerEntryRow.transaction_seq < before_seq)
        seqs = list(await connection.scalars(query))
        if not seqs:
            return []
        rows = await connection.execute(
            select(*_TRANSACTION_COLUMNS)
            .where(LedgerTransactionRow.seq.in_(seqs))
            .order_by(LedgerTransactionRow.seq.desc())
        )
        return await self._with_entries(connection, list(rows))

    async def chain(self, *, after_seq: int, limit: int) -> builtins.list[LedgerTransaction]:
        """Stored transactions in chain order from ``after_seq`` on, exactly as stored (for verification)."""
        connection = await self._connection()
        rows = await connection.execute(
            select(*_TRANSACTION_COLUMNS)
            .where(LedgerTransactionRow.seq > after_seq)
            .order_by(LedgerTransactionRow.seq)
            .limit(limit)
        )
        return await self._with_entries(connection, list(rows))

    async def cached_balances(self) -> builtins.list[CachedBalance]:
        """Every account with its cached balance (an account without a cached row counts as 0 at seq 0)."""
        query = select(LedgerAccountRow.code, LedgerBalanceRow.balance, LedgerBalanceRow.last_seq).outerjoin(
            LedgerBalanceRow, LedgerBalanceRow.account_id == LedgerAccountRow.id
        )
        return [
            CachedBalance(AccountRef.parse(row.code), row.balance or 0, row.last_seq or 0)
            for row in await (await self._connection()).execute(query)
        ]

    async def count_accounts(self) -> int:
        return int(await self._session.scalar(select(func.count()).select_from(LedgerAccountRow)) or 0)

    async def _connection(self) -> AsyncConnection:
        return await self._session.connection()

    async def _lock_head(self, connection: AsyncConnection, now: int) -> ChainHead:
        row = (await connection.execute(_LOCK_HEAD)).one_or_none()
        if row is None:
            # First append ever (or the row was lost): start from the newest stored transaction, so a
            # missing head never forks the chain; ``verify`` compares the head with the chain anyway.
            last = (await connection.execute(_LAST_TRANSACTION)).one_or_none()
            seq, hash_ = (last.seq, last.hash) if last is not None else (0, GENESIS_HASH)
            values = {"id": _HEAD_ID, "seq": seq, "hash": hash_, "updated_at": now}
            await connection.execute(_HEAD_IF_ABSENT[connection.dialect.name], values)
            row = (await connection.execute(_LOCK_HEAD)).one()
        return ChainHead(row.seq, row.hash)

    @staticmethod
    async def _accounts_with_balances(
        connection: AsyncConnection, accounts: Sequence[AccountRef]
    ) -> dict[AccountRef, tuple[int, int]]:
        """(account id, cached balance) of those of ``accounts`` that exist; an account and its
        balance row are always made together."""
        by_code = {account.code: account for account in accounts}
        rows = await connection.execute(_ACCOUNTS_WITH_BALANCES, {"codes": list(by_code)})
        return {by_code[row.code]: (row.id, row.balance) for row in rows}

    @staticmethod
    async def _require_users(connection: AsyncConnection, user_ids: set[int]) -> None:
        if not user_ids:
            return
        found = set(await connection.scalars(select(UserRow.id).where(UserRow.id.in_(user_ids))))
        if missing := sorted(user_ids - found):
            raise NotFoundError(f"no user with id {missing[0]}")

    @staticmethod
    async def _create_account(connection: AsyncConnection, account: AccountRef, now: int) -> int:
        values = {"code": account.code, "kind": str(account.kind), "user_id": account.user_id, "created_at": now}
        await connection.execute(_ACCOUNT_IF_ABSENT[connection.dialect.name], values)
        account_id = await connection.scalar(select(LedgerAccountRow.id).where(LedgerAccountRow.code == account.code))
        assert account_id is not None
        return int(account_id)

    @staticmethod
    async def _with_entries(connection: AsyncConnection, rows: Sequence[Any]) -> builtins.list[LedgerTransaction]:
        if not rows:
            return []
        entries: dict[int, builtins.list[LedgerEntry]] = {row.seq: [] for row in rows}
        for entry in await connection.execute(_ENTRIES_OF, {"seqs": list(entries)}):
            entries[entry.transaction_seq].append(LedgerEntry(AccountRef.parse(entry.code), entry.amount))
        return [_transaction(row, entries[row.seq]) for row in rows]


def _balances_after(draft: LedgerDraft, accounts: Mapping[AccountRef, tuple[int, int]]) -> dict[AccountRef, int]:
    after: dict[AccountRef, int] = {}
    for entry in draft.entries:
        before = accounts[entry.account][1] if entry.account in accounts else 0
        balance = before + entry.amount
        if balance < 0 and not entry.account.kind.may_go_negative:
            raise InsufficientBalanceError(entry.account, before, -entry.amount)
        if abs(balance) > MAX_BALANCE:
            raise ValidationError(f"the balance of {entry.account} would leave the storable range", field="amount")
        after[entry.account] = balance
    return after


def _transaction(row: Any, entries: builtins.list[LedgerEntry]) -> LedgerTransaction:
    """``row`` has the columns of ``_TRANSACTION_COLUMNS``."""
    try:
        kind: LedgerKind | str = LedgerKind(row.kind)
    except ValueError:  # an unknown kind is kept as stored, for verification to hash and report
        kind = row.kind
    return LedgerTransaction(
        seq=row.seq,
        kind=kind,
        key=row.idempotency_key,
        request_hash=row.request_hash,
        entries=tuple(entries),
        created_at=row.created_at,
        prev_hash=row.prev_hash,
        hash=row.hash,
        memo=row.memo,
        reference=row.reference,
        actor_user_id=row.actor_user_id,
    )
