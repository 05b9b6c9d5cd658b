"""index posts by publication date

Revision ID: 0985a75d0f89
Revises: fd3345ba24b5
Create Date: 2026-11-26 02:29:27.696791
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0985a75d0f89'
down_revision: str | None = 'fd3345ba24b5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_status_published_at'))
        batch_op.create_index('ix_post_published_at_status', ['published_at', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_index('ix_post_published_at_status')
        batch_op.create_index(batch_op.f('ix_post_status_published_at'), ['status', 'published_at'], unique=False)

