"""ELC ledger: accounts, hash-chained transactions and their entries, cached balances, the chain head,
user wallets, platform secrets (the wallet seed, encrypted) and referral rewards.

Amounts are integer minor units (BIGINT). Types are spelt out here rather than imported from
``elcaro.storage.orm``, as in 0001.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NO_ID_REUSE = {"sqlite_autoincrement": True}


def _fk(
    table: str, column: str, target: str, target_column: str = "id", ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{target_column}"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        # No ON DELETE: the journal outlives nothing it refers to.
        _fk("ledger_accounts", "user_id", "users"),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_accounts_code")),
        **NO_ID_REUSE,
    )
    op.create_index(op.f("ix_ledger_accounts_user_id"), "ledger_accounts", ["user_id"])

    # The sequence number is assigned by the writer holding the chain head, never by the database, so
    # it has no gaps and orders the chain.
    op.create_table(
        "ledger_transactions",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("actor_user_id", ID, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_transactions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_transactions_idempotency_key")),
    )
    op.create_index(op.f("ix_ledger_transactions_reference"), "ledger_transactions", ["reference"])
    op.create_index(op.f("ix_ledger_transactions_kind_created_at"), "ledger_transactions", ["kind", "created_at"])

    op.create_table(
        "ledger_entries",
        sa.Column("id", ID, nullable=False),
        sa.Column("transaction_seq", sa.BigInteger(), nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        _fk("ledger_entries", "transaction_seq", "ledger_transactions", "seq"),
        _fk("ledger_entries", "account_id", "ledger_accounts"),
        **NO_ID_REUSE,
    )
    op.create_index(op.f("ix_ledger_entries_transaction_seq"), "ledger_entries", ["transaction_seq"])
    op.create_index(
        op.f("ix_ledger_entries_account_id_transaction_seq"), "ledger_entries", ["account_id", "transaction_seq"]
    )

    op.create_table(
        "ledger_balances",
        sa.Column("account_id", ID, nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_ledger_balances")),
        _fk("ledger_balances", "account_id", "ledger_accounts"),
    )

    # One row (id 1): every append locks it, which serialises the chain and every balance change.
    op.create_table(
        "ledger_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_chain_head")),
    )

    op.create_table(
        "wallets",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("derivation_index", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_wallets")),
        _fk("wallets", "user_id", "users", ondelete="CASCADE"),
        sa.UniqueConstraint("address", name=op.f("uq_wallets_address")),
        sa.UniqueConstraint("derivation_index", name=op.f("uq_wallets_derivation_index")),
    )

    op.create_table(
        "platform_secrets",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_platform_secrets")),
    )

    op.create_table(
        "referral_rewards",
        sa.Column("id", ID, nullable=False),
        sa.Column("referrer_id", ID, nullable=False),
        sa.Column("referee_id", ID, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("transaction_seq", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_rewards")),
        _fk("referral_rewards", "referrer_id", "users"),
        _fk("referral_rewards", "referee_id", "users"),
        _fk("referral_rewards", "transaction_seq", "ledger_transactions", "seq"),
        sa.UniqueConstraint("transaction_seq", name=op.f("uq_referral_rewards_transaction_seq")),
        **NO_ID_REUSE,
    )
    op.create_index(
        op.f("ix_referral_rewards_referrer_id_created_at"), "referral_rewards", ["referrer_id", "created_at"]
    )


def downgrade() -> None:
    # Children first; dropping a table drops its indexes with it.
    for table in (
        "referral_rewards",
        "platform_secrets",
        "wallets",
        "ledger_chain_head",
        "ledger_balances",
        "ledger_entries",
        "ledger_transactions",
        "ledger_accounts",
    ):
        op.drop_table(table)
