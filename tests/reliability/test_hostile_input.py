"""Hostile input: XSS payloads through every text field, SQL and Whoosh syntax through every
filter, and malformed requests (oversized, chunked, invalid UTF-8, NUL bytes, deep nesting,
absurd pages, unknown fields), which must all get clear 4xx problem+json answers."""

import html
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from api.comments.models import CommentStatus
from api.posts.models import PostStatus
from api.settings import Settings
from api.text.characters import _FORBIDDEN
from api.users.models import Role
from tests.factories import auth, make_comment, make_post, make_user
from tests.htmlsafety import assert_safe_html, unsafe_parts
from tests.reliability.payloads import INJECTION, XSS

PROBLEM = "application/problem+json"
TOKEN = "xsstoken"
CONTENT_NS = "{http://purl.org/rss/1.0/modules/content/}encoded"
ATOM_NS = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"comment_rate_per_minute": 100_000,
                                       "login_rate_per_minute": 100_000})


def test_the_checker_catches_what_it_must() -> None:
    """tests/htmlsafety.py itself, on markup that must fail and markup that must pass."""
    for bad in ('<a href="java&#x09;script:alert(1)">x</a>', '<a href="  JAVASCRIPT:x">x</a>',
                '<img src="data:image/svg+xml,x">', '<a href="vbscript:x">x</a>',
                "<img src=x onerror=alert(1)>", "<svg></svg>", "<p style=color:red>x</p>",
                "<!-- comment -->", '<a href="javascript&colon;x">x</a>', "<input>",
                '<blockquote cite="javascript:x">q</blockquote>', "<video></video>",
                '<a href="java\x00script:x">x</a>'):
        assert unsafe_parts(bad), bad
    for good in ('<a href="https://example.org/?a=1&amp;b=2" rel="noopener">x</a>',
                 '<a href="/posts/x#c">x</a>', '<a href="mailto:a@example.org">x</a>',
                 "<p>&lt;script&gt;alert(1)&lt;/script&gt; javascript:alert(1)</p>",
                 '<img src="https://example.org/a.png" alt="onerror=alert(1)">',
                 "<mark>x</mark>", '<a href="relative/path:with-colon">x</a>'):
        assert not unsafe_parts(good), good


def _refused(text: str) -> bool:
    return bool(_FORBIDDEN.search(text))


def _check_feed_html(body: bytes, media_type: str) -> int:
    """Every HTML field of an RSS, Atom or JSON feed; how many were checked."""
    fragments: list[str] = []
    if media_type == "json":
        for item in json.loads(body)["items"]:
            fragments.append(item.get("content_html", ""))
            assert "content_text" not in item or "<" not in item.get("summary", "")
    else:
        root = ElementTree.fromstring(body)
        for element in root.iter():
            # RSS <description> is read as HTML; Atom's <summary> and <content> when typed so.
            atom_html = element.tag in (f"{ATOM_NS}content", f"{ATOM_NS}summary") and \
                element.get("type") == "html"
            if element.tag in (CONTENT_NS, "description") or atom_html:
                fragments.append(element.text or "")
    for fragment in fragments:
        assert_safe_html(fragment)
    return len(fragments)


