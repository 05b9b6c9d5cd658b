from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, field_validator

from api.comments.models import CommentStatus
from api.text.characters import reject_control_characters

MAX_CONTENT = 10_000


def _not_blank(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise ValueError(f"the {what} must not be blank")
    return value


class CommentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"content": "Great post, *thanks*!", "author_name": "Robin",
                 "author_email": "robin@example.org", "author_url": "https://robin.example"},
                {"content": "Agreed.", "parent_id": 12},
            ]
        },
    )

    content: str = Field(min_length=1, max_length=MAX_CONTENT,
                         description="Markdown subset: emphasis, links, lists, quotes, code.")
    parent_id: int | None = Field(default=None, ge=1,
                                  description="An approved comment of the same post to reply to.")
    author_name: str | None = Field(default=None, max_length=100,
                                    description="Guests only (required for them).")
    author_email: EmailStr | None = Field(
        default=None, description="Guests only (required for them). Never shown publicly."
    )
    author_url: HttpUrl | None = Field(default=None, description="Guests only: an http(s) website.")
    homepage: str | None = Field(
        default=None, max_length=2000,
        description="Honeypot: leave this empty and hide it from humans. A comment with it "
        "filled is accepted as usual but never published.",
    )

    @field_validator("content")
    @classmethod
    def _content(cls, value: str) -> str:
        return _not_blank(value, "content") or ""

    @field_validator("author_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return _not_blank(value, "name")

    @field_validator("author_url")
    @classmethod
    def _url(cls, value: HttpUrl | None) -> HttpUrl | None:
        if value is not None and len(str(value)) > 500:
            raise ValueError("the website address is at most 500 characters")
        return value

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return reject_control_characters(value)


class CommentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"status": "approved"}, {"content": "Fixed a typo."}]})

    status: CommentStatus | None = Field(default=None, description="Moderators only.")
    content: str | None = Field(default=None, min_length=1, max_length=MAX_CONTENT)

    @field_validator("content")
    @classmethod
    def _content(cls, value: str | None) -> str | None:
        return _not_blank(value, "content")

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return reject_control_characters(value)


class CommentAuthor(BaseModel):
    name: str
    url: str | None
    avatar_url: str
    is_registered: bool
    username: str | None = None


class CommentPublic(BaseModel):
    """A published comment as readers see it: no e-mail, no moderation data."""

    id: int
    parent_id: int | None
    author: CommentAuthor
    content_html: str
    created_at: datetime
    replies: list["CommentPublic"] = []


class CommentWithStatus(CommentPublic):
    """What the comment's own author gets back: whether it awaits moderation."""

    status: CommentStatus
    updated_at: datetime


class CommentModeration(BaseModel):
    """The moderators' view, with the data that helps spot abuse."""

    id: int
    post_id: int
    post_slug: str
    parent_id: int | None
    status: CommentStatus
    author: CommentAuthor
    author_email: str
    content: str
    content_html: str
    created_at: datetime
    updated_at: datetime
    ip_hash: str
    user_agent: str
