"""Authorization matrix: every mutating endpoint against every kind of caller, exact statuses;
and what must stay invisible (drafts, future scheduled posts, held comments) everywhere.

Callers: anonymous, the content's author ("owner"), another author ("other"), an editor and an
admin. Every row of a table acts on fresh content, so one caller's write never changes what the
next one meets.
"""

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from api.comments.models import CommentStatus
from api.db import utcnow
from api.posts.models import Post, PostStatus
from api.users.models import Role, User
from tests.factories import auth, make_comment, make_post, make_user

CALLERS = ("anonymous", "owner", "other", "editor", "admin")
GUEST = {"author_name": "Guest", "author_email": "guest@example.org"}
_n = itertools.count(1)


@dataclass
class World:
    users: dict[str, User]

    def headers(self, caller: str) -> dict[str, str]:
        return {} if caller == "anonymous" else auth(self.users[caller])


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return World({
        "owner": await make_user(session, username="owner"),
        "other": await make_user(session, username="other"),
        "editor": await make_user(session, username="editor", role=Role.editor),
        "admin": await make_user(session, username="admin", role=Role.admin),
    })


async def _post(session: AsyncSession, world: World, status: PostStatus) -> Post:
    post = await make_post(session, author=world.users["owner"], status=status,
                           title=f"Matrix post {next(_n)}")
    session.expunge_all()  # the API may delete rows whose ids SQLite then hands out again
    return post


# (what, post status, expected status per caller)
POST_MATRIX: list[tuple[str, PostStatus | None, dict[str, int]]] = [
    ("create", None, {"anonymous": 401, "owner": 201, "other": 201, "editor": 201, "admin": 201}),
    ("patch", PostStatus.published,
     {"anonymous": 401, "owner": 200, "other": 403, "editor": 200, "admin": 200}),
    # Someone who may not see a draft is told it does not exist, not that it is forbidden.
    ("patch", PostStatus.draft,
     {"anonymous": 401, "owner": 200, "other": 404, "editor": 200, "admin": 200}),
    ("patch", PostStatus.scheduled,
     {"anonymous": 401, "owner": 200, "other": 404, "editor": 200, "admin": 200}),
    ("delete", PostStatus.published,
     {"anonymous": 401, "owner": 204, "other": 403, "editor": 204, "admin": 204}),
    ("delete", PostStatus.draft,
     {"anonymous": 401, "owner": 204, "other": 404, "editor": 204, "admin": 204}),
    ("delete", PostStatus.scheduled,
     {"anonymous": 401, "owner": 204, "other": 404, "editor": 204, "admin": 204}),
]


@pytest.mark.parametrize(("action", "status", "expected"), POST_MATRIX,
                         ids=[f"{a}-{s}" for a, s, _ in POST_MATRIX])
async def test_posts(
    client: httpx.AsyncClient, session: AsyncSession, world: World,
    action: str, status: PostStatus | None, expected: dict[str, int],
) -> None:
    got = {}
    for caller in CALLERS:
        headers = world.headers(caller)
        if action == "create":
            r = await client.post("/api/v1/posts", json={"title": "New"}, headers=headers)
        else:
            assert status is not None
            post = await _post(session, world, status)
            url = f"/api/v1/posts/{post.slug}"
            r = await (client.patch(url, json={"title": "Changed"}, headers=headers)
                       if action == "patch" else client.delete(url, headers=headers))
            still_there = (await client.get(url, headers=world.headers("editor"))).status_code
            changed = r.status_code < 300
            assert still_there == (404 if changed and action == "delete" else 200)
        got[caller] = r.status_code
        if r.status_code >= 400:
            assert r.headers["content-type"] == "application/problem+json"
    assert got == expected


async def _guest_comment(session: AsyncSession, world: World,
                         status: CommentStatus = CommentStatus.pending) -> int:
    post = await _post(session, world, PostStatus.published)
    comment = await make_comment(session, post=post, status=status)
    assert comment.id is not None
    return comment.id


# (what, expected status per caller); the comments sit on the owner's published post.
COMMENT_MATRIX: list[tuple[str, dict[str, int]]] = [
    ("create on a published post",
     {"anonymous": 201, "owner": 201, "other": 201, "editor": 201, "admin": 201}),
    ("create on a draft", {"anonymous": 404, "owner": 403, "other": 404, "editor": 403, "admin": 403}),
    ("create on a future scheduled post",
     {"anonymous": 404, "owner": 403, "other": 404, "editor": 403, "admin": 403}),
    ("moderate", {"anonymous": 401, "owner": 200, "other": 403, "editor": 200, "admin": 200}),
    ("edit the text", {"anonymous": 401, "owner": 200, "other": 403, "editor": 200, "admin": 200}),
    ("delete", {"anonymous": 401, "owner": 204, "other": 403, "editor": 204, "admin": 204}),
    ("read the moderation queue of the post",
     {"anonymous": 401, "owner": 200, "other": 403, "editor": 200, "admin": 200}),
]


