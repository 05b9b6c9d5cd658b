"""Schema fuzzing: schemathesis drives every operation of /openapi.json, anonymous and as admin.

Cases are generated from the schema (valid ones and, fewer, invalid ones); each response is
checked for: no 5xx, a documented status code, a documented content type, and a body that
matches the documented schema. Runs in-process through schemathesis' ASGI transport, which
starts the app's lifespan on its own event loop thread.
"""

import asyncio
import secrets
import traceback
from collections import Counter
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
import whoosh.codec.base
import whoosh.filedb.compound
import whoosh.filedb.filestore
import whoosh.writing
from hypothesis import HealthCheck, Phase
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel.ext.asyncio.session import AsyncSession
from whoosh.util import IDCHARS

from api.comments.models import CommentStatus
from api.db import create_engine, make_sessionmaker
from api.main import create_app
from api.posts.models import PostStatus
from api.settings import Settings
from api.users.models import Role
from tests.conftest import reset_schema
from tests.factories import auth, make_comment, make_post, make_user

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
POSITIVE_EXAMPLES = 15
NEGATIVE_EXAMPLES = 8


async def _seed(settings: Settings) -> dict[str, Any]:
    """An admin, an author with public, draft and scheduled posts, and comments."""
    await reset_schema(settings.database_url)
    engine = create_engine(settings)
    try:
        async with make_sessionmaker(engine, write=True)() as session:
            admin = await make_user(session, role=Role.admin, username="fuzz-admin")
            author = await make_user(session, username="fuzz-author")
            post = await make_post(session, author=author, title="Hello fuzz",
                                   tags=["Running"], slug="hello-fuzz")
            await make_post(session, author=author, status=PostStatus.draft)
            await make_post(session, author=author, status=PostStatus.scheduled)
            comment = await make_comment(session, post=post)
            await make_comment(session, post=post, parent=comment)
            await make_comment(session, post=post, status=CommentStatus.pending)
            return {"headers": auth(admin), "slug": post.slug, "username": author.username,
                    "comment_id": comment.id}
    finally:
        await engine.dispose()


def _fixed_path(operation: Any, seeded: dict[str, Any]) -> dict[str, Any] | None:
    """Path parameters naming seeded rows, so valid cases reach the 2xx answers too."""
    names = {p.name for p in operation.path_parameters}
    known = {"slug": seeded["slug"], "username": seeded["username"],
             "comment_id": seeded["comment_id"], "page": 1}
    if not names or not names <= known.keys():
        return None
    if "slug" in names and "/tags/" in operation.path:
        return {"slug": "running"}
    return {name: known[name] for name in names}


def _run(operation: Any, strategy: Any, examples: int, headers: dict[str, str],
         statuses: Counter[int], failures: list[str], label: str) -> None:
    @hypothesis.settings(
        max_examples=examples, deadline=None, database=None, derandomize=True,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=strategy)
    def check(case: Any) -> None:
        response = case.call(headers=headers, allow_redirects=False)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        check()
    except Unsatisfiable:  # an operation without parameters or body has no invalid input
        pass
    except (Exception, BaseExceptionGroup) as exc:  # collect every failure, report them together
        failures.append(f"{operation.label} [{label}]: {_summary(exc)}")


def _summary(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(exc))
    if isinstance(exc, BaseExceptionGroup):  # a flaky failure wraps the real one
        text += "\n" + "\n".join(_summary(inner) for inner in exc.exceptions)
    return text[:4000]


def _system_random_name(size: int = 28) -> str:
    return "".join(secrets.choice(IDCHARS) for _ in range(size))


def _summary(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(exc))
    if isinstance(exc, BaseExceptionGroup):  # a flaky failure wraps the real one
        text += "\n" + "\n".join(_summary(inner) for inner in exc.exceptions)
    return text[:4000]


def _system_random_name(size: int = 28) -> str:
    return "".join(secrets.choice(IDCHARS) for _ in range(size))


