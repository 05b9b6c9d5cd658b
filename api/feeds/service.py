"""What feeds and the sitemap read: public posts and approved comments, a fixed number of queries."""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.orm import selectinload
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.comments import service as comment_service
from api.comments.models import Comment
from api.db import utcnow
from api.feeds.documents import FEED_SIZE
from api.feeds.links import SiteLinks
from api.feeds.sitemap import SitemapUrl
from api.posts import service as post_service
from api.posts.models import Post, is_public_clause
from api.tags.models import PostTag, Tag
from api.users.models import User


async def latest_posts(
    session: AsyncSession, *, tag: str | None = None, author: str | None = None
) -> list[Post]:
    """The newest public posts, with author and tags loaded; the same filter as the API."""
    posts, _ = await post_service.list_posts(
        session, viewer=None, offset=0, limit=FEED_SIZE, tag=tag, author=author
    )
    return posts


async def public_posts(session: AsyncSession, ids: Sequence[int]) -> list[Post]:
    """The posts among `ids` that are public now, in the order of `ids` (a lagging index may
    still name a post that was unpublished or deleted since)."""
    if not ids:
        return []
    statement = select(Post).where(col(Post.id).in_(ids), is_public_clause(utcnow()))
    statement = statement.options(selectinload(Post.author), selectinload(Post.tags))  # type: ignore[arg-type]
    found = {post.id: post for post in (await session.exec(statement)).all()}
    return [found[i] for i in ids if i in found]


async def latest_comments(session: AsyncSession, post_id: int) -> list[Comment]:
    """The newest comments readers see in the thread (not replies under held comments)."""
    visible = comment_service.visible_comments([post_id])
    statement = (
        select(Comment)
        .join(visible, col(Comment.id) == visible.c.id)
        .order_by(col(Comment.created_at).desc(), col(Comment.id).desc())
        .limit(FEED_SIZE)
    )
    return list((await session.exec(statement)).all())


def _newest(*dates: datetime | None) -> datetime | None:
    return max((d for d in dates if d is not None), default=None)


async def sitemap_urls(session: AsyncSession, links: SiteLinks) -> list[SitemapUrl]:
    """`sitemap_urls_sync` through the request's session."""
    return await session.run_sync(lambda sync: sitemap_urls_sync(sync.connection(), links))


def sitemap_urls_sync(conn: sa.Connection, links: SiteLinks) -> list[SitemapUrl]:
    """Home, authors, tags, then posts (oldest first, so pages of a split sitemap stay put).

    Only the columns needed are read: three queries whatever the number of posts. Written
    for a plain connection so that, on SQLite, it runs on a worker thread through the
    synchronous reader: at 100,000 posts the queries and the rows' conversion take over a
    second, which on the event loop would hold up every other request of the worker.
    """
    public = is_public_clause(utcnow())
    newest_edit, newest_publication = (
        func.max(col(Post.updated_at)),
        func.max(col(Post.published_at)),
    )
    authors = conn.execute(
        select(User.username, newest_edit, newest_publication)
        .join(Post, col(Post.author_id) == col(User.id))
        .where(public)
        .group_by(col(User.username))
        .order_by(col(User.username))
    ).all()
    tags = conn.execute(
        select(Tag.slug, newest_edit, newest_publication)
        .join(PostTag, col(PostTag.tag_id) == col(Tag.id))
        .join(Post, col(Post.id) == col(PostTag.post_id))
        .where(public)
        .group_by(col(Tag.slug))
        .order_by(col(Tag.slug))
    ).all()
    posts = conn.execute(
        select(Post.slug, Post.updated_at, Post.published_at)
        .where(public)
        .order_by(col(Post.id))
    ).all()
    author_urls = [SitemapUrl(links.author(name), _newest(u, p)) for name, u, p in authors]
    home = SitemapUrl(links.home(), _newest(*(url.lastmod for url in author_urls)))
    return [
        home,
        *author_urls,
        *(SitemapUrl(links.tag(slug), _newest(u, p)) for slug, u, p in tags),
        *(SitemapUrl(links.post(slug), _newest(u, p)) for slug, u, p in posts),
    ]
