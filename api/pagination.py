"""Page parameters, page arithmetic and RFC 8288 `Link` headers."""

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request, Response

MAX_PAGE = 100_000


@dataclass(frozen=True)
class PageParams:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


async def page_params(  # async: FastAPI runs a plain def dependency on a thread pool
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number.")] = 1,
    per_page: Annotated[int, Query(ge=1, le=100, description="Items per page (max 100).")] = 10,
) -> PageParams:
    return PageParams(page, per_page)


PageDep = Annotated[PageParams, Depends(page_params)]


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def set_page_headers(request: Request, response: Response, params: PageParams, total: int) -> None:
    """`X-Total-Count` and a `Link` header with first, prev, next and last."""
    last = page_count(total, params.per_page)

    def url(page: int) -> str:
        return str(request.url.include_query_params(page=page, per_page=params.per_page))

    links = [f'<{url(1)}>; rel="first"']
    if params.page > 1:
        links.append(f'<{url(min(params.page - 1, last))}>; rel="prev"')
    if params.page < last:
        links.append(f'<{url(params.page + 1)}>; rel="next"')
    links.append(f'<{url(last)}>; rel="last"')
    response.headers["X-Total-Count"] = str(total)
    response.headers["Link"] = ", ".join(links)