def test_every_operation_conforms(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # Hypothesis seeds the global `random` before every example, and Whoosh names its segment
    # files with it: the indexer thread would make the same "random" segment name twice.
    for module in (whoosh.codec.base, whoosh.filedb.compound, whoosh.filedb.filestore, whoosh.writing):
        monkeypatch.setattr(module, "random_name", _system_random_name)
    settings = settings.model_copy(update={
        "login_rate_per_minute": 1_000_000, "comment_rate_per_minute": 1_000_000})
    seeded = asyncio.run(_seed(settings))
    app = create_app(settings)
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        # Deletes last: they remove the seeded rows that the other operations read.
        operations.sort(key=lambda op: op.method.upper() == "DELETE")
        for operation in operations:
            for who, headers in (("anonymous", {}), ("admin", seeded["headers"])):
                _run(operation, operation.as_strategy(), POSITIVE_EXAMPLES, headers,
                     statuses, failures, f"{who}, valid")
            _run(operation, operation.as_strategy(GenerationMode.NEGATIVE), NEGATIVE_EXAMPLES,
                 seeded["headers"], statuses, failures, "admin, invalid")
            fixed = _fixed_path(operation, seeded)
            if fixed is not None:
                _run(operation, operation.as_strategy(path_parameters=fixed), POSITIVE_EXAMPLES,
                     seeded["headers"], statuses, failures, "admin, seeded rows")
    finally:
        shutdown_lifespans()
    print(f"\nschema fuzz: {len(operations)} operations, {sum(statuses.values())} requests, "  # noqa: T201
          f"statuses {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)


class TestFoundByFuzzing:
    """Regressions for what the fuzzer found."""

    async def test_every_error_is_documented_as_problem_json(self, client: httpx.AsyncClient) -> None:
        schema = (await client.get("/openapi.json")).json()
        assert "HTTPValidationError" not in schema["components"]["schemas"]
        for path, item in schema["paths"].items():
            for method, operation in item.items():
                responses = operation["responses"]
                if operation.get("parameters") or "requestBody" in operation:
                    assert "422" in responses, (method, path)
                if "requestBody" in operation:
                    assert {"400", "413"} <= responses.keys(), (method, path)
                if operation.get("security"):
                    assert "401" in responses, (method, path)
                for code, response in responses.items():
                    if int(code) >= 400:
                        assert list(response["content"]) == ["application/problem+json"], (method, path, code)

    async def test_status_filter_refusal_is_documented(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/api/v1/posts", params={"status": "draft"})
        assert r.status_code == 403
        schema = (await client.get("/openapi.json")).json()
        assert "403" in schema["paths"]["/api/v1/posts"]["get"]["responses"]

    async def test_null_bio_clears_it_instead_of_failing(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, role=Role.admin)
        user = await make_user(session, bio="Runner.")
        r = await client.patch(f"/api/v1/users/{user.username}", json={"bio": None}, headers=auth(admin))
        assert r.status_code == 200, r.text
        assert r.json()["bio"] == ""

    @pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "esc\x1b[31m", "form\x0cfeed", "\ufffe"])
    async def test_control_characters_are_refused_and_feeds_keep_working(
        self, client: httpx.AsyncClient, session: AsyncSession, text: str
    ) -> None:
        author = await make_user(session)
        post = await make_post(session, author=author)
        headers = auth(author)
        bodies = [{"title": text}, {"title": "Ok", "content": text}, {"title": "Ok", "excerpt": text}]
        if not any(c.isspace() for c in text):  # tag names fold white space (form feed) to spaces
            bodies.append({"title": "Ok", "tags": [text]})
        for body in bodies:
            r = await client.post("/api/v1/posts", json=body, headers=headers)
            assert r.status_code == 422, (body, r.text)
            assert r.headers["content-type"] == "application/problem+json"
        r = await client.patch(f"/api/v1/posts/{post.slug}", json={"title": text}, headers=headers)
        assert r.status_code == 422
        r = await client.post(f"/api/v1/posts/{post.slug}/comments", json={
            "content": text, "author_name": "Guest", "author_email": "guest@example.org"})
        assert r.status_code == 422
        r = await client.patch(f"/api/v1/users/{author.username}", json={"display_name": text},
                               headers=auth(await make_user(session, role=Role.admin)))
        assert r.status_code == 422
        assert (await client.post("/api/v1/related", json={"title": text})).status_code == 422
        # Tabs and new lines are ordinary text.
        r = await client.post("/api/v1/posts", json={"title": "Tab\there", "content": "a\r\n\tb"},
                              headers=headers)
        assert r.status_code == 201
        for feed in ("/feed.xml", "/atom.xml", "/feed.json", "/sitemap.xml"):
            assert (await client.get(feed)).status_code == 200

    async def test_renamed_post_redirects_keep_the_subresource_and_method(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        author = await make_user(session)
        post = await make_post(session, author=author, slug="old-name")
        r = await client.patch(f"/api/v1/posts/{post.slug}", json={"slug": "new-name"},
                               headers=auth(author))
        assert r.status_code == 200
        cases = [
            ("GET", "/api/v1/posts/old-name", 301, "/api/v1/posts/new-name"),
            ("GET", "/api/v1/posts/old-name/comments?page=2", 301,
             "/api/v1/posts/new-name/comments?page=2"),
            ("GET", "/api/v1/posts/old-name/related", 301, "/api/v1/posts/new-name/related"),
            # After a 301 clients repeat a POST as a GET: the comment would be lost.
            ("POST", "/api/v1/posts/old-name/comments", 308, "/api/v1/posts/new-name/comments"),
            ("PATCH", "/api/v1/posts/old-name", 308, "/api/v1/posts/new-name"),
            ("DELETE", "/api/v1/posts/old-name", 308, "/api/v1/posts/new-name"),
        ]
        for method, url, status, location in cases:
            body = {"content": "Hi", "author_name": "G", "author_email": "g@example.org"} \
                if method == "POST" else ({"title": "T"} if method == "PATCH" else None)
            r = await client.request(method, url, json=body, headers=auth(author))
            assert (r.status_code, r.headers.get("location")) == (status, location), (method, url)
            assert r.headers["content-type"] == "application/problem+json"
        r = await client.post("/api/v1/posts/new-name/comments", json={
            "content": "Hi", "author_name": "G", "author_email": "g@example.org"})
        assert r.status_code == 201
