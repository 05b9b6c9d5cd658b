"""Saved-search feeds: `/search/feed.xml?q=...` with the filters of `/api/v1/search`."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, update
from sqlmodel.ext.asyncio.session import AsyncSession

from api.db import utcnow
from api.posts.models import Post, PostStatus
from search import SearchQuery
from tests.api.feeds.parsing import parse
from tests.factories import make_post, make_user

SITE = "http://blog.example"


async def arrange(app: FastAPI, session: AsyncSession) -> None:
    ann = await make_user(session, username="ann", display_name="Ann")
    bob = await make_user(session, username="bob", display_name="Bob")
    now = utcnow()
    await make_post(session, author=ann, title="Massage after a marathon", tags=["Running"],
                    content="Does a sports massage help sore muscles?",
                    published_at=now - timedelta(days=30))
    await make_post(session, author=bob, title="A massage chair review", tags=["Home"],
                    content="The chair's massage settings, tested.",
                    published_at=now - timedelta(days=2))
    await make_post(session, author=ann, title="Massage oils compared", tags=["Running", "Home"],
                    content="Massage, massage, massage: every oil we tried.",
                    published_at=now - timedelta(days=10))
    await make_post(session, author=ann, title="Sourdough", content="Bread, not massage at all.")
    await make_post(session, author=ann, title="Massage draft", content="massage",
                    status=PostStatus.draft)
    await make_post(session, author=bob, title="Massage tomorrow", content="massage",
                    status=PostStatus.scheduled, published_at=now + timedelta(days=1))
    await app.state.search.sync_now()


class TestSearchFeed:
    @pytest.mark.parametrize(
        ("filename", "media_type"),
        [("feed.xml", "application/rss+xml"), ("atom.xml", "application/atom+xml")],
    )
    async def test_newest_matching_public_posts_first(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession,
        filename: str, media_type: str,
    ) -> None:
        await arrange(app, session)
        feed = parse(await client.get(f"/search/{filename}", params={"q": "massage"}), media_type)
        # Newest first (not by relevance: the oils post scores highest); no draft, nothing early.
        assert [e.title for e in feed.entries] == [
            "Sourdough", "A massage chair review", "Massage oils compared", "Massage after a marathon",
        ]
        assert "massage" in feed.feed.title
        assert feed.feed.link == f"{SITE}/search?q=massage"
        assert feed.entries[1].link == f"{SITE}/posts/a-massage-chair-review"
        assert feed.entries[1].author == "Bob"

    async def test_json_feed(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await arrange(app, session)
        r = await client.get("/search/feed.json", params={"q": "massage", "author": "bob"})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/feed+json")
        body = r.json()
        assert [item["title"] for item in body["items"]] == ["A massage chair review"]
        assert body["feed_url"] == f"{SITE}/search/feed.json?q=massage&author=bob"

    async def test_the_filters_of_search(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await arrange(app, session)

        async def titles(**params: Any) -> list[str]:
            feed = parse(await client.get("/search/feed.xml", params=params), "application/rss+xml")
            return [e.title for e in feed.entries]

        assert await titles(q="massage", tag="running") == [
            "Massage oils compared", "Massage after a marathon"]
        assert await titles(q="massage", tag=["running", "home"]) == ["Massage oils compared"]
        assert await titles(q="massage", author="ann", tag="home") == ["Massage oils compared"]
        week_ago = (utcnow() - timedelta(days=7)).date().isoformat()
        assert await titles(q="massage", after=week_ago) == ["Sourdough", "A massage chair review"]
        assert await titles(q="massage", before=week_ago) == [
            "Massage oils compared", "Massage after a marathon"]
        assert await titles(q="nothing-matches-this") == []

    async def test_the_database_has_the_last_word(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await arrange(app, session)
        # Unpublished behind the change log's back: the index still holds the post.
        await session.exec(
            update(Post).where(col(Post.slug) == "sourdough").values(status=PostStatus.draft)
        )
        await session.commit()
        indexed = await app.state.search.read(lambda index: index.search(SearchQuery(q="sourdough")))
        assert indexed.total == 1
        feed = parse(await client.get("/search/feed.xml", params={"q": "massage"}),
                     "application/rss+xml")
        assert "Sourdough" not in [e.title for e in feed.entries]

    async def test_control_characters_in_the_query_keep_the_feed_valid(
        self, client: httpx.AsyncClient
    ) -> None:
        feed = parse(await client.get("/search/feed.xml", params={"q": "bell\x07 \x1fesc"}),
                     "application/rss+xml")
        assert feed.feed.title == "Inkwell: search for “bell esc”"
        # A NUL byte anywhere in a URL is refused outright.
        r = await client.get("/search/feed.xml", params={"q": "bell\x00"})
        assert r.status_code == 400

    async def test_invalid_filters_are_a_422_problem(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/search/feed.xml", params={"q": "x", "after": "yesterday"})
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"

    async def test_conditional_get(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await arrange(app, session)
        first = await client.get("/search/feed.xml", params={"q": "massage"})
        again = await client.get("/search/feed.xml", params={"q": "massage"},
                                 headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304
