"""The filters search shares with the saved-search feed: tags, an author and a date range."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Annotated

from fastapi import Depends, Query

from api.searching.schemas import SearchSort
from search import SearchQuery

QText = Annotated[str, Query(max_length=500, description=(
    'Words (all preferred, most accepted), "exact phrases", -excluded (or NOT word), OR, '
    "word* prefixes, and the field prefixes title:, tag:, author:. Malformed queries are read "
    "as plain words, and so are the AND / OR / NOT of long queries typed in capitals."))]


@dataclass(frozen=True, slots=True)
class SearchFilters:
    tags: tuple[str, ...] = ()
    author: str | None = None
    after: datetime | None = None
    before: datetime | None = None

    def query(self, q: str, *, page: int, per_page: int, sort: SearchSort, now: datetime) -> SearchQuery:
        return SearchQuery(q=q, page=page, per_page=per_page, tags=self.tags, author=self.author,
                           after=self.after, before=self.before, sort=sort, now=now)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, dtime.min, tzinfo=UTC)


async def search_filters(  # async: FastAPI runs a plain def dependency on a thread pool
    tag: Annotated[list[str], Query(max_length=10, description="Tag slugs (all must match).")] = [],  # noqa: B006
    author: Annotated[str | None, Query(max_length=40, description="A username.")] = None,
    after: Annotated[date | None, Query(description="Published on or after this day.")] = None,
    before: Annotated[date | None, Query(description="Published on or before this day.")] = None,
) -> SearchFilters:
    return SearchFilters(
        tags=tuple(t[:60] for t in tag), author=author,
        after=_day_start(after) if after else None,
        before=_day_start(before) + timedelta(days=1) - timedelta(seconds=1) if before else None,
    )


SearchFiltersDep = Annotated[SearchFilters, Depends(search_filters)]
