"""Use cases for comments. Services flush; the request commits."""

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import CTE
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from api.comments.errors import CommentNotFound, CommentsClosed, DuplicateComment
from api.comments.models import Comment, CommentStatus
from api.comments.presenters import CommentRow, ThreadRow
from api.comments.schemas import CommentCreate, CommentUpdate
from api.comments.spam import initial_status
from api.errors import Forbidden, NotFound, Unprocessable
from api.posts.errors import PostNotFound
from api.posts.indexing import record_change
from api.posts.models import Post
from api.settings import Settings
from api.text.markdown import render_comment_html
from api.users.models import User


def _rows_statement() -> Select[Comment, User | None]:
    """Comments with their signed-in author, if any, in the same query."""
    return select(Comment, User).outerjoin(User, col(Comment.user_id) == col(User.id))


def _to_rows(result: Iterable[tuple[Comment, User | None]]) -> list[CommentRow]:
    return [CommentRow(comment, user) for comment, user in result]


def _oldest_first() -> tuple[Any, Any]:
    return col(Comment.created_at).asc(), col(Comment.id).asc()


# The public thread reads plain rows, not ORM objects: building 200 entities costs several
# times what the queries do.
_THREAD_COLUMNS: tuple[Any, ...] = (
    col(Comment.id), col(Comment.parent_id), col(Comment.author_name),
    col(Comment.author_email), col(Comment.author_url), col(Comment.content_html),
    col(Comment.created_at), col(User.username), col(User.display_name),
    col(User.avatar_url).label("user_avatar_url"), col(User.email).label("user_email"),
)


def visible_comments(post_ids: Sequence[int] | sa.BindParameter[Any]) -> CTE:
    """Ids (and post ids) of the comments readers see on these posts: approved, under approved
    parents all the way up. A reply stays approved when its parent is later held or binned,
    but it is hidden with it, in threads, counts and feeds alike."""
    approved = col(Comment.status) == CommentStatus.approved
    tree = (
        sa.select(col(Comment.id).label("id"), col(Comment.post_id).label("post_id"))
        .where(col(Comment.post_id).in_(post_ids), col(Comment.parent_id).is_(None), approved)
        .cte("visible_comment", recursive=True)
    )
    return tree.union_all(
        sa.select(col(Comment.id), col(Comment.post_id))
        .join(tree, col(Comment.parent_id) == tree.c.id)
        .where(approved)
    )


async def list_thread(
    session: AsyncSession, *, post_id: int, offset: int, limit: int
) -> tuple[list[ThreadRow], int]:
    """A page of approved top-level comments with their approved replies at any depth, oldest
    first, and the number of top-level comments.

    One query whatever the size of the threads: the page of top-level comments seeds a
    recursive walk down the replies (a reply under a hidden comment stays hidden), and the
    total rides along as a scalar subquery. A page past the end costs one more, to count.
    """
    top_level = (
        col(Comment.post_id) == post_id,
        col(Comment.parent_id).is_(None),
        col(Comment.status) == CommentStatus.approved,
    )
    roots = (
        sa.select(col(Comment.id).label("id")).where(*top_level)
        .order_by(*_oldest_first()).offset(offset).limit(limit)
        .cte("page_roots")
    )
    tree = sa.select(roots.c.id).cte("reply_tree", recursive=True)
    tree = tree.union_all(
        sa.select(col(Comment.id))
        .join(tree, col(Comment.parent_id) == tree.c.id)
        .where(col(Comment.status) == CommentStatus.approved)
    )
    total = sa.select(func.count()).select_from(Comment).where(*top_level).scalar_subquery()
    statement = (
        sa.select(*_THREAD_COLUMNS, total.label("total"))
        .join(tree, col(Comment.id) == tree.c.id)
        .outerjoin(User, col(Comment.user_id) == col(User.id))
        .order_by(*_oldest_first())
    )
    conn = await session.connection()
    rows = list((await conn.execute(statement)).all())
    if rows:
        return rows, rows[0].total
    count = sa.select(func.count()).select_from(Comment).where(*top_level)
    return [], (await conn.execute(count)).scalar_one()


