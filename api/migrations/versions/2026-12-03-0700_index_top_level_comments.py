"""Index comments by post, parent and status

The visible comments of a set of posts start from their approved top-level comments
(`post_id IN (...) AND parent_id IS NULL AND status = 'approved'`). Without statistics,
SQLite answered that from the single-column parent_id index: every top-level comment of the
blog, then filtered. With 300,000 comments the post summaries of one search page (their
comment counts) took 77 ms instead of 1.4 ms.

Revision ID: 3b7e1f0c9d52
Revises: 6c1d2e9a7b40
Create Date: 2026-12-03 07:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = "3b7e1f0c9d52"
down_revision: str | None = "6c1d2e9a7b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("comment") as batch_op:
        batch_op.create_index(
            "ix_comment_post_id_parent_id_status", ["post_id", "parent_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("comment") as batch_op:
        batch_op.drop_index("ix_comment_post_id_parent_id_status")
