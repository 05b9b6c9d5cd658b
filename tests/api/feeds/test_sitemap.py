from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from lxml import etree
from sqlmodel.ext.asyncio.session import AsyncSession

from api.db import utcnow
from api.feeds import sitemap
from api.posts.models import PostStatus
from tests.factories import make_post, make_user

SITE = "http://blog.example"
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
SCHEMA = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("sitemap-0.9.xsd"))))


def validated(r: httpx.Response, root: str) -> etree._Element:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    doc = etree.fromstring(r.content)
    SCHEMA.assertValid(doc)
    assert etree.QName(doc).localname == root
    return doc


def entries(doc: etree._Element) -> dict[str, datetime]:
    return {
        child.findtext("sm:loc", namespaces=NS): datetime.fromisoformat(
            child.findtext("sm:lastmod", namespaces=NS)
        )
        for child in doc
    }


async def arrange(session: AsyncSession) -> None:
    ann = await make_user(session, username="ann")
    bob = await make_user(session, username="bob")
    await make_user(session, username="nobody")  # no public posts: not listed
    await make_post(
        session, author=ann, title="One", tags=["Travel"], published_at=utcnow() - timedelta(days=2)
    )
    await make_post(session, author=bob, title="Two", tags=["Travel", "Food"])
    await make_post(session, author=bob, title="Hidden", tags=["Secret"], status=PostStatus.draft)
    await make_post(session, author=bob, title="Soon", tags=["Soon"], status=PostStatus.scheduled)


ALL = {
    f"{SITE}/",
    f"{SITE}/authors/ann",
    f"{SITE}/authors/bob",
    f"{SITE}/tags/food",
    f"{SITE}/tags/travel",
    f"{SITE}/posts/one",
    f"{SITE}/posts/two",
}


class TestSitemap:
    async def test_public_posts_tags_and_authors(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        await arrange(session)
        found = entries(validated(await client.get("/sitemap.xml"), "urlset"))
        assert set(found) == ALL
        assert found[f"{SITE}/authors/ann"] == found[f"{SITE}/posts/one"]
        assert found[f"{SITE}/tags/travel"] == found[f"{SITE}/posts/two"] == found[f"{SITE}/"]

    async def test_empty_site(self, client: httpx.AsyncClient) -> None:
        doc = validated(await client.get("/sitemap.xml"), "urlset")
        assert [child.findtext("sm:loc", namespaces=NS) for child in doc] == [f"{SITE}/"]

    async def test_split_into_an_index(
        self, client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await arrange(session)
        monkeypatch.setattr(sitemap, "URLS_PER_SITEMAP", 3)
        index = entries(validated(await client.get("/sitemap.xml"), "sitemapindex"))
        assert list(index) == [f"{SITE}/sitemaps/{n}.xml" for n in (1, 2, 3)]
        found: dict[str, datetime] = {}
        for loc, lastmod in index.items():
            n = int(loc.rsplit("/", 1)[1].removesuffix(".xml"))
            page = entries(validated(await client.get(f"/sitemaps/{n}.xml"), "urlset"))
            assert len(page) == (3 if n < 3 else 1)
            assert max(page.values()) == lastmod
            found.update(page)
        assert set(found) == ALL
        for path in ("/sitemaps/0.xml", "/sitemaps/4.xml", "/sitemaps/x.xml"):
            r = await client.get(path)
            assert r.status_code in (404, 422)
            assert r.headers["content-type"] == "application/problem+json"
