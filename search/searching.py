# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""search(): matching set, visibility, facets, ranking, highlights and "did you mean"."""

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from heapq import nlargest
from itertools import chain, islice
from operator import itemgetter
from typing import Any, TypeVar

from whoosh.collectors import FilterCollector, TopCollector
from whoosh.query.compound import And, Or
from whoosh.query.qcore import Query
from whoosh.query.terms import Term
from whoosh.searching import Searcher

from search import feedback
from search.champions import RERANK_EXTRA, ChampionCache, Docnums
from search.docinfo import DocInfo
from search.documents import Facet, SearchHit, SearchPage, SearchQuery
from search.fields import TEXT_FIELDS
from search.highlight import find_matches, highlight_content, highlight_title
from search.querying import QueryBuilder, most_used
from search.scoring import SegmentCache, TermAtATime, best_scored
from search.writing import to_timestamp

MAX_PER_PAGE = 100
MAX_FACETS = 20
#: Facets are counted exactly up to this many matches, and from a sample of this size above.
#: (1,500: 0.9 ms at most, where 3,000 cost 1.8 ms and a sample's share of a facet used by a
#: tenth of the matches is off by 0.8 points at one standard error.)
FACET_EXACT_MAX = 1500
#: Queries whose terms match at most this many documents in all (Whoosh's estimate_size) get
#: an exact total and exact facets; larger ones an estimated total (see rank()).
EXACT_MAX = 5000
#: A query of several plain words first runs with every word required; documents that match
#: only some of the words are searched for only when fewer than this many match all of them.
ALL_WORDS_MIN = 10
_WORD = re.compile(r"\w+")
T = TypeVar("T")


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

    def size(self) -> int:
        """How many documents (deleted ones included) are published within the window."""
        return self.info.count_inside(self.low, self.high)

    def admits(self, docnum: int) -> bool:
        if self.filter is not None:
            return docnum in self.filter
        return docnum not in (self.mask or ())

    def live(self, docs: Iterable[int]) -> set[int]:
        """The documents of `docs` in the window and not deleted, by set operations in C (a
        comprehension over 50,000 matches took ~3 ms, the set difference ~1 ms)."""
        deleted = self.info.deleted
        if self.filter is not None:
            found = self.filter.intersection(docs)
            found -= deleted
            return found
        hidden = (self.mask or set()) | deleted
        keys: Any = docs.keys() if isinstance(docs, dict) else set(docs)
        return keys - hidden  # type: ignore[no-any-return]

    def visible(self) -> set[int]:
        """Every live document in the window."""
        if self.filter is not None:
            return self.filter - self.info.deleted
        inside = self.info.inside(self.low, self.high)
        inside -= self.info.deleted
        return inside


def window_for(info: DocInfo, request: SearchQuery) -> Window:
    high = now_ts(request.now)
    if request.before is not None:
        high = min(high, to_timestamp(request.before))
    low = to_timestamp(request.after) if request.after is not None else None
    return Window(info, low, high)


