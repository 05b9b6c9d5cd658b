from sqlmodel import SQLModel


class TagPublic(SQLModel):
    name: str
    slug: str


class TagWithCount(TagPublic):
    post_count: int
