"""Optional fines on loans (zero unless a branch sets a daily rate).

Revision ID: circ_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "circ_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.add_column(sa.Column("fine_cents", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("fine_settled_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("fine_settled_at")
        batch.drop_column("fine_cents")