async def test_xss_in_posts(app: FastAPI, client: httpx.AsyncClient, session: AsyncSession) -> None:
    author = await make_user(session, role=Role.editor, display_name="<img src=x onerror=alert(1)>")
    headers = auth(author)
    created = refused = 0
    for n, payload in enumerate(XSS):
        title = f"{TOKEN} {n} {payload}"[:200]
        body = {"title": title, "content": f"{TOKEN} paragraph {n}\n\n{payload}\n\n{payload} {TOKEN}",
                "excerpt": payload, "tags": ["xss", payload[:50]], "status": "published"}
        r = await client.post("/api/v1/posts", json=body, headers=headers)
        if _refused(payload):
            assert r.status_code == 422, payload
            refused += 1
            continue
        assert r.status_code == 201, (payload, r.text)
        post = r.json()
        assert_safe_html(post["content_html"])
        # Plain-text fields come back as the very string sent: escaping is the frontend's job.
        assert post["title"] == title.strip()
        assert post["excerpt"] == payload
        assert post["author"]["display_name"] == "<img src=x onerror=alert(1)>"
        created += 1
    assert created + refused == len(XSS) >= 50

    await app.state.search.sync_now()
    highlights = 0
    for page in (1, 2):
        r = await client.get("/api/v1/search", params={"q": TOKEN, "per_page": 50, "page": page})
        assert r.status_code == 200
        for item in r.json()["items"]:
            assert_safe_html(item["highlights"]["title"])
            assert_safe_html(item["highlights"]["content"])
            highlights += 2
    assert highlights >= 2 * created
    for q in ("alert", "script", "onerror", "javascript"):
        r = await client.get("/api/v1/search", params={"q": f"{TOKEN} {q}", "per_page": 50})
        for item in r.json()["items"]:
            assert_safe_html(item["highlights"]["title"])
            assert_safe_html(item["highlights"]["content"])
    r = await client.get("/api/v1/search/suggest", params={"q": TOKEN})
    assert all(isinstance(c["text"], str) for c in r.json())

    fragments = 0
    for url, kind in (("/feed.xml", "xml"), ("/atom.xml", "xml"), ("/feed.json", "json"),
                      ("/tags/xss/feed.xml", "xml"), (f"/authors/{author.username}/atom.xml", "xml"),
                      (f"/search/feed.json?q={TOKEN}", "json"), (f"/search/feed.xml?q={TOKEN}", "xml")):
        r = await client.get(url)
        assert r.status_code == 200, url
        fragments += _check_feed_html(r.content, kind)
    assert fragments >= 7


async def test_xss_in_comments(client: httpx.AsyncClient, session: AsyncSession) -> None:
    owner = await make_user(session)
    post = await make_post(session, author=owner)
    url = f"/api/v1/posts/{post.slug}/comments"
    accepted = refused = 0
    for n, payload in enumerate(XSS):
        body = {"content": f"{n} {payload}", "author_name": payload[:100],
                "author_email": f"guest{n}@example.org", "author_url": f"https://example.org/{n}"}
        r = await client.post(url, json=body)
        if _refused(payload):
            assert r.status_code == 422
            refused += 1
            continue
        assert r.status_code == 201, (payload, r.text)
        comment = r.json()
        assert_safe_html(comment["content_html"])
        assert comment["author"]["name"] == payload[:100].strip()
        await client.patch(f"/api/v1/comments/{comment['id']}", json={"status": "approved"},
                           headers=auth(owner))
        accepted += 1
    assert accepted + refused == len(XSS)
    # A moderator's edit renders through the same sanitizer.
    comment = await make_comment(session, post=post, status=CommentStatus.approved)
    for payload in XSS[:10]:
        r = await client.patch(f"/api/v1/comments/{comment.id}", json={"content": payload},
                               headers=auth(owner))
        assert r.status_code == 200
        assert_safe_html(r.json()["content_html"])
    shown = 0
    for page in range(1, 11):
        r = await client.get(url, params={"page": page, "per_page": 100})
        for item in r.json()["items"]:
            assert_safe_html(item["content_html"])
            shown += 1
    assert shown >= accepted
    r = await client.get("/api/v1/comments", params={"per_page": 100}, headers=auth(owner))
    for item in r.json()["items"]:
        assert_safe_html(item["content_html"])
    for feed, kind in (("feed.xml", "xml"), ("atom.xml", "xml"), ("feed.json", "json")):
        r = await client.get(f"/posts/{post.slug}/comments/{feed}")
        assert r.status_code == 200
        _check_feed_html(r.content, kind)


SCRIPT_URLS = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
               "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
               "javascript://example.org/%0Aalert(1)", "ftp://example.org/x", "//evil.example/x"]


