import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.comments.models import Comment
from api.main import create_app
from api.settings import Settings
from tests.factories import make_post, make_user


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"comment_rate_per_minute": 5})


@pytest.fixture
async def other_app_client(client: httpx.AsyncClient, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second app, as a second worker would be: same database, its own process state.

    `client` comes first so the schema is in place; this app never resets it.
    """
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def _not_at_window_end() -> None:
    # The limit counts per wall-clock minute: don't start a burst just before it rolls over.
    left = 60 - time.time() % 60
    if left < 5:
        await asyncio.sleep(left + 0.1)


async def test_limit_holds_across_two_app_instances(
    client: httpx.AsyncClient, other_app_client: httpx.AsyncClient, session: AsyncSession
) -> None:
    post = await make_post(session, author=await make_user(session))
    url = f"/api/v1/posts/{post.slug}/comments"
    await _not_at_window_end()
    for i in range(5):
        c = client if i % 2 == 0 else other_app_client
        r = await c.post(url, json={"content": f"comment {i}", "author_name": "Robin",
                                    "author_email": "robin@example.org"})
        assert r.status_code == 201, r.text
    for c in (client, other_app_client):
        r = await c.post(url, json={"content": "one more", "author_name": "Robin",
                                    "author_email": "robin@example.org"})
        assert r.status_code == 429
        assert r.headers["content-type"] == "application/problem+json"
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert "try again" in r.json()["detail"]
    stored = (await session.exec(select(Comment.content))).all()
    await session.commit()  # release the arranging session's write lock
    assert sorted(stored) == [f"comment {i}" for i in range(5)]
    # Another address has its own allowance; reading is never limited.
    transport = httpx.ASGITransport(app=client._transport.app, client=("203.0.113.9", 4000))  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere:
        r = await elsewhere.post(url, json={"content": "hello", "author_name": "Kim",
                                            "author_email": "kim@example.org"})
        assert r.status_code == 201
    for _ in range(10):
        assert (await client.get(url)).status_code == 200


async def test_invalid_requests_count_too(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    post = await make_post(session, author=await make_user(session))
    url = f"/api/v1/posts/{post.slug}/comments"
    await _not_at_window_end()
    for _ in range(5):
        assert (await client.post(url, json={"content": ""})).status_code == 422
    assert (await client.post(url, json={"content": "ok"})).status_code == 429
