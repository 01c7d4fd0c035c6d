"""The issue's acceptance test: 10,000 purchases, transfers and rewards from 50 concurrent tasks.

Some requests are sent twice with the same idempotency key (often while the first is still running),
and some keys are reused for a different request. Afterwards: every unit is accounted for, no
balance is negative, the hash chain verifies, and no repeated key changed anything.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from dataclasses import dataclass

import pytest
from ledger_checks import MakeUser

from elcaro.models import AccountKind, AccountRef, InsufficientBalanceError, LedgerTransaction
from elcaro.models.errors import ConflictError
from elcaro.services.ledger import FEES, LedgerService
from elcaro.storage import Database

pytestmark = [pytest.mark.db, pytest.mark.slow]

OPERATIONS = 10_000
TASKS = 50
USERS = 12
REPEATED = 0.05
"""Share of requests sent a second time with the same key and parameters."""
CONFLICTING = 0.01
"""Share of purchases whose key is sent again with another amount: exactly one of the two may land."""
ELC = 10**8


@dataclass(frozen=True, slots=True)
class Request:
    kind: str
    key: str
    user: int
    amount: int
    to: int = 0


def _requests(users: list[int], rng: random.Random) -> list[Request]:
    requests: list[Request] = []
    while len(requests) < OPERATIONS:
        n, roll = len(requests), rng.random()
        if roll < 0.25:
            request = Request("purchase", f"p{n}", rng.choice(users), rng.randint(1, 50 * ELC))
        elif roll < 0.35:
            request = Request("reward", f"r{n}", rng.choice(users), rng.randint(1, ELC))
        else:
            sender, receiver = rng.sample(users, 2)
            request = Request("transfer", f"t{n}", sender, rng.randint(1, 20 * ELC), to=receiver)
        requests.append(request)
        if rng.random() < REPEATED:
            requests.append(request)
        if request.kind == "purchase" and rng.random() < CONFLICTING:
            requests.append(Request("purchase", request.key, request.user, request.amount + 1))
    rng.shuffle(requests)  # repeats arrive in any order, often concurrently with their original
    return requests[:OPERATIONS]


async def _send(ledger: LedgerService, request: Request) -> LedgerTransaction:
    if request.kind == "purchase":
        return await ledger.credit_purchase(request.user, request.amount, key=request.key, reference=request.key)
    if request.kind == "reward":
        return await ledger.reward(request.user, request.amount, key=request.key, memo="contest")
    return await ledger.transfer(request.user, request.to, request.amount, key=request.key)


async def test_ten_thousand_concurrent_operations_conserve_every_unit(
    ledger: LedgerService, make_user: MakeUser, database: Database
) -> None:
    users = [await make_user() for _ in range(USERS)]
    requests = _requests(users, random.Random(20240301))  # noqa: S311 - a reproducible workload, not a secret
    queue: asyncio.Queue[Request] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    landed: defaultdict[str, list[tuple[Request, LedgerTransaction]]] = defaultdict(list)
    refused: Counter[str] = Counter()

    async def worker() -> None:
        while not queue.empty():
            request = queue.get_nowait()
            try:
                transaction = await _send(ledger, request)
                landed[request.key].append((request, transaction))
            except InsufficientBalanceError:
                refused["insufficient"] += 1
            except ConflictError:
                refused["conflict"] += 1

    await asyncio.gather(*(worker() for _ in range(TASKS)))

    # Every key landed once: all answers for a key are one stored transaction, made for one request,
    # and the journal holds exactly those transactions.
    stored: dict[str, LedgerTransaction] = {}
    for key, answers in landed.items():
        assert len({(request.user, request.amount) for request, _ in answers}) == 1, key
        assert len({transaction for _, transaction in answers}) == 1, key
        stored[key] = answers[0][1]
    async with database.transaction() as tx:
        journal = await tx.ledger.chain(after_seq=0, limit=2 * OPERATIONS)
    assert {t.key: t for t in journal} == stored
    assert [t.seq for t in journal] == list(range(1, len(stored) + 1))
    assert refused["conflict"] >= 1 and refused["insufficient"] >= 1  # the test exercised both refusals
    assert len(stored) + refused["insufficient"] + refused["conflict"] + _replays(landed) == OPERATIONS

    # Conservation: users hold exactly what was bought and rewarded, less the fees collected.
    bought = sum(-t.amount_for(AccountRef(AccountKind.EXTERNAL)) for t in stored.values())
    assert bought == sum(answers[0][0].amount for answers in landed.values() if answers[0][0].kind == "purchase")
    rewarded = sum(-t.amount_for(AccountRef(AccountKind.REWARDS)) for t in stored.values())
    fees = sum(t.amount_for(FEES) for t in stored.values())
    balances = {user: await ledger.balance(user) for user in users}
    assert all(b.available >= 0 and b.locked >= 0 for b in balances.values())
    assert sum(b.total for b in balances.values()) + fees == bought + rewarded

    # No lost update: each cached balance is what the stored transactions, replayed, give.
    expected: Counter[int] = Counter()
    for transaction in stored.values():
        for entry in transaction.entries:
            if entry.account.user_id is not None:
                expected[entry.account.user_id] += entry.amount
    assert {user: b.available for user, b in balances.items()} == {user: expected[user] for user in users}

    report = await ledger.verify()
    assert report.ok, report.problems
    assert report.transactions == len(stored)


def _replays(landed: dict[str, list[tuple[Request, LedgerTransaction]]]) -> int:
    return sum(len(answers) - 1 for answers in landed.values())
