"""The reference frontend served at `/` when `serve_frontend` is on (`inkwell serve --demo`)."""

from collections.abc import AsyncIterator

import httpx
import pytest

from api.frontend import CSP
from api.settings import Settings
from tests.conftest import reset_schema, running_app


@pytest.fixture
async def frontend_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    await reset_schema(settings.database_url)
    async with running_app(settings, serve_frontend=True) as application:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
class TestServeFrontend:
    @pytest.mark.parametrize(
        "path", ["/", "/posts/some-post", "/tags/running", "/authors/maya", "/search", "/search/"]
    )
    async def test_pages_are_the_app(self, frontend_client: httpx.AsyncClient, path: str) -> None:
        r = await frontend_client.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/js/app.js">' in r.text
        assert r.headers["content-security-policy"] == CSP
        assert "'unsafe-inline'" not in CSP

    async def test_assets(self, frontend_client: httpx.AsyncClient) -> None:
        js = await frontend_client.get("/js/app.js")
        assert js.status_code == 200
        assert "javascript" in js.headers["content-type"]
        css = await frontend_client.get("/style.css")
        assert css.headers["content-type"].startswith("text/css")

    @pytest.mark.parametrize(
        "path", ["/api/v1/posts", "/feed.xml", "/search/feed.xml?q=x", "/sitemap.xml", "/health"]
    )
    async def test_api_routes_win(self, frontend_client: httpx.AsyncClient, path: str) -> None:
        r = await frontend_client.get(path)
        assert r.status_code == 200
        assert not r.headers["content-type"].startswith("text/html")

    @pytest.mark.parametrize(
        "path", ["/api/v1/nothing", "/nothing", "/posts/a/b", "/js/nothing.js", "/posts/x/comments/feed.xml"]
    )
    async def test_missing_is_a_404_problem(
        self, frontend_client: httpx.AsyncClient, path: str
    ) -> None:
        r = await frontend_client.get(path)
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_without_it_the_root_is_a_json_index(client: httpx.AsyncClient) -> None:
    r = await client.get("/")
    assert r.status_code == 200
    assert r.json()["docs"] == "/docs"
    assert (await client.get("/posts/some-post")).status_code == 404
