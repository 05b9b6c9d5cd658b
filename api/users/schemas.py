from typing import Any

from pydantic import BaseModel, EmailStr, Field, HttpUrl, field_validator
from sqlmodel import SQLModel

from api.text.characters import reject_control_characters
from api.users.models import Role, UserBase


class UserCreate(UserBase):
    # Shown as an image by frontends: an http(s) URL, as in UserUpdate (not `javascript:`).
    avatar_url: HttpUrl | None = None  # type: ignore[assignment]
    email: EmailStr
    password: str = Field(min_length=8, max_length=200)
    role: Role = Role.author

    model_config = {"extra": "forbid"}

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return reject_control_characters(value)


class UserUpdate(SQLModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    bio: str | None = Field(default=None, max_length=2000)
    avatar_url: HttpUrl | None = None
    email: EmailStr | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)
    role: Role | None = None
    is_active: bool | None = None

    model_config = {"extra": "forbid"}

    @field_validator("bio")
    @classmethod
    def _null_bio_is_empty(cls, value: str | None) -> str:
        # The column is NOT NULL: `"bio": null` clears the bio instead of failing the write.
        return value or ""

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return reject_control_characters(value)


class AuthorPublic(BaseModel):
    """How a post's author appears in public responses (a plain pydantic model, as
    api/tags/schemas.py says why)."""

    username: str
    display_name: str
    avatar_url: str | None


class AuthorProfile(AuthorPublic):
    bio: str
    post_count: int = 0


class UserPrivate(AuthorPublic):
    """The signed-in user's own view, and what admins see."""

    id: int
    email: str
    bio: str
    role: Role
    is_active: bool


class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"