def run_search(
    searcher: Searcher,
    info: DocInfo,
    builder: QueryBuilder,
    request: SearchQuery,
    champions: ChampionCache | None = None,
    segments: SegmentCache | None = None,
) -> SearchPage:
    page = max(1, request.page)
    per_page = min(max(1, request.per_page), MAX_PER_PAGE)
    parsed = builder.build(request.q, searcher)
    window = window_for(info, request)
    segments = segments if segments is not None else SegmentCache()

    filters: list[Query] = [Term("tags", t) for t in request.tags]
    if request.author:
        filters.append(Term("author", request.author))
    if parsed.query is None:
        matcher: Query | None = And(filters) if filters else None
    else:
        matcher = And([parsed.query, *filters]) if filters else parsed.query

    sort = request.sort
    if sort == "relevance" and parsed.query is None:
        sort = "newest"
    limit = page * per_page
    total: int | None = None
    exact = True
    if matcher is None:
        matched = window.visible()
        ordered = info.by_time(matched, limit, newest=(sort == "newest"))
        ranked = [(d, 0.0) for d in ordered[limit - per_page :]]
    elif sort == "relevance":
        groups = _word_groups(parsed.query, parsed.stands_for)
        # Long plain queries: pseudo-relevance feedback from the first search's best visible
        # documents (feedback.py); totals and facets stay those of the original query.
        expand = feedback.applies(builder, request.q)
        first = max(limit, feedback.FEEDBACK_DOCS) if expand else limit
        fast = TermAtATime(searcher, segments)
        ranking: Ranking | None = None
        if groups is not None:
            ranking = rank(searcher, And([And(groups), *filters]), window, first, None, fast)
        if ranking is None or ranking.total < ALL_WORDS_MIN:
            ranking = rank(searcher, matcher, window, first, champions, fast)
        top = ranking.top
        if expand and parsed.query is not None:
            top = feedback.rerank(
                searcher, builder, parsed.query, top,
                lambda q: rank(
                    searcher, And([q, *filters]) if filters else q, window, limit, None, fast
                ).top,
            ) or top  # fmt: skip
        ranked = top[limit - per_page : limit]
        matched, total, exact = ranking.visited, max(ranking.total, len(top)), ranking.exact
    else:
        matched = _matching(searcher, matcher, window, segments)
        ordered = info.by_time(matched, limit, newest=(sort == "newest"))
        ranked = [(d, 0.0) for d in ordered[limit - per_page :]]

    hits = _hits(searcher, builder, parsed.query, ranked, segments)
    suggestion = _suggestion(searcher, builder, request.q, parsed.corrections)
    return SearchPage(
        query=request.q,
        total=len(matched) if total is None else total,
        page=page,
        per_page=per_page,
        hits=hits,
        facets=count_facets(info, matched, len(matched) if total is None else total),
        suggestion=suggestion,
        exact=exact,
    )


class _RankingCollector(TopCollector):
    """The top `limit` by score and every docnum the walk visits, in one pass.

    Exact (`prune=False`): every match is visited, so the visited set is the matching set.
    Pruned: Whoosh replaces unions whose parts can no longer reach the top `limit` by
    AND-MAYBE/AND matchers as the minimum score rises (MaxScore), so documents that cannot
    rank are never visited; the visited set is then a subset that holds the best matches.
    """

    def __init__(self, limit: int, prune: bool) -> None:
        super().__init__(limit, usequality=prune, replace=10 if prune else 0)
        self.docs: list[int] = []

    def _collect(self, global_docnum: int, score: float) -> Any:
        self.docs.append(global_docnum)
        return super()._collect(global_docnum, score)


@dataclass
class Ranking:
    top: list[tuple[int, float]]  # (docnum, score), best first
    visited: set[int]  # the matching set when `exact`, else the part the pruned walk saw
    total: int
    exact: bool


