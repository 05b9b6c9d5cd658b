from pydantic import BaseModel


# Response models are plain pydantic models: a SQLModel one takes ~2.5x as long to build, and
# search and related build dozens of them per request.
class TagPublic(BaseModel):
    name: str
    slug: str


class TagWithCount(TagPublic):
    post_count: int
