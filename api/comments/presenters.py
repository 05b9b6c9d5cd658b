"""Comments as they leave the API: public threads, the author's own view, moderation rows."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from api.comments.models import Comment, CommentStatus
from api.comments.schemas import CommentAuthor, CommentModeration, CommentPublic, CommentWithStatus
from api.users.models import User

AVATAR_BASE = "https://www.gravatar.com/avatar/"


def avatar_url(email: str) -> str:
    """A Gravatar URL: the address itself never leaves the server, only its SHA-256."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"{AVATAR_BASE}{digest}?d=identicon&s=80"


@dataclass(frozen=True)
class CommentRow:
    """A comment with what public responses need from its signed-in author, if any."""

    comment: Comment
    user: User | None = None


def comment_author(row: CommentRow) -> CommentAuthor:
    c = row.comment
    if row.user is not None:
        return CommentAuthor(
            name=row.user.display_name,
            url=None,
            avatar_url=row.user.avatar_url or avatar_url(row.user.email),
            is_registered=True,
            username=row.user.username,
        )
    return CommentAuthor(name=c.author_name, url=c.author_url, avatar_url=avatar_url(c.author_email),
                         is_registered=False)


def _public(row: CommentRow) -> CommentPublic:
    c = row.comment
    assert c.id is not None
    return CommentPublic(id=c.id, parent_id=c.parent_id, author=comment_author(row),
                         content_html=c.content_html, created_at=c.created_at, replies=[])


def build_threads(roots: Sequence[CommentRow], descendants: Sequence[CommentRow]) -> list[CommentPublic]:
    """Nest replies under their parents, oldest first at every level."""
    nodes = {row.comment.id: _public(row) for row in (*roots, *descendants)}
    ordered = sorted(descendants, key=lambda r: (r.comment.created_at, r.comment.id or 0))
    for row in ordered:
        parent = nodes.get(row.comment.parent_id)
        if parent is not None:
            parent.replies.append(nodes[row.comment.id])
    return [nodes[row.comment.id] for row in roots]


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