@pytest.mark.parametrize(("action", "expected"), COMMENT_MATRIX, ids=[a for a, _ in COMMENT_MATRIX])
async def test_comments(
    client: httpx.AsyncClient, session: AsyncSession, world: World,
    action: str, expected: dict[str, int],
) -> None:
    got = {}
    for caller in CALLERS:
        headers = world.headers(caller)
        body = {"content": f"Hello {next(_n)}", **(GUEST if caller == "anonymous" else {})}
        if action.startswith("create"):
            status = {"create on a published post": PostStatus.published,
                      "create on a draft": PostStatus.draft}.get(action, PostStatus.scheduled)
            post = await _post(session, world, status)
            r = await client.post(f"/api/v1/posts/{post.slug}/comments", json=body, headers=headers)
        elif action == "read the moderation queue of the post":
            post = await _post(session, world, PostStatus.published)
            await make_comment(session, post=post, status=CommentStatus.pending)
            r = await client.get("/api/v1/comments", params={"post": post.slug}, headers=headers)
        else:
            comment_id = await _guest_comment(session, world)
            url = f"/api/v1/comments/{comment_id}"
            if action == "moderate":
                r = await client.patch(url, json={"status": "approved"}, headers=headers)
            elif action == "edit the text":
                r = await client.patch(url, json={"content": "Edited"}, headers=headers)
            else:
                r = await client.delete(url, headers=headers)
        got[caller] = r.status_code
    assert got == expected