def rank(
    searcher: Searcher,
    q: Query,
    window: Window,
    limit: int,
    champions: ChampionCache | None = None,
    fast: TermAtATime | None = None,
) -> Ranking:
    """The best `limit` matches of `q` in `window`, and how many match (estimated when many).

    Up to EXACT_MAX estimated matches, every match is scored: term at a time for the query
    shapes `fast` handles (terms under AND / OR / AND-NOT, see scoring.py), else by Whoosh
    walking the matching set; total and facets are exact. Above, the total is
    estimated from term statistics, and the ranking either scores only champion-list
    candidates (`champions`, for ORs of terms: see champions.py) or walks the query with
    Whoosh's pruning.
    """
    reader = searcher.reader()
    exact = q.estimate_size(reader) <= EXACT_MAX
    # Large flat ORs go to the champion lists below; everything else fast can score (ANDs
    # start from their rarest part) is scored exactly, whatever its size.
    if fast is not None and (exact or champions is None or _flat_terms(q) is None):
        ranked = _fast_ranking(fast, q, window, limit)
        if ranked is not None:
            return ranked
    terms = None if exact or champions is None or fast is None else _flat_terms(q)
    walked = q
    candidates: set[int] | None = None
    if terms is not None and champions is not None and fast is not None:
        # Approximate scores for rare terms' posts and common terms' champions, then the
        # best of those re-scored exactly with the whole query (see champions.py).
        approx = champions.candidates(searcher, fast, terms)
        candidates = window.live(approx)
        best = nlargest(limit + RERANK_EXTRA, candidates, key=approx.__getitem__)
        rescored = fast.evaluate(q, set(best))
        if rescored is not None:
            ranked = _ranking_of(rescored[0], window, limit)
            estimate = round(_match_fraction(q, reader, max(1, reader.doc_count())) * window.size())
            return Ranking(ranked.top, candidates, max(len(candidates), estimate), False)
        walked = And([Docnums(best), q])
    ranking = _RankingCollector(limit, prune=not exact and terms is None)
    searcher.search_with_collector(
        walked, FilterCollector(ranking, allow=window.filter, restrict=window.mask)
    )
    top = [(d, float(score or 0.0)) for score, d in ranking.results().top_n]
    visited = set(ranking.docs) if candidates is None else candidates
    if exact:
        return Ranking(top, visited, len(visited), True)
    estimate = round(_match_fraction(q, reader, max(1, reader.doc_count())) * window.size())
    return Ranking(top, visited, max(len(visited), estimate), False)


def _fast_ranking(fast: TermAtATime, q: Query, window: Window, limit: int) -> Ranking | None:
    """`rank` by the term-at-a-time evaluator (None: a query shape it does not handle).

    Phrases read positions only for their best-scored documents, enough for `limit`
    matches (scoring.PHRASE_CHECK): the page is exact, the total and facets then estimated.
    Should too few of those matches be visible (scheduled, outside the dates, deleted), the
    query is evaluated again reading every document."""
    fast.phrase_top, fast.unseen = limit, 0.0
    try:
        found = fast.evaluate(q)
        if found is None:
            return None
        ranking = _ranking_of(found[0], window, limit)
        if not fast.unseen:
            return ranking
        if len(ranking.top) < limit:
            fast.phrase_top, fast.unseen = None, 0.0
            found = fast.evaluate(q)
            return None if found is None else _ranking_of(found[0], window, limit)
        return Ranking(ranking.top, ranking.visited, ranking.total + round(fast.unseen), False)
    finally:
        fast.phrase_top, fast.unseen = None, 0.0


def _matching(searcher: Searcher, q: Query, window: Window, segments: SegmentCache) -> set[int]:
    """Every live document of `window` that matches `q`: from the term-at-a-time evaluator
    where it handles the query (Whoosh's matchers walk ~5 us a match: 30 ms for 5,700)."""
    found = TermAtATime(searcher, segments).evaluate(q)
    if found is None:
        return {d for d in searcher.docs_for_query(q) if window.admits(d)}
    return window.live(found[0])


def _ranking_of(scores: dict[int, float], window: Window, limit: int) -> Ranking:
    """The ranking of every match's score, restricted to the window's live documents."""
    visible = window.live(scores)
    # Ties go to the lower docnum (the older post), as Whoosh's collector does.
    best = best_scored(scores, limit, visible)
    return Ranking([(d, scores[d]) for d in best], visible, len(visible), True)


def _flat_terms(q: Query) -> list[Term] | None:
    """The terms of a query made only of ORs of text terms (plain words, prefixes), or None."""
    if isinstance(q, Term):
        return [q] if q.fieldname in TEXT_FIELDS and isinstance(q.text, str) else None
    if not isinstance(q, Or):
        return None
    out: list[Term] = []
    for child in q.children():
        terms = _flat_terms(child)
        if terms is None:
            return None
        out.extend(terms)
    return out


