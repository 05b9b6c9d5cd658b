"""Plain data passed into and out of the search package: no ORM, no Whoosh types."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class SearchDocument:
    """One post as the index sees it."""

    post_id: int
    slug: str
    title: str
    excerpt: str
    content: str
    tags: tuple[str, ...]
    tag_names: tuple[str, ...]
    author: str
    author_name: str
    published_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SearchQuery:
    """A search request: query text, page, filters and sort order."""

    q: str
    page: int = 1
    per_page: int = 10
    tags: tuple[str, ...] = ()
    author: str | None = None
    after: datetime | None = None
    before: datetime | None = None
    sort: Literal["relevance", "newest", "oldest"] = "relevance"
    now: datetime | None = None


@dataclass(frozen=True)
class SearchHit:
    post_id: int
    slug: str
    score: float
    highlights: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Facet:
    value: str
    count: int


@dataclass(frozen=True)
class SearchPage:
    query: str
    total: int
    page: int
    per_page: int
    hits: list[SearchHit]
    facets: dict[str, list[Facet]]
    suggestion: str | None = None
    #: False when `total` and the facet counts are estimates (very large matching sets).
    exact: bool = True


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: Literal["title", "term"]
    slug: str | None = None


@dataclass(frozen=True)
class RelatedHit:
    post_id: int
    slug: str
    score: float
    terms: list[str]
    tags: list[str]