def can_moderate(user: User, post: Post) -> bool:
    return user.can_edit_any_post() or post.author_id == user.id


def _field_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "in": "body", "message": message, "type": "value_error"}


async def _reply_parent(
    session: AsyncSession, *, post: Post, parent_id: int, max_depth: int
) -> Comment | None:
    """The comment a reply attaches to: the one asked for, or its deepest allowed ancestor."""
    parent = await session.get(Comment, parent_id)
    if parent is None or parent.post_id != post.id or parent.status != CommentStatus.approved:
        raise Unprocessable(
            "You can only reply to a published comment of the same post.",
            errors=[_field_error("parent_id", "not a published comment of this post")],
        )
    # A reply sits one level below its parent; levels run 0 .. max_depth - 1.
    while parent is not None and parent.depth + 1 > max_depth - 1:
        parent = await session.get(Comment, parent.parent_id) if parent.parent_id else None
    return parent


async def _lock_author_on_post(session: AsyncSession, post_id: int, who: str) -> None:
    """Serialize submissions by one author on one post, so a double submit is caught as such.

    SQLite's write transactions already run one at a time (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"comment:{post_id}:{who}".encode()).digest()[:8],
                             "big", signed=True)
        lock = select(func.pg_advisory_xact_lock(key))
        await session.exec(lock)


async def create_comment(
    session: AsyncSession,
    *,
    post: Post,
    comment_in: CommentCreate,
    user: User | None,
    ip_hash: str,
    user_agent: str,
    settings: Settings,
    now: datetime,
) -> Comment:
    """Store a new comment with the status the moderation policy gives it."""
    assert post.id is not None
    # Hold the post (FOR SHARE) until commit: a delete running beside this waits for it, or
    # has already won, and then the answer is a 404 rather than a foreign-key error.
    still_there = await session.exec(
        select(Post.id).where(col(Post.id) == post.id).with_for_update(read=True)
    )
    if still_there.first() is None:
        raise PostNotFound("The post was deleted.")
    if not post.is_public(now):
        raise CommentsClosed("This post is not published; it takes comments once it is.")
    if not post.comments_open:
        raise CommentsClosed("Comments are closed on this post.")
    if user is None:
        missing = [
            _field_error(field, "required for guests")
            for field in ("author_name", "author_email") if getattr(comment_in, field) is None
        ]
        if missing:
            raise Unprocessable(
                "Guests must give a name and an e-mail address.", errors=missing
            )
        assert comment_in.author_name is not None
        assert comment_in.author_email is not None
        name, email = comment_in.author_name, comment_in.author_email.strip().lower()
        url = str(comment_in.author_url) if comment_in.author_url else None
    else:
        name, email, url = user.display_name, user.email.strip().lower(), None

    parent = None
    if comment_in.parent_id is not None:
        parent = await _reply_parent(
            session, post=post, parent_id=comment_in.parent_id, max_depth=settings.comment_max_depth
        )

    same_author: ColumnElement[bool] = (
        col(Comment.user_id) == user.id if user is not None else col(Comment.author_email) == email
    )
    await _lock_author_on_post(session, post.id, f"u{user.id}" if user else email)
    since = now - timedelta(minutes=settings.comment_duplicate_minutes)
    duplicate = await session.exec(
        select(Comment.id).where(
            col(Comment.post_id) == post.id, same_author,
            col(Comment.content) == comment_in.content, col(Comment.created_at) >= since,
        ).limit(1)
    )
    if duplicate.first() is not None:
        raise DuplicateComment("You already posted this comment on this post a moment ago.")

    known_guest = False
    if user is None:
        approved_before = await session.exec(
            select(Comment.id).where(
                col(Comment.author_email) == email, col(Comment.status) == CommentStatus.approved
            ).limit(1)
        )
        known_guest = approved_before.first() is not None
    status = initial_status(
        settings=settings, content=comment_in.content, author_name=name, is_staff=user is not None,
        honeypot_filled=bool(comment_in.homepage), known_guest=known_guest,
    )
    comment = Comment(
        post_id=post.id,
        parent_id=parent.id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        user_id=user.id if user else None,
        author_name=name,
        author_email=email,
        author_url=url,
        content=comment_in.content,
        content_html=render_comment_html(comment_in.content),
        status=status,
        created_at=now,
        updated_at=now,
        ip_hash=ip_hash,
        user_agent=user_agent[:500],
    )
    session.add(comment)
    await session.flush()
    if status == CommentStatus.approved:  # the post's public comment count changed
        await record_change(session, post.id)
    return comment


async def get_comment(session: AsyncSession, comment_id: int) -> tuple[CommentRow, Post]:
    statement = (
        select(Comment, User, Post)
        .join(Post, col(Post.id) == col(Comment.post_id))
        .outerjoin(User, col(Comment.user_id) == col(User.id))
        .where(col(Comment.id) == comment_id)
        # Held until commit: deleting the post (its comments cascade) waits for this change.
        .with_for_update(of=Comment)
    )
    result = (await session.exec(statement)).first()
    if result is None:
        raise CommentNotFound(f"No comment with the id {comment_id}.")
    comment, user, post = result
    return CommentRow(comment, user), post


async def list_for_moderation(
    session: AsyncSession,
    *,
    moderator: User,
    status: CommentStatus | None,
    post: Post | None,
    offset: int,
    limit: int,
) -> tuple[list[tuple[CommentRow, str]], int]:
    """Comments this user may moderate, newest first: all for editors, their posts' for authors."""
    filters: list[ColumnElement[bool]] = []
    if status is not None:
        filters.append(col(Comment.status) == status)
    if post is not None:
        filters.append(col(Comment.post_id) == post.id)
    if not moderator.can_edit_any_post():
        filters.append(col(Post.author_id) == moderator.id)
    joined = select(func.count()).select_from(Comment).join(Post, col(Post.id) == col(Comment.post_id))
    total = (await session.exec(joined.where(*filters))).one()
    if offset >= total:
        return [], total
    statement = (
        select(Comment, User, Post.slug)
        .join(Post, col(Post.id) == col(Comment.post_id))
        .outerjoin(User, col(Comment.user_id) == col(User.id))
        .where(*filters)
        .order_by(col(Comment.created_at).desc(), col(Comment.id).desc())
        .offset(offset).limit(limit)
    )
    rows = (await session.exec(statement)).all()
    return [(CommentRow(comment, user), slug) for comment, user, slug in rows], total


