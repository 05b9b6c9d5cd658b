"""Engine, sessions and column types shared by every domain."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from api.settings import Settings

# Stable constraint names keep Alembic's autogenerate diffs quiet on both databases.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores none of the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; busy_timeout makes writers from several
    # workers wait for the lock instead of failing with "database is locked".
    # The driver's own transaction handling is switched off: `_sqlite_begin` emits BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A write transaction takes the write lock up front (BEGIN IMMEDIATE). A deferred one that
    # read first and then writes after another worker committed fails at once with
    # SQLITE_BUSY, which busy_timeout cannot wait out.
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(settings: Settings, **kwargs: Any) -> AsyncEngine:
    url = settings.database_url
    if settings.is_sqlite:
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 15}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


def create_sync_reader(settings: Settings) -> sa.Engine | None:
    """SQLite only: a synchronous engine on the same database file, for short read-only
    queries made from a worker thread (the post summaries of search results, read on the
    search thread right after the search). Through aiosqlite the same query takes three hand-offs
    between the event loop and the driver's thread, ~1 ms each. None for other databases (and
    for an in-memory SQLite database, which a second engine would not share)."""
    if not settings.is_sqlite:
        return None
    url = sa.make_url(settings.database_url)
    if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
        return None
    engine = sa.create_engine(
        url.set(drivername="sqlite"), connect_args={"timeout": 15, "check_same_thread": False},
        pool_size=max(1, settings.search_threads), max_overflow=4,  # one per search thread
    )
    # Each statement is its own implicit transaction (autocommit): one snapshot per query.
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_sessionmaker(
    engine: AsyncEngine, *, write: bool = False
) -> async_sessionmaker[AsyncSession]:
    if write:
        engine = engine.execution_options(sqlite_immediate=True)
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: services flush, this commits."""
    state = request.app.state
    make_session = state.make_write_session if request.method in _WRITE_METHODS else state.make_session
    async with make_session() as session:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise
    # Change-log rows of this transaction are committed now: wake the indexer if it lives here,
    # and stop serving responses cached before the write.
    if request.method in _WRITE_METHODS:
        state = request.app.state
        if (versions := getattr(state, "content_version", None)) is not None:
            versions.wrote()
        if (search := getattr(state, "search", None)) is not None:
            search.notify()


# "function" scope: the commit happens before the response is sent, so a client never gets a
# 2xx for a write that then failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
