# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""search(): matching set, visibility, facets, ranking, highlights and "did you mean"."""

import re
from collections import Counter
from datetime import UTC, datetime

from whoosh.query.compound import And
from whoosh.query.qcore import Query
from whoosh.query.terms import Term
from whoosh.searching import Searcher

from search.docinfo import DocInfo
from search.documents import Facet, SearchHit, SearchPage, SearchQuery
from search.fields import TEXT_FIELDS
from search.highlight import highlight_content, highlight_title
from search.querying import QueryBuilder
from search.writing import to_timestamp

MAX_PER_PAGE = 100
MAX_FACETS = 20
_WORD = re.compile(r"\w+")


def now_ts(now: datetime | None) -> int:
    return to_timestamp(now or datetime.now(UTC))


class Window:
    """Which docnums a read may see: published in [low, high], as a filter or a mask set."""

    def __init__(self, info: DocInfo, low: int | None, high: int) -> None:
        self.info, self.low, self.high = info, low, high
        inside = info.count_inside(low, high)
        # Whoosh takes either an allow-list (filter) or a deny-list (mask): send the smaller.
        if inside * 2 < len(info.published):
            self.filter: set[int] | None = info.inside(low, high)
            self.mask: set[int] | None = None
        else:
            self.filter, self.mask = None, info.outside(low, high)

    def admits(self, docnum: int) -> bool:
        if self.filter is not None:
            return docnum in self.filter
        return docnum not in (self.mask or ())

    def visible(self) -> set[int]:
        """Every live document in the window."""
        inside = self.filter if self.filter is not None else self.info.inside(self.low, self.high)
        return inside - self.info.deleted


def window_for(info: DocInfo, request: SearchQuery) -> Window:
    high = now_ts(request.now)
    if request.before is not None:
        high = min(high, to_timestamp(request.before))
    low = to_timestamp(request.after) if request.after is not None else None
    return Window(info, low, high)


def run_search(
    searcher: Searcher, info: DocInfo, builder: QueryBuilder, request: SearchQuery
) -> SearchPage:
    page = max(1, request.page)
    per_page = min(max(1, request.per_page), MAX_PER_PAGE)
    parsed = builder.build(request.q, searcher)
    window = window_for(info, request)

    filters: list[Query] = [Term("tags", t) for t in request.tags]
    if request.author:
        filters.append(Term("author", request.author))
    if parsed.query is None:
        matcher: Query | None = And(filters) if filters else None
    else:
        matcher = And([parsed.query, *filters]) if filters else parsed.query

    if matcher is None:
        matched = window.visible()
    else:
        matched = {d for d in searcher.docs_for_query(matcher) if window.admits(d)}

    sort = request.sort
    if sort == "relevance" and parsed.query is None:
        sort = "newest"
    limit = page * per_page
    if sort == "relevance" and matcher is not None:
        results = searcher.search(matcher, limit=limit, filter=window.filter, mask=window.mask)
        ranked = [(hit.docnum, float(hit.score or 0.0)) for hit in results][limit - per_page :]
    else:
        ordered = info.by_time(matched, limit, newest=(sort == "newest"))
        ranked = [(d, 0.0) for d in ordered[limit - per_page :]]

    hits = _hits(searcher, builder, parsed.query, ranked)
    suggestion = _suggestion(searcher, builder, request.q, parsed.corrections)
    return SearchPage(
        query=request.q,
        total=len(matched),
        page=page,
        per_page=per_page,
        hits=hits,
        facets=count_facets(info, matched),
        suggestion=suggestion,
    )


def count_facets(info: DocInfo, docs: set[int]) -> dict[str, list[Facet]]:
    tags: Counter[str] = Counter()
    authors: Counter[str] = Counter()
    years: Counter[str] = Counter()
    for d in docs:
        tags.update(info.tags[d])
        authors[info.authors[d]] += 1
        years[str(datetime.fromtimestamp(info.published[d], UTC).year)] += 1

    def top(c: Counter[str]) -> list[Facet]:
        return [
            Facet(v, n) for v, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_FACETS]
        ]

    return {"tags": top(tags), "authors": top(authors), "years": top(years)}


def _hits(
    searcher: Searcher, builder: QueryBuilder, q: Query | None, ranked: list[tuple[int, float]]
) -> list[SearchHit]:
    terms: dict[str, set[str]] = {f: set() for f in TEXT_FIELDS}
    if q is not None:
        for fieldname, text in q.iter_all_terms():
            if fieldname in terms and isinstance(text, str):
                terms[fieldname].add(text)
    # A word found in the body is worth marking in the title too, and vice versa.
    both = terms["title"] | terms["content"]
    hits = []
    for docnum, score in ranked:
        stored = searcher.reader().stored_fields(docnum)
        hits.append(
            SearchHit(
                post_id=int(stored["post_id"]),
                slug=stored.get("slug", ""),
                score=score,
                highlights={
                    "title": highlight_title(stored.get("title", ""), both, builder.analyzer),
                    "content": highlight_content(stored.get("content", ""), both, builder.analyzer),
                },
            )
        )
    return hits


def _suggestion(
    searcher: Searcher, builder: QueryBuilder, text: str, corrections: dict[str, str]
) -> str | None:
    """The user's text with each unknown word replaced by its correction, or None."""
    if not corrections:
        return None
    changed = False

    def fix(m: re.Match[str]) -> str:
        nonlocal changed
        word = m.group(0)
        stems = builder.stems(word)
        if len(stems) == 1 and stems[0] in corrections:
            surface = surface_form(searcher, builder, corrections[stems[0]])
            if surface and surface != word.lower():
                changed = True
                return surface
        return word

    fixed = _WORD.sub(fix, text)
    return fixed if changed else None


def surface_form(searcher: Searcher, builder: QueryBuilder, stem: str) -> str | None:
    """A readable word whose stem is `stem`, taken from the first document that uses it."""
    reader = searcher.reader()
    for fieldname in TEXT_FIELDS:
        if not reader.doc_frequency(fieldname, stem):
            continue
        docnum = reader.postings(fieldname, stem).id()
        text = searcher.reader().stored_fields(docnum).get(fieldname, "")[:50_000]
        for token in builder.analyzer(text, chars=True, mode="query"):
            if token.text == stem:
                return str(text[token.startchar : token.endchar]).lower()
    return None
