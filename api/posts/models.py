from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Integer
from sqlalchemy.sql import ColumnElement
from sqlmodel import Field, Relationship, SQLModel, and_, col, or_

from api.db import UTCDateTime, utcnow
from api.tags.models import PostTag, Tag
from api.users.models import User


class PostStatus(StrEnum):
    draft = "draft"
    published = "published"
    scheduled = "scheduled"


class Post(SQLModel, table=True):
    __tablename__ = "post"
    # Public lists filter on `published_at <= now` and sort by it: this index covers both,
    # and the count of public posts, without reading the wide rows.
    __table_args__ = (Index("ix_post_published_at_status", "published_at", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=200, unique=True, index=True)
    title: str = Field(max_length=200)
    excerpt: str = Field(default="", max_length=1000)
    content: str = Field(default="")
    content_html: str = Field(default="")
    status: str = Field(default=PostStatus.draft, max_length=10)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reading_time_minutes: int = Field(default=1)
    comments_open: bool = Field(default=True)
    author_id: int = Field(foreign_key="user.id", index=True, ondelete="RESTRICT")

    author: User = Relationship(sa_relationship_kwargs={"lazy": "raise"})
    tags: list[Tag] = Relationship(
        link_model=PostTag, sa_relationship_kwargs={"lazy": "raise", "order_by": "Tag.slug"}
    )

    def is_public(self, now: datetime) -> bool:
        return (
            self.status != PostStatus.draft
            and self.published_at is not None
            and self.published_at <= now
        )



def is_public_clause(now: datetime) -> ColumnElement[bool]:
    """`Post.is_public` in SQL: published, or scheduled and due (the filter of every public read)."""
    return and_(col(Post.status) != PostStatus.draft, col(Post.published_at) <= now)


def is_hidden_clause(now: datetime) -> ColumnElement[bool]:
    """Not public: a draft, or not yet due (`is_public_clause`'s complement)."""
    return or_(
        col(Post.status) == PostStatus.draft,
        col(Post.published_at).is_(None),
        col(Post.published_at) > now,
    )


class PostSlugRedirect(SQLModel, table=True):
    """An old slug of a renamed post: it answers 301 to the current slug."""

    __tablename__ = "post_slug_redirect"

    old_slug: str = Field(max_length=200, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True, ondelete="CASCADE")


class SearchChange(SQLModel, table=True):
    """Outbox: one row per post change, written in the transaction that changed the post.

    The search indexer applies rows after commit, in sequence order, and records the last
    sequence it applied inside the index itself.
    """

    __tablename__ = "search_change"
    # AUTOINCREMENT: SQLite must never hand out a sequence number again after rows are pruned.
    __table_args__ = {"sqlite_autoincrement": True}

    seq: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    post_id: int = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
