"""The bridge from posts to the search index: change-log rows and search documents."""

from collections.abc import Iterable

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
    """The only mapping from a post to the index. The post's author and tags must be loaded."""
    assert post.id is not None and post.published_at is not None
    return SearchDocument(
        post_id=post.id,
        slug=post.slug,
        title=post.title,
        excerpt=post.excerpt,
        content=plain_text(post.content_html),
        tags=tuple(tag.slug for tag in post.tags),
        tag_names=tuple(tag.name for tag in post.tags),
        author=post.author.username,
        author_name=post.author.display_name,
        published_at=post.published_at,
        updated_at=post.updated_at,
    )
