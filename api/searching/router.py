"""Search, search-as-you-type and related posts, served from the Whoosh index.

The index answers with post ids; the database turns them into posts (and drops any the
database no longer shows, so a lagging index never leaks a post that is not public).
"""

from collections.abc import Sequence
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter
from sqlmodel.ext.asyncio.session import AsyncSession

from api.caching import ResultCache, SummaryCache
from api.db import SessionDep, utcnow
from api.pagination import page_count
from api.posts import service as post_service
from api.posts.dependencies import SlugPath
from api.posts.schemas import PostSummary
from api.searching.filters import QText, SearchFiltersDep
from api.searching.schemas import (
    Completion,
    DraftText,
    Facets,
    FacetValue,
    Highlights,
    Reasons,
    RelatedPost,
    SearchItem,
    SearchResults,
    SearchSort,
)
from api.searching.service import SearchService
from api.text.slugs import slugify
from api.timing import Timings
from api.users.dependencies import OptionalUser
from search import RelatedHit, SearchIndex, SearchPage, Suggestion

router = APIRouter(tags=["search"])

_UNAVAILABLE: dict[int | str, dict[str, Any]] = {503: {"description": "The index is being built"}}


_RELATED_LIST = TypeAdapter(list[RelatedPost])
_COMPLETIONS = TypeAdapter(list[Completion])


def _json(body: bytes | str, timings: Timings | None = None) -> Response:
    """A response of JSON already encoded from our own models: FastAPI would validate the
    returned model again against `response_model` before encoding it (the route keeps
    `response_model` for the OpenAPI schema)."""
    headers = {"Server-Timing": timings.header()} if timings is not None and timings.parts else None
    return Response(body, media_type="application/json", headers=headers)


def _service(request: Request) -> SearchService:
    service: SearchService = request.app.state.search
    return service


def _cached(state: Any, ids: Sequence[int]) -> tuple[dict[int, PostSummary], list[int], Any]:
    """(summaries the worker's cache holds, ids to read, the tag to store what is read under)."""
    cache: SummaryCache | None = getattr(state, "summaries", None)
    if cache is None:
        return {}, list(ids), None
    found, missing = cache.get(ids)
    return found, missing, cache.tag() if missing else None


def _remember(state: Any, tag: Any, ids: Sequence[int], read: dict[int, PostSummary]) -> None:
    cache: SummaryCache | None = getattr(state, "summaries", None)
    if cache is not None:
        cache.put(tag, ids, read)


async def _public_posts(
    request: Request, session: AsyncSession | None, ids: Sequence[int]
) -> dict[int, PostSummary]:
    """Summaries of the posts among `ids` that are public right now, in one round of queries
    for those the worker's summary cache (api/caching.py) does not hold for this version.

    Without a `session`, one is opened only for those queries: searches whose posts are all
    in the cache never touch the database (a session per request was ~5% of a search)."""
    if not ids:
        return {}
    state = request.app.state
    found, missing, tag = _cached(state, ids)
    if not missing:
        return found
    if session is None:
        async with state.make_session() as own:
            read = await post_service.public_summaries(own, missing)
    else:
        read = await post_service.public_summaries(session, missing)
    _remember(state, tag, missing, read)
    return found | read


def _public_posts_here(state: Any, ids: Sequence[int]) -> dict[int, PostSummary] | None:
    """`_public_posts` on the calling thread (the search thread, right after the search),
    through the synchronous SQLite reader; None where there is none (PostgreSQL)."""
    reader: sa.Engine | None = getattr(state, "sync_reader", None)
    if reader is None:
        return None
    found, missing, tag = _cached(state, ids)
    if not missing:
        return found
    with reader.connect() as conn:
        read = post_service.public_summaries_sync(conn, missing)
    _remember(state, tag, missing, read)
    return found | read


@router.get("/search", response_model=SearchResults, responses=_UNAVAILABLE)
async def search(
    request: Request,
    filters: SearchFiltersDep,
    q: QText = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=50)] = 10,
    sort: SearchSort = "relevance",
) -> Response:
    """Full-text search over published posts, with highlights, facets and "did you mean"."""
    query = filters.query(q, page=page, per_page=per_page, sort=sort, now=utcnow())
    state = request.app.state
    timings = Timings()
    # The worker's cache of whole responses (api/caching.py, ResultCache), valid while the
    # content version read now is current; the index version is read on the search thread.
    results: ResultCache | None = getattr(state, "search_results", None)
    tag = results.tag() if results is not None else None
    key: tuple[object, ...] | None = None

    def find(index: SearchIndex) -> tuple[SearchPage | None, dict[int, PostSummary] | None, bytes | None]:
        nonlocal key
        if results is not None and tag is not None:
            with timings.measure("cache"):
                key = (index.version(), tag, q, page, per_page, sort, filters)
                body = results.get(key)
            if body is not None:
                return None, None, body
        with timings.measure("index"):
            result = index.search(query)
        with timings.measure("db"):
            return result, _public_posts_here(state, [hit.post_id for hit in result.hits]), None

    result, posts, cached = await _service(request).read(find)
    if cached is not None:
        return _json(cached, timings)
    assert result is not None
    if posts is None:
        with timings.measure("db"):
            posts = await _public_posts(request, None, [hit.post_id for hit in result.hits])
    items = [
        SearchItem(
            post=posts[hit.post_id], score=round(hit.score, 4),
            highlights=Highlights(title=hit.highlights.get("title", ""),
                                  content=hit.highlights.get("content", "")),
        )
        for hit in result.hits if hit.post_id in posts
    ]
    body = SearchResults(
        query=q, total=result.total, total_is_exact=result.exact, page=page, per_page=per_page,
        pages=page_count(result.total, per_page), items=items,
        facets=Facets(**{
            name: [FacetValue(value=f.value, count=f.count) for f in result.facets.get(name, [])]
            for name in ("tags", "authors", "years")
        }),
        suggestion=result.suggestion,
    ).model_dump_json().encode()
    if results is not None and key is not None:  # kept only if nothing changed meanwhile
        results.put(tag, key, body)
    return _json(body, timings)


