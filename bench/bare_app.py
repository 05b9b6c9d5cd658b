"""The baseline of the posts benchmark: FastAPI returning 10 in-memory post-shaped objects.

No database, no middleware: the same response shape as `GET /api/v1/posts?per_page=10`
(a page of summaries with author and tags), validated and serialized through a response model.

    uvicorn bench.bare_app:app
"""

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from pydantic import BaseModel


class Author(BaseModel):
    username: str
    display_name: str
    avatar_url: str | None


class Tag(BaseModel):
    name: str
    slug: str


class PostSummary(BaseModel):
    id: int
    slug: str
    title: str
    excerpt: str
    status: str
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    reading_time_minutes: int
    comments_open: bool
    comment_count: int
    author: Author
    tags: list[Tag]


class Page(BaseModel):
    items: list[PostSummary]
    total: int
    page: int
    per_page: int
    pages: int


def _posts() -> list[PostSummary]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    author = Author(username="ann", display_name="Ann Author", avatar_url=None)
    return [
        PostSummary(
            id=n, slug=f"post-number-{n}", title=f"Post number {n}",
            excerpt="Some words about running, recovery and the joy of long walks. " * 4,
            status="published", published_at=now - timedelta(hours=n), created_at=now,
            updated_at=now, reading_time_minutes=3, comments_open=True, comment_count=2,
            author=author, tags=[Tag(name="Running", slug="running"), Tag(name="Food", slug="food")],
        )
        for n in range(10)
    ]


POSTS = _posts()
app = FastAPI()


@app.get("/api/v1/posts", response_model=Page)
async def list_posts() -> Page:
    return Page(items=POSTS, total=10_000, page=1, per_page=10, pages=1_000)
