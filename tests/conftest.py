"""Fixtures: every API test runs on SQLite and, when configured, on PostgreSQL.

PostgreSQL comes from `INKWELL_TEST_DATABASE_URL` (or the local default when `CI=true`). Each
test session, and so each xdist worker (`-n auto` in pyproject.toml), creates its own throwaway
database there and migrates it once with Alembic; each test starts from empty tables.
With `CI=true` an unreachable PostgreSQL fails the tests.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

import api.tables  # noqa: F401
from api.db import metadata
from api.main import create_app
from api.migrate import upgrade
from api.settings import Settings

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_URL = os.environ.get("INKWELL_TEST_DATABASE_URL") or (
    "postgresql+asyncpg://postgres@127.0.0.1:5432/test" if CI else ""
)
TEST_SECRET = "inkwell-test-secret-key-0123456789"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests (real servers, crashes, fuzzing) first, so that `-n auto` workers end together.

    With them last, one worker was left running a 30-second test alone at the end of the suite.
    """
    items.sort(key=lambda item: "tests/reliability/" not in item.nodeid)


async def _admin_execute(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set INKWELL_TEST_DATABASE_URL to run these tests")
    name = f"inkwell_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin_execute(PG_URL, f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if CI:
            pytest.fail(f"PostgreSQL at {PG_URL} is unreachable in CI: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL} is unreachable: {exc}")
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    asyncio.run(_admin_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite+aiosqlite:///{tmp_path / 'inkwell.db'}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        index_dir=tmp_path / "index",
        secret_key=TEST_SECRET,
        site_url="http://blog.example",
        cors_origins=["http://frontend.example"],
        indexer_poll_seconds=0.05,
        # Tests arrange rows straight in the database, as another worker would, and expect the
        # next request to see them; the cache only promises that within one version poll.
        # tests/api/test_caching.py turns it on; the real-server tests run with it on.
        response_cache=False,
        # In-process API tests write the index on a thread: a writer child per app costs
        # ~0.1 s a test. The child is tested by tests/search/test_writer_process.py,
        # TestIndexLifecycle in tests/api/searching/test_router.py, and every test that
        # starts real servers (tests/servers.py: the default, a child per indexing worker).
        index_writer_process=False,
    )


async def reset_schema(database_url: str) -> None:
    """Empty tables: truncated on PostgreSQL (migrated once), created on a new SQLite file."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
                await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            else:
                await conn.run_sync(metadata.create_all)
    finally:
        await engine.dispose()


@asynccontextmanager
async def running_app(settings: Settings, **overrides: object) -> AsyncIterator[FastAPI]:
    """An app with its lifespan started; `overrides` change settings for this one only."""
    application = create_app(settings.model_copy(update=overrides) if overrides else settings)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        yield application


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    await reset_schema(settings.database_url)
    async with running_app(settings) as application:
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def session(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session for arranging data; factories commit through it."""
    async with app.state.make_write_session() as s:
        yield s
