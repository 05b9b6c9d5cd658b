from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.comments.models import Comment, CommentStatus
from api.comments.presenters import avatar_url
from api.comments.schemas import CommentPublic
from api.db import utcnow
from api.posts.models import Post, PostStatus
from api.posts.schemas import Page
from api.text.markdown import render_comment_html
from api.users.models import Role, User
from tests.factories import auth, make_comment, make_post, make_user

GUEST = {"author_name": "Robin", "author_email": "Robin@Example.org"}


def comments_url(post: Post) -> str:
    return f"/api/v1/posts/{post.slug}/comments"


def flatten(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        out.append(item)
        out.extend(flatten(item["replies"]))
    return out


async def stored(session: AsyncSession, comment_id: int) -> Comment:
    result = await session.exec(
        select(Comment).where(Comment.id == comment_id).execution_options(populate_existing=True)
    )
    comment = result.one()
    await session.commit()  # a read in the arranging session must not hold the write lock
    return comment


@pytest.fixture
async def author(session: AsyncSession) -> User:
    return await make_user(session, username="ann", display_name="Ann Author")


@pytest.fixture
async def post(session: AsyncSession, author: User) -> Post:
    return await make_post(session, author=author, title="Does massage help?")


class TestListPostComments:
    async def test_threads_oldest_first_with_nested_replies(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post
    ) -> None:
        base = utcnow() - timedelta(hours=1)
        second = await make_comment(session, post=post, content="second", created_at=base + timedelta(minutes=2))
        first = await make_comment(session, post=post, content="first", created_at=base)
        late_reply = await make_comment(session, post=post, parent=first, content="late reply",
                                        created_at=base + timedelta(minutes=9))
        early_reply = await make_comment(session, post=post, parent=first, content="early reply",
                                         created_at=base + timedelta(minutes=3))
        await make_comment(session, post=post, parent=early_reply, content="nested",
                           created_at=base + timedelta(minutes=4))
        r = await client.get(comments_url(post))
        assert r.status_code == 200
        body = r.json()
        assert (body["total"], body["page"], body["pages"]) == (2, 1, 1)
        assert [c["id"] for c in body["items"]] == [first.id, second.id]
        top = body["items"][0]
        assert [c["id"] for c in top["replies"]] == [early_reply.id, late_reply.id]
        assert top["replies"][0]["replies"][0]["content_html"] == "<p>nested</p>\n"
        assert top["replies"][0]["parent_id"] == first.id
        assert set(top) == {"id", "parent_id", "author", "content_html", "created_at", "replies"}
        Page[CommentPublic].model_validate(body)  # the declared response model holds
        assert top["author"] == {
            "name": first.author_name, "url": None, "avatar_url": avatar_url(first.author_email),
            "is_registered": False, "username": None,
        }

    async def test_paginates_top_level_comments(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post
    ) -> None:
        base = utcnow() - timedelta(hours=1)
        tops = [await make_comment(session, post=post, content=f"c{i}", created_at=base + timedelta(minutes=i))
                for i in range(7)]
        await make_comment(session, post=post, parent=tops[3], content="reply")
        r = await client.get(comments_url(post), params={"per_page": 3, "page": 2})
        body = r.json()
        assert [c["id"] for c in body["items"]] == [t.id for t in tops[3:6]]
        assert len(body["items"][0]["replies"]) == 1
        assert (body["total"], body["pages"]) == (7, 3)
        assert r.headers["X-Total-Count"] == "7"
        r = await client.get(comments_url(post), params={"per_page": 3, "page": 9})
        assert r.json()["items"] == []

    async def test_only_approved_comments_and_their_replies(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post
    ) -> None:
        shown = await make_comment(session, post=post)
        for status in (CommentStatus.pending, CommentStatus.spam, CommentStatus.trash):
            hidden = await make_comment(session, post=post, status=status)
            await make_comment(session, post=post, parent=hidden)
            await make_comment(session, post=post, parent=shown, status=status)
        other = await make_post(session, author=await make_user(session))
        await make_comment(session, post=other)
        body = (await client.get(comments_url(post))).json()
        assert [c["id"] for c in flatten(body["items"])] == [shown.id]
        assert body["total"] == 1

    async def test_invisible_post_is_404(
        self, client: httpx.AsyncClient, session: AsyncSession, author: User
    ) -> None:
        draft = await make_post(session, author=author, status=PostStatus.draft)
        r = await client.get(comments_url(draft))
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert (await client.get("/api/v1/posts/nope/comments")).status_code == 404

    async def test_renamed_post_redirects(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
    ) -> None:
        old = post.slug
        r = await client.patch(f"/api/v1/posts/{old}", json={"slug": "renamed"}, headers=auth(author))
        assert r.status_code == 200
        r = await client.get(f"/api/v1/posts/{old}/comments")
        assert r.status_code == 301
        assert r.headers["Location"] == "/api/v1/posts/renamed/comments"

    async def test_registered_author_shown_with_username(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
    ) -> None:
        r = await client.post(comments_url(post), json={"content": "Thanks all"}, headers=auth(author))
        assert r.status_code == 201
        item = (await client.get(comments_url(post))).json()["items"][0]
        assert item["created_at"] == r.json()["created_at"]
        assert item["created_at"].endswith("Z")
        assert item["author"] == {
            "name": "Ann Author", "url": None, "avatar_url": avatar_url("ann@example.com"),
            "is_registered": True, "username": "ann",
        }

    async def test_constant_number_of_queries(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, post: Post
    ) -> None:
        # 200 approved comments: 40 threads of a top-level comment and four replies, two of
        # them nested four levels deep.
        assert post.id is not None
        base = utcnow() - timedelta(days=1)
        n = 0
        for t in range(40):
            parent: Comment | None = None
            for _ in range(5):
                n += 1
                nested = t % 2 == 0
                comment = Comment(
                    post_id=post.id, parent_id=(parent.id if parent else None),
                    depth=(parent.depth + 1 if parent else 0), author_name=f"Reader {n}",
                    author_email=f"reader{n}@example.org", content=f"comment {n}",
                    content_html=render_comment_html(f"comment {n}"), status=CommentStatus.approved,
                    created_at=base + timedelta(seconds=n),
                )
                session.add(comment)
                await session.flush()
                if parent is None or nested:
                    parent = comment
        await session.commit()
        engine = app.state.engine.sync_engine
        counts = []
        for per_page in (1, 10, 40):
            statements: list[tuple[int, str]] = []

            def count(conn: object, _cursor: object, sql: str, *args: object,
                      _s: list[tuple[int, str]] = statements) -> None:
                _s.append((id(conn), sql))

            event.listen(engine, "before_cursor_execute", count)
            r = await client.get(comments_url(post), params={"per_page": per_page})
            event.remove(engine, "before_cursor_execute", count)
            assert r.status_code == 200
            assert len(flatten(r.json()["items"])) == per_page * 5
            # Only the request's own connection: the search indexer may be polling beside it.
            request_conn = next(c for c, sql in statements if "reply_tree" in sql)
            counts.append(len([sql for c, sql in statements if c == request_conn
                               and not sql.startswith(("BEGIN", "ROLLBACK", "COMMIT"))]))
        # The post, then the whole page of threads with its total in one recursive query.
        assert counts[0] == counts[1] == counts[2] <= 2
        deepest = flatten(r.json()["items"][0]["replies"])
        assert len(deepest) == 4
        assert all(len(c["replies"]) <= 1 for c in deepest)


class TestCreateComment:
    async def test_first_time_guest_waits_then_is_known(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post
    ) -> None:
        r = await client.post(comments_url(post), json={"content": "Hello *there*", **GUEST},
                              headers={"User-Agent": "test-browser/1.0"})
        assert r.status_code == 201
        body = r.json()
        assert body["status"] == "pending"
        assert body["content_html"] == "<p>Hello <em>there</em></p>\n"
        assert r.headers["Location"] == f"/api/v1/comments/{body['id']}"
        comment = await stored(session, body["id"])
        assert comment.author_email == "robin@example.org"
        assert comment.user_agent == "test-browser/1.0"
        assert len(comment.ip_hash) == 32
        assert "127.0.0.1" not in comment.ip_hash
        # Still pending: the second comment also waits.
        r = await client.post(comments_url(post), json={"content": "Anyone?", **GUEST})
        assert r.json()["status"] == "pending"
        comment.status = CommentStatus.approved
        session.add(comment)
        await session.commit()
        # Approved once: the same address (any case) is trusted from now on.
        r = await client.post(comments_url(post), json={
            "content": "Me again", "author_name": "Robin", "author_email": " ROBIN@example.org"})
        assert r.status_code == 201
        assert r.json()["status"] == "approved"

    @pytest.mark.parametrize("role", list(Role))
    async def test_staff_are_approved_at_once(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, role: Role
    ) -> None:
        user = await make_user(session, role=role)
        # Even with many links: staff are trusted.
        content = "See http://a.example http://b.example http://c.example"
        r = await client.post(comments_url(post), json={"content": content}, headers=auth(user))
        assert r.status_code == 201
        body = r.json()
        assert body["status"] == "approved"
        assert body["author"]["is_registered"] is True
        assert body["author"]["username"] == user.username
        comment = await stored(session, body["id"])
        assert comment.user_id == user.id

    async def test_signed_in_user_ignores_guest_identity(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
    ) -> None:
        r = await client.post(comments_url(post), json={"content": "Hi", **GUEST}, headers=auth(author))
        assert r.json()["author"]["name"] == "Ann Author"

    async def test_guest_needs_name_and_email(
        self, client: httpx.AsyncClient, post: Post
    ) -> None:
        r = await client.post(comments_url(post), json={"content": "Hi"})
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        assert {e["field"] for e in r.json()["errors"]} == {"author_name", "author_email"}
        r = await client.post(comments_url(post), json={"content": "Hi", "author_name": "Robin"})
        assert [e["field"] for e in r.json()["errors"]] == ["author_email"]

    @pytest.mark.parametrize(("change", "field"), [
        ({"content": ""}, "content"),
        ({"content": "   \n "}, "content"),
        ({"content": "x" * 10_001}, "content"),
        ({"author_name": "x" * 101}, "author_name"),
        ({"author_name": "  "}, "author_name"),
        ({"author_email": "not-an-email"}, "author_email"),
        ({"author_email": "robin@"}, "author_email"),
        ({"author_url": "javascript:alert(1)"}, "author_url"),
        ({"author_url": "ftp://files.example"}, "author_url"),
        ({"author_url": "https://example.org/" + "a" * 500}, "author_url"),
        ({"parent_id": 0}, "parent_id"),
        ({"parent_id": "x"}, "parent_id"),
        ({"homepage": "x" * 2001}, "homepage"),
        ({"status": "approved"}, "status"),
    ])
    async def test_bounds_are_clear_422s(
        self, client: httpx.AsyncClient, post: Post, change: dict[str, Any], field: str
    ) -> None:
        r = await client.post(comments_url(post), json={"content": "Hi", **GUEST, **change})
        assert r.status_code == 422
        errors = r.json()["errors"]
        assert [e["field"] for e in errors] == [field]
        assert errors[0]["message"]

    async def test_limits_are_inclusive(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post
    ) -> None:
        r = await client.post(comments_url(post), json={
            "content": "y" * 10_000, "author_name": "n" * 100, "author_email": "a@example.org",
            "author_url": "https://robin.example/blog"})
        assert r.status_code == 201
        assert r.json()["author"]["url"] == "https://robin.example/blog"

    async def test_reply_must_be_to_approved_comment_of_same_post(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
    ) -> None:
        pending = await make_comment(session, post=post, status=CommentStatus.pending)
        other = await make_comment(session, post=await make_post(session, author=author))
        for parent_id in (pending.id, other.id, 999_999):
            r = await client.post(comments_url(post), json={"content": "Re", "parent_id": parent_id},
                                  headers=auth(author))
            assert r.status_code == 422
            assert r.json()["errors"][0]["field"] == "parent_id"
        good = await make_comment(session, post=post)
        r = await client.post(comments_url(post), json={"content": "Re", "parent_id": good.id},
                              headers=auth(author))
        assert r.status_code == 201
        assert r.json()["parent_id"] == good.id

    async def test_depth_cap_attaches_to_deepest_allowed_ancestor(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
    ) -> None:
        chain = [await make_comment(session, post=post)]
        for _ in range(4):
            r = await client.post(comments_url(post), json={"content": f"level {len(chain)}",
                                  "parent_id": chain[-1].id}, headers=auth(author))
            assert r.json()["parent_id"] == chain[-1].id
            chain.append(await stored(session, r.json()["id"]))
        assert [c.depth for c in chain] == [0, 1, 2, 3, 4]
        # Level 5 would be a sixth level: the reply goes beside the level 4 comment.
        r = await client.post(comments_url(post), json={"content": "too deep", "parent_id": chain[4].id},
                              headers=auth(author))
        assert r.status_code == 201
        assert r.json()["parent_id"] == chain[3].id
        assert (await stored(session, r.json()["id"])).depth == 4
        thread = (await client.get(comments_url(post))).json()["items"][0]
        depth = 0
        node = thread
        while node["replies"]:
            node = node["replies"][0]
            depth += 1
        assert depth == 4
        level3 = thread["replies"][0]["replies"][0]["replies"][0]
        assert [c["content_html"] for c in level3["replies"]] == ["<p>level 4</p>\n", "<p>too deep</p>\n"]

    async def test_depth_cap_of_one_makes_replies_top_level(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
    ) -> None:
        app.state.settings = app.state.settings.model_copy(update={"comment_max_depth": 1})
        top = await make_comment(session, post=post)
        r = await client.post(comments_url(post), json={"content": "Re", "parent_id": top.id},
                              headers=auth(author))
        assert r.json()["parent_id"] is None

    async def test_closed_or_unpublished_posts_refuse_comments(
        self, client: httpx.AsyncClient, session: AsyncSession, author: User
    ) -> None:
        closed = await make_post(session, author=author, comments_open=False)
        r = await client.post(comments_url(closed), json={"content": "Hi", **GUEST})
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["title"] == "Comments are closed"
        assert "closed" in r.json()["detail"]
        draft = await make_post(session, author=author, status=PostStatus.draft)
        r = await client.post(comments_url(draft), json={"content": "Hi"}, headers=auth(author))
        assert r.status_code == 403
        assert "not published" in r.json()["detail"]
        later = await make_post(session, author=author, status=PostStatus.scheduled)
        r = await client.post(comments_url(later), json={"content": "Hi", **GUEST})
        assert r.status_code == 404
        assert (await client.post("/api/v1/posts/nope/comments", json={"content": "Hi", **GUEST})).status_code == 404
        # Reopening through the post API lets comments in again.
        r = await client.patch(f"/api/v1/posts/{closed.slug}", json={"comments_open": True}, headers=auth(author))
        assert r.json()["comments_open"] is True
        r = await client.post(comments_url(closed), json={"content": "Hi", **GUEST})
        assert r.status_code == 201

    @pytest.mark.parametrize(("content", "status"), [
        ("Two links: https://a.example and [b](http://b.example)", "approved"),
        ("Three: https://a.example http://b.example www.c.example", "pending"),
        ("Win at the CASINO today", "spam"),
        ("Cheap viagra!", "spam"),
        ("A crypto giveaway, act now", "spam"),
        ("Casinos are not on the list, whole words only", "approved"),
    ])
    async def test_links_and_blocklist(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, content: str, status: str
    ) -> None:
        await make_comment(session, post=post, author_email="robin@example.org")  # a known guest
        r = await client.post(comments_url(post), json={"content": content, **GUEST})
        assert r.status_code == 201
        assert r.json()["status"] == status
        assert (await stored(session, r.json()["id"])).status == status

    async def test_blocklist_status_and_words_are_settings(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, post: Post
    ) -> None:
        app.state.settings = app.state.settings.model_copy(
            update={"comment_blocklist": ["lottery"], "comment_blocklist_status": "pending",
                    "comment_max_links": 0})
        await make_comment(session, post=post, author_email="robin@example.org")
        r = await client.post(comments_url(post), json={"content": "Lottery win", **GUEST})
        assert r.json()["status"] == "pending"
        r = await client.post(comments_url(post), json={"content": "Casino!", **GUEST})
        assert r.json()["status"] == "approved"
        r = await client.post(comments_url(post), json={"content": "see https://x.example", **GUEST})
        assert r.json()["status"] == "pending"

    async def test_honeypot_is_accepted_but_stored_as_spam(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
    ) -> None:
        await make_comment(session, post=post, author_email="robin@example.org")
        r = await client.post(comments_url(post), json={
            "content": "Buy now", "homepage": "http://spam.example", **GUEST})
        assert r.status_code == 201
        assert r.json()["status"] == "pending"
        assert (await stored(session, r.json()["id"])).status == CommentStatus.spam
        r = await client.get("/api/v1/comments", params={"status": "spam"}, headers=auth(author))
        assert [c["content"] for c in r.json()["items"]] == ["Buy now"]

    async def test_honeypot_in_openapi(self, client: httpx.AsyncClient) -> None:
        schema = (await client.get("/openapi.json")).json()
        field = schema["components"]["schemas"]["CommentCreate"]["properties"]["homepage"]
        assert "Honeypot" in field["description"]

    async def test_duplicate_within_window_is_409(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
    ) -> None:
        payload = {"content": "Same words", **GUEST}
        assert (await client.post(comments_url(post), json=payload)).status_code == 201
        r = await client.post(comments_url(post), json={**payload, "author_email": "ROBIN@example.org"})
        assert r.status_code == 409
        assert r.headers["content-type"] == "application/problem+json"
        # Someone else, or another post, or other words: not a duplicate.
        assert (await client.post(comments_url(post), json={**payload, "author_email": "kim@example.org"})).status_code == 201
        other = await make_post(session, author=author)
        assert (await client.post(comments_url(other), json=payload)).status_code == 201
        assert (await client.post(comments_url(post), json={**payload, "content": "Other words"})).status_code == 201
        # Signed-in duplicates too.
        assert (await client.post(comments_url(post), json={"content": "Mine"}, headers=auth(author))).status_code == 201
        assert (await client.post(comments_url(post), json={"content": "Mine"}, headers=auth(author))).status_code == 409
        # After the window the same words are welcome again.
        old = (await session.exec(select(Comment).where(
            Comment.content == "Same words", Comment.post_id == post.id,
            Comment.author_email == "robin@example.org"))).one()
        old.created_at = utcnow() - timedelta(minutes=11)
        session.add(old)
        await session.commit()
        assert (await client.post(comments_url(post), json=payload)).status_code == 201


XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<body onload=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    "![x](http://x.example/a.png \"onerror=alert(1)\")",
    "[x](http://a.example \"title\" onmouseover=alert(1))",
    "<a href=x onmouseover=alert(1)>x</a>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<style>@import 'http://evil.example/x.css';</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<form action=\"javascript:alert(1)\"><button>x</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<link rel=stylesheet href=\"javascript:alert(1)\">",
    "<template><script>alert(1)</script></template>",
    "\"><script>alert(1)</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "`<script>`alert(1)`</script>`",
    "<a href=\"&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1)\">x</a>",
    "[x](<javascript:alert(1)>)",
    "<http://a.example\" onclick=\"alert(1)>",
    "<javascript:alert(1)>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<video><source onerror=alert(1)></video>",
]