@router.get("/search/suggest", response_model=list[Completion], responses=_UNAVAILABLE)
async def suggest(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=100, description="What the user typed.")],
    limit: Annotated[int, Query(ge=1, le=8)] = 8,
) -> Response:
    """Search-as-you-type: up to 8 completions (post titles first, then words)."""
    now = utcnow()
    timings = Timings()

    def complete(index: SearchIndex) -> list[Suggestion]:
        with timings.measure("index"):
            return index.suggest(q, limit, now)

    found = await _service(request).read(complete)
    return _json(_COMPLETIONS.dump_json(
        [Completion(text=s.text, kind=s.kind, slug=s.slug) for s in found]
    ), timings)


async def _related_posts(
    request: Request, session: SessionDep, hits: list[RelatedHit],
    posts: dict[int, PostSummary] | None, timings: Timings,
) -> Response:
    if posts is None:
        with timings.measure("db"):
            posts = await _public_posts(request, session, [h.post_id for h in hits])
    return _json(_RELATED_LIST.dump_json([
        RelatedPost(post=posts[h.post_id], score=round(h.score, 4),
                    reasons=Reasons(terms=h.terms, tags=h.tags))
        for h in hits if h.post_id in posts
    ]), timings)


@router.get("/posts/{slug}/related", response_model=list[RelatedPost],
            responses={404: {"description": "No such post"}, **_UNAVAILABLE})
async def related(
    request: Request,
    session: SessionDep,
    slug: SlugPath,
    viewer: OptionalUser,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> Response:
    """Published posts most like this one, each with the shared terms and tags that explain why."""
    service = _service(request)
    state = request.app.state
    now = utcnow()
    timings = Timings()

    def find(index: SearchIndex, post_id: int) -> tuple[list[RelatedHit], dict[int, PostSummary] | None]:
        with timings.measure("index"):
            key = (index.version(), post_id, limit)
            hits = service.related_cache.get(key)
            if hits is None:
                hits = index.related(post_id, limit, now)
                service.related_cache.put(key, hits)
        with timings.measure("db"):
            return hits, _public_posts_here(state, [h.post_id for h in hits])

    found = None
    reader: sa.Engine | None = getattr(state, "sync_reader", None)
    if reader is not None:
        # SQLite: the post itself is looked up on the search thread too, through the
        # synchronous reader (an aiosqlite lookup on the event loop was a third of this
        # request). A post it does not find there (moved, hidden, missing) goes the long way.
        def find_by_slug(
            index: SearchIndex,
        ) -> tuple[list[RelatedHit], dict[int, PostSummary] | None] | None:
            with timings.measure("db"), reader.connect() as conn:
                post_id = post_service.visible_post_id_sync(conn, slug, viewer=viewer)
            return None if post_id is None else find(index, post_id)

        found = await service.read(find_by_slug)
    if found is None:
        with timings.measure("db"):
            post = await post_service.get_post(session, slug, viewer=viewer, bare=True)
        assert post.id is not None
        post_id = post.id
        found = await service.read(lambda index: find(index, post_id))
    hits, posts = found
    return await _related_posts(request, session, hits, posts, timings)


@router.post("/related", response_model=list[RelatedPost], responses=_UNAVAILABLE)
async def related_to_draft(
    request: Request,
    session: SessionDep,
    draft: DraftText,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> Response:
    """Posts related to an unsaved draft: link them, or spot a duplicate before publishing."""
    now = utcnow()
    tags = [slugify(t, 60) for t in draft.tags]
    state = request.app.state
    timings = Timings()

    def find(index: SearchIndex) -> tuple[list[RelatedHit], dict[int, PostSummary] | None]:
        with timings.measure("index"):
            hits = index.related_to_text(draft.title, draft.content, tags, limit, now)
        with timings.measure("db"):
            return hits, _public_posts_here(state, [h.post_id for h in hits])

    hits, posts = await _service(request).read(find)
    return await _related_posts(request, session, hits, posts, timings)

