from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, field_validator
from sqlmodel import SQLModel

from api.posts.models import PostStatus
from api.tags.schemas import TagPublic
from api.text.characters import reject_control_characters
from api.users.schemas import AuthorPublic

MAX_CONTENT = 200_000
T = TypeVar("T")
PostSort = Literal["-published_at", "published_at", "title"]


def _clean_tags(tags: list[str] | None) -> list[str] | None:
    if tags is None:
        return None
    seen: dict[str, str] = {}
    for tag in tags:
        name = " ".join(tag.split())
        if not name:
            raise ValueError("tag names must not be blank")
        if len(name) > 50:
            raise ValueError("tag names are at most 50 characters")
        seen.setdefault(name.lower(), name)
    return list(seen.values())


class PostCreate(SQLModel):
    model_config = {
        "extra": "forbid",
        "json_schema_extra": {
            "examples": [
                {
                    "title": "Does massage help sore muscles?",
                    "content": "After a long run, *everything* aches...",
                    "tags": ["Running", "Recovery"],
                    "status": "published",
                }
            ]
        },
    }

    title: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(default=None, min_length=1, max_length=80,
                             pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    excerpt: str | None = Field(default=None, max_length=1000,
                                description="Left out: the first words of the content.")
    content: str = Field(default="", max_length=MAX_CONTENT, description="Markdown source.")
    status: PostStatus = PostStatus.draft
    published_at: datetime | None = Field(
        default=None,
        description="Required for `scheduled`; defaults to now when publishing. "
        "A date without a timezone is taken as UTC.",
    )
    tags: list[str] = Field(default_factory=list, max_length=20, description="Tag names.")
    comments_open: bool = True

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the title must not be blank")
        return value.strip()

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return _clean_tags(value) or []

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return reject_control_characters(value)


class PostUpdate(SQLModel):
    model_config = {"extra": "forbid", "json_schema_extra": {
        "examples": [{"title": "A better title", "status": "published"}]}}

    title: str | None = Field(default=None, min_length=1, max_length=200)
    slug: str | None = Field(default=None, min_length=1, max_length=80,
                             pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    excerpt: str | None = Field(default=None, max_length=1000)
    content: str | None = Field(default=None, max_length=MAX_CONTENT)
    status: PostStatus | None = None
    published_at: datetime | None = None
    tags: list[str] | None = Field(default=None, max_length=20)
    comments_open: bool | None = None

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("the title must not be blank")
        return value.strip() if value else value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return _clean_tags(value)

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return reject_control_characters(value)


class PostSummary(BaseModel):
    """A post in lists, search hits and related posts (a plain pydantic model: see
    api/tags/schemas.py)."""

    id: int
    slug: str
    title: str
    excerpt: str
    status: PostStatus
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    reading_time_minutes: int
    comments_open: bool
    comment_count: int
    author: AuthorPublic
    tags: list[TagPublic]


class PostPublic(PostSummary):
    content: str
    content_html: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int
    pages: int