class TestSanitizing:
    async def test_xss_payloads_are_neutralised(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
    ) -> None:
        from tests.htmlsafety import assert_safe_html

        assert len(XSS_PAYLOADS) >= 30
        for payload in XSS_PAYLOADS:
            r = await client.post(comments_url(post), json={"content": payload}, headers=auth(author))
            assert r.status_code == 201, payload
            assert_safe_html(r.json()["content_html"])
            assert "<img" not in r.json()["content_html"]
        items = flatten((await client.get(comments_url(post), params={"per_page": 100})).json()["items"])
        assert len(items) == len(XSS_PAYLOADS)
        for item in items:
            assert_safe_html(item["content_html"])

    async def test_links_are_nofollow_ugc(
        self, client: httpx.AsyncClient, post: Post, author: User
    ) -> None:
        r = await client.post(comments_url(post), json={"content": "[site](https://a.example)"},
                              headers=auth(author))
        html = r.json()["content_html"]
        assert 'href="https://a.example"' in html
        assert 'rel="nofollow ugc' in html


class TestPrivacy:
    async def test_email_never_in_public_responses(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
    ) -> None:
        secret = "secret.reader@hidden.example"
        await make_comment(session, post=post, author_email=secret, ip_hash="iphash123",
                           user_agent="SecretAgent/1.0")
        r = await client.post(comments_url(post), json={
            "content": "Hi", "author_name": "Reader", "author_email": secret})
        top = (await session.exec(select(Comment).where(col(Comment.parent_id).is_(None)))).first()
        assert top is not None
        await session.commit()
        r2 = await client.post(comments_url(post), json={
            "content": "Re", "parent_id": top.id, "author_name": "Reader", "author_email": secret})
        own = await client.post(comments_url(post), json={"content": "Staff"}, headers=auth(author))
        edited = await client.patch(f"/api/v1/comments/{own.json()['id']}", json={"content": "Edited"},
                                    headers=auth(await make_user(session, role=Role.author)))
        responses = [
            r, r2, own,
            await client.get(comments_url(post)),
            await client.get(comments_url(post), headers=auth(author)),
            await client.get(f"/api/v1/posts/{post.slug}"),
            await client.get("/api/v1/posts"),
        ]
        for response in responses:
            assert response.status_code in (200, 201)
            for leak in (secret, "secret.reader", "hidden.example", "ann@example.com",
                         "iphash123", "SecretAgent", "ip_hash", "user_agent", "email"):
                assert leak not in response.text, (leak, response.request.url)
        assert edited.status_code == 403
        # Moderators do see them.
        r = await client.get("/api/v1/comments", headers=auth(author))
        assert secret in r.text
        assert "iphash123" in r.text
        assert "SecretAgent/1.0" in r.text


