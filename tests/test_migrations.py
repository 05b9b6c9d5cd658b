"""Migrations are the only way the schema is made: they must build it and match the models."""

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import api.tables  # noqa: F401
from api.db import metadata
from api.migrate import alembic_config, upgrade


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _check(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff)
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"
    assert set(metadata.tables) <= tables


def test_sqlite_upgrade_matches_models(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    asyncio.run(_check(url))


def test_sqlite_downgrade_is_reversible(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    upgrade(url)
    asyncio.run(_check(url))


@pytest.mark.postgres
def test_postgres_upgrade_matches_models(postgres_url: str) -> None:
    asyncio.run(_check(postgres_url))


def test_comment_counts_start_from_the_posts_top_level_comments(tmp_path: Path) -> None:
    """The comment counts of a page of posts (search, related, lists) look up those posts'
    approved top-level comments by index, not every top-level comment of the blog."""
    import sqlalchemy as sa

    from api.posts.service import _summaries_query

    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    sent: list[tuple[str, object]] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda conn, cursor, sql, params, *_: sent.append((sql, params)))
    try:
        with engine.connect() as conn:
            conn.execute(*_summaries_query([1, 2, 3])).all()
            sql, params = sent[-1]
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            plan = cursor.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    finally:
        engine.dispose()
    steps = [str(row[-1]) for row in plan]
    seed = next(step for step in steps if step.startswith("SEARCH comment "))
    assert "ix_comment_post_id_parent_id_status" in seed, steps  # then replies by parent_id
