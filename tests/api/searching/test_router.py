import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from api import timing
from api.caching import ContentVersion, ResultCache, Version
from api.comments.models import CommentStatus
from api.db import utcnow
from api.posts import service as post_service
from api.posts.models import PostStatus
from api.settings import Settings
from search import SearchIndex, SearchPage, SearchQuery, searching
from tests.conftest import reset_schema, running_app
from tests.factories import auth, make_comment, make_post, make_user
from tests.htmlsafety import assert_safe_html


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def titles(client: httpx.AsyncClient, q: str, **params: str) -> list[str]:
    r = await client.get("/api/v1/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return [item["post"]["title"] for item in r.json()["items"]]


async def synced(app: FastAPI) -> None:
    await app.state.search.sync_now()


class TestSearchFollowsTheDatabase:
    async def test_published_post_becomes_searchable_through_the_api(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session, username="ann")
        payload = {"title": "Massage after a marathon", "status": "published", "tags": ["Running"],
                   "content": "Does a sports massage help sore muscles after the race?"}
        r = await client.post("/api/v1/posts", json=payload, headers=auth(ann))
        assert r.status_code == 201

        async def found() -> bool:
            return await titles(client, "massage") == ["Massage after a marathon"]

        await eventually(found)  # woken by the commit, no explicit sync
        body = (await client.get("/api/v1/search", params={"q": "massage"})).json()
        item = body["items"][0]
        assert "<mark>Massage</mark>" in item["highlights"]["title"]
        assert item["post"]["author"]["username"] == "ann"
        assert body["facets"]["tags"] == [{"value": "running", "count": 1}]
        assert body["facets"]["authors"] == [{"value": "ann", "count": 1}]
        assert body["total"] == 1
        assert body["total_is_exact"] is True

    async def test_edits_unpublishing_and_deletes_reach_the_index(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session)
        post = await make_post(session, author=ann, title="Sourdough starter basics")
        await synced(app)
        assert await titles(client, "sourdough") == ["Sourdough starter basics"]
        url = f"/api/v1/posts/{post.slug}"
        await client.patch(url, json={"title": "Rye starter basics"}, headers=auth(ann))
        await synced(app)
        assert await titles(client, "sourdough") == []
        assert await titles(client, "rye") == ["Rye starter basics"]
        await client.patch(url, json={"status": "draft"}, headers=auth(ann))
        await synced(app)
        assert await titles(client, "rye") == []
        await client.patch(url, json={"status": "published"}, headers=auth(ann))
        await synced(app)
        assert await titles(client, "rye") == ["Rye starter basics"]
        await client.delete(url, headers=auth(ann))
        await synced(app)
        assert await titles(client, "rye") == []
        assert app.state.search.index.doc_count() == 0

    async def test_drafts_and_future_posts_are_never_found(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session)
        await make_post(session, author=ann, title="Garden draft", status=PostStatus.draft)
        await make_post(session, author=ann, title="Garden later", status=PostStatus.scheduled)
        await make_post(session, author=ann, title="Garden due", status=PostStatus.scheduled,
                        published_at=utcnow() - timedelta(seconds=1))
        await synced(app)
        assert await titles(client, "garden") == ["Garden due"]
        r = await client.get("/api/v1/search/suggest", params={"q": "gard"})
        assert [s["text"] for s in r.json() if s["kind"] == "title"] == ["Garden due"]

    async def test_filters_sort_and_pages(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session, username="ann")
        bob = await make_user(session, username="bob")
        old = utcnow() - timedelta(days=800)
        await make_post(session, author=ann, title="Cycling in the rain", tags=["Cycling"],
                        published_at=old)
        await make_post(session, author=bob, title="Cycling up hills", tags=["Cycling", "Fitness"])
        await make_post(session, author=bob, title="Cycling with kids", tags=["Family"])
        await synced(app)
        assert await titles(client, "cycling", author="ann") == ["Cycling in the rain"]
        assert sorted(await titles(client, "cycling", tag="cycling")) == [
            "Cycling in the rain", "Cycling up hills"]
        assert (await titles(client, "cycling", sort="oldest"))[0] == "Cycling in the rain"
        after = (utcnow() - timedelta(days=10)).date().isoformat()
        assert "Cycling in the rain" not in await titles(client, "cycling", after=after)
        before = (old + timedelta(days=1)).date().isoformat()
        assert await titles(client, "cycling", before=before) == ["Cycling in the rain"]
        r = await client.get("/api/v1/search", params={"q": "cycling", "per_page": 2, "page": 2})
        body = r.json()
        assert (body["total"], body["pages"], len(body["items"])) == (3, 2, 1)

    async def test_malformed_queries_and_hostile_text_never_fail(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session)
        await make_post(session, author=ann, title="<script>alert(1)</script> cooking",
                        content='Cooking <img src=x onerror="alert(2)"> notes')
        await synced(app)
        for q in ['"unbalanced', "(((", "title:", "AND OR NOT", "*", "?", "tag:", "'; DROP TABLE post; --",
                  "cook* OR", "ünïcödé", "a" * 500, "-", "author:\"", "[1 TO", "^2"]:
            r = await client.get("/api/v1/search", params={"q": q})
            assert r.status_code == 200, (q, r.text)
        # No URL may hold a NUL byte (PostgreSQL lookups would fail): a 400 for every route.
        assert (await client.get("/api/v1/search", params={"q": "\x00"})).status_code == 400
        body = (await client.get("/api/v1/search", params={"q": "cooking"})).json()
        for item in body["items"]:
            assert_safe_html(item["highlights"]["title"])
            assert_safe_html(item["highlights"]["content"])
        r = await client.get("/api/v1/search", params={"q": "x" * 501})
        assert r.status_code == 422
        r = await client.get("/api/v1/search", params={"q": "nul\x00"})
        assert r.status_code == 400

    async def test_did_you_mean(self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession) -> None:
        ann = await make_user(session)
        await make_post(session, author=ann, title="Photography for beginners",
                        content="Light, exposure and composition in photography.")
        await synced(app)
        body = (await client.get("/api/v1/search", params={"q": "photograpy"})).json()
        assert body["suggestion"] == "photography"
        assert (await client.get("/api/v1/search", params={"q": "photography"})).json()["suggestion"] is None

    async def test_etag_changes_with_the_index(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session)
        await make_post(session, author=ann, title="Tomatoes in pots")
        await synced(app)
        r = await client.get("/api/v1/search", params={"q": "tomatoes"})
        etag = r.headers["ETag"]
        same = await client.get("/api/v1/search", params={"q": "tomatoes"}, headers={"If-None-Match": etag})
        assert same.status_code == 304
        await make_post(session, author=ann, title="Tomatoes in beds")
        await synced(app)
        changed = await client.get("/api/v1/search", params={"q": "tomatoes"}, headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert changed.json()["total"] == 2


class TestRelated:
    async def test_related_posts_with_reasons(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session)
        a = await make_post(session, author=ann, title="Foam rolling for runners", tags=["Running"],
                            content="Foam rolling and stretching ease sore muscles after running.")
        await make_post(session, author=ann, title="Massage and sore muscles", tags=["Running"],
                        content="A massage after running may ease sore muscles and stiffness.")
        await make_post(session, author=ann, title="Baking bread", tags=["Cooking"],
                        content="Flour, water, salt and patience make bread.")
        await synced(app)
        r = await client.get(f"/api/v1/posts/{a.slug}/related", params={"limit": 5})
        assert r.status_code == 200
        items = r.json()
        assert items[0]["post"]["title"] == "Massage and sore muscles"
        assert a.slug not in [i["post"]["slug"] for i in items]
        assert "running" in items[0]["reasons"]["tags"]
        assert items[0]["reasons"]["terms"]
        assert (await client.get(f"/api/v1/posts/{a.slug}/related", params={"limit": 21})).status_code == 422
        assert (await client.get("/api/v1/posts/missing/related")).status_code == 404

    async def test_related_to_an_unsaved_draft(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session)
        await make_post(session, author=ann, title="Travelling with a dog", tags=["Pets"],
                        content="Crates, vaccination records and carry-on rules for dogs.")
        await synced(app)
        draft = {"title": "Flying with pets", "content": "Vaccination records and crates for dogs",
                 "tags": ["Pets"]}
        r = await client.post("/api/v1/related", json=draft)
        assert r.status_code == 200
        assert [i["post"]["title"] for i in r.json()] == ["Travelling with a dog"]
        assert (await client.post("/api/v1/related", json={"bogus": 1})).status_code == 422


class TestIndexLifecycle:
    async def test_health_reports_index_state(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        ann = await make_user(session)
        for _ in range(3):
            await make_post(session, author=ann)
        await synced(app)
        search = (await client.get("/health")).json()["search"]
        assert search["documents"] == 3
        assert search["backlog"] == 0
        assert search["last_applied_seq"] == search["log_head_seq"] == 3

    @pytest.mark.parametrize("in_child", [True, False])
    async def test_writes_from_a_child_process_or_a_thread(
        self, settings: Settings, session: AsyncSession, in_child: bool
    ) -> None:
        """Settings.index_writer_process: the indexer writes through its child process (the
        default) or on a thread; either way edits, deletes and merges reach this worker."""
        await reset_schema(settings.database_url)
        async with running_app(settings, index_writer_process=in_child) as application:
            service = application.state.search
            assert (service._writer is not None) is in_child
            posts = []
            async with application.state.make_write_session() as s:
                ann = await make_user(s)
                for n in range(9):  # one index commit per post: segments to merge afterwards
                    posts.append(await make_post(s, author=ann, title=f"Glacier {n}"))
                    await synced(application)
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                assert (await c.get("/api/v1/search", params={"q": "glacier"})).json()["total"] == 9
                async with application.state.make_write_session() as s:
                    await post_service.delete_post(s, post=await s.merge(posts[0]))
                    await s.commit()
                await synced(application)
                await service._compact()
                assert service.index._segments() < 9  # merged (of 10+ commits)
                body = (await c.get("/api/v1/search", params={"q": "glacier"})).json()
                assert body["total"] == 8
                assert (await c.get("/health")).json()["search"]["documents"] == 8

    async def test_deleted_or_corrupt_index_is_rebuilt_at_start(
        self, settings: Settings, app: FastAPI, session: AsyncSession
    ) -> None:
        ann = await make_user(session)
        await make_post(session, author=ann, title="Survivor post")
        await synced(app)
        index_dir = Path(settings.index_dir)
        for damage in ("delete", "corrupt"):
            async with running_app(settings.model_copy(update={"index_dir": index_dir / damage})) as other:
                await synced(other)
            folder = index_dir / damage
            if damage == "delete":
                shutil.rmtree(folder)
            else:
                current = (folder / "CURRENT").read_text().strip()
                for f in (folder / current).iterdir():
                    f.write_bytes(b"garbage")
            async with running_app(settings.model_copy(update={"index_dir": folder})) as fresh:
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fresh), base_url="http://t") as c:
                    assert await titles(c, "survivor") == ["Survivor post"]


async def test_estimated_totals_are_flagged(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = await make_user(session)
    for i in range(8):
        await make_post(session, author=ann, title=f"Garden diary {i}", content="garden " * (i + 1))
    await synced(app)
    assert (await client.get("/api/v1/search", params={"q": "garden"})).json()["total_is_exact"] is True
    monkeypatch.setattr(searching, "EXACT_MAX", 3)
    body = (await client.get("/api/v1/search", params={"q": "garden"})).json()
    assert body["total_is_exact"] is False
    assert len(body["items"]) == 8


async def test_hit_summaries_are_the_posts_list_summaries(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, backend: str
) -> None:
    """Search and related build summaries with plain queries (posts.service.public_summaries):
    they must be exactly what the posts list says about the same posts."""
    ann = await make_user(session)
    posts = [
        await make_post(session, author=ann, title=f"Orchard {n}", tags=["fruit", "apples", "z-last"][: n + 1])
        for n in range(3)
    ]
    posts.append(await make_post(session, author=ann, title="Orchard untagged", tags=[]))
    top = await make_comment(session, post=posts[1])
    await make_comment(session, post=posts[1], parent=top)
    held = await make_comment(session, post=posts[1], status=CommentStatus.pending)
    await make_comment(session, post=posts[1], parent=held)  # hidden with its parent
    await make_comment(session, post=posts[2])
    hidden = await make_post(session, author=ann, title="Orchard draft", status=PostStatus.draft)
    scheduled = await make_post(session, author=ann, title="Orchard soon", status=PostStatus.scheduled)
    listed = {p["id"]: p for p in (await client.get("/api/v1/posts")).json()["items"]}
    summaries = await post_service.public_summaries(
        session, [p.id for p in [*posts, hidden, scheduled] if p.id is not None] + [10_000]
    )
    assert set(summaries) == {p.id for p in posts}
    for post_id, summary in summaries.items():
        assert summary.model_dump(mode="json") == listed[post_id]
    assert [summaries[p.id].comment_count for p in posts] == [0, 2, 1, 0]
    assert [t.slug for t in summaries[posts[2].id].tags] == ["apples", "fruit", "z-last"]
    assert summaries[posts[3].id].tags == []
    reader = app.state.sync_reader
    if backend == "sqlite":  # the search thread's synchronous reader says the same
        with reader.connect() as conn:
            assert post_service.public_summaries_sync(
                conn, [p.id for p in [*posts, hidden, scheduled] if p.id is not None]
            ) == summaries
    else:
        assert reader is None


async def test_sqlite_hit_summaries_are_read_on_the_search_thread(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On SQLite, search and related read the summaries of their hits on the search thread,
    through the synchronous reader (api.db.create_sync_reader), never through aiosqlite; on
    PostgreSQL through the async session."""
    ann = await make_user(session)
    first = await make_post(session, author=ann, title="Kayak routes", tags=["water"])
    await make_post(session, author=ann, title="Kayak repairs", tags=["water"])
    await synced(app)
    calls: list[str] = []
    real_async, real_sync = post_service.public_summaries, post_service.public_summaries_sync

    async def spy_async(*args: object) -> object:
        calls.append("async")
        return await real_async(*args)  # type: ignore[arg-type]

    def spy_sync(*args: object) -> object:
        calls.append("sync")
        return real_sync(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(post_service, "public_summaries", spy_async)
    monkeypatch.setattr(post_service, "public_summaries_sync", spy_sync)
    body = (await client.get("/api/v1/search", params={"q": "kayak"})).json()
    assert sorted(i["post"]["title"] for i in body["items"]) == ["Kayak repairs", "Kayak routes"]
    assert body["items"][0]["post"]["author"]["username"] == ann.username
    related = (await client.get(f"/api/v1/posts/{first.slug}/related")).json()
    assert [r["post"]["title"] for r in related] == ["Kayak repairs"]
    assert calls == (["sync", "sync"] if backend == "sqlite" else ["async", "async"])


async def test_sqlite_related_finds_its_post_on_the_search_thread(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The post behind /posts/{slug}/related is looked up on the search thread through the
    synchronous SQLite reader, never through aiosqlite; on PostgreSQL, and for a slug the
    reader does not show, through get_post, which answers a renamed slug with 301 and an
    unknown or hidden one with 404."""
    ann = await make_user(session)
    first = await make_post(session, author=ann, title="Kayak routes", tags=["water"])
    await make_post(session, author=ann, title="Kayak repairs", tags=["water"])
    draft = await make_post(session, author=ann, title="Kayak drafts", status=PostStatus.draft)
    await synced(app)
    calls: list[str] = []
    real_async, real_sync = post_service.get_post, post_service.visible_post_id_sync

    async def spy_async(*args: object, **kwargs: object) -> object:
        calls.append("async")
        return await real_async(*args, **kwargs)  # type: ignore[arg-type]

    def spy_sync(*args: object, **kwargs: object) -> object:
        found = real_sync(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(f"sync {found}")
        return found

    monkeypatch.setattr(post_service, "get_post", spy_async)
    monkeypatch.setattr(post_service, "visible_post_id_sync", spy_sync)
    sqlite = backend == "sqlite"
    related = (await client.get(f"/api/v1/posts/{first.slug}/related")).json()
    assert [r["post"]["title"] for r in related] == ["Kayak repairs"]
    assert calls == ([f"sync {first.id}"] if sqlite else ["async"])

    calls.clear()
    r = await client.get(f"/api/v1/posts/{draft.slug}/related", headers=auth(ann))
    assert r.status_code == 200 and r.json() == []
    assert calls == ([f"sync {draft.id}"] if sqlite else ["async"])

    for slug, status in ((draft.slug, 404), ("no-such-post", 404)):
        calls.clear()
        r = await client.get(f"/api/v1/posts/{slug}/related")
        assert r.status_code == status and r.headers["content-type"] == "application/problem+json"
        assert calls == (["sync None", "async"] if sqlite else ["async"])

    r = await client.patch(f"/api/v1/posts/{first.slug}", json={"slug": "kayak-trips"},
                           headers=auth(ann))
    assert r.status_code == 200
    calls.clear()
    r = await client.get(f"/api/v1/posts/{first.slug}/related")
    assert r.status_code == 301
    assert r.headers["Location"] == "/api/v1/posts/kayak-trips/related"
    assert calls == (["sync None", "async"] if sqlite else ["async"])
    related = (await client.get("/api/v1/posts/kayak-trips/related")).json()
    assert [r["post"]["title"] for r in related] == ["Kayak repairs"]


async def test_related_posts_of_a_draft_only_for_those_who_may_see_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann = await make_user(session)
    draft = await make_post(session, author=ann, title="Unfinished", status=PostStatus.draft)
    assert (await client.get(f"/api/v1/posts/{draft.slug}/related")).status_code == 404
    r = await client.get(f"/api/v1/posts/{draft.slug}/related", headers=auth(ann))
    assert r.status_code == 200 and r.json() == []


async def test_searches_on_the_event_loop_answer_as_on_a_thread(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    """Settings.search_threads: searches run on the event loop (0) give the same answers as
    searches on the search thread (the default)."""
    ann = await make_user(session)
    for n, words in enumerate(["sourdough starter", "sourdough loaf", "rye starter"]):
        await make_post(session, author=ann, title=f"Bread {n}", content=f"Notes on {words}.")
    await synced(app)
    assert app.state.search._readers is not None
    urls = ["/api/v1/search?q=sourdough+starter", "/api/v1/search/suggest?q=bre",
            "/api/v1/posts/bread-0/related"]
    threaded = [(await client.get(u)).json() for u in urls]
    assert threaded[0]["total"] == 3 and threaded[1] and threaded[2]
    async with running_app(settings, search_threads=0) as on_loop:
        assert on_loop.state.search._readers is None
        transport = httpx.ASGITransport(app=on_loop)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            await eventually(lambda: _ok(other, urls[0]))
            assert [(await other.get(u)).json() for u in urls] == threaded


async def test_related_cache_is_per_index(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, settings: Settings,
    backend: str, tmp_path: Path,
) -> None:
    """Two indexes in one process (two apps) name their versions alike ("gen-1.2"): the
    related posts cached for one must never be served by the other."""
    if backend != "sqlite":
        pytest.skip("needs a second database; the SQLite run covers the cache")
    # One post at a time, each applied before the next: one index commit per post in both
    # apps, whether or not the background indexer gets there first, so the versions match.
    ann = await make_user(session)
    await make_post(session, author=ann, title="Kayak routes", content="Paddling the coast.")
    await synced(app)
    await make_post(session, author=ann, title="Kayak repairs", content="Paddling gear fixes.")
    await synced(app)
    first = (await client.get("/api/v1/posts/kayak-routes/related")).json()
    assert [r["post"]["title"] for r in first] == ["Kayak repairs"]

    other = settings.model_copy(update={
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'other.db'}",
        "index_dir": tmp_path / "other-index",
    })
    await reset_schema(other.database_url)
    async with running_app(other) as second:
        async with second.state.make_write_session() as s2:
            bob = await make_user(s2, username="bob")
            await make_post(s2, author=bob, title="Kayak routes", content="Sourdough baking.")
            await second.state.search.sync_now()
            await make_post(s2, author=bob, title="Bread", content="Sourdough baking at home.")
            await second.state.search.sync_now()
        assert second.state.search.index.version() == app.state.search.index.version()
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c2:
            related = (await c2.get("/api/v1/posts/kayak-routes/related")).json()
    assert [r["post"]["title"] for r in related] == ["Bread"]


async def _ok(client: httpx.AsyncClient, url: str) -> bool:
    return (await client.get(url)).status_code == 200


async def test_server_timing_splits_the_time_of_search_and_related(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Search, suggest and related say in `Server-Timing` how long the search library (`index`)
    and the post summaries (`db`) took, within the app's whole time (`app`)."""
    ann = await make_user(session)
    first = await make_post(session, author=ann, title="Canoe routes", tags=["water"])
    await make_post(session, author=ann, title="Canoe repairs", tags=["water"])
    await synced(app)
    real = SearchIndex.search

    def slow_search(self: SearchIndex, query: SearchQuery) -> SearchPage:
        time.sleep(0.05)
        return real(self, query)

    monkeypatch.setattr(SearchIndex, "search", slow_search)
    r = await client.get("/api/v1/search", params={"q": "canoe"})
    assert r.status_code == 200 and len(r.json()["items"]) == 2
    parts = timing.parse(r.headers["server-timing"])
    assert list(parts) == ["index", "db", "app"]
    assert 50 <= parts["index"] < parts["app"]
    assert 0 < parts["db"] < parts["app"] - parts["index"]
    for url in (f"/api/v1/posts/{first.slug}/related", "/api/v1/search/suggest?q=can"):
        r = await client.get(url)
        assert r.status_code == 200 and r.json(), url
        parts = timing.parse(r.headers["server-timing"])
        assert set(parts) >= {"index", "app"} and 0 < parts["index"] < parts["app"], url


def test_server_timing_header_round_trip() -> None:
    timings = timing.Timings()
    timings.add("index", 0.004)
    timings.add("db", 0.0012)
    timings.add("db", 0.0003)  # a part measured twice is one entry
    assert timings.header() == "index;dur=4.00, db;dur=1.50"
    assert timing.parse(timings.header() + ', cache;desc="hit", app;dur=7.25') == {
        "index": 4.0, "db": 1.5, "app": 7.25,
    }
    assert timing.parse("") == {} and timing.parse("x;dur=oops") == {}


def _counting_searches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = SearchIndex.search

    def counted(self: SearchIndex, query: SearchQuery) -> SearchPage:
        calls.append(query.q)
        return real(self, query)

    monkeypatch.setattr(SearchIndex, "search", counted)
    return calls


async def test_repeated_searches_come_from_the_worker_cache_until_the_index_changes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same search again is answered from the worker's result cache (api/caching.py,
    ResultCache), byte for byte and with the same ETag, without the library; a new post in
    the index, or other parameters, are searched again."""
    await reset_schema(settings.database_url)
    async with running_app(settings, response_cache=True) as app:
        async with app.state.make_write_session() as session:
            ann = await make_user(session)
            await make_post(session, author=ann, title="Glacier walks", tags=["ice"])
        await synced(app)
        await app.state.content_version.refresh()
        calls = _counting_searches(monkeypatch)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = await client.get("/api/v1/search", params={"q": "glacier"})
            again = await client.get("/api/v1/search", params={"q": "glacier"})
            assert again.status_code == 200 and again.content == first.content
            assert again.headers["ETag"] == first.headers["ETag"]
            assert calls == ["glacier"]
            assert "index" in timing.parse(first.headers["server-timing"])
            assert set(timing.parse(again.headers["server-timing"])) == {"cache", "app"}

            await client.get("/api/v1/search", params={"q": "glacier", "tag": "ice"})
            await client.get("/api/v1/search", params={"q": "glacier", "per_page": "5"})
            assert calls == ["glacier"] * 3

            r = await client.post("/api/v1/posts", headers=auth(ann), json={
                "title": "Glacier lakes", "content": "Blue water.", "status": "published"})
            assert r.status_code == 201
            await synced(app)
            await app.state.content_version.refresh()
            assert sorted(await titles(client, "glacier")) == ["Glacier lakes", "Glacier walks"]
            assert len(calls) == 4


async def test_search_cache_can_be_turned_off(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await reset_schema(settings.database_url)
    async with running_app(settings, response_cache=True, search_cache_bytes=0) as app:
        async with app.state.make_write_session() as session:
            ann = await make_user(session)
            await make_post(session, author=ann, title="Fjord ferries")
        await synced(app)
        await app.state.content_version.refresh()
        assert getattr(app.state, "search_results", None) is None
        calls = _counting_searches(monkeypatch)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(2):
                assert await titles(client, "fjord") == ["Fjord ferries"]
        assert calls == ["fjord", "fjord"]


def test_result_cache_keeps_to_its_bytes() -> None:
    versions = ContentVersion(make_session=None, interval=1.0)  # type: ignore[arg-type]
    versions.current = Version(seq=1, next_due=None)
    cache = ResultCache(versions, max_bytes=1600)
    tag = cache.tag()
    for n in range(20):
        cache.put(tag, ("q", n), bytes(100))
    assert cache.get(("q", 19)) == bytes(100) and cache.get(("q", 0)) is None
    assert sum(cache.get(("q", n)) is not None for n in range(20)) == 16
    cache.put(tag, ("big",), bytes(101))  # over a sixteenth of the cache: not kept
    assert cache.get(("big",)) is None
    cache.put(tag, ("q", 19), bytes(50))  # replaced, and counted once
    assert cache._held == 15 * 100 + 50
    versions.wrote()  # made under a tag that is no longer current: not kept
    cache.put(tag, ("late",), bytes(10))
    assert cache.get(("late",)) is None and cache.tag() is None
