"""The bridge from posts to the search index: change-log rows and search documents."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlmodel.ext.asyncio.session import AsyncSession

from api.posts.models import Post, SearchChange
from api.text.markdown import plain_text
from search.documents import SearchDocument


async def record_change(session: AsyncSession, post_id: int) -> None:
    """Append a change-log row in the caller's transaction (committed or rolled back with it).

    Anything that changes how a post looks to the public records one: its own edits, and
    comment or author changes that show in it. The log drives the search index and the
    content version that validates cached responses (api/caching.py).
    """
    await record_changes(session, [post_id])


async def record_changes(session: AsyncSession, post_ids: Iterable[int]) -> None:
    session.add_all([SearchChange(post_id=post_id) for post_id in post_ids])
    await session.flush()


def to_search_document(post: Post) -> SearchDocument:
    """A post as the index sees it. The post's author and tags must be loaded."""
    assert post.id is not None and post.published_at is not None
    return search_document(
        PostRow(
            post.id, post.slug, post.title, post.excerpt, post.content_html, post.published_at,
            post.updated_at, post.author.username, post.author.display_name,
        ),
        [(tag.slug, tag.name) for tag in post.tags],
    )


class PostRow(NamedTuple):
    """What the index needs of a post, as a rebuild reads it (without ORM objects)."""

    id: int
    slug: str
    title: str
    excerpt: str
    content_html: str
    published_at: datetime
    updated_at: datetime
    username: str
    display_name: str


def search_document(row: PostRow, tags: Sequence[tuple[str, str]]) -> SearchDocument:
    """The only mapping from a post to the index; `tags` are (slug, name) in slug order."""
    return SearchDocument(
        post_id=row.id,
        slug=row.slug,
        title=row.title,
        excerpt=row.excerpt,
        content=plain_text(row.content_html),
        tags=tuple(slug for slug, _ in tags),
        tag_names=tuple(name for _, name in tags),
        author=row.username,
        author_name=row.display_name,
        published_at=row.published_at,
        updated_at=row.updated_at,
    )
