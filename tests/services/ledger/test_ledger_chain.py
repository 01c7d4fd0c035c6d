"""The hash chain is tamper-evident: ``verify`` pinpoints any row changed behind the ledger's back."""

from __future__ import annotations

import itertools

import pytest
from ledger_checks import MakeUser
from sqlalchemy import text

from elcaro.models import AccountRef, LedgerTransaction
from elcaro.models.ledger import GENESIS_HASH, transaction_hash
from elcaro.services.ledger import LedgerService
from elcaro.storage import Database

pytestmark = pytest.mark.db

ELC = 10**8


async def _five_transactions(ledger: LedgerService, make_user: MakeUser) -> tuple[int, int]:
    alice, bob = await make_user(), await make_user()
    await ledger.credit_purchase(alice, 100 * ELC, key="buy", reference="r")  # 1
    await ledger.transfer(alice, bob, 10 * ELC, key="send")  # 2
    await ledger.pay(bob, 3 * ELC, key="pay", memo="basic licence")  # 3
    await ledger.lock(alice, 20 * ELC, key="stake")  # 4
    await ledger.reward(bob, ELC, key="bonus", memo="welcome")  # 5
    return alice, bob


async def _tamper(database: Database, statement: str, **values: object) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(text(statement), values)


async def test_an_untouched_ledger_verifies(ledger: LedgerService, make_user: MakeUser) -> None:
    empty = await ledger.verify()
    assert empty.ok and empty.transactions == 0 and empty.head_hash == GENESIS_HASH
    await _five_transactions(ledger, make_user)
    report = await ledger.verify()
    assert report.ok, report.problems
    # external, treasury, fees, rewards; alice available and locked; bob available
    assert report.transactions == 5 and report.head_seq == 5 and report.accounts == 7
    last = await ledger.transaction("bonus")
    assert last is not None and report.head_hash == last.hash


async def test_each_hash_covers_the_previous_one_and_the_content(ledger: LedgerService, make_user: MakeUser) -> None:
    await _five_transactions(ledger, make_user)
    chain: list[LedgerTransaction] = []
    for key in ("buy", "send", "pay", "stake", "bonus"):
        found = await ledger.transaction(key)
        assert found is not None
        chain.append(found)
    assert chain[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(chain):
        assert after.prev_hash == before.hash
    for t in chain:
        assert t.computed_hash() == t.hash
        assert transaction_hash("f" * 64, **_content(t)) != t.hash  # another predecessor, another hash


def _content(t: LedgerTransaction) -> dict[str, object]:
    return {
        "seq": t.seq,
        "kind": str(t.kind),
        "key": t.key,
        "request_hash": t.request_hash,
        "entries": t.entries,
        "created_at": t.created_at,
        "memo": t.memo,
        "reference": t.reference,
        "actor_user_id": t.actor_user_id,
    }


async def test_an_edited_memo_is_pinpointed(ledger: LedgerService, make_user: MakeUser, database: Database) -> None:
    await _five_transactions(ledger, make_user)
    await _tamper(database, "UPDATE ledger_transactions SET memo = 'premium licence' WHERE seq = 3")
    report = await ledger.verify()
    assert not report.ok
    first = report.first_problem
    assert first is not None and (first.code, first.seq) == ("hash_mismatch", 3)
    assert "transaction #3 was changed after it was written" in first.message
    assert [p.code for p in report.problems] == ["hash_mismatch"]  # the walk follows stored hashes: no cascade


async def test_a_moved_amount_is_pinpointed_even_when_the_entries_still_balance(
    ledger: LedgerService, make_user: MakeUser, database: Database
) -> None:
    alice, bob = await _five_transactions(ledger, make_user)
    # Transaction 2 now gives bob 5 ELC more and takes it from alice: still balanced, caches updated to match.
    for user, delta in ((bob, 5 * ELC), (alice, -5 * ELC)):
        code = AccountRef.available(user).code
        await _tamper(
            database,
            "UPDATE ledger_entries SET amount = amount + :delta WHERE transaction_seq = 2 AND account_id = "
            "(SELECT id FROM ledger_accounts WHERE code = :code)",
            delta=delta,
            code=code,
        )
        await _tamper(
            database,
            "UPDATE ledger_balances SET balance = balance + :delta WHERE account_id = "
            "(SELECT id FROM ledger_accounts WHERE code = :code)",
            delta=delta,
            code=code,
        )
    report = await ledger.verify()
    assert [(p.code, p.seq) for p in report.problems] == [("hash_mismatch", 2)]


async def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(
    ledger: LedgerService, make_user: MakeUser, database: Database
) -> None:
    await _five_transactions(ledger, make_user)
    original = await ledger.transaction("pay")
    assert original is not None
    forged = transaction_hash(original.prev_hash, **{**_content(original), "memo": "forged"})
    await _tamper(database, "UPDATE ledger_transactions SET memo = 'forged', hash = :h WHERE seq = 3", h=forged)
    report = await ledger.verify()
    first = report.first_problem
    assert first is not None and (first.code, first.seq) == ("broken_link", 4)
    assert "transaction #4 links to" in first.message


async def test_a_removed_transaction_is_found(ledger: LedgerService, make_user: MakeUser, database: Database) -> None:
    await _five_transactions(ledger, make_user)
    await _tamper(database, "DELETE FROM ledger_entries WHERE transaction_seq = 4")
    await _tamper(database, "DELETE FROM ledger_transactions WHERE seq = 4")
    report = await ledger.verify()
    assert [(p.code, p.seq) for p in report.problems[:2]] == [("missing_seq", 5), ("broken_link", 5)]
    assert {p.code for p in report.problems[2:]} == {"cache_mismatch"}  # alice's available and locked


async def test_a_truncated_tail_and_a_wrong_cache_are_found(
    ledger: LedgerService, make_user: MakeUser, database: Database
) -> None:
    alice, _ = await _five_transactions(ledger, make_user)
    await _tamper(database, "DELETE FROM ledger_entries WHERE transaction_seq = 5")
    await _tamper(database, "DELETE FROM ledger_transactions WHERE seq = 5")
    report = await ledger.verify()
    assert report.problems[0].code == "head_mismatch"
    assert "the chain head names #5" in report.problems[0].message and "ends at #4" in report.problems[0].message

    await _tamper(
        database,
        "UPDATE ledger_balances SET balance = balance + 1 WHERE account_id = "
        "(SELECT id FROM ledger_accounts WHERE code = :code)",
        code=AccountRef.locked(alice).code,
    )
    mismatches = [p for p in (await ledger.verify()).problems if p.code == "cache_mismatch"]
    assert any(p.account == AccountRef.locked(alice).code and "20.00000001 ELC" in p.message for p in mismatches)


async def test_a_negative_user_balance_is_reported(
    ledger: LedgerService, make_user: MakeUser, database: Database
) -> None:
    alice, _ = await _five_transactions(ledger, make_user)
    # Rewrite the purchase so that alice never had the money she spent (hash chain aside).
    await _tamper(database, "UPDATE ledger_entries SET amount = 1 WHERE transaction_seq = 1 AND amount > 0")
    await _tamper(database, "UPDATE ledger_entries SET amount = -1 WHERE transaction_seq = 1 AND amount < 0")
    problems = (await ledger.verify()).problems
    assert (problems[0].code, problems[0].seq) == ("hash_mismatch", 1)
    negative = next(p for p in problems if p.code == "negative_balance")
    assert negative.seq == 2 and negative.account == AccountRef.available(alice).code