async def test_signed_in_commenter_edits_own_text_only(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """A commenter who is not a moderator of the post: own text yes, status and deletion no."""
    post = await _post(session, world, PostStatus.published)
    headers = world.headers("other")
    r = await client.post(f"/api/v1/posts/{post.slug}/comments", json={"content": "Mine"},
                          headers=headers)
    assert r.status_code == 201
    url = f"/api/v1/comments/{r.json()['id']}"
    assert (await client.patch(url, json={"content": "Fixed"}, headers=headers)).status_code == 200
    assert (await client.patch(url, json={"status": "approved"}, headers=headers)).status_code == 403
    assert (await client.delete(url, headers=headers)).status_code == 403
    # And not someone else's comment on the same post.
    guest = await make_comment(session, post=post)
    r = await client.patch(f"/api/v1/comments/{guest.id}", json={"content": "Hijacked"},
                           headers=headers)
    assert r.status_code == 403


async def test_moderation_queue_holds_only_own_posts_for_authors(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    mine = await _post(session, world, PostStatus.published)
    theirs = await make_post(session, author=world.users["other"])
    await make_comment(session, post=mine, status=CommentStatus.pending)
    await make_comment(session, post=theirs, status=CommentStatus.spam)
    r = await client.get("/api/v1/comments", headers=world.headers("owner"))
    assert [c["post_slug"] for c in r.json()["items"]] == [mine.slug]
    r = await client.get("/api/v1/comments", headers=world.headers("editor"))
    assert r.json()["total"] == 2


USER_MATRIX: list[tuple[str, dict[str, int]]] = [
    ("create", {"anonymous": 401, "owner": 403, "other": 403, "editor": 403, "admin": 201}),
    ("patch someone else", {"anonymous": 401, "owner": 403, "other": 403, "editor": 403, "admin": 200}),
    # Authors may not promote themselves.
    ("make oneself admin", {"anonymous": 401, "owner": 403, "other": 403, "editor": 403, "admin": 200}),
]


@pytest.mark.parametrize(("action", "expected"), USER_MATRIX, ids=[a for a, _ in USER_MATRIX])
async def test_users(
    client: httpx.AsyncClient, session: AsyncSession, world: World,
    action: str, expected: dict[str, int],
) -> None:
    got = {}
    for caller in CALLERS:
        headers = world.headers(caller)
        if action == "create":
            n = next(_n)
            r = await client.post("/api/v1/users", headers=headers, json={
                "username": f"new{n}", "display_name": "New", "email": f"new{n}@example.com",
                "password": "a long enough password", "role": "admin"})
        elif action == "patch someone else":
            target = await make_user(session)
            r = await client.patch(f"/api/v1/users/{target.username}", json={"display_name": "X"},
                                   headers=headers)
        else:
            username = world.users[caller].username if caller != "anonymous" else "owner"
            r = await client.patch(f"/api/v1/users/{username}", json={"role": "admin"},
                                   headers=headers)
        got[caller] = r.status_code
    assert got == expected
    for user in world.users.values():  # nobody was promoted by a refused request
        await_role = (await client.get("/api/v1/users/me", headers=auth(user))).json()["role"]
        assert await_role == user.role


async def test_public_endpoints_need_no_sign_in(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    for caller in CALLERS:
        r = await client.post("/api/v1/related", json={"title": "Running", "content": "Legs"},
                              headers=world.headers(caller))
        assert r.status_code == 200, caller
    r = await client.post("/api/v1/auth/token", data={"username": "owner", "password": "wrong"})
    assert r.status_code == 401


# -- visibility ---------------------------------------------------------------------------

Fetch = Callable[[str, dict[str, str]], Awaitable[httpx.Response]]


@dataclass
class Hidden:
    public: Post
    draft: Post
    scheduled: Post
    held_comments: list[str]  # texts of pending, spam and trash comments (and a reply under one)


@pytest.fixture
async def hidden(app: FastAPI, session: AsyncSession, world: World) -> Hidden:
    owner = world.users["owner"]
    public = await make_post(session, author=owner, title="Ordinary visible post",
                             content="Plainword running recovery.", tags=["Shared"])
    draft = await make_post(session, author=owner, title="Zanzibarque secret draft",
                            status=PostStatus.draft, tags=["Shared", "Draftonlytag"],
                            content="Zanzibarque running recovery plainword.")
    scheduled = await make_post(session, author=world.users["other"],
                                title="Quetzalfuture scheduled post", status=PostStatus.scheduled,
                                published_at=utcnow() + timedelta(days=2),
                                tags=["Shared", "Futureonlytag"],
                                content="Quetzalfuture running recovery plainword.")
    await make_comment(session, post=public, content="Approved and visible")
    held = []
    for status in (CommentStatus.pending, CommentStatus.spam, CommentStatus.trash):
        text = f"Held {status} comment"
        parent = await make_comment(session, post=public, status=status, content=text)
        held.append(text)
        reply = f"Approved reply under a {status} comment"
        await make_comment(session, post=public, parent=parent, content=reply)
        held.append(reply)
    await app.state.search.sync_now()
    return Hidden(public, draft, scheduled, held)


HIDDEN_WORDS = ("Zanzibarque", "Quetzalfuture", "zanzibarque", "quetzalfuture", "Held ",
                "under a", "draftonlytag", "futureonlytag", "Draftonlytag", "Futureonlytag")


async def test_nothing_hidden_leaks_to_readers(
    client: httpx.AsyncClient, world: World, hidden: Hidden
) -> None:
    """Anonymous readers and another author (who may not see these drafts) alike."""
    urls = [
        "/api/v1/posts", "/api/v1/posts?per_page=100&sort=title", "/api/v1/posts?tag=shared",
        "/api/v1/posts?tag=draftonlytag", "/api/v1/posts?author=owner", "/api/v1/tags",
        "/api/v1/authors", "/api/v1/authors/owner", "/api/v1/authors/other",
        f"/api/v1/posts/{hidden.public.slug}", f"/api/v1/posts/{hidden.public.slug}/comments",
        f"/api/v1/posts/{hidden.public.slug}/related?limit=20",
        "/api/v1/search?q=running", "/api/v1/search?q=zanzibarque", "/api/v1/search?q=quetzalfuture",
        "/api/v1/search?q=plainword&per_page=50", "/api/v1/search?tag=shared",
        "/api/v1/search/suggest?q=zanz", "/api/v1/search/suggest?q=quetz",
        "/api/v1/search/suggest?q=Zanzibarque%20secret",
        "/feed.xml", "/atom.xml", "/feed.json", "/tags/shared/feed.xml", "/authors/owner/atom.xml",
        "/authors/other/feed.json", f"/posts/{hidden.public.slug}/comments/feed.xml",
        f"/posts/{hidden.public.slug}/comments/feed.json", "/sitemap.xml",
        "/search/feed.xml?q=running", "/search/feed.json?q=zanzibarque",
    ]
    checked = 0
    for caller in ("anonymous", "other"):
        for url in urls:
            r = await client.get(url, headers=world.headers(caller))
            assert r.status_code == 200, (caller, url, r.status_code)
            text = r.text
            for value in httpx.URL(url).params.values():  # the query itself is echoed back
                text = text.replace(value, "").replace(quote(value), "")
            for word in HIDDEN_WORDS:
                assert word not in text, (caller, url, word)
            checked += 1
    # Comment counts: one approved top-level comment (replies under held ones are hidden too).
    r = await client.get(f"/api/v1/posts/{hidden.public.slug}")
    assert r.json()["comment_count"] == 1
    r = await client.get(f"/api/v1/posts/{hidden.public.slug}/comments")
    assert [c["content_html"] for c in r.json()["items"]] == ["<p>Approved and visible</p>\n"]
    tags = {t["slug"]: t["post_count"] for t in (await client.get("/api/v1/tags")).json()}
    assert tags == {"shared": 1}
    authors = {a["username"]: a["post_count"] for a in (await client.get("/api/v1/authors")).json()}
    assert authors == {"owner": 1}
    assert (await client.get("/api/v1/authors/other")).json()["post_count"] == 0
    assert checked == 2 * len(urls)


@pytest.mark.parametrize("which", ["draft", "scheduled"])
async def test_single_reads_of_hidden_posts(
    client: httpx.AsyncClient, world: World, hidden: Hidden, which: str
) -> None:
    post = getattr(hidden, which)
    author = "owner" if which == "draft" else "other"
    expected = {"anonymous": 404, "owner": 404, "other": 404, "editor": 200, "admin": 200}
    expected[author] = 200
    for suffix in ("", "/comments", "/related"):
        got = {}
        for caller in CALLERS:
            r = await client.get(f"/api/v1/posts/{post.slug}{suffix}", headers=world.headers(caller))
            got[caller] = r.status_code
        if suffix:  # the post's author and editors get the page; readers a 404
            assert got == expected, suffix
        else:
            assert got == expected
    for feed in ("feed.xml", "atom.xml", "feed.json"):
        r = await client.get(f"/posts/{post.slug}/comments/{feed}")
        assert r.status_code == 404


async def test_renamed_draft_does_not_reveal_its_new_slug(
    client: httpx.AsyncClient, world: World, hidden: Hidden
) -> None:
    r = await client.patch(f"/api/v1/posts/{hidden.draft.slug}", json={"slug": "new-secret-slug"},
                           headers=world.headers("owner"))
    assert r.status_code == 200
    for caller in ("anonymous", "other"):
        r = await client.get(f"/api/v1/posts/{hidden.draft.slug}", headers=world.headers(caller))
        assert r.status_code == 404
        assert "new-secret-slug" not in r.text
    r = await client.get(f"/api/v1/posts/{hidden.draft.slug}", headers=world.headers("owner"))
    assert r.status_code == 301


async def test_status_filter_shows_authors_only_their_own(
    client: httpx.AsyncClient, world: World, hidden: Hidden
) -> None:
    def titles(r: httpx.Response) -> list[str]:
        return [p["title"] for p in r.json()["items"]]

    drafts = {caller: titles(await client.get("/api/v1/posts", params={"status": "draft"},
                                              headers=world.headers(caller)))
              for caller in CALLERS if caller != "anonymous"}
    assert drafts == {"owner": [hidden.draft.title], "other": [], "editor": [hidden.draft.title],
                      "admin": [hidden.draft.title]}
    r = await client.get("/api/v1/posts", params={"status": "scheduled"}, headers=world.headers("owner"))
    assert titles(r) == []
    # An editor's view is never served to an anonymous reader afterwards (response cache).
    r = await client.get("/api/v1/posts", params={"status": "draft"}, headers=world.headers("editor"))
    assert titles(r) == [hidden.draft.title]
    assert titles(await client.get("/api/v1/posts")) == [hidden.public.title]
    r = await client.get("/api/v1/posts", params={"status": "draft"})
    assert r.status_code == 403


async def test_search_and_related_never_show_hidden_posts_even_to_editors(
    client: httpx.AsyncClient, world: World, hidden: Hidden
) -> None:
    """Search, suggest and related are public views: staff use the status filter instead."""
    for caller in CALLERS:
        headers = world.headers(caller)
        r = await client.get("/api/v1/search", params={"q": "running recovery"}, headers=headers)
        assert [i["post"]["slug"] for i in r.json()["items"]] == [hidden.public.slug], caller
        r = await client.post("/api/v1/related", json={"title": "Zanzibarque secret draft",
                              "content": "Zanzibarque Quetzalfuture running recovery"}, headers=headers)
        assert {p["post"]["slug"] for p in r.json()} <= {hidden.public.slug}, caller
        r = await client.get("/api/v1/search/suggest", params={"q": "zanzib"}, headers=headers)
        assert r.json() == [], caller
