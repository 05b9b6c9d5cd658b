"""Response hardening: security headers on every kind of response, generic 500 bodies, and
request IDs in the `X-Request-ID` header and in the logs."""

import logging
import re
import subprocess
import sys
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel.ext.asyncio.session import AsyncSession

from api.comments import service as comment_service
from api.middleware import RequestIdFilter
from api.posts import service as post_service
from api.settings import Settings
from api.users.models import Role
from tests.factories import auth, make_comment, make_post, make_user

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_rate_per_minute": 2})


def assert_hardened(r: httpx.Response, what: str) -> None:
    h = r.headers
    assert h.get("x-content-type-options") == "nosniff", what
    assert h.get("referrer-policy") == "strict-origin-when-cross-origin", what
    assert h.get("x-frame-options") == "DENY", what
    csp = h.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, what
    if h.get("content-type", "").startswith("text/html"):
        assert "object-src 'none'" in csp and "base-uri 'self'" in csp, (what, csp)
        assert "default-src 'self'" in csp, (what, csp)
    else:
        assert csp.startswith("default-src 'none'"), (what, csp)
    assert HEX_ID.match(h.get("x-request-id", "")), what


async def test_security_headers_on_every_kind_of_response(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_user(session)
    post = await make_post(session, author=user)
    comment = await make_comment(session, post=post)
    headers = auth(user)
    first = await client.get("/api/v1/posts")
    cases: list[tuple[str, str, dict[str, Any], int]] = [
        ("GET", "/api/v1/posts", {}, 200),
        ("HEAD", "/api/v1/posts", {}, 405),
        ("GET", "/api/v1/posts", {"headers": {"If-None-Match": first.headers.get("etag", "")}}, 304),
        ("GET", f"/api/v1/posts/{post.slug}", {}, 200),
        ("POST", "/api/v1/posts", {"json": {"title": "New"}, "headers": headers}, 201),
        ("DELETE", f"/api/v1/comments/{comment.id}", {"headers": headers}, 204),
        ("GET", "/api/v1/posts/nope", {}, 404),
        ("GET", "/nothing/here", {}, 404),
        ("PUT", "/api/v1/posts", {}, 405),
        ("GET", "/api/v1/posts?per_page=0", {}, 422),
        ("GET", "/api/v1/users/me", {}, 401),
        ("POST", "/api/v1/users", {"json": {}, "headers": headers}, 403),
        ("POST", "/api/v1/posts", {"content": b"x" * (settings.max_body_bytes + 1),
                                   "headers": headers}, 413),
        ("GET", "/api/v1/posts?tag=%00", {}, 400),
        ("POST", "/api/v1/posts", {"content": b"\xff", "headers": {**headers,
                                   "content-type": "application/json"}}, 400),
        ("GET", "/feed.xml", {}, 200),
        ("GET", "/atom.xml", {}, 200),
        ("GET", "/feed.json", {}, 200),
        ("GET", "/sitemap.xml", {}, 200),
        ("GET", "/openapi.json", {}, 200),
        ("GET", "/health", {}, 200),
        ("GET", "/docs", {}, 200),
        ("GET", "/redoc", {}, 200),
        ("GET", "/docs/oauth2-redirect", {}, 200),
        ("OPTIONS", "/api/v1/posts", {"headers": {"Origin": "http://frontend.example",
                                                  "Access-Control-Request-Method": "POST"}}, 200),
    ]
    cases += [("POST", "/api/v1/auth/token", {"data": {"username": "x", "password": "y"}}, status)
              for status in (401, 401, 429)]
    for method, url, kwargs, status in cases:
        r = await client.request(method, url, **kwargs)
        assert r.status_code == status, (method, url, r.status_code)
        assert_hardened(r, f"{method} {url} {status}")
    assert len(cases) == 28


async def test_request_id_is_kept_when_sane_and_replaced_otherwise(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/posts", headers={"X-Request-ID": "edge-7f3a.2_b"})
    assert r.headers["x-request-id"] == "edge-7f3a.2_b"
    for hostile in ("a" * 65, "with space", "<script>", "id\x7f", "ü"):
        r = await client.get("/api/v1/posts", headers={"X-Request-ID": hostile.encode("utf-8")})
        assert HEX_ID.match(r.headers["x-request-id"]), hostile
    ids = {(await client.get("/health")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


FAILURES = [
    RuntimeError("boom at /srv/inkwell/api/posts/service.py line 12, password_hash='$argon2id$v=19$x'"),
    ProgrammingError('SELECT post.id, "user".password_hash FROM post JOIN "user"', {}, Exception("syntax error")),
    OperationalError("SELECT 1", {}, Exception("could not connect to server: 10.0.0.5:5432")),
    KeyError("secret"),
]
SECRETS = ("boom", "/srv", "password_hash", "argon2", "SELECT", "Traceback", "10.0.0.5", "secret",
           "syntax error", "sqlalchemy", "ProgrammingError", "RuntimeError", "KeyError", "line ")


@pytest.mark.parametrize("failure", FAILURES, ids=lambda e: type(e).__name__)
async def test_internal_errors_are_generic_and_traceable(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, failure: Exception,
) -> None:
    async def fail(*args: object, **kwargs: object) -> None:
        raise failure

    user = await make_user(session, role=Role.editor)
    post = await make_post(session, author=user)
    monkeypatch.setattr(post_service, "list_posts", fail)
    monkeypatch.setattr(comment_service, "get_comment", fail)
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.ERROR, logger="inkwell")
    for method, url, kwargs in (
        ("GET", "/api/v1/posts", {}),  # a read
        ("GET", "/feed.xml", {}),  # a feed
        ("PATCH", "/api/v1/comments/1", {"json": {"status": "spam"}, "headers": auth(user)}),  # a write
    ):
        caplog.clear()
        request_id = f"trace-{len(url)}-{method.lower()}"
        r = await client.request(method, url, headers={"X-Request-ID": request_id,
                                                        **kwargs.pop("headers", {})}, **kwargs)
        assert r.status_code == 500, url
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json() == {"type": "about:blank", "title": "Internal Server Error", "status": 500,
                            "detail": "The server failed to handle this request.",
                            "instance": url.split("?")[0]}
        for secret in SECRETS:
            assert secret not in r.text
        assert r.headers["x-request-id"] == request_id
        assert_hardened_500(r)
        # The traceback is in the log, under the same request ID.
        records = [rec for rec in caplog.records if rec.exc_info]
        assert records, url
        assert {getattr(rec, "request_id", None) for rec in records} == {request_id}
    # The app keeps serving.
    monkeypatch.undo()
    assert (await client.get(f"/api/v1/posts/{post.slug}")).status_code == 200


def assert_hardened_500(r: httpx.Response) -> None:
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert r.headers["referrer-policy"]


async def test_validation_errors_do_not_echo_secrets(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = auth(await make_user(session, role=Role.admin))
    r = await client.post("/api/v1/users", headers=admin, json={
        "username": "newbie", "display_name": "N", "email": "n@example.com", "password": "hunter2"})
    assert r.status_code == 422
    assert "hunter2" not in r.text
    assert r.json()["errors"][0]["field"] == "password"
    r = await client.post("/api/v1/auth/token", data={"username": "nobody", "password": "hunter2"})
    assert "hunter2" not in r.text


def test_log_lines_carry_the_request_id() -> None:
    """`inkwell serve`'s logging configuration (api.logs), in a clean interpreter."""
    script = """
import logging, logging.config
from api.logs import log_config
from api.middleware import request_id_var
logging.config.dictConfig(log_config())
logging.getLogger("inkwell").warning("outside a request")
request_id_var.set("req-42")
logging.getLogger("inkwell.search").warning("search trouble")
logging.getLogger("uvicorn.error").error("server trouble")
logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "203.0.113.9:1234", "GET", "/", "1.1", 200)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          check=True)
    lines = (done.stdout + done.stderr).splitlines()
    assert any("[-] outside a request" in line for line in lines), lines
    assert any("inkwell.search [req-42] search trouble" in line for line in lines), lines
    assert any("[req-42]" in line and "server trouble" in line for line in lines), lines
    assert any('[req-42] 203.0.113.9:1234 - "GET / HTTP/1.1" 200' in line for line in lines), lines
