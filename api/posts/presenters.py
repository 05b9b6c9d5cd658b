"""Posts as they leave the API."""

from collections.abc import Sequence

from api.posts.models import Post
from api.posts.schemas import PostPublic, PostSummary
from api.tags.schemas import TagPublic
from api.users.schemas import AuthorPublic


def _common(post: Post, comment_count: int) -> dict[str, object]:
    return {
        "id": post.id,
        "slug": post.slug,
        "title": post.title,
        "excerpt": post.excerpt,
        "status": post.status,
        "published_at": post.published_at,
        "created_at": post.created_at,
        "updated_at": post.updated_at,
        "reading_time_minutes": post.reading_time_minutes,
        "comments_open": post.comments_open,
        "comment_count": comment_count,
        "author": AuthorPublic.model_validate(post.author, from_attributes=True),
        "tags": [TagPublic(name=tag.name, slug=tag.slug) for tag in post.tags],
    }


def post_public(post: Post, comment_count: int) -> PostPublic:
    return PostPublic.model_validate(
        {**_common(post, comment_count), "content": post.content, "content_html": post.content_html}
    )


def post_summaries(posts: Sequence[Post], counts: dict[int, int]) -> list[PostSummary]:
    return [
        PostSummary.model_validate(_common(post, counts.get(post.id or 0, 0))) for post in posts
    ]