async def update_comment(
    session: AsyncSession,
    *,
    comment: Comment,
    post: Post,
    editor: User,
    comment_in: CommentUpdate,
    settings: Settings,
    now: datetime,
) -> Comment:
    """Moderators change status and content; a comment's own author, its content for a while."""
    if not can_moderate(editor, post):
        if comment.user_id is None or comment.user_id != editor.id:
            raise Forbidden("Only moderators of this post may change other people's comments.")
        if comment_in.status is not None:
            raise Forbidden("Only moderators of this post may change a comment's status.")
        if now > comment.created_at + timedelta(minutes=settings.comment_edit_minutes):
            raise Forbidden(
                f"Comments can be edited for {settings.comment_edit_minutes} minutes after posting."
            )
    if comment_in.status is not None:
        comment.status = comment_in.status
    if comment_in.content is not None:
        comment.content = comment_in.content
        comment.content_html = render_comment_html(comment_in.content)
    comment.updated_at = now
    session.add(comment)
    await session.flush()
    await record_change(session, comment.post_id)
    return comment


async def delete_comment(session: AsyncSession, *, comment: Comment, post: Post, user: User) -> None:
    """Delete a comment and the replies below it (moderators only)."""
    if not can_moderate(user, post):
        raise Forbidden("Only moderators of this post may delete its comments.")
    await session.delete(comment)
    await session.flush()
    await record_change(session, comment.post_id)


async def find_post(session: AsyncSession, slug: str) -> Post:
    post = (await session.exec(select(Post).where(Post.slug == slug))).first()
    if post is None:
        raise NotFound(f"No post with the slug '{slug}'.")
    return post
