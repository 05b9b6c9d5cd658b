"""Imports every table model so `SQLModel.metadata` is complete (Alembic, tests)."""

from api.comments.models import Comment
from api.db import metadata
from api.posts.models import Post, PostSlugRedirect, SearchChange
from api.ratelimit import RateLimitCounter
from api.tags.models import PostTag, Tag
from api.users.models import User

__all__ = [
    "Comment",
    "Post",
    "PostSlugRedirect",
    "PostTag",
    "RateLimitCounter",
    "SearchChange",
    "Tag",
    "User",
    "metadata",
]
