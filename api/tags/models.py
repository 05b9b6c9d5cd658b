from sqlmodel import Field, SQLModel


class PostTag(SQLModel, table=True):
    __tablename__ = "post_tag"

    post_id: int = Field(foreign_key="post.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tag.id", primary_key=True, ondelete="CASCADE", index=True)


class Tag(SQLModel, table=True):
    __tablename__ = "tag"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    slug: str = Field(max_length=60, unique=True, index=True)
