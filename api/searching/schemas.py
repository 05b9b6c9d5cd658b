from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.posts.schemas import PostSummary
from api.text.characters import reject_control_characters


class Highlights(BaseModel):
    title: str = Field(description="HTML-safe title with matches in `<mark>`.")
    content: str = Field(description="HTML-safe snippet of the content with matches in `<mark>`.")


class SearchItem(BaseModel):
    post: PostSummary
    score: float
    highlights: Highlights


class FacetValue(BaseModel):
    value: str
    count: int


class Facets(BaseModel):
    tags: list[FacetValue]
    authors: list[FacetValue]
    years: list[FacetValue]


class SearchResults(BaseModel):
    query: str
    total: int
    total_is_exact: bool = Field(
        default=True,
        description="False when `total` is an estimate: queries of alternatives (words with "
        "OR, prefixes) matching more than about 5,000 posts, and phrases whose words are in "
        "many posts (only the best-scored are checked for the phrase; the page itself is "
        "exact). Facet counts are exact up to 1,500 matching posts and scaled up from an even "
        "sample of 1,500 above, or from the posts a phrase checked.",
    )
    page: int
    per_page: int
    pages: int
    items: list[SearchItem]
    facets: Facets
    suggestion: str | None = Field(description='A corrected query ("did you mean"), or null.')


class Completion(BaseModel):
    text: str
    kind: Literal["title", "term"]
    slug: str | None


class Reasons(BaseModel):
    terms: list[str] = Field(description="Key terms the two posts share.")
    tags: list[str] = Field(description="Tags the two posts share (slugs).")


class RelatedPost(BaseModel):
    post: PostSummary
    score: float
    reasons: Reasons


class DraftText(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"title": "Foam rolling after long runs", "content": "Is it worth it?", "tags": ["running"]}
    ]})

    title: str = Field(default="", max_length=200)
    content: str = Field(default="", max_length=200_000)
    tags: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return reject_control_characters(value)


SearchSort = Literal["relevance", "newest", "oldest"]
