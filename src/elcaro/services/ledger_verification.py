"""Walk the whole ELC chain and check everything the ledger promises.

For every transaction, in chain order: its sequence number follows the previous one, its
``prev_hash`` is the previous transaction's hash (the first links to the genesis value), its hash is
SHA-256 of its previous hash and canonical content, its entries are non-zero and sum to zero, and no
account that may not go negative is ever below zero after it. Then: the chain head names the last
transaction, and every cached balance equals the sum of its account's entries.

The walk follows the *stored* hashes, so one edited row is reported once, where it is, rather than
as a cascade of broken links after it; an edited row whose hash was recomputed to hide the edit
breaks the next transaction's link instead.
"""

from __future__ import annotations

from collections import defaultdict

from elcaro.models.ledger import (
    GENESIS_HASH,
    AccountRef,
    LedgerProblem,
    LedgerReport,
    LedgerTransaction,
    format_elc,
)
from elcaro.storage import UnitOfWork
from elcaro.storage.repositories.ledger import CachedBalance, ChainHead

BATCH = 1000
MAX_PROBLEMS = 100


def _short(digest: str) -> str:
    return f"{digest[:12]}…"


async def verify_chain(tx: UnitOfWork, *, batch: int = BATCH, max_problems: int = MAX_PROBLEMS) -> LedgerReport:
    """Check the chain and the cached balances; the report's first problem is the first broken link.

    Run it in a unit of work that sees one moment (``Database.reading()``).
    """
    walk = _ChainWalk(max_problems)
    while chunk := await tx.ledger.chain(after_seq=walk.expected_seq - 1, limit=batch):
        for transaction in chunk:
            walk.check(transaction)
    walk.check_head(await tx.ledger.head())
    cached = await tx.ledger.cached_balances()
    walk.check_cache(cached)
    return LedgerReport(
        transactions=walk.count,
        accounts=len(cached),
        head_seq=walk.expected_seq - 1,
        head_hash=walk.previous_hash,
        problems=tuple(walk.problems),
        problems_truncated=walk.truncated,
    )


class _ChainWalk:
    def __init__(self, max_problems: int) -> None:
        self.problems: list[LedgerProblem] = []
        self.truncated = False
        self.expected_seq = 1
        self.previous_hash = GENESIS_HASH
        self.count = 0
        self._max_problems = max_problems
        self._sums: defaultdict[AccountRef, int] = defaultdict(int)

    def report(self, code: str, message: str, *, seq: int | None = None, account: str | None = None) -> None:
        if len(self.problems) < self._max_problems:
            self.problems.append(LedgerProblem(code, message, seq=seq, account=account))
        else:
            self.truncated = True

    def check(self, transaction: LedgerTransaction) -> None:
        seq = transaction.seq
        self.count += 1
        if seq != self.expected_seq:
            self.report(
                "missing_seq",
                f"transaction #{self.expected_seq} is missing: the chain jumps from #{self.expected_seq - 1} to #{seq}",
                seq=seq,
            )
        if transaction.prev_hash != self.previous_hash:
            before = f"#{seq - 1}" if seq > 1 else "the genesis value"
            self.report(
                "broken_link",
                f"transaction #{seq} links to {_short(transaction.prev_hash)}, but {before} hashes to "
                f"{_short(self.previous_hash)}: a transaction before it was changed, removed or inserted",
                seq=seq,
            )
        computed = transaction.computed_hash()
        if computed != transaction.hash:
            self.report(
                "hash_mismatch",
                f"transaction #{seq} was changed after it was written: its content hashes to "
                f"{_short(computed)}, the stored hash is {_short(transaction.hash)}",
                seq=seq,
            )
        self._check_entries(transaction)
        self.expected_seq, self.previous_hash = seq + 1, transaction.hash

    def _check_entries(self, transaction: LedgerTransaction) -> None:
        seq = transaction.seq
        if not transaction.entries:
            self.report("empty", f"transaction #{seq} has no entries", seq=seq)
        total = sum(entry.amount for entry in transaction.entries)
        if total != 0:
            self.report(
                "unbalanced", f"the entries of transaction #{seq} sum to {format_elc(total)} ELC, not 0", seq=seq
            )
        for entry in transaction.entries:
            if entry.amount == 0:
                self.report("zero_entry", f"transaction #{seq} has a zero entry on {entry.account}", seq=seq)
            self._sums[entry.account] += entry.amount
            balance = self._sums[entry.account]
            if balance < 0 and not entry.account.kind.may_go_negative:
                self.report(
                    "negative_balance",
                    f"{entry.account} is at {format_elc(balance)} ELC after transaction #{seq}",
                    seq=seq,
                    account=entry.account.code,
                )

    def check_head(self, head: ChainHead | None) -> None:
        stored = (head.seq, head.hash) if head is not None else (0, GENESIS_HASH)
        walked = (self.expected_seq - 1, self.previous_hash)
        if stored != walked:
            self.report(
                "head_mismatch",
                f"the chain head names #{stored[0]} ({_short(stored[1])}) but the chain ends at #{walked[0]} "
                f"({_short(walked[1])}): transactions were removed or added outside the ledger",
                seq=stored[0],
            )

    def check_cache(self, cached: list[CachedBalance]) -> None:
        for balance in sorted(cached, key=lambda b: b.account.code):
            journal = self._sums.get(balance.account, 0)
            code = balance.account.code
            if balance.balance != journal:
                self.report(
                    "cache_mismatch",
                    f"the cached balance of {code} is {format_elc(balance.balance)} ELC, "
                    f"its entries sum to {format_elc(journal)} ELC",
                    account=code,
                )
            if balance.balance < 0 and not balance.account.kind.may_go_negative:
                self.report(
                    "negative_balance",
                    f"the cached balance of {code} is negative: {format_elc(balance.balance)} ELC",
                    account=code,
                )
