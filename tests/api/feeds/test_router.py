from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from api import caching
from api.comments.models import CommentStatus
from api.db import utcnow
from api.posts import service as post_service
from api.posts.models import PostStatus
from api.posts.schemas import PostUpdate
from api.settings import Settings
from tests.api.feeds.parsing import parse
from tests.conftest import running_app
from tests.factories import make_comment, make_post, make_user

SITE = "http://blog.example"
FEEDS = {"feed.xml": "application/rss+xml", "atom.xml": "application/atom+xml"}
CONTENT = "Hello **world**, with [a link](https://example.org).\n\n<script>alert(1)</script>"


async def assert_problem_404(client: httpx.AsyncClient, path: str) -> None:
    r = await client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 404


class TestSiteFeeds:
    @pytest.mark.parametrize(("filename", "media_type"), FEEDS.items())
    async def test_rss_and_atom(
        self, client: httpx.AsyncClient, session: AsyncSession, filename: str, media_type: str
    ) -> None:
        ann = await make_user(session, username="ann", display_name="Ann Author")
        await make_post(
            session,
            author=ann,
            title="Older",
            tags=["Travel", "Pets"],
            content=CONTENT,
            published_at=utcnow() - timedelta(days=1),
        )
        await make_post(session, author=ann, title="Newer", tags=["Food"])
        await make_post(session, author=ann, title="Draft", status=PostStatus.draft)
        feed = parse(await client.get(f"/{filename}"), media_type)
        assert feed.feed.title == "Inkwell"
        assert feed.feed.link == f"{SITE}/"
        assert [e.title for e in feed.entries] == ["Newer", "Older"]
        older = feed.entries[1]
        assert older.link == f"{SITE}/posts/older"
        assert older.author == "Ann Author"
        # Atom: term = slug, label = name; RSS has only the name. The scheme leads to tag pages.
        categories = sorted((t.term, t.get("label"), t.scheme) for t in older.tags)
        if filename == "atom.xml":
            assert categories == [
                ("pets", "Pets", f"{SITE}/tags/"),
                ("travel", "Travel", f"{SITE}/tags/"),
            ]
        else:
            assert categories == [
                ("Pets", None, f"{SITE}/tags/"),
                ("Travel", None, f"{SITE}/tags/"),
            ]
        html = older.content[0].value
        assert "<strong>world</strong>" in html
        assert 'href="https://example.org"' in html
        assert "<script" not in html
        assert older.id.startswith("tag:blog.example,")
        assert older.published_parsed is not None
        self_links = [link.href for link in feed.feed.links if link.rel == "self"]
        assert self_links == [f"{SITE}/{filename}"]

    async def test_json_feed(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        ann = await make_user(session, username="ann", display_name="Ann Author")
        await make_post(session, author=ann, title="Post", tags=["Travel"], content=CONTENT)
        await make_post(session, author=ann, title="Draft", status=PostStatus.draft)
        r = await client.get("/feed.json")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/feed+json")
        doc = r.json()
        assert doc["version"] == "https://jsonfeed.org/version/1.1"
        assert doc["title"] == "Inkwell"
        assert doc["home_page_url"] == f"{SITE}/"
        assert doc["feed_url"] == f"{SITE}/feed.json"
        [item] = doc["items"]
        assert {"id", "url", "content_html"} <= item.keys()
        assert item["url"] == f"{SITE}/posts/post"
        assert "<strong>world</strong>" in item["content_html"]
        assert item["authors"] == [{"name": "Ann Author", "url": f"{SITE}/authors/ann"}]
        assert item["tags"] == ["Travel"]
        assert item["date_published"].endswith("+00:00")

    async def test_newest_twenty(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        ann = await make_user(session)
        base = utcnow() - timedelta(days=30)
        for i in range(22):
            await make_post(
                session, author=ann, title=f"Post {i:02d}", published_at=base + timedelta(days=i)
            )
        feed = parse(await client.get("/feed.xml"), "application/rss+xml")
        assert [e.title for e in feed.entries] == [f"Post {i:02d}" for i in range(21, 1, -1)]

    async def test_empty_feeds_are_valid(self, client: httpx.AsyncClient) -> None:
        for filename, media_type in FEEDS.items():
            assert parse(await client.get(f"/{filename}"), media_type).entries == []
        assert (await client.get("/feed.json")).json()["items"] == []

    async def test_scheduled_post_appears_exactly_at_its_time(
        self, client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ann = await make_user(session)
        due = utcnow() - timedelta(seconds=2)
        later = utcnow() + timedelta(hours=1)
        await make_post(
            session, author=ann, title="Due", status=PostStatus.scheduled, published_at=due
        )
        await make_post(
            session, author=ann, title="Later", status=PostStatus.scheduled, published_at=later
        )
        await make_post(
            session, author=ann, title="Draft", status=PostStatus.draft, published_at=due
        )

        async def titles() -> list[str]:
            return [
                e.title
                for e in parse(await client.get("/atom.xml"), "application/atom+xml").entries
            ]

        assert await titles() == ["Due"]
        # The clock moves for the queries and for the response cache alike.
        monkeypatch.setattr(post_service, "utcnow", lambda: later - timedelta(microseconds=1))
        monkeypatch.setattr(caching, "utcnow", lambda: later - timedelta(microseconds=1))
        assert await titles() == ["Due"]
        monkeypatch.setattr(post_service, "utcnow", lambda: later)
        monkeypatch.setattr(caching, "utcnow", lambda: later)
        r = await client.get("/atom.xml")
        assert [e.title for e in parse(r, "application/atom+xml").entries] == ["Later", "Due"]
        # The feed changed when the post came due, after its last edit.
        assert parsedate_to_datetime(r.headers["Last-Modified"]) == later.replace(microsecond=0)

    async def test_constant_number_of_queries(
        self, settings: Settings, session: AsyncSession
    ) -> None:
        author = await make_user(session)
        counts = []
        # A second app whose indexer sleeps, so only the request's own queries are counted.
        async with (
            running_app(settings, indexer_poll_seconds=3600, response_cache=False) as app,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t"
            ) as client,
        ):
            for n in (1, 5):
                for i in range(n):
                    await make_post(session, author=author, tags=[f"t{i}", "common"])
                counts.append(await _count_queries(app, client, "/tags/common/feed.xml"))
        assert counts[0] == counts[1] <= 6


async def _count_queries(app: FastAPI, client: httpx.AsyncClient, path: str) -> int:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert (await client.get(path)).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len([s for s in statements if not s.startswith(("BEGIN", "ROLLBACK", "COMMIT"))])


class TestScopedFeeds:
    async def test_tag_feed(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        ann = await make_user(session)
        await make_post(session, author=ann, title="Tagged", tags=["Travel"])
        await make_post(session, author=ann, title="Other", tags=["Food"])
        await make_post(
            session, author=ann, title="Tagged draft", tags=["Travel"], status=PostStatus.draft
        )
        feed = parse(await client.get("/tags/travel/feed.xml"), "application/rss+xml")
        assert [e.title for e in feed.entries] == ["Tagged"]
        assert feed.feed.link == f"{SITE}/tags/travel"
        assert "Travel" in feed.feed.title
        atom = parse(await client.get("/tags/travel/atom.xml"), "application/atom+xml")
        assert [e.title for e in atom.entries] == ["Tagged"]
        items = (await client.get("/tags/travel/feed.json")).json()["items"]
        assert [item["title"] for item in items] == ["Tagged"]

    async def test_author_feed(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        ann = await make_user(session, username="ann", display_name="Ann")
        bob = await make_user(session, username="bob")
        await make_post(session, author=ann, title="By Ann")
        await make_post(session, author=bob, title="By Bob")
        feed = parse(await client.get("/authors/ann/feed.xml"), "application/rss+xml")
        assert [e.title for e in feed.entries] == ["By Ann"]
        assert feed.feed.link == f"{SITE}/authors/ann"
        assert feed.entries[0].author == "Ann"

    async def test_comment_feed(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        ann = await make_user(session)
        post = await make_post(session, author=ann, title="Talked about", slug="talked-about")
        other = await make_post(session, author=ann, title="Elsewhere")
        first = await make_comment(
            session,
            post=post,
            author_name="Kim",
            author_email="kim@secret.example",
            content="First *words*",
        )
        await make_comment(
            session,
            post=post,
            parent=first,
            author_name="Lee",
            author_email="lee@secret.example",
            author_url="https://lee.example",
        )
        await make_comment(session, post=post, status=CommentStatus.pending, author_name="Pending")
        await make_comment(session, post=post, status=CommentStatus.spam, author_name="Spammer")
        await make_comment(session, post=other, author_name="Elsewhere")
        for filename, media_type in FEEDS.items():
            r = await client.get(f"/posts/talked-about/comments/{filename}")
            feed = parse(r, media_type)
            assert sorted(e.author for e in feed.entries) == ["Kim", "Lee"]
            assert b"secret.example" not in r.content
            kim = next(e for e in feed.entries if e.author == "Kim")
            assert kim.link == f"{SITE}/posts/talked-about#comment-{first.id}"
            assert "<em>words</em>" in kim.content[0].value
            assert feed.feed.link == f"{SITE}/posts/talked-about"
        r = await client.get("/posts/talked-about/comments/feed.json")
        assert b"secret.example" not in r.content
        authors = sorted(item["authors"][0]["name"] for item in r.json()["items"])
        assert authors == ["Kim", "Lee"]

    async def test_renamed_post_moves_its_comment_feed(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session)
        post = await make_post(session, author=ann, title="Old name", slug="old-name")
        await post_service.update_post(session, post=post, post_in=PostUpdate(slug="new-name"))
        await session.commit()
        r = await client.get("/posts/old-name/comments/atom.xml")
        assert r.status_code == 301
        assert r.headers["Location"] == "/posts/new-name/comments/atom.xml"

    @pytest.mark.parametrize(
        "path",
        [
            "/tags/nope/feed.xml",
            "/tags/nope/atom.xml",
            "/authors/nobody/feed.xml",
            "/authors/nobody/feed.json",
            "/posts/nothing/comments/feed.xml",
        ],
    )
    async def test_unknown_is_404_problem(self, client: httpx.AsyncClient, path: str) -> None:
        await assert_problem_404(client, path)

    async def test_draft_post_has_no_comment_feed(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session)
        await make_post(session, author=ann, title="Secret", slug="secret", status=PostStatus.draft)
        await make_post(session, author=ann, title="Soon", slug="soon", status=PostStatus.scheduled)
        await assert_problem_404(client, "/posts/secret/comments/feed.xml")
        await assert_problem_404(client, "/posts/soon/comments/feed.xml")


class TestConditionalGet:
    @pytest.mark.parametrize("path", ["/feed.xml", "/atom.xml", "/feed.json", "/sitemap.xml"])
    async def test_etag_and_last_modified(
        self, client: httpx.AsyncClient, session: AsyncSession, path: str
    ) -> None:
        ann = await make_user(session)
        hour_ago = utcnow() - timedelta(hours=1)
        first = await make_post(session, author=ann, title="First", published_at=hour_ago)
        first.updated_at = hour_ago  # so that the next post is newer to the second
        session.add(first)
        await session.commit()
        r = await client.get(path)
        etag, last_modified = r.headers["ETag"], r.headers["Last-Modified"]
        assert (await client.get(path)).headers["ETag"] == etag  # stable between requests

        r = await client.get(path, headers={"If-None-Match": etag})
        assert r.status_code == 304
        assert r.content == b""
        assert (r.headers["ETag"], r.headers["Last-Modified"]) == (etag, last_modified)
        r = await client.get(path, headers={"If-Modified-Since": last_modified})
        assert r.status_code == 304
        assert r.headers["ETag"] == etag
        earlier = parsedate_to_datetime(last_modified) - timedelta(seconds=1)
        r = await client.get(
            path, headers={"If-Modified-Since": format_datetime(earlier, usegmt=True)}
        )
        assert r.status_code == 200
        # If-None-Match wins over If-Modified-Since.
        r = await client.get(
            path, headers={"If-None-Match": '"other"', "If-Modified-Since": last_modified}
        )
        assert r.status_code == 200
        assert (await client.get(path, headers={"If-Modified-Since": "garbage"})).status_code == 200

        await make_post(session, author=ann, title="Second")
        r = await client.get(path, headers={"If-None-Match": etag})
        assert r.status_code == 200
        assert r.headers["ETag"] != etag
        r = await client.get(path, headers={"If-Modified-Since": last_modified})
        assert r.status_code == 200
