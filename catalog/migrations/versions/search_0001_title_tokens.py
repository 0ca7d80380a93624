"""search index: title_tokens (Chinese grams, pinyin prefixes, identifiers)

Revision ID: search_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "search_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    token_type = sa.String(32, collation="C") if bind.dialect.name == "postgresql" else sa.String(32)
    op.create_table(
        "title_tokens",
        sa.Column("token", token_type, nullable=False),
        sa.Column("title_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(["title_id"], ["titles.id"], name=op.f("fk_title_tokens_title_id_titles"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token", "title_id", "field", name=op.f("pk_title_tokens")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_title_tokens_title_id", "title_tokens", ["title_id"])


def downgrade() -> None:
    op.drop_index("ix_title_tokens_title_id", table_name="title_tokens")
    op.drop_table("title_tokens")
