"""The ELC ledger's types: accounts, entries, hash-chained transactions, balances, amounts.

Amounts are integers in minor units (``10**-ELC_DECIMALS`` ELC), so arithmetic is exact and a
database BIGINT holds any balance. Text crosses the edges as exact ELC strings (``"12.5"``), parsed
and printed by :func:`parse_elc` and :func:`format_elc`.

Every movement is a :class:`LedgerTransaction` of entries that sum to zero, chained to the one
before by :func:`transaction_hash`: changing, removing or reordering any stored transaction breaks
every hash after it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from elcaro.models.errors import ValidationError

ELC_DECIMALS = 8
"""Places after the point an ELC amount may have; one minor unit is 0.00000001 ELC."""
MINOR_PER_ELC = 10**ELC_DECIMALS
MAX_AMOUNT = 10**18 - 1
"""The largest amount one movement may carry (just under ten billion ELC); balances stay within BIGINT."""
MAX_BALANCE = 2**63 - 1
"""What a BIGINT holds: a movement that would take an account beyond it is refused."""
GENESIS_HASH = "0" * 64
"""What the first transaction links to."""
MAX_KEY_LENGTH = 200
MAX_MEMO_LENGTH = 500

_ELC_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def parse_elc(value: str | Decimal | int, *, field: str = "amount") -> int:
    """An exact ELC amount (``"12.5"``, ``Decimal("0.1")``, ``3``) in minor units.

    Refused, naming ``field``: anything that is not a plain decimal number (exponents, separators,
    NaN), more than :data:`ELC_DECIMALS` places (never rounded away), and more than
    :data:`MAX_AMOUNT` minor units. The sign is kept: callers decide whether negative makes sense.
    """
    if isinstance(value, bool):
        raise ValidationError("an amount is a number, not a boolean", field=field)
    if isinstance(value, int):
        return _in_range(value * MINOR_PER_ELC, value, field)
    if isinstance(value, str):
        text = value.strip()
        if not _ELC_TEXT.fullmatch(text):
            raise ValidationError(f"not an ELC amount: {value!r} (write it like 12.5)", field=field)
        try:
            number = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal reads
            raise ValidationError(f"not an ELC amount: {value!r}", field=field) from None
    else:
        number = value
    if not number.is_finite():
        raise ValidationError(f"an amount must be finite, got {value}", field=field)
    shown = value if isinstance(value, str) else f"{number:f}"
    if number.adjusted() > 18:  # far beyond the limit: refuse before scaling a huge number
        raise ValidationError(f"at most {format_elc(MAX_AMOUNT)} ELC, got {shown}", field=field)
    scaled = number.scaleb(ELC_DECIMALS)  # exact: at most 19 + ELC_DECIMALS digits, within the context's 28
    if scaled != scaled.to_integral_value():
        raise ValidationError(f"ELC has at most {ELC_DECIMALS} decimal places, got {shown}", field=field)
    return _in_range(int(scaled), shown, field)


def _in_range(minor: int, shown: object, field: str) -> int:
    if abs(minor) > MAX_AMOUNT:
        raise ValidationError(f"at most {format_elc(MAX_AMOUNT)} ELC, got {shown}", field=field)
    return minor


def format_elc(minor: int) -> str:
    """Minor units as an exact ELC string without trailing zeros: ``1250000000`` → ``"12.5"``."""
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), MINOR_PER_ELC)
    if not fraction:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{ELC_DECIMALS}d}".rstrip("0")


def elc_decimal(minor: int) -> Decimal:
    """Minor units as an exact ``Decimal`` of ELC."""
    return Decimal(minor).scaleb(-ELC_DECIMALS)


class AccountKind(StrEnum):
    """What an account holds. The first two belong to a user; the rest to the platform."""

    AVAILABLE = "available"
    """A user's spendable ELC."""
    LOCKED = "locked"
    """A user's staked ELC: earns interest, cannot be spent until unlocked."""
    TREASURY = "treasury"
    """What users paid the platform (licences)."""
    FEES = "fees"
    """Transfer fees collected."""
    REWARDS = "rewards"
    """Source of referral rewards and staking interest: its negative balance is the ELC issued that way."""
    EXTERNAL = "external"
    """The world outside the ledger: purchases come from here; its negative balance is ELC bought in."""
    ADJUSTMENTS = "adjustments"
    """Counterpart of admin adjustments, so that each one stays visible as a whole."""

    @property
    def is_user(self) -> bool:
        return self in (AccountKind.AVAILABLE, AccountKind.LOCKED)

    @property
    def may_go_negative(self) -> bool:
        """Only the platform's sources of ELC; a user's balance, the treasury and fees never go below zero."""
        return self in (AccountKind.REWARDS, AccountKind.EXTERNAL, AccountKind.ADJUSTMENTS)