def _match_fraction(q: Query, reader: Any, n: int) -> float:
    """Share of documents matching `q`, assuming its terms occur independently."""
    if isinstance(q, Term):
        return min(1.0, float(reader.doc_frequency(q.fieldname, q.text)) / n)
    if isinstance(q, Or):
        miss = 1.0
        for child in q.children():
            miss *= 1.0 - _match_fraction(child, reader, n)
        return 1.0 - miss
    if isinstance(q, And):
        hit = 1.0
        for child in q.children():
            hit *= _match_fraction(child, reader, n)
        return hit
    return min(1.0, float(q.estimate_size(reader)) / n)


def _word_groups(q: Query | None, stands_for: dict[str, str]) -> list[Query] | None:
    """For plain words (an OR of term groups, one per word), those groups; else None.

    The parser's OR of `title:w OR content:w` for every word, flattened by normalize();
    each word's group also holds its typo corrections or prefix expansions (`stands_for`
    names the word each of those was added for). Anything else (phrases, exclusions, fields,
    nested AND) is not plain words.
    """
    if not isinstance(q, Or):
        return None
    groups: dict[str, list[Query]] = {}
    for child in q.children():
        if isinstance(child, Term):
            leaves: list[Term] = [child]
        elif isinstance(child, Or) and all(isinstance(c, Term) for c in child.children()):
            leaves = [c for c in child.children() if isinstance(c, Term)]
        else:
            return None
        if any(leaf.fieldname not in TEXT_FIELDS for leaf in leaves):
            return None
        for leaf in leaves:
            text = str(leaf.text)
            groups.setdefault(stands_for.get(text, text), []).append(leaf)
    if len(groups) < 2:
        return None
    return [Or(leaves) for leaves in groups.values()]


def count_facets(info: DocInfo, docs: set[int], total: int) -> dict[str, list[Facet]]:
    """Counts of tags, authors and years in `docs`, scaled to `total` documents.

    Exact when `docs` is the whole matching set of at most FACET_EXACT_MAX documents; else
    estimated from every k-th document of the set, at most FACET_EXACT_MAX of them. A set of
    docnums iterates in about docnum order, that is publishing order, so this is a sample
    spread evenly over time; the same query gives the same counts on every request. (A random
    sample of the sorted set cost more than the counting: 3 ms at 50,000 matches.)
    """
    sample: Any = docs
    if len(docs) > FACET_EXACT_MAX:
        step = -(-len(docs) // FACET_EXACT_MAX)
        sample = list(islice(docs, 0, None, step))
    scale = total / len(sample) if sample else 1.0
    # Counted in C: a Counter over one flat iterable each, not an update per document.
    tags: Counter[str] = Counter(chain.from_iterable(_picked(info.tag_sets, _picked(info.tag_ids, sample))))
    authors: Counter[str] = Counter(_picked(info.author_names, _picked(info.author_ids, sample)))
    years: Counter[int] = Counter(_picked(info.years, sample))
    by_year: Counter[str] = Counter({str(y): n for y, n in years.items()})

    def top(c: Counter[str]) -> list[Facet]:
        return [Facet(v, max(1, round(c[v] * scale))) for v in most_used(c, MAX_FACETS)]

    return {"tags": top(tags), "authors": top(authors), "years": top(by_year)}


def _picked(values: Sequence[T], ids: Collection[int]) -> tuple[T, ...]:
    """`values[i]` for each of `ids`, in one C call (itemgetter): a `map` of `__getitem__`
    calls a method wrapper per item, and cost a facet count of 1,500 documents a third
    more."""
    if len(ids) > 1:
        return itemgetter(*ids)(values)  # type: ignore[no-any-return]
    return tuple(values[i] for i in ids)


def _hits(
    searcher: Searcher,
    builder: QueryBuilder,
    q: Query | None,
    ranked: list[tuple[int, float]],
    segments: SegmentCache,
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
        stored = segments.stored(searcher.reader(), docnum)
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
        found = find_matches(text, [stem], builder.analyzer)
        if found:
            return str(text[found[0].start : found[0].end]).lower()
    return None
