"""offline journal replay: idempotence ledger and circulation exceptions

Revision ID: offline_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "offline_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offline_actions",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_offline_actions")),
    )
    op.create_index(op.f("ix_offline_actions_kiosk_id"), "offline_actions", ["kiosk_id"])
    op.create_table(
        "circulation_exceptions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circulation_exceptions")),
        sa.UniqueConstraint("uuid", name=op.f("uq_circulation_exceptions_uuid")),
    )
    op.create_index("ix_circulation_exceptions_open", "circulation_exceptions", ["resolved_at", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_circulation_exceptions_open", table_name="circulation_exceptions")
    op.drop_table("circulation_exceptions")
    op.drop_index(op.f("ix_offline_actions_kiosk_id"), table_name="offline_actions")
    op.drop_table("offline_actions")
