"""Search, search-as-you-type and related posts, served from the Whoosh index.

The index answers with post ids; the database turns them into posts (and drops any the
database no longer shows, so a lagging index never leaks a post that is not public).
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter
from sqlmodel.ext.asyncio.session import AsyncSession

from api.caching import SummaryCache
from api.db import SessionDep, utcnow
from api.pagination import page_count
from api.posts import service as post_service
from api.posts.dependencies import PostRefBySlug
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
from search import RelatedHit, SearchIndex

router = APIRouter(tags=["search"])

_UNAVAILABLE: dict[int | str, dict[str, Any]] = {503: {"description": "The index is being built"}}


_RELATED_LIST = TypeAdapter(list[RelatedPost])
_COMPLETIONS = TypeAdapter(list[Completion])


def _json(body: bytes | str) -> Response:
    """A response of JSON already encoded from our own models: FastAPI would validate the
    returned model again against `response_model` before encoding it (the route keeps
    `response_model` for the OpenAPI schema)."""
    return Response(body, media_type="application/json")


def _service(request: Request) -> SearchService:
    service: SearchService = request.app.state.search
    return service


async def _public_posts(
    request: Request, session: AsyncSession | None, ids: Sequence[int]
) -> dict[int, PostSummary]:
    """Summaries of the posts among `ids` that are public right now, in one round of queries
    for those the worker's summary cache (api/caching.py) does not hold for this version.

    Without a `session`, one is opened only for those queries: searches whose posts are all
    in the cache never touch the database (a session per request was ~5% of a search)."""
    if not ids:
        return {}
    cache: SummaryCache | None = getattr(request.app.state, "summaries", None)
    found, missing = cache.get(ids) if cache is not None else ({}, list(ids))
    if not missing:
        return found
    tag = cache.tag() if cache is not None else None
    if session is None:
        async with request.app.state.make_session() as own:
            read = await post_service.public_summaries(own, missing)
    else:
        read = await post_service.public_summaries(session, missing)
    if cache is not None:
        cache.put(tag, missing, read)
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
    result = await _service(request).read(lambda index: index.search(query))
    posts = await _public_posts(request, None, [hit.post_id for hit in result.hits])
    items = [
        SearchItem(
            post=posts[hit.post_id], score=round(hit.score, 4),
            highlights=Highlights(title=hit.highlights.get("title", ""),
                                  content=hit.highlights.get("content", "")),
        )
        for hit in result.hits if hit.post_id in posts
    ]
    return _json(SearchResults(
        query=q, total=result.total, total_is_exact=result.exact, page=page, per_page=per_page,
        pages=page_count(result.total, per_page), items=items,
        facets=Facets(**{
            name: [FacetValue(value=f.value, count=f.count) for f in result.facets.get(name, [])]
            for name in ("tags", "authors", "years")
        }),
        suggestion=result.suggestion,
    ).model_dump_json())


@router.get("/search/suggest", response_model=list[Completion], responses=_UNAVAILABLE)
async def suggest(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=100, description="What the user typed.")],
    limit: Annotated[int, Query(ge=1, le=8)] = 8,
) -> Response:
    """Search-as-you-type: up to 8 completions (post titles first, then words)."""
    now = utcnow()
    found = await _service(request).read(lambda index: index.suggest(q, limit, now))
    return _json(_COMPLETIONS.dump_json(
        [Completion(text=s.text, kind=s.kind, slug=s.slug) for s in found]
    ))


class _RelatedCache:
    """Related posts per (index version, post, limit); a changed index is a new key."""

    def __init__(self, size: int = 2048, ttl: float = 5.0) -> None:
        self.size, self.ttl = size, ttl
        self.items: OrderedDict[tuple[str, int, int], tuple[float, list[RelatedHit]]] = OrderedDict()
        self.lock = threading.Lock()  # used from the thread pool

    def get(self, key: tuple[str, int, int]) -> list[RelatedHit] | None:
        with self.lock:
            found = self.items.get(key)
            # The short TTL lets scheduled posts appear on time even when the index is unchanged.
            if found is None or time.monotonic() - found[0] > self.ttl:
                return None
            self.items.move_to_end(key)
            return found[1]

    def put(self, key: tuple[str, int, int], hits: list[RelatedHit]) -> None:
        with self.lock:
            self.items[key] = (time.monotonic(), hits)
            if len(self.items) > self.size:
                self.items.popitem(last=False)


_cache = _RelatedCache()


async def _related_posts(request: Request, session: SessionDep, hits: list[RelatedHit]) -> Response:
    posts = await _public_posts(request, session, [h.post_id for h in hits])
    return _json(_RELATED_LIST.dump_json([
        RelatedPost(post=posts[h.post_id], score=round(h.score, 4),
                    reasons=Reasons(terms=h.terms, tags=h.tags))
        for h in hits if h.post_id in posts
    ]))


@router.get("/posts/{slug}/related", response_model=list[RelatedPost],
            responses={404: {"description": "No such post"}, **_UNAVAILABLE})
async def related(
    request: Request,
    session: SessionDep,
    post: PostRefBySlug,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> Response:
    """Published posts most like this one, each with the shared terms and tags that explain why."""
    service = _service(request)
    assert post.id is not None
    post_id, now = post.id, utcnow()

    def find(index: SearchIndex) -> list[RelatedHit]:
        key = (index.version(), post_id, limit)
        hits = _cache.get(key)
        if hits is None:
            hits = index.related(post_id, limit, now)
            _cache.put(key, hits)
        return hits

    hits = await service.read(find)
    return await _related_posts(request, session, hits)


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
    hits = await _service(request).read(
        lambda index: index.related_to_text(draft.title, draft.content, tags, limit, now)
    )
    return await _related_posts(request, session, hits)