async def test_script_urls_are_refused_in_url_fields(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = auth(await make_user(session, role=Role.admin))
    user = await make_user(session)
    post = await make_post(session, author=user)
    for n, url in enumerate(SCRIPT_URLS):
        r = await client.post(f"/api/v1/posts/{post.slug}/comments", json={
            "content": f"Hi {n}", "author_name": "G", "author_email": "g@example.org", "author_url": url})
        assert r.status_code == 422, url
        r = await client.patch(f"/api/v1/users/{user.username}", json={"avatar_url": url}, headers=admin)
        assert r.status_code == 422, url
        r = await client.post("/api/v1/users", headers=admin, json={
            "username": f"new{n}", "display_name": "N", "email": f"n{n}@example.com",
            "password": "long enough password", "avatar_url": url})
        assert r.status_code == 422, url
    r = await client.patch(f"/api/v1/users/{user.username}",
                           json={"avatar_url": "https://example.org/me.png"}, headers=admin)
    assert r.status_code == 200


@pytest.fixture
async def secrets_world(app: FastAPI, session: AsyncSession) -> dict[str, Any]:
    owner = await make_user(session, username="owner", email="owner-secret@example.com")
    await make_post(session, author=owner, title="Public about running", tags=["Running"])
    await make_post(session, author=owner, title="Draftsecret plans", status=PostStatus.draft,
                    tags=["Hiddentag"], content="Draftsecret running")
    await app.state.search.sync_now()
    return {"headers": auth(owner)}


LEAKS = ("Draftsecret", "draftsecret", "hiddentag", "Hiddentag", "owner-secret@", "$argon2",
         "Traceback", "SELECT ", "sqlalchemy", "psycopg", "asyncpg", "sqlite3")


async def test_sql_and_query_syntax_in_every_filter(
    client: httpx.AsyncClient, secrets_world: dict[str, Any]
) -> None:
    staff = secrets_world["headers"]
    requests = 0
    statuses: dict[int, int] = {}
    for payload in INJECTION:
        p = quote(payload, safe="")
        cases: list[tuple[str, dict[str, Any], dict[str, str]]] = [
            ("/api/v1/posts", {"tag": payload}, {}),
            ("/api/v1/posts", {"author": payload}, {}),
            ("/api/v1/posts", {"sort": payload}, {}),
            ("/api/v1/posts", {"status": payload}, staff),
            ("/api/v1/search", {"q": payload}, {}),
            ("/api/v1/search", {"q": f"running {payload}"}, {}),
            ("/api/v1/search", {"tag": payload, "author": payload}, {}),
            ("/api/v1/search", {"sort": payload, "after": payload}, {}),
            ("/api/v1/search/suggest", {"q": payload}, {}),
            ("/api/v1/comments", {"post": payload, "status": payload}, staff),
            (f"/api/v1/posts/{p}", {}, {}),
            (f"/api/v1/posts/{p}/comments", {}, {}),
            (f"/api/v1/posts/{p}/related", {}, {}),
            (f"/api/v1/authors/{p}", {}, {}),
            (f"/tags/{p}/feed.xml", {}, {}),
            (f"/authors/{p}/feed.json", {}, {}),
            ("/search/feed.xml", {"q": payload}, {}),
        ]
        for url, params, headers in cases:
            r = await client.get(url, params=params, headers=headers)
            requests += 1
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            assert r.status_code in (200, 404, 422), (url, params, r.status_code, r.text)
            if r.status_code != 200:
                assert r.headers["content-type"] == PROBLEM
            text = r.text  # searches and 404s echo what was asked, maybe JSON- or XML-escaped
            for value in {payload, *params.values()}:
                for form in (json.dumps(value)[1:-1], value, html.escape(value)):
                    text = text.replace(form, "")
            for leak in LEAKS:
                assert leak not in text, (url, params, leak)
            if url == "/api/v1/posts" and r.status_code == 200 and "status" not in params:
                assert r.json()["total"] == 0, (params, r.json())  # no tag or author matches
    assert requests == 17 * len(INJECTION)
    assert statuses.get(200, 0) > requests / 3


async def test_login_form_with_hostile_usernames(client: httpx.AsyncClient) -> None:
    for payload in [*INJECTION[::6], "a\x00b", "\x00"]:  # each costs an argon2 verification
        r = await client.post("/api/v1/auth/token", data={"username": payload, "password": payload})
        assert r.status_code == 401, payload
        assert r.headers["content-type"] == PROBLEM


# -- malformed requests ---------------------------------------------------------------------

def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["detail"]
    return body


class TestBodyLimit:
    async def test_content_length_over_the_limit_is_refused_unread(
        self, app: FastAPI, settings: Settings
    ) -> None:
        reads = 0

        async def receive() -> dict[str, Any]:
            nonlocal reads
            reads += 1
            return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/api/v1/posts", "raw_path": b"/api/v1/posts",
            "query_string": b"", "root_path": "", "client": ("203.0.113.1", 1234),
            "server": ("testserver", 80),
            "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                        (b"content-length", str(settings.max_body_bytes + 1).encode())],
        }
        await app(scope, receive, send)
        assert sent[0]["status"] == 413
        assert reads == 0

    async def test_streamed_body_over_the_limit(self, app: FastAPI, settings: Settings) -> None:
        chunk = 65536
        reads = 0

        async def receive() -> dict[str, Any]:
            nonlocal reads
            reads += 1
            return {"type": "http.request", "body": b"[" * chunk, "more_body": True}  # endless

        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        for path, ctype in (("/api/v1/posts", b"application/json"),
                            ("/api/v1/related", b"application/json"),
                            ("/api/v1/auth/token", b"application/x-www-form-urlencoded")):
            reads, sent[:] = 0, []
            scope = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
                "query_string": b"", "root_path": "", "client": ("203.0.113.1", 1234),
                "server": ("testserver", 80),
                "headers": [(b"host", b"testserver"), (b"content-type", ctype),
                            (b"transfer-encoding", b"chunked")],
            }
            await app(scope, receive, send)
            starts = [m for m in sent if m["type"] == "http.response.start"]
            assert [m["status"] for m in starts] == [413], path
            assert reads <= settings.max_body_bytes // chunk + 1, path
            assert json.loads(sent[1]["body"])["status"] == 413

    async def test_through_the_client(self, client: httpx.AsyncClient, session: AsyncSession,
                                      settings: Settings) -> None:
        headers = auth(await make_user(session))
        too_big = b"x" * (settings.max_body_bytes + 1)
        _problem(await client.post("/api/v1/posts", content=too_big, headers=headers), 413)

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(settings.max_body_bytes // 65536 + 5):
                yield b" " * 65536

        r = await client.post("/api/v1/posts", content=chunks(),
                              headers={**headers, "content-type": "application/json"})
        _problem(r, 413)
        # Just under the limit is read and validated as usual; one 150,000-letter word made
        # an automatic excerpt longer than its column (a 500 on PostgreSQL).
        content = json.dumps({"title": "Big", "content": "y" * 150_000}).encode()
        r = await client.post("/api/v1/posts", content=content,
                              headers={**headers, "content-type": "application/json"})
        assert r.status_code == 201
        assert len(r.json()["excerpt"]) == 1000


class TestMalformed:
    async def test_invalid_utf8_and_deep_nesting(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        headers = {**auth(await make_user(session)), "content-type": "application/json"}
        bodies = {
            "invalid UTF-8": b'{"title": "\xff\xfe\xc3("}',
            "overlong UTF-8": b'{"title": "\xc0\xaf"}',
            "lone surrogate escape": b'{"title": "\\ud800"}',
            "10,000 nested arrays": b"[" * 10_000 + b"]" * 10_000,
            "10,000 nested objects": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
            "nested arrays in a field": b'{"title": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
            "truncated": b'{"title": "x"',
            "empty": b"",
            "not JSON": b"title=x",
            "a number too long to read": b'{"title": "x", "tags": [' + b"9" * 5000 + b"]}",
        }
        for name, body in bodies.items():
            for url in ("/api/v1/posts", "/api/v1/related"):
                r = await client.post(url, content=body, headers=headers)
                assert r.status_code in (400, 422), (name, url, r.status_code)
                _problem(r, r.status_code)
                assert "Traceback" not in r.text

    async def test_nul_bytes(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        user = await make_user(session)
        post = await make_post(session, author=user)
        headers = auth(user)
        for body in ({"title": "a\x00b"}, {"title": "ok", "content": "\x00"}, {"title": "ok", "tags": ["\x00"]}):
            _problem(await client.post("/api/v1/posts", json=body, headers=headers), 422)
        _problem(await client.post(f"/api/v1/posts/{post.slug}/comments", json={
            "content": "a\x00", "author_name": "G", "author_email": "g@example.org"}), 422)
        _problem(await client.post("/api/v1/posts", json={"title": "ok", "\x00": 1}, headers=headers), 422)
        for url in ("/api/v1/posts?tag=%00", "/api/v1/posts?author=a%00b", "/api/v1/search?q=a%00",
                    "/api/v1/search/suggest?q=%00", "/api/v1/posts/a%00b", "/api/v1/posts/a%00b/comments",
                    "/api/v1/authors/a%00b", "/tags/a%00/feed.xml", "/search/feed.xml?q=%00",
                    "/api/v1/comments?post=%00"):
            r = await client.get(url, headers=headers)
            body = _problem(r, 400)
            assert "\x00" not in body["instance"]

    async def test_page_parameters(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        user = await make_user(session)
        post = await make_post(session, author=user)
        lists = ["/api/v1/posts", f"/api/v1/posts/{post.slug}/comments", "/api/v1/comments",
                 "/api/v1/search"]
        bad = [{"per_page": "1000000000"}, {"per_page": "0"}, {"per_page": "-5"},
               {"page": "-1"}, {"page": "0"}, {"page": "99999999999999999999999999999"},
               {"page": "1e3"}, {"page": "NaN"}, {"page": ""}, {"per_page": "ten"}]
        for url in lists:
            for params in bad:
                r = await client.get(url, params=params, headers=auth(user))
                body = _problem(r, 422)
                assert body["errors"][0]["field"] in ("page", "per_page")
            per_page = 50 if "search" in url else 100
            r = await client.get(url, params={"page": 1000, "per_page": per_page}, headers=auth(user))
            assert r.status_code == 200 and r.json()["items"] == []
        for bad_id in ("0", "-1", "99999999999999999999", "abc"):
            _problem(await client.delete(f"/api/v1/comments/{bad_id}", headers=auth(user)), 422)
        for page in ("0", "-5", "99999999999999999999999"):
            _problem(await client.get(f"/sitemaps/{page}.xml"), 404)

    async def test_unknown_fields_are_named(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        admin = await make_user(session, role=Role.admin)
        post = await make_post(session, author=admin)
        comment = await make_comment(session, post=post)
        headers = auth(admin)
        cases = [
            ("POST", "/api/v1/posts", {"title": "x", "author_id": 1}),
            ("PATCH", f"/api/v1/posts/{post.slug}", {"content_html": "<script>"}),
            ("POST", f"/api/v1/posts/{post.slug}/comments", {"content": "x", "status": "approved"}),
            ("PATCH", f"/api/v1/comments/{comment.id}", {"post_id": 2}),
            ("POST", "/api/v1/users", {"username": "abc", "display_name": "A", "email": "a@example.com",
                                       "password": "long enough", "is_active": True, "password_hash": "x"}),
            ("PATCH", f"/api/v1/users/{admin.username}", {"username": "renamed"}),
            ("POST", "/api/v1/related", {"title": "x", "limit": 5}),
        ]
        for method, url, body in cases:
            r = await client.request(method, url, json=body, headers=headers)
            problem = _problem(r, 422)
            fields = {e["field"] for e in problem["errors"]}
            assert fields & {"author_id", "content_html", "status", "post_id", "is_active",
                             "password_hash", "username", "limit"}, (url, problem)
            assert all(e["type"] == "extra_forbidden" for e in problem["errors"]), problem
