"""comment ids are never reused (SQLite AUTOINCREMENT)

Revision ID: 6c1d2e9a7b40
Revises: 0985a75d0f89
Create Date: 2026-11-26 04:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = "6c1d2e9a7b40"
down_revision: str | None = "0985a75d0f89"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recreate(autoincrement: bool) -> None:
    # Only SQLite reuses the highest deleted rowid; PostgreSQL sequences never go back.
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "comment", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
