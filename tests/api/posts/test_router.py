from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession

from api.db import utcnow
from api.posts.models import PostStatus
from api.settings import Settings
from api.users.models import Role
from tests.conftest import running_app
from tests.factories import auth, make_comment, make_post, make_user
from tests.htmlsafety import assert_safe_html


class TestListPosts:
    async def test_newest_first_with_pagination_headers(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        author = await make_user(session)
        base = utcnow() - timedelta(days=30)
        for i in range(12):
            await make_post(session, author=author, title=f"Post {i:02d}",
                            published_at=base + timedelta(days=i))
        r = await client.get("/api/v1/posts", params={"per_page": 5, "page": 2})
        assert r.status_code == 200
        body = r.json()
        assert [p["title"] for p in body["items"]] == [f"Post {i:02d}" for i in (6, 5, 4, 3, 2)]
        assert (body["total"], body["page"], body["per_page"], body["pages"]) == (12, 2, 5, 3)
        assert r.headers["X-Total-Count"] == "12"
        link = r.headers["Link"]
        for rel, page in (("first", 1), ("prev", 1), ("next", 3), ("last", 3)):
            assert f'page={page}&per_page=5>; rel="{rel}"' in link
        assert "content_html" not in body["items"][0]

    async def test_drafts_and_future_scheduled_are_hidden(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        author = await make_user(session)
        await make_post(session, author=author, title="Visible")
        await make_post(session, author=author, title="Draft", status=PostStatus.draft)
        await make_post(session, author=author, title="Later", status=PostStatus.scheduled)
        await make_post(session, author=author, title="Due", status=PostStatus.scheduled,
                        published_at=utcnow() - timedelta(minutes=1))
        r = await client.get("/api/v1/posts")
        assert sorted(p["title"] for p in r.json()["items"]) == ["Due", "Visible"]

    async def test_filters_by_tag_and_author(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session, username="ann")
        bob = await make_user(session, username="bob")
        await make_post(session, author=ann, title="A1", tags=["Travel", "Pets"])
        await make_post(session, author=bob, title="B1", tags=["Travel"])
        await make_post(session, author=bob, title="B2", tags=["Food"])
        r = await client.get("/api/v1/posts", params={"tag": "travel"})
        assert sorted(p["title"] for p in r.json()["items"]) == ["A1", "B1"]
        r = await client.get("/api/v1/posts", params={"author": "bob", "tag": "travel"})
        assert [p["title"] for p in r.json()["items"]] == ["B1"]
        r = await client.get("/api/v1/posts", params={"sort": "title"})
        assert [p["title"] for p in r.json()["items"]] == ["A1", "B1", "B2"]

    async def test_status_filter_for_staff(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session)
        bob = await make_user(session)
        editor = await make_user(session, role=Role.editor)
        await make_post(session, author=ann, title="Ann draft", status=PostStatus.draft)
        await make_post(session, author=bob, title="Bob draft", status=PostStatus.draft)
        r = await client.get("/api/v1/posts", params={"status": "draft"}, headers=auth(ann))
        assert [p["title"] for p in r.json()["items"]] == ["Ann draft"]
        r = await client.get("/api/v1/posts", params={"status": "draft"}, headers=auth(editor))
        assert r.json()["total"] == 2
        r = await client.get("/api/v1/posts", params={"status": "draft"})
        assert r.status_code == 403

    @pytest.mark.parametrize("params", [
        {"per_page": 0}, {"per_page": 101}, {"page": 0}, {"page": -3}, {"page": "x"},
        {"sort": "bogus"}, {"status": "nope"}, {"page": 10**30},
    ])
    async def test_bad_parameters_are_problem_422(
        self, client: httpx.AsyncClient, params: dict[str, str | int]
    ) -> None:
        r = await client.get("/api/v1/posts", params=params)
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["field"] in {"per_page", "page", "sort", "status"}

    async def test_constant_number_of_queries(self, settings: Settings, session: AsyncSession) -> None:
        author = await make_user(session)
        for i in range(30):
            post = await make_post(session, author=author, tags=[f"t{i % 4}", "common"])
            if i % 3 == 0:
                await make_comment(session, post=post)
        counts = []
        # A second app whose indexer sleeps and with no response cache, so only the
        # uncached request's own queries are counted.
        async with running_app(
            settings, indexer_poll_seconds=3600, response_cache=False
        ) as app, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            await client.get("/health")
            counts = await self._count_queries(app, client)
        assert counts[0] == counts[1] == counts[2] <= 6

    async def _count_queries(self, app: FastAPI, client: httpx.AsyncClient) -> list[int]:
        counts = []
        engine = app.state.engine.sync_engine
        for per_page in (1, 10, 30):
            statements: list[str] = []

            def count(*args: object, _s: list[str] = statements) -> None:
                _s.append(str(args[2]))

            event.listen(engine, "before_cursor_execute", count)
            r = await client.get("/api/v1/posts", params={"per_page": per_page})
            event.remove(engine, "before_cursor_execute", count)
            assert len(r.json()["items"]) == per_page
            counts.append(len([s for s in statements if not s.startswith(("BEGIN", "ROLLBACK", "COMMIT"))]))
        return counts


class TestGetPost:
    async def test_full_post_with_etag(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        author = await make_user(session, username="ann", display_name="Ann")
        post = await make_post(session, author=author, title="Hello", content="# Hi\n\nSome *text*",
                               tags=["Greetings"])
        r = await client.get(f"/api/v1/posts/{post.slug}")
        assert r.status_code == 200
        body = r.json()
        assert body["content_html"].startswith("<h1>Hi</h1>")
        assert body["author"] == {"username": "ann", "display_name": "Ann", "avatar_url": None}
        assert body["tags"] == [{"name": "Greetings", "slug": "greetings"}]
        assert body["reading_time_minutes"] == 1 and body["comment_count"] == 0
        etag = r.headers["ETag"]
        again = await client.get(f"/api/v1/posts/{post.slug}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""

    async def test_draft_is_404_for_others_not_403(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session)
        bob = await make_user(session)
        editor = await make_user(session, role=Role.editor)
        draft = await make_post(session, author=ann, status=PostStatus.draft)
        later = await make_post(session, author=ann, status=PostStatus.scheduled)
        for post in (draft, later):
            assert (await client.get(f"/api/v1/posts/{post.slug}")).status_code == 404
            r = await client.get(f"/api/v1/posts/{post.slug}", headers=auth(bob))
            assert r.status_code == 404
            assert r.headers["content-type"] == "application/problem+json"
            r = await client.patch(f"/api/v1/posts/{post.slug}", json={"title": "x"}, headers=auth(bob))
            assert r.status_code == 404
            assert (await client.get(f"/api/v1/posts/{post.slug}", headers=auth(ann))).status_code == 200
            assert (await client.get(f"/api/v1/posts/{post.slug}", headers=auth(editor))).status_code == 200

    async def test_renamed_slug_redirects(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        ann = await make_user(session)
        post = await make_post(session, author=ann, title="Old name")
        r = await client.patch(f"/api/v1/posts/{post.slug}", json={"slug": "new-name"}, headers=auth(ann))
        assert r.status_code == 200 and r.json()["slug"] == "new-name"
        r = await client.get("/api/v1/posts/old-name")
        assert r.status_code == 301
        assert r.headers["Location"] == "/api/v1/posts/new-name"
        assert (await client.get("/api/v1/posts/new-name")).status_code == 200


class TestWritePosts:
    async def test_create_derives_slug_excerpt_and_sanitizes(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session)
        payload = {
            "title": "Crème brûlée à Zürich",
            "content": "Intro <script>alert(1)</script> [x](javascript:alert(1)) "
                       "<img src=x onerror=alert(1)>\n\n" + "word " * 500,
            "status": "published",
            "tags": ["Food", "food", " Travel  "],
        }
        r = await client.post("/api/v1/posts", json=payload, headers=auth(ann))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["slug"] == "creme-brulee-a-zurich"
        assert r.headers["Location"] == "/api/v1/posts/creme-brulee-a-zurich"
        assert [t["slug"] for t in body["tags"]] == ["food", "travel"]
        assert_safe_html(body["content_html"])
        assert body["reading_time_minutes"] == 3
        assert body["excerpt"].startswith("Intro") and body["excerpt"].endswith("…")
        assert body["published_at"] is not None
        again = await client.post("/api/v1/posts", json=payload, headers=auth(ann))
        assert again.json()["slug"] == "creme-brulee-a-zurich-2"

    async def test_scheduled_needs_a_date(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        ann = await make_user(session)
        r = await client.post("/api/v1/posts", json={"title": "x", "status": "scheduled"}, headers=auth(ann))
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "published_at"

    @pytest.mark.parametrize("payload", [
        {}, {"title": ""}, {"title": "   "}, {"title": "x" * 201}, {"title": "x", "unknown": 1},
        {"title": "x", "tags": ["a" * 51]}, {"title": "x", "slug": "Not A Slug"},
        {"title": "x", "status": "live"}, {"title": 5}, [], "text",
        {"title": "x", "published_at": "yesterday"},
    ])
    async def test_invalid_payloads_are_422(
        self, client: httpx.AsyncClient, session: AsyncSession, payload: object
    ) -> None:
        ann = await make_user(session)
        r = await client.post("/api/v1/posts", json=payload, headers=auth(ann))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"]
        assert (await client.get("/api/v1/posts", headers=auth(ann), params={"status": "draft"})).json()["total"] == 0

    async def test_who_may_edit_and_delete(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        ann = await make_user(session)
        bob = await make_user(session)
        editor = await make_user(session, role=Role.editor)
        post = await make_post(session, author=ann)
        url = f"/api/v1/posts/{post.slug}"
        assert (await client.patch(url, json={"title": "x"})).status_code == 401
        assert (await client.patch(url, json={"title": "x"}, headers=auth(bob))).status_code == 403
        assert (await client.delete(url, headers=auth(bob))).status_code == 403
        r = await client.patch(url, json={"title": "By editor"}, headers=auth(editor))
        assert r.status_code == 200 and r.json()["title"] == "By editor"
        assert (await client.delete(url, headers=auth(ann))).status_code == 204
        assert (await client.get(url)).status_code == 404

    async def test_unpublish_and_reschedule(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        ann = await make_user(session)
        post = await make_post(session, author=ann)
        url = f"/api/v1/posts/{post.slug}"
        r = await client.patch(url, json={"status": "draft"}, headers=auth(ann))
        assert r.json()["status"] == "draft"
        assert (await client.get(url)).status_code == 404
        future = (utcnow() + timedelta(hours=2)).isoformat()
        r = await client.patch(url, json={"status": "scheduled", "published_at": future}, headers=auth(ann))
        assert r.status_code == 200 and r.json()["status"] == "scheduled"
        assert (await client.get(url)).status_code == 404


class TestTagsAndAuthors:
    async def test_tag_counts_only_public_posts(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        ann = await make_user(session, username="ann")
        await make_user(session, username="idle")
        await make_post(session, author=ann, tags=["Travel", "Pets"])
        await make_post(session, author=ann, tags=["Travel"])
        await make_post(session, author=ann, tags=["Secret"], status=PostStatus.draft)
        # hidden posts that share a public tag are not counted either
        await make_post(session, author=ann, tags=["Travel", "Pets"], status=PostStatus.draft)
        await make_post(session, author=ann, tags=["Travel", "Later"], status=PostStatus.scheduled,
                        published_at=utcnow() + timedelta(days=1))
        r = await client.get("/api/v1/tags")
        assert r.json() == [{"name": "Travel", "slug": "travel", "post_count": 2},
                            {"name": "Pets", "slug": "pets", "post_count": 1}]
        authors = (await client.get("/api/v1/authors")).json()
        assert [(a["username"], a["post_count"]) for a in authors] == [("ann", 2)]
        assert "email" not in authors[0]
        r = await client.get("/api/v1/authors/ann")
        assert r.json()["post_count"] == 2
        assert (await client.get("/api/v1/authors/nobody")).status_code == 404
