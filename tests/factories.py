"""Plain async factories: arrange rows with keyword overrides, committed."""

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from api.comments.models import Comment, CommentStatus
from api.db import utcnow
from api.posts import service as post_service
from api.posts.models import Post, PostStatus
from api.posts.schemas import PostCreate
from api.text.markdown import render_comment_html
from api.users.models import Role, User
from api.users.security import create_access_token, hash_password
from tests.conftest import TEST_SECRET

_ids = itertools.count(1)
PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)


async def make_user(
    session: AsyncSession, *, role: Role = Role.author, username: str | None = None, **overrides: Any
) -> User:
    n = next(_ids)
    username = username or f"user{n}"
    user = User(
        username=username,
        display_name=overrides.pop("display_name", f"User {n}"),
        email=overrides.pop("email", f"{username}@example.com"),
        role=role,
        password_hash=_PASSWORD_HASH,
        **overrides,
    )
    session.add(user)
    await session.commit()
    return user


def auth(user: User) -> dict[str, str]:
    assert user.id is not None
    token = create_access_token(user.id, TEST_SECRET, 60, user.password_hash)
    return {"Authorization": f"Bearer {token}"}


async def make_post(
    session: AsyncSession,
    *,
    author: User,
    title: str | None = None,
    status: PostStatus = PostStatus.published,
    published_at: datetime | None = None,
    tags: list[str] | None = None,
    content: str = "Some words about running, recovery and the joy of long walks.",
    **overrides: Any,
) -> Post:
    n = next(_ids)
    if status == PostStatus.scheduled and published_at is None:
        published_at = utcnow() + timedelta(days=1)
    post_in = PostCreate(
        title=title or f"Post number {n}",
        content=content,
        status=status,
        published_at=published_at,
        tags=tags or [],
        **overrides,
    )
    post = await post_service.create_post(session, author=author, post_in=post_in)
    await session.commit()
    return post


async def make_comment(
    session: AsyncSession,
    *,
    post: Post,
    status: CommentStatus = CommentStatus.approved,
    parent: Comment | None = None,
    content: str = "A thoughtful comment.",
    **overrides: Any,
) -> Comment:
    assert post.id is not None
    n = next(_ids)
    comment = Comment(
        post_id=post.id,
        parent_id=parent.id if parent else None,
        depth=(parent.depth + 1) if parent else 0,
        author_name=overrides.pop("author_name", f"Guest {n}"),
        author_email=overrides.pop("author_email", f"guest{n}@example.org"),
        content=content,
        content_html=render_comment_html(content),
        status=status,
        **overrides,
    )
    session.add(comment)
    await session.commit()
    return comment
