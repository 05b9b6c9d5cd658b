"""Several real server processes sharing one database and one index folder."""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.db import create_engine, make_sessionmaker
from api.settings import Settings
from api.users.models import Role, User
from api.users.security import hash_password
from tests.conftest import reset_schema
from tests.factories import auth
from tests.servers import Server

pytestmark = pytest.mark.slow


async def _prepare(settings: Settings) -> User:
    await reset_schema(settings.database_url)
    engine = create_engine(settings)
    async with make_sessionmaker(engine, write=True)() as session:
        user = User(username="writer", display_name="Writer", email="w@example.com",
                    role=Role.editor, password_hash=hash_password("irrelevant-password"))
        session.add(user)
        await session.commit()
    await engine.dispose()
    return user


@pytest.fixture
def servers(settings: Settings, tmp_path: Path) -> Iterator[tuple[list[Server], User]]:
    user = asyncio.run(_prepare(settings))
    index_dir = tmp_path / "shared-index"
    group = [Server(settings.database_url, index_dir, tmp_path) for _ in range(2)]
    try:
        for server in group:
            server.start()
        yield group, user
    finally:
        for server in group:
            server.stop()


def _search_status(server: Server, timeout: float = 10.0) -> dict[str, Any]:
    """The server's search status once its index is open."""
    deadline = time.monotonic() + timeout
    while True:
        search = httpx.get(f"{server.url}/health", timeout=5).json().get("search", {})
        if search.get("status") == "ok" or time.monotonic() > deadline:
            return dict(search)
        time.sleep(0.05)


def _wait_found(url: str, q: str, title: str, timeout: float = 10.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        items = httpx.get(f"{url}/api/v1/search", params={"q": q}, timeout=5).json()["items"]
        if [i["post"]["title"] for i in items] == [title]:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{title!r} not searchable on {url} within {timeout}s")


def test_two_processes_share_one_index_and_survive_losing_the_indexer(
    servers: tuple[list[Server], User],
) -> None:
    (a, b), user = servers
    headers = auth(user)
    statuses = [_search_status(s) for s in (a, b)]
    assert sorted(s["indexer"] for s in statuses) == [False, True]  # exactly one indexer

    r = httpx.post(f"{a.url}/api/v1/posts", headers=headers, timeout=10,
                   json={"title": "Zucchini glut", "content": "Too many zucchini.", "status": "published"})
    assert r.status_code == 201
    for server in (a, b):
        _wait_found(server.url, "zucchini", "Zucchini glut")

    indexer, other = (a, b) if statuses[0]["indexer"] else (b, a)
    indexer.kill()
    r = httpx.post(f"{other.url}/api/v1/posts", headers=headers, timeout=10,
                   json={"title": "Quince jelly", "content": "Quince season.", "status": "published"})
    assert r.status_code == 201
    _wait_found(other.url, "quince", "Quince jelly", timeout=15)
    assert _search_status(other)["indexer"] is True
