"""The anonymous response cache never serves what a write (on any worker) has changed."""

import asyncio
import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from api import caching
from api.db import utcnow
from api.feeds import service as feed_service
from api.feeds import sitemap
from api.posts import service as post_service
from api.posts.indexing import record_change
from api.posts.models import PostStatus
from api.settings import Settings
from tests.conftest import running_app
from tests.factories import auth, make_comment, make_post, make_user


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with the response cache on."""
    return settings.model_copy(update={"response_cache": True})


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def titles(client: httpx.AsyncClient, **headers: str) -> list[str]:
    r = await client.get("/api/v1/posts", headers=headers)
    assert r.status_code == 200
    return [p["title"] for p in r.json()["items"]]


async def test_a_hit_runs_no_query_and_keeps_etags(app: FastAPI, client: httpx.AsyncClient,
                                                  session: AsyncSession) -> None:
    ann = await make_user(session)
    await make_post(session, author=ann, title="Cached")
    await app.state.content_version.refresh()
    first = await client.get("/api/v1/posts")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    second = await client.get("/api/v1/posts")
    not_modified = await client.get("/api/v1/posts", headers={"If-None-Match": first.headers["ETag"]})
    event.remove(engine, "before_cursor_execute", count)
    assert second.content == first.content
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    # The hit's own time, not the first response's replayed beside it.
    assert second.headers["Server-Timing"].count("app;dur=") == 1
    assert not_modified.status_code == 304
    assert [s for s in statements if "search_change" not in s and "min(post.published_at)" not in s] == []


async def test_a_write_here_shows_at_once(client: httpx.AsyncClient, session: AsyncSession) -> None:
    ann = await make_user(session)
    post = await make_post(session, author=ann, title="Before")
    assert await titles(client) == ["Before"]
    assert await titles(client) == ["Before"]
    r = await client.patch(f"/api/v1/posts/{post.slug}", json={"title": "After"}, headers=auth(ann))
    assert r.status_code == 200
    assert await titles(client) == ["After"]


async def test_a_write_on_another_worker_shows_within_a_poll(
    settings: Settings, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session)
    post = await make_post(session, author=ann, title="Old title")
    assert await titles(client) == ["Old title"]
    async with running_app(settings) as other, _client(other) as other_client:
        r = await other_client.patch(f"/api/v1/posts/{post.slug}", json={"title": "New title"},
                                     headers=auth(ann))
        assert r.status_code == 200
    deadline = asyncio.get_running_loop().time() + 2
    while await titles(client) != ["New title"]:
        assert asyncio.get_running_loop().time() < deadline, "stale list served too long"
        await asyncio.sleep(settings.content_version_poll_seconds / 2)


async def test_signed_in_requests_bypass_the_cache(client: httpx.AsyncClient, session: AsyncSession) -> None:
    ann = await make_user(session)
    await make_post(session, author=ann, title="Public")
    await make_post(session, author=ann, title="Mine", status=PostStatus.draft)
    assert await titles(client) == ["Public"]
    r = await client.get("/api/v1/posts", params={"status": "draft"}, headers=auth(ann))
    assert [p["title"] for p in r.json()["items"]] == ["Mine"]


async def test_a_scheduled_post_appears_at_its_time_without_a_write(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = await make_user(session)
    due = utcnow() + timedelta(hours=1)
    await make_post(session, author=ann, title="Now")
    await make_post(session, author=ann, title="Soon", status=PostStatus.scheduled, published_at=due)
    await app.state.content_version.refresh()
    assert await titles(client) == ["Now"]
    assert await titles(client) == ["Now"]
    for module in (post_service, caching):
        monkeypatch.setattr(module, "utcnow", lambda: due)
    assert await titles(client) == ["Soon", "Now"]


async def test_if_modified_since_is_still_answered(client: httpx.AsyncClient, session: AsyncSession) -> None:
    ann = await make_user(session)
    await make_post(session, author=ann, title="Feed item")
    first = await client.get("/feed.xml")
    again = await client.get("/feed.xml")  # served from the cache
    assert again.content == first.content
    r = await client.get("/feed.xml", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert r.status_code == 304


async def hit_summaries(client: httpx.AsyncClient, q: str) -> list[dict[str, object]]:
    r = await client.get("/api/v1/search", params={"q": q})
    assert r.status_code == 200
    return [item["post"] for item in r.json()["items"]]


async def test_search_reuses_post_summaries_until_the_content_changes(
    settings: Settings, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session)
    post = await make_post(session, author=ann, title="Zephyr notes")
    await app.state.search.sync_now()
    await app.state.content_version.refresh()
    assert [p["title"] for p in await hit_summaries(client, "zephyr")] == ["Zephyr notes"]

    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    again = await hit_summaries(client, "zephyr notes")  # another query, the same post
    event.remove(engine, "before_cursor_execute", count)
    assert [p["title"] for p in again] == ["Zephyr notes"]
    # The content version's own poll (every 100 ms, in the background) may run meanwhile.
    polls = ("min(post.published_at)", "max(search_change.seq)")
    reads = [s for s in statements if not any(p in s for p in polls)]
    assert not [s for s in reads if "FROM post" in s or "FROM comment" in s]

    # A comment approved on another worker (a row and its change-log entry) shows in the
    # summary's count within a poll.
    await make_comment(session, post=post)
    assert post.id is not None
    await record_change(session, post.id)
    await session.commit()
    deadline = asyncio.get_running_loop().time() + 2
    while (await hit_summaries(client, "zephyr"))[0]["comment_count"] != 1:
        assert asyncio.get_running_loop().time() < deadline, "stale summary served too long"
        await asyncio.sleep(settings.content_version_poll_seconds / 2)

    # A post unpublished behind the index's back is never shown from the cache.
    post.status = PostStatus.draft
    session.add(post)
    await record_change(session, post.id)
    await session.commit()
    deadline = asyncio.get_running_loop().time() + 2
    while await hit_summaries(client, "zephyr"):
        assert asyncio.get_running_loop().time() < deadline, "unpublished post still served"
        await asyncio.sleep(settings.content_version_poll_seconds / 2)


async def test_a_split_sitemap_is_built_once_per_version_off_the_event_loop(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The index and the pages of a split sitemap share one build per content version (a page
    of 50,000 URLs is too large for the response cache, and each used to read every public
    post again). On SQLite the build runs on a worker thread through the synchronous reader,
    on PostgreSQL through the request's session. A write makes the next request rebuild it."""
    ann = await make_user(session, username="ann")
    posts = [await make_post(session, author=ann, title=f"Post {n}") for n in range(4)]
    await app.state.content_version.refresh()
    monkeypatch.setattr(sitemap, "URLS_PER_SITEMAP", 3)
    builds: list[bool] = []  # whether each build ran on the event loop's thread
    real = feed_service.sitemap_urls_sync

    def spy(*args: Any) -> Any:
        builds.append(threading.current_thread() is threading.main_thread())
        return real(*args)

    monkeypatch.setattr(feed_service, "sitemap_urls_sync", spy)
    index = await client.get("/sitemap.xml")
    assert index.status_code == 200 and b"<sitemapindex" in index.content
    pages = [await client.get(f"/sitemaps/{n}.xml") for n in (1, 2)]
    assert all(r.status_code == 200 for r in pages)
    assert sum(r.content.count(b"<url>") for r in pages) == 6  # home, ann, four posts
    assert builds == [backend != "sqlite"]

    r = await client.patch(f"/api/v1/posts/{posts[0].slug}", json={"slug": "renamed"},
                           headers=auth(ann))
    assert r.status_code == 200
    # Until the version poll has seen the write, nothing read is kept.
    await app.state.content_version.refresh()
    pages = [await client.get(f"/sitemaps/{n}.xml") for n in (1, 2)]
    assert b"/posts/renamed<" in b"".join(r.content for r in pages)
    assert len(builds) == 2
