from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


class Role(StrEnum):
    admin = "admin"
    editor = "editor"
    author = "author"


class UserBase(SQLModel):
    username: str = Field(
        min_length=2, max_length=40, schema_extra={"pattern": r"^[A-Za-z0-9_.-]+$"}
    )
    display_name: str = Field(min_length=1, max_length=100)
    bio: str = Field(default="", max_length=2000)
    avatar_url: str | None = Field(default=None, max_length=500)


class User(UserBase, table=True):
    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40, unique=True, index=True)
    email: str = Field(max_length=254)
    role: str = Field(default=Role.author, max_length=10)
    password_hash: str = Field(max_length=200)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def can_edit_any_post(self) -> bool:
        return self.role in (Role.admin, Role.editor)
