"""Licences and payments: licences, the trial register, expiry warnings sent, promo codes and their
redemptions, payments and their status history.

Types are spelt out here rather than imported from ``elcaro.storage.orm``, as in 0001.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MONEY = sa.Numeric(38, 18).with_variant(sa.Text(), "sqlite")
NO_ID_REUSE = {"sqlite_autoincrement": True}


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "licences",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("starts_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licences")),
        _fk("licences", "user_id", "users"),
        **NO_ID_REUSE,
    )
    op.create_index(op.f("ix_licences_user_id_expires_at"), "licences", ["user_id", "expires_at"])
    op.create_index(op.f("ix_licences_expires_at"), "licences", ["expires_at"])

    op.create_table(
        "licence_trials",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("licence_id", ID, nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_licence_trials")),
        _fk("licence_trials", "user_id", "users"),
        _fk("licence_trials", "licence_id", "licences"),
    )

    op.create_table(
        "licence_warnings",
        sa.Column("licence_id", ID, nullable=False),
        sa.Column("threshold_days", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("licence_id", "threshold_days", "expires_at", name=op.f("pk_licence_warnings")),
        _fk("licence_warnings", "licence_id", "licences"),
    )

    op.create_table(
        "promo_codes",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=True),
        sa.Column("created_by", ID, nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promo_codes")),
        _fk("promo_codes", "created_by", "users", "SET NULL"),
        sa.UniqueConstraint("code", name=op.f("uq_promo_codes_code")),
        **NO_ID_REUSE,
    )

    op.create_table(
        "promo_redemptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("promo_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("licence_id", ID, nullable=False),
        sa.Column("redeemed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promo_redemptions")),
        _fk("promo_redemptions", "promo_id", "promo_codes"),
        _fk("promo_redemptions", "user_id", "users"),
        _fk("promo_redemptions", "licence_id", "licences"),
        sa.UniqueConstraint("promo_id", "user_id", name=op.f("uq_promo_redemptions_promo_id_user_id")),
        **NO_ID_REUSE,
    )
    op.create_index(op.f("ix_promo_redemptions_user_id"), "promo_redemptions", ["user_id"])

    op.create_table(
        "payments",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("licence_id", ID, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        _fk("payments", "user_id", "users"),
        _fk("payments", "licence_id", "licences"),
        # NULLs never clash: payments without a provider id or a key are not held to these.
        sa.UniqueConstraint("method", "external_id", name=op.f("uq_payments_method_external_id")),
        sa.UniqueConstraint("method", "idempotency_key", name=op.f("uq_payments_method_idempotency_key")),
        **NO_ID_REUSE,
    )
    op.create_index(op.f("ix_payments_user_id_created_at"), "payments", ["user_id", "created_at"])
    op.create_index(op.f("ix_payments_status"), "payments", ["status"])

    op.create_table(
        "payment_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("payment_id", ID, nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor_user_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        _fk("payment_events", "payment_id", "payments"),
        **NO_ID_REUSE,
    )
    op.create_index(op.f("ix_payment_events_payment_id"), "payment_events", ["payment_id"])


def downgrade() -> None:
    # Dependants first; dropping a table drops its indexes with it.
    for table in (
        "payment_events",
        "payments",
        "promo_redemptions",
        "promo_codes",
        "licence_warnings",
        "licence_trials",
        "licences",
    ):
        op.drop_table(table)