@dataclass(frozen=True, slots=True, order=True)
class AccountRef:
    """Names an account: a user's (``user_id`` set) or the platform's (``user_id`` None)."""

    kind: AccountKind
    user_id: int | None = None

    def __post_init__(self) -> None:
        if self.kind.is_user != (self.user_id is not None):
            who = "a user id" if self.kind.is_user else "no user id"
            raise ValidationError(f"a {self.kind} account takes {who}", field="account")

    @property
    def code(self) -> str:
        """The account's stable name, used in the hash chain: ``user:7:available``, ``platform:fees``."""
        return f"user:{self.user_id}:{self.kind}" if self.user_id is not None else f"platform:{self.kind}"

    @classmethod
    def parse(cls, code: str) -> AccountRef:
        parts = code.split(":")
        try:
            if len(parts) == 3 and parts[0] == "user":
                return cls(AccountKind(parts[2]), int(parts[1]))
            if len(parts) == 2 and parts[0] == "platform":
                return cls(AccountKind(parts[1]))
        except ValueError:
            pass
        raise ValidationError(f"not an account code: {code!r}", field="account")

    @classmethod
    def available(cls, user_id: int) -> AccountRef:
        return cls(AccountKind.AVAILABLE, user_id)

    @classmethod
    def locked(cls, user_id: int) -> AccountRef:
        return cls(AccountKind.LOCKED, user_id)

    @classmethod
    def platform(cls, kind: AccountKind) -> AccountRef:
        return cls(kind)

    def __str__(self) -> str:
        return self.code


class LedgerKind(StrEnum):
    """What a transaction did."""

    PURCHASE = "purchase"
    TRANSFER = "transfer"
    PAYMENT = "payment"
    LOCK = "lock"
    UNLOCK = "unlock"
    REWARD = "reward"
    STAKING_INTEREST = "staking_interest"
    REFERRAL = "referral"
    ADJUSTMENT = "adjustment"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One leg: ``amount`` minor units into ``account`` (negative: out of it)."""

    account: AccountRef
    amount: int


@dataclass(frozen=True, slots=True)
class LedgerDraft:
    """A transaction to post. Checked here, so nothing unbalanced ever reaches the database.

    ``request_hash`` fingerprints what the caller asked for (see :func:`request_fingerprint`): a
    repeated idempotency key with the same fingerprint returns the original transaction, with a
    different one it is refused.
    """

    kind: LedgerKind
    key: str
    request_hash: str
    entries: tuple[LedgerEntry, ...]
    memo: str | None = None
    reference: str | None = None
    actor_user_id: int | None = None

    def __post_init__(self) -> None:
        check_idempotency_key(self.key)
        if self.memo is not None and len(self.memo) > MAX_MEMO_LENGTH:
            raise ValidationError(f"at most {MAX_MEMO_LENGTH} characters", field="memo")
        if self.reference is not None and not 0 < len(self.reference) <= MAX_KEY_LENGTH:
            raise ValidationError(f"1 to {MAX_KEY_LENGTH} characters", field="reference")
        if len(self.entries) < 2:
            raise ValidationError("a transaction moves ELC between at least two accounts", field="entries")
        accounts = [entry.account for entry in self.entries]
        if len(set(accounts)) != len(accounts):
            raise ValidationError("each account appears at most once in a transaction", field="entries")
        if any(entry.amount == 0 or abs(entry.amount) > MAX_BALANCE for entry in self.entries):
            raise ValidationError("every entry moves a non-zero amount that fits in 64 bits", field="entries")
        if sum(entry.amount for entry in self.entries) != 0:
            raise ValidationError("the entries of a transaction must sum to zero", field="entries")


@dataclass(frozen=True, slots=True)
class LedgerTransaction:
    """A stored transaction, exactly as read back (:mod:`elcaro.services.ledger` verifies it, not this class)."""

    seq: int
    """Position in the chain, from 1, without gaps."""
    kind: LedgerKind | str
    key: str
    """The caller's idempotency key."""
    request_hash: str
    entries: tuple[LedgerEntry, ...]
    created_at: int
    prev_hash: str
    hash: str
    memo: str | None = None
    reference: str | None = None
    actor_user_id: int | None = None

    def amount_for(self, account: AccountRef) -> int:
        """The net amount this transaction moved into ``account`` (0 when it did not touch it)."""
        return sum(entry.amount for entry in self.entries if entry.account == account)

    def computed_hash(self) -> str:
        """The hash this transaction's content and its ``prev_hash`` give; equal to ``hash`` unless tampered."""
        return transaction_hash(
            self.prev_hash,
            seq=self.seq,
            kind=str(self.kind),
            key=self.key,
            request_hash=self.request_hash,
            entries=self.entries,
            created_at=self.created_at,
            memo=self.memo,
            reference=self.reference,
            actor_user_id=self.actor_user_id,
        )


