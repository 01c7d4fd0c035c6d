"""ELC amounts, account names and transaction drafts: exact, or refused with the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from elcaro.models.errors import ValidationError
from elcaro.models.ledger import (
    ELC_DECIMALS,
    MAX_AMOUNT,
    AccountKind,
    AccountRef,
    LedgerDraft,
    LedgerEntry,
    LedgerKind,
    LedgerTransaction,
    elc_decimal,
    format_elc,
    parse_elc,
    request_fingerprint,
    transaction_hash,
)

amounts = st.integers(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT)


@given(amounts)
def test_formatting_then_parsing_gives_the_same_minor_units(minor: int) -> None:
    text = format_elc(minor)
    assert parse_elc(text) == minor
    assert Decimal(text) == elc_decimal(minor)
    assert not text.endswith(".") and (text.count(".") == 0 or not text.endswith("0"))


@given(st.decimals(min_value=Decimal(-(10**10) + 1), max_value=Decimal(10**10 - 1), places=ELC_DECIMALS))
def test_any_amount_with_at_most_eight_places_is_exact(value: Decimal) -> None:
    minor = parse_elc(f"{value:f}")  # plain notation: text in exponent form is refused
    assert elc_decimal(minor) == value
    assert parse_elc(value) == minor


@given(
    st.decimals(min_value=Decimal(-1000), max_value=Decimal(1000), places=ELC_DECIMALS + 4).filter(
        lambda d: d != d.quantize(Decimal(1).scaleb(-ELC_DECIMALS))
    )
)
def test_more_than_eight_places_is_refused_never_rounded(value: Decimal) -> None:
    with pytest.raises(ValidationError, match="at most 8 decimal places") as refused:
        parse_elc(f"{value:f}")
    assert refused.value.field == "amount"
    with pytest.raises(ValidationError, match="at most 8 decimal places"):
        parse_elc(value)


@pytest.mark.parametrize(
    ("text", "minor"),
    [("12.5", 1_250_000_000), ("0.00000001", 1), (".5", 50_000_000), ("-3", -300_000_000), (" 7 ", 700_000_000)],
)
def test_examples(text: str, minor: int) -> None:
    assert parse_elc(text) == minor


@pytest.mark.parametrize("text", ["", "1e5", "1,5", "1_000", "NaN", "inf", "0x10", "--1", "1.2.3", "ELC 5"])
def test_what_is_not_a_plain_amount_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="not an ELC amount"):
        parse_elc(text, field="price")


def test_limits_and_odd_types() -> None:
    assert parse_elc(format_elc(MAX_AMOUNT)) == MAX_AMOUNT
    with pytest.raises(ValidationError, match=r"at most 9999999999\.99999999 ELC"):
        parse_elc("10000000000")
    with pytest.raises(ValidationError, match="at most"):
        parse_elc(Decimal("1E+40"))
    with pytest.raises(ValidationError, match="finite"):
        parse_elc(Decimal("NaN"))
    with pytest.raises(ValidationError, match="boolean"):
        parse_elc(True)
    assert parse_elc(3) == 300_000_000


def test_account_codes_round_trip_and_owners_are_checked() -> None:
    for account in (AccountRef.available(7), AccountRef.locked(7), AccountRef.platform(AccountKind.FEES)):
        assert AccountRef.parse(account.code) == account
    assert AccountRef.available(7).code == "user:7:available"
    assert AccountRef(AccountKind.TREASURY).code == "platform:treasury"
    with pytest.raises(ValidationError):
        AccountRef(AccountKind.AVAILABLE)
    with pytest.raises(ValidationError):
        AccountRef(AccountKind.TREASURY, 7)
    for code in ("user:x:available", "platform:nope", "user:7", "bank:7:available"):
        with pytest.raises(ValidationError, match="not an account code"):
            AccountRef.parse(code)


def _draft(*entries: LedgerEntry, key: str = "k") -> LedgerDraft:
    return LedgerDraft(LedgerKind.TRANSFER, key, "0" * 64, entries)


def test_a_draft_must_balance_and_name_each_account_once() -> None:
    a, b, fees = AccountRef.available(1), AccountRef.available(2), AccountRef(AccountKind.FEES)
    _draft(LedgerEntry(a, -11), LedgerEntry(b, 10), LedgerEntry(fees, 1))
    with pytest.raises(ValidationError, match="sum to zero"):
        _draft(LedgerEntry(a, -10), LedgerEntry(b, 11))
    with pytest.raises(ValidationError, match="at least two"):
        _draft(LedgerEntry(a, 0))
    with pytest.raises(ValidationError, match="at most once"):
        _draft(LedgerEntry(a, -1), LedgerEntry(a, 1))
    with pytest.raises(ValidationError, match="non-zero"):
        _draft(LedgerEntry(a, 0), LedgerEntry(b, 0))
    with pytest.raises(ValidationError, match="idempotency key"):
        _draft(LedgerEntry(a, -1), LedgerEntry(b, 1), key="")


@given(
    st.lists(st.tuples(st.integers(1, 50), st.integers(1, 10**12)), min_size=1, max_size=5, unique_by=lambda e: e[0])
)
def test_the_hash_ignores_entry_order_but_not_their_content(legs: list[tuple[int, int]]) -> None:
    entries = [LedgerEntry(AccountRef.available(user), amount) for user, amount in legs]
    entries.append(LedgerEntry(AccountRef(AccountKind.EXTERNAL), -sum(amount for _, amount in legs)))
    content = {
        "seq": 1,
        "kind": "purchase",
        "key": "k",
        "request_hash": request_fingerprint("purchase", {"n": 1}),
        "created_at": 1,
        "memo": None,
        "reference": None,
        "actor_user_id": None,
    }
    forward = transaction_hash("0" * 64, entries=entries, **content)  # type: ignore[arg-type]
    assert transaction_hash("0" * 64, entries=list(reversed(entries)), **content) == forward  # type: ignore[arg-type]
    changed = [LedgerEntry(entries[0].account, entries[0].amount + 1), *entries[1:]]
    assert transaction_hash("0" * 64, entries=changed, **content) != forward  # type: ignore[arg-type]
    assert transaction_hash("1" * 64, entries=entries, **content) != forward  # type: ignore[arg-type]
    stored = LedgerTransaction(
        seq=1,
        kind="purchase",
        key="k",
        request_hash=str(content["request_hash"]),
        entries=tuple(entries),
        created_at=1,
        prev_hash="0" * 64,
        hash=forward,
    )
    assert stored.computed_hash() == forward


def test_request_fingerprints_depend_on_every_parameter() -> None:
    base = request_fingerprint("transfer", {"from": 1, "to": 2, "amount": 5})
    assert request_fingerprint("transfer", {"amount": 5, "to": 2, "from": 1}) == base
    assert request_fingerprint("transfer", {"from": 1, "to": 2, "amount": 6}) != base
    assert request_fingerprint("purchase", {"from": 1, "to": 2, "amount": 5}) != base
