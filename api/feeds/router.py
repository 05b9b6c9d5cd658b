"""Feeds and sitemaps at the site root (not under /api/v1): the URLs readers and crawlers expect.

Every feed comes as RSS 2.0 (`feed.xml`), Atom (`atom.xml`) and JSON Feed 1.1 (`feed.json`):

    /feed.xml                        the newest public posts
    /tags/{slug}/feed.xml            ... with a tag
    /authors/{username}/feed.xml     ... by an author
    /posts/{slug}/comments/feed.xml  the newest approved comments of a post
    /search/feed.xml?q=...           the newest public posts matching a search (saved search)
    /sitemap.xml                     public posts, tags and authors; an index of
    /sitemaps/{n}.xml                pages when there are too many URLs for one file
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import anyio
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from api.caching import VersionedValue
from api.db import SessionDep, utcnow
from api.errors import NotFound, Problem
from api.feeds import service as feed_service
from api.feeds import sitemap
from api.feeds.documents import FEED_SIZE, Feed, comment_entry, post_feed
from api.feeds.links import SiteLinks
from api.feeds.responses import FORMATS, XML, FeedFormat, document_response, feed_response
from api.posts import service as post_service
from api.posts.dependencies import SlugPath
from api.posts.errors import PostMoved
from api.searching.filters import QText, SearchFiltersDep
from api.searching.service import SearchService
from api.settings import Settings
from api.tags import service as tag_service
from api.text.characters import remove_control_characters
from api.users import service as user_service

router = APIRouter(tags=["feeds"])

Username = Annotated[str, Path(max_length=40, description="The author's username.")]
TagSlug = Annotated[str, Path(max_length=60, description="The tag's slug.")]


class FeedMoved(Problem):
    """The post was renamed: its comment feed moved with it."""

    status, title = 301, "Moved Permanently"

    def __init__(self, location: str) -> None:
        super().__init__(f"This feed now lives at {location}.", headers={"Location": location})


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _links(request: Request) -> SiteLinks:
    return SiteLinks.from_site_url(_settings(request).site_url)


async def site_feed(request: Request, session: SessionDep) -> Feed:
    links, title = _links(request), _settings(request).site_title
    posts = await feed_service.latest_posts(session)
    return post_feed(
        posts,
        links=links,
        title=title,
        description=f"The newest posts on {title}.",
        home_url=links.home(),
        self_url=links.absolute(request.url.path),
    )


async def tag_feed(request: Request, session: SessionDep, slug: TagSlug) -> Feed:
    tag = await tag_service.get_by_slug(session, slug)
    links, site = _links(request), _settings(request).site_title
    posts = await feed_service.latest_posts(session, tag=tag.slug)
    return post_feed(
        posts,
        links=links,
        title=f"{site}: {tag.name}",
        description=f"The newest posts tagged “{tag.name}” on {site}.",
        home_url=links.tag(tag.slug),
        self_url=links.absolute(request.url.path),
    )


async def author_feed(request: Request, session: SessionDep, username: Username) -> Feed:
    author = await user_service.get_by_username(session, username)
    links, site = _links(request), _settings(request).site_title
    posts = await feed_service.latest_posts(session, author=author.username)
    return post_feed(
        posts,
        links=links,
        title=f"{site}: {author.display_name}",
        description=f"The newest posts by {author.display_name} on {site}.",
        home_url=links.author(author.username),
        self_url=links.absolute(request.url.path),
    )


async def comment_feed(request: Request, session: SessionDep, slug: SlugPath) -> Feed:
    try:
        post = await post_service.get_post(session, slug, viewer=None)
    except PostMoved as moved:
        filename = request.url.path.rsplit("/", 1)[-1]
        raise FeedMoved(f"/posts/{moved.extensions['slug']}/comments/{filename}") from None
    assert post.id is not None
    links = _links(request)
    comments = await feed_service.latest_comments(session, post.id)
    return Feed(
        title=f"Comments on “{post.title}”",
        description=f"The newest comments on “{post.title}” on {_settings(request).site_title}.",
        home_url=links.post(post.slug),
        self_url=links.absolute(request.url.path),
        entries=tuple(comment_entry(comment, post, links) for comment in comments),
    )


async def search_feed(
    request: Request, session: SessionDep, filters: SearchFiltersDep, q: QText = ""
) -> Feed:
    """A saved search: the newest matches first, so a reader can follow a topic."""
    query = filters.query(q, page=1, per_page=FEED_SIZE, sort="newest", now=utcnow())
    search: SearchService = request.app.state.search
    result = await search.read(lambda index: index.search(query))
    posts = await feed_service.public_posts(session, [hit.post_id for hit in result.hits])
    links, site = _links(request), _settings(request).site_title
    words = remove_control_characters(q).strip()  # echoed into XML, which cannot hold them
    topic = f"“{words}”" if words else "all posts"
    query_string = f"?{request.url.query}" if request.url.query else ""
    return post_feed(
        posts,
        links=links,
        title=f"{site}: search for {topic}",
        description=f"The newest posts matching {topic} on {site}.",
        home_url=links.search(request.url.query),
        self_url=links.absolute(request.url.path) + query_string,
    )


def _feed_endpoint(
    fmt: FeedFormat, load: Callable[..., Awaitable[Feed]]
) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request, feed: Annotated[Feed, Depends(load)]) -> Response:
        return feed_response(request, fmt, feed)

    return endpoint


def _responses(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {media_type: {}}, "description": "The document"},
        304: {"description": "Not modified since `If-None-Match` / `If-Modified-Since`"},
    }


_NOT_FOUND: dict[int | str, Any] = {404: {"description": "No such tag, author or post"}}
_FEEDS: tuple[tuple[str, str, Callable[..., Awaitable[Feed]], str, dict[int | str, Any]], ...] = (
    ("site", "", site_feed, "The newest public posts", {}),
    ("tag", "/tags/{slug}", tag_feed, "The newest public posts with a tag", _NOT_FOUND),
    ("author", "/authors/{username}", author_feed, "The newest public posts by an author", _NOT_FOUND),
    ("comments", "/posts/{slug}/comments", comment_feed, "The newest approved comments of a post",
     _NOT_FOUND),
    ("search", "/search", search_feed, "The newest public posts matching a search",
     {503: {"description": "The search index is being built"}}),
)

for _scope, _prefix, _load, _summary, _errors in _FEEDS:
    for _fmt in FORMATS:
        router.add_api_route(
            f"{_prefix}/{_fmt.filename}",
            _feed_endpoint(_fmt, _load),
            methods=["GET"],
            name=f"{_scope}_feed_{_fmt.name}",
            summary=f"{_summary} ({_fmt.media_type})",
            response_class=Response,
            responses={**_responses(_fmt.media_type), **_errors},
        )


@dataclass
class BuiltSitemap:
    """The sitemap's URLs split into pages, with each page's newest `lastmod`, and the
    documents rendered so far (0: `/sitemap.xml`; n: `/sitemaps/n.xml`)."""

    urls: list[sitemap.SitemapUrl]
    pages: list[Sequence[sitemap.SitemapUrl]]
    newest: list[datetime | None]
    bodies: dict[int, bytes] = field(default_factory=dict)

    @classmethod
    def of(cls, urls: list[sitemap.SitemapUrl]) -> "BuiltSitemap":
        pages = sitemap.split_sitemap(urls)
        return cls(urls, pages, [sitemap.newest(page) for page in pages])

    async def body(self, n: int, render: Callable[[], bytes]) -> bytes:
        """Document `n`, rendered once, on a worker thread (100,000 URLs: half a second)."""
        found = self.bodies.get(n)
        if found is None:
            found = self.bodies[n] = await anyio.to_thread.run_sync(render)
        return found


async def _sitemap(request: Request, session: AsyncSession) -> BuiltSitemap:
    """The sitemap, built once per content version and shared by its index and pages (a page
    of 50,000 URLs is too large for the response cache). On SQLite it is read and built on a
    worker thread through the synchronous reader, off the event loop."""
    state = request.app.state
    held: VersionedValue[BuiltSitemap] | None = getattr(state, "sitemap", None)
    if held is not None and (found := held.get()) is not None:
        return found
    tag = held.tag() if held is not None else None
    links = _links(request)
    reader: sa.Engine | None = getattr(state, "sync_reader", None)
    if reader is None:
        built = BuiltSitemap.of(await feed_service.sitemap_urls(session, links))
    else:

        def build() -> BuiltSitemap:
            assert reader is not None
            with reader.connect() as conn:
                return BuiltSitemap.of(feed_service.sitemap_urls_sync(conn, links))

        built = await anyio.to_thread.run_sync(build)
    if held is not None:
        held.put(tag, built)
    return built


@router.get("/sitemap.xml", response_class=Response, responses=_responses(XML))
async def get_sitemap(request: Request, session: SessionDep) -> Response:
    """Public posts, tags and authors with `lastmod`; an index of pages past 50,000 URLs."""
    built = await _sitemap(request, session)
    newest = max((d for d in built.newest if d is not None), default=None)
    if len(built.pages) == 1:
        body = await built.body(0, lambda: sitemap.render_urlset(built.urls))
        return document_response(request, body, XML, newest)
    links = _links(request)
    entries = [
        sitemap.SitemapUrl(links.absolute(f"sitemaps/{n}.xml"), built.newest[n - 1])
        for n in range(1, len(built.pages) + 1)
    ]
    body = await built.body(0, lambda: sitemap.render_sitemap_index(entries))
    return document_response(request, body, XML, newest)


@router.get(
    "/sitemaps/{page}.xml",
    response_class=Response,
    responses={**_responses(XML), 404: {"description": "No such page"}},
)
async def get_sitemap_page(request: Request, session: SessionDep, page: int) -> Response:
    """One page of a sitemap split by `/sitemap.xml`."""
    built = await _sitemap(request, session)
    if not 1 <= page <= len(built.pages):
        raise NotFound(f"The sitemap has {len(built.pages)} page(s).")
    chosen = built.pages[page - 1]
    body = await built.body(page, lambda: sitemap.render_urlset(chosen))
    return document_response(request, body, XML, built.newest[page - 1])
