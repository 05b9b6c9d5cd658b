"""Comments as they leave the API: public threads, the author's own view, moderation rows."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Row

from api.comments.models import Comment, CommentStatus
from api.comments.schemas import CommentAuthor, CommentModeration, CommentWithStatus
from api.users.models import User

AVATAR_BASE = "https://www.gravatar.com/avatar/"

# A thread row: id, parent_id, author_name, author_email, author_url, content_html, created_at,
# and the signed-in author's username, display_name, user_avatar_url, user_email (or None).
ThreadRow = Row[*tuple[Any, ...]]


@lru_cache(maxsize=8192)  # the same readers come back on every read of a thread
def avatar_url(email: str) -> str:
    """A Gravatar URL: the address itself never leaves the server, only its SHA-256."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"{AVATAR_BASE}{digest}?d=identicon&s=80"


def author_fields(
    *, name: str, email: str, url: str | None, user: User | None = None,
    username: str | None = None, display_name: str | None = None,
    user_avatar_url: str | None = None, user_email: str | None = None,
) -> dict[str, Any]:
    """The public `author` of a comment; a signed-in author shows their current profile."""
    if user is not None:
        username, display_name = user.username, user.display_name
        user_avatar_url, user_email = user.avatar_url, user.email
    if username is not None:
        return {"name": display_name or name, "url": None,
                "avatar_url": user_avatar_url or avatar_url(user_email or email),
                "is_registered": True, "username": username}
    return {"name": name, "url": url, "avatar_url": avatar_url(email), "is_registered": False,
            "username": None}


def build_threads(rows: Sequence[ThreadRow]) -> list[dict[str, Any]]:
    """Nest replies under their parents, keeping the order given (oldest first) at every level.

    Plain dicts in the shape of `CommentPublic`: the thread is the hot read path, and model
    instances for hundreds of comments cost more than the query that loads them.
    """
    nodes: dict[int, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    replies: list[tuple[int, dict[str, Any]]] = []
    for (comment_id, parent_id, name, email, url, content_html, created_at,
         username, display_name, user_avatar_url, user_email, *_) in rows:
        node = nodes[comment_id] = {
            "id": comment_id,
            "parent_id": parent_id,
            "author": author_fields(
                name=name, email=email, url=url, username=username, display_name=display_name,
                user_avatar_url=user_avatar_url, user_email=user_email,
            ),
            "content_html": content_html,
            "created_at": created_at,
            "replies": [],
        }
        if parent_id is None:
            top.append(node)
        else:
            replies.append((parent_id, node))
    for parent_id, node in replies:
        nodes[parent_id]["replies"].append(node)
    return top


@dataclass(frozen=True)
class CommentRow:
    """A comment with its signed-in author, if any."""

    comment: Comment
    user: User | None = None


def comment_author(row: CommentRow) -> CommentAuthor:
    c = row.comment
    return CommentAuthor.model_validate(
        author_fields(name=c.author_name, email=c.author_email, url=c.author_url, user=row.user)
    )


def comment_with_status(row: CommentRow) -> CommentWithStatus:
    c = row.comment
    assert c.id is not None
    return CommentWithStatus(
        id=c.id, parent_id=c.parent_id, author=comment_author(row), content_html=c.content_html,
        created_at=c.created_at, replies=[], status=CommentStatus(c.status), updated_at=c.updated_at,
    )


def comment_moderation(row: CommentRow, post_slug: str) -> CommentModeration:
    c = row.comment
    assert c.id is not None
    return CommentModeration(
        id=c.id, post_id=c.post_id, post_slug=post_slug, parent_id=c.parent_id,
        status=CommentStatus(c.status), author=comment_author(row), author_email=c.author_email,
        content=c.content, content_html=c.content_html, created_at=c.created_at,
        updated_at=c.updated_at, ip_hash=c.ip_hash, user_agent=c.user_agent,
    )
