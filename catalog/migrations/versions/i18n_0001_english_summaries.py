"""English for what visitors read in English: a title's summary and an audio book's title.

Empty (the server default, so rows from before this revision need no backfill) means "show the Chinese".

Revision ID: i18n_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i18n_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("titles") as batch:
        batch.add_column(sa.Column("summary_en", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("audio_books") as batch:
        batch.add_column(sa.Column("title_en", sa.String(length=300), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("audio_books") as batch:
        batch.drop_column("title_en")
    with op.batch_alter_table("titles") as batch:
        batch.drop_column("summary_en")