def transaction_hash(
    prev_hash: str,
    *,
    seq: int,
    kind: str,
    key: str,
    request_hash: str,
    entries: Iterable[LedgerEntry],
    created_at: int,
    memo: str | None,
    reference: str | None,
    actor_user_id: int | None,
) -> str:
    """SHA-256 over the previous hash and the canonical content: sorted entries by account code,
    integer amounts, sorted JSON keys, no whitespace, UTF-8."""
    content = {
        "actor": actor_user_id,
        "created_at": created_at,
        "entries": sorted([entry.account.code, entry.amount] for entry in entries),
        "key": key,
        "kind": kind,
        "memo": memo,
        "reference": reference,
        "request": request_hash,
        "seq": seq,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def request_fingerprint(operation: str, parameters: Mapping[str, Any]) -> str:
    """SHA-256 of what a caller asked for (operation and JSON-able parameters), for idempotency checks."""
    canonical = json.dumps({"op": operation, **parameters}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH or key != key.strip():
        raise ValidationError(
            f"an idempotency key is 1 to {MAX_KEY_LENGTH} characters without surrounding spaces", field="key"
        )
    return key


@dataclass(frozen=True, slots=True)
class Balances:
    """A user's ELC in minor units."""

    available: int = 0
    locked: int = 0

    @property
    def total(self) -> int:
        return self.available + self.locked


class InsufficientBalanceError(ValidationError):
    """The movement would take an account that may not go negative below zero; nothing was written."""

    def __init__(self, account: AccountRef, balance: int, needed: int) -> None:
        super().__init__(
            f"insufficient balance in {account}: {format_elc(balance)} ELC, needs {format_elc(needed)} ELC",
            field="amount",
        )
        self.account = account
        self.balance = balance
        self.needed = needed


@dataclass(frozen=True, slots=True)
class LedgerProblem:
    """One thing :func:`verify` found wrong. ``seq`` and ``account`` say where, when it is about one place."""

    code: str
    """``missing_seq``, ``broken_link``, ``hash_mismatch``, ``unbalanced``, ``empty``, ``zero_entry``,
    ``head_mismatch``, ``cache_mismatch``, ``negative_balance``."""
    message: str
    seq: int | None = None
    account: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class LedgerReport:
    """What a full walk of the chain found. The first problem is the first broken link, in chain order."""

    transactions: int
    accounts: int
    head_seq: int
    head_hash: str
    problems: tuple[LedgerProblem, ...] = field(default=())
    problems_truncated: bool = False
    """More problems were found than the report keeps."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> LedgerProblem | None:
        return self.problems[0] if self.problems else None
