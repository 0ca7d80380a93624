"""foot traffic: raw samples, device state, rollups, gaps, occupancy

Revision ID: traffic_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "traffic_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "traffic_samples",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("device_time", sa.DateTime(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("total_in", sa.BigInteger(), nullable=False),
        sa.Column("total_out", sa.BigInteger(), nullable=False),
        sa.Column("delta_in", sa.Integer(), nullable=False),
        sa.Column("delta_out", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("flags", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_traffic_samples_branch_id_branches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_samples")),
    )
    op.create_index("ix_traffic_samples_branch_at", "traffic_samples", ["branch_id", "at"])
    op.create_table(
        "traffic_device_state",
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("last_in", sa.BigInteger(), nullable=False),
        sa.Column("last_out", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_traffic_device_state_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint("branch_id", "device", name=op.f("pk_traffic_device_state")),
    )
    op.create_table(
        "traffic_rollups",
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("bucket_start", sa.DateTime(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("visits_in", sa.Float(), nullable=False),
        sa.Column("visits_out", sa.Float(), nullable=False),
        sa.Column("covered_slots", sa.Integer(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_traffic_rollups_branch_id_branches")),
        sa.PrimaryKeyConstraint("branch_id", "grain", "bucket_start", name=op.f("pk_traffic_rollups")),
    )
    op.create_index("ix_traffic_rollups_grain_date", "traffic_rollups", ["grain", "local_date", "branch_id"])
    op.create_table(
        "traffic_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.Column("delta_in", sa.Float(), nullable=False),
        sa.Column("delta_out", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_traffic_gaps_branch_id_branches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_gaps")),
    )
    op.create_index("ix_traffic_gaps_branch_end", "traffic_gaps", ["branch_id", "ended_at"])
    op.create_table(
        "traffic_occupancy",
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_movement_at", sa.DateTime(), nullable=False),
        sa.Column("recalibrated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_traffic_occupancy_branch_id_branches")),
        sa.PrimaryKeyConstraint("branch_id", name=op.f("pk_traffic_occupancy")),
    )


def downgrade() -> None:
    op.drop_table("traffic_occupancy")
    op.drop_index("ix_traffic_gaps_branch_end", table_name="traffic_gaps")
    op.drop_table("traffic_gaps")
    op.drop_index("ix_traffic_rollups_grain_date", table_name="traffic_rollups")
    op.drop_table("traffic_rollups")
    op.drop_table("traffic_device_state")
    op.drop_index("ix_traffic_samples_branch_at", table_name="traffic_samples")
    op.drop_table("traffic_samples")