class TestModerationList:
    async def test_needs_sign_in(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/api/v1/comments")
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"

    async def test_editors_see_all_authors_their_posts(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
    ) -> None:
        bob = await make_user(session, username="bob")
        bobs = await make_post(session, author=bob)
        editor = await make_user(session, role=Role.editor)
        mine = await make_comment(session, post=post, status=CommentStatus.pending)
        await make_comment(session, post=post, status=CommentStatus.approved)
        theirs = await make_comment(session, post=bobs, status=CommentStatus.pending)
        r = await client.get("/api/v1/comments", headers=auth(editor))
        assert r.json()["total"] == 3
        r = await client.get("/api/v1/comments", params={"status": "pending"}, headers=auth(editor))
        assert [c["id"] for c in r.json()["items"]] == [theirs.id, mine.id]  # newest first
        r = await client.get("/api/v1/comments", params={"status": "pending", "post": post.slug},
                             headers=auth(editor))
        item = r.json()["items"]
        assert [c["id"] for c in item] == [mine.id]
        assert item[0]["post_slug"] == post.slug
        assert item[0]["author_email"] == mine.author_email
        assert {"ip_hash", "user_agent", "content", "status"} <= set(item[0])
        r = await client.get("/api/v1/comments", params={"status": "pending"}, headers=auth(author))
        assert [c["id"] for c in r.json()["items"]] == [mine.id]
        r = await client.get("/api/v1/comments", params={"post": bobs.slug}, headers=auth(author))
        assert r.status_code == 403
        r = await client.get("/api/v1/comments", params={"post": "nope"}, headers=auth(author))
        assert r.status_code == 404
        r = await client.get("/api/v1/comments", params={"status": "bogus"}, headers=auth(author))
        assert r.status_code == 422


class TestModerate:
    @pytest.mark.parametrize("role", [Role.editor, Role.admin, None])
    async def test_moderators_change_status_and_counts_follow(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User,
        role: Role | None,
    ) -> None:
        moderator = author if role is None else await make_user(session, role=role)
        await make_comment(session, post=post)
        pending = await make_comment(session, post=post, status=CommentStatus.pending)

        async def counts() -> tuple[int, int, int]:
            detail = (await client.get(f"/api/v1/posts/{post.slug}")).json()["comment_count"]
            listed = (await client.get("/api/v1/posts")).json()["items"][0]["comment_count"]
            thread = len(flatten((await client.get(comments_url(post))).json()["items"]))
            return detail, listed, thread

        assert await counts() == (1, 1, 1)
        url = f"/api/v1/comments/{pending.id}"
        r = await client.patch(url, json={"status": "approved"}, headers=auth(moderator))
        assert r.status_code == 200
        assert r.json()["status"] == "approved"
        assert await counts() == (2, 2, 2)
        for status in ("spam", "trash", "pending"):
            r = await client.patch(url, json={"status": status}, headers=auth(moderator))
            assert r.json()["status"] == status
            assert await counts() == (1, 1, 1)
        r = await client.patch(url, json={"status": "approved", "content": "**Edited** by staff"},
                               headers=auth(moderator))
        assert r.json()["content_html"] == "<p><strong>Edited</strong> by staff</p>\n"
        assert r.json()["content"] == "**Edited** by staff"
        assert await counts() == (2, 2, 2)
        r = await client.delete(url, headers=auth(moderator))
        assert r.status_code == 204
        assert await counts() == (1, 1, 1)
        assert (await client.patch(url, json={"status": "approved"}, headers=auth(moderator))).status_code == 404

    async def test_authors_cannot_moderate_others_posts(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post
    ) -> None:
        bob = await make_user(session)
        comment = await make_comment(session, post=post, status=CommentStatus.pending)
        url = f"/api/v1/comments/{comment.id}"
        r = await client.patch(url, json={"status": "approved"}, headers=auth(bob))
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"
        assert (await client.delete(url, headers=auth(bob))).status_code == 403
        assert (await client.patch(url, json={"status": "approved"})).status_code == 401
        assert (await client.delete(url)).status_code == 401
        assert (await stored(session, comment.id or 0)).status == CommentStatus.pending

    async def test_invalid_updates_are_422(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
    ) -> None:
        comment = await make_comment(session, post=post)
        url = f"/api/v1/comments/{comment.id}"
        for body, field in (({"status": "nope"}, "status"), ({"content": ""}, "content"),
                            ({"content": "x" * 10_001}, "content"), ({"other": 1}, "other")):
            r = await client.patch(url, json=body, headers=auth(author))
            assert r.status_code == 422
            assert [e["field"] for e in r.json()["errors"]] == [field]
        assert (await client.patch("/api/v1/comments/0", json={}, headers=auth(author))).status_code == 422
        assert (await client.delete("/api/v1/comments/12345", headers=auth(author))).status_code == 404

    async def test_delete_takes_replies_along(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post, author: User
    ) -> None:
        top = await make_comment(session, post=post)
        reply = await make_comment(session, post=post, parent=top)
        await make_comment(session, post=post, parent=reply)
        keep = await make_comment(session, post=post)
        r = await client.delete(f"/api/v1/comments/{reply.id}", headers=auth(author))
        assert r.status_code == 204
        left = (await session.exec(select(Comment.id).execution_options(populate_existing=True))).all()
        assert set(left) == {top.id, keep.id}


class TestEditOwnComment:
    async def test_own_comment_editable_for_a_while(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post
    ) -> None:
        reader = await make_user(session)
        r = await client.post(comments_url(post), json={"content": "Typo hree"}, headers=auth(reader))
        url = f"/api/v1/comments/{r.json()['id']}"
        r = await client.patch(url, json={"content": "Typo here"}, headers=auth(reader))
        assert r.status_code == 200
        body = r.json()
        assert body["content_html"] == "<p>Typo here</p>\n"
        assert body["status"] == "approved"
        assert "ip_hash" not in body
        assert "author_email" not in body
        # Not its status, not someone else's comment.
        r = await client.patch(url, json={"status": "trash"}, headers=auth(reader))
        assert r.status_code == 403
        other = await make_user(session)
        r = await client.patch(url, json={"content": "Hijack"}, headers=auth(other))
        assert r.status_code == 403
        assert (await client.delete(url, headers=auth(reader))).status_code == 403
        # Past the window: too late.
        comment = await stored(session, int(url.rsplit("/", 1)[1]))
        comment.created_at = utcnow() - timedelta(minutes=16)
        session.add(comment)
        await session.commit()
        r = await client.patch(url, json={"content": "Later"}, headers=auth(reader))
        assert r.status_code == 403
        assert "15 minutes" in r.json()["detail"]

    async def test_guests_cannot_edit(
        self, client: httpx.AsyncClient, session: AsyncSession, post: Post
    ) -> None:
        comment = await make_comment(session, post=post)
        r = await client.patch(f"/api/v1/comments/{comment.id}", json={"content": "x"})
        assert r.status_code == 401

