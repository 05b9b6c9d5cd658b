from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


class CommentStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    spam = "spam"
    trash = "trash"


class Comment(SQLModel, table=True):
    __tablename__ = "comment"
    # AUTOINCREMENT: SQLite must never give a deleted comment's id to a new one, or a
    # moderator acting on a stale id would change or delete someone else's comment.
    __table_args__ = (
        Index("ix_comment_post_id_status", "post_id", "status"),
        # The approved top-level comments of some posts, where the visible ones start
        # (comments.service.visible_comments): without it SQLite walks every top-level
        # comment of the blog through the parent_id index.
        Index("ix_comment_post_id_parent_id_status", "post_id", "parent_id", "status"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", ondelete="CASCADE")
    parent_id: int | None = Field(
        default=None, foreign_key="comment.id", index=True, ondelete="CASCADE"
    )
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    author_name: str = Field(max_length=100)
    author_email: str = Field(default="", max_length=254, index=True)
    author_url: str | None = Field(default=None, max_length=500)
    content: str = Field(max_length=10_000)
    content_html: str = Field(default="")
    status: str = Field(default=CommentStatus.pending, max_length=10)
    depth: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # For moderation only; never in a public response.
    ip_hash: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=500)
