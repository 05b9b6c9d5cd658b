"""The bridge from posts to the search index: change-log rows and search documents."""

from sqlmodel.ext.asyncio.session import AsyncSession

from api.posts.models import Post, SearchChange
from api.text.markdown import plain_text
from search.documents import SearchDocument


async def record_change(session: AsyncSession, post_id: int) -> None:
    """Append a change-log row in the caller's transaction (committed or rolled back with it)."""
    session.add(SearchChange(post_id=post_id))
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
