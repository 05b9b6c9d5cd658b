# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""Related posts: key terms of title + body (Bo1 model) OR'ed, plus a boost for shared tags."""

from collections.abc import Sequence

from whoosh.analysis.analyzers import Analyzer
from whoosh.query.compound import Or
from whoosh.query.qcore import Query
from whoosh.query.terms import Term
from whoosh.searching import Searcher

from search.documents import RelatedHit

KEY_TERMS = 12
TITLE_TERMS = 4
TAG_BOOST = 1.5
MAX_TEXT_CHARS = 20_000
MAX_REASONS = 5


def key_terms(searcher: Searcher, title: str, content: str) -> list[tuple[str, float]]:
    """(stemmed term, weight): the terms that best tell this text apart from the collection."""
    body = searcher.key_terms_from_text(
        "content", f"{title}\n{content[:MAX_TEXT_CHARS]}", numterms=KEY_TERMS
    )
    heading = searcher.key_terms_from_text("title", title, numterms=TITLE_TERMS) if title else []
    weights: dict[str, float] = {}
    for term, weight in [*body, *heading]:
        weights[term] = max(weights.get(term, 0.0), weight)
    return sorted(weights.items(), key=lambda kv: -kv[1])


def related_hits(
    searcher: Searcher,
    analyzer: Analyzer,
    title: str,
    content: str,
    tags: Sequence[str],
    exclude: set[int] | None,
    allow: set[int] | None,
    limit: int,
) -> list[RelatedHit]:
    terms = key_terms(searcher, title, content)
    if not terms and not tags:
        return []
    top = max((w for _, w in terms), default=1.0) or 1.0
    clauses: list[Query] = []
    for term, weight in terms:
        w = weight / top
        clauses.append(Term("content", term, boost=w))
        clauses.append(Term("title", term, boost=w))
    clauses.extend(Term("tags", t, boost=TAG_BOOST) for t in tags)
    q = Or(clauses)
    results = searcher.search(q, limit=limit, filter=allow, mask=exclude, terms=True)
    names = _surface_names(analyzer, f"{title}\n{content[:MAX_TEXT_CHARS]}", {t for t, _ in terms})
    order = {t: i for i, (t, _) in enumerate(terms)}
    hits = []
    for hit in results:
        matched = {
            text.decode() if isinstance(text, bytes) else text
            for f, text in hit.matched_terms()
            if f != "tags"
        }
        shared_terms = sorted((t for t in matched if t in order), key=order.__getitem__)[
            :MAX_REASONS
        ]
        hit_tags = [t for t in (hit.get("tags") or "").split(",") if t]
        hits.append(
            RelatedHit(
                post_id=int(hit["post_id"]),
                slug=hit.get("slug", ""),
                score=float(hit.score or 0.0),
                terms=[names.get(t, t) for t in shared_terms],
                tags=[t for t in tags if t in hit_tags],
            )
        )
    return hits


def _surface_names(analyzer: Analyzer, text: str, stems: set[str]) -> dict[str, str]:
    """stem -> the first word in `text` with that stem, so reasons read as words."""
    names: dict[str, str] = {}
    for token in analyzer(text, chars=True, mode="query"):
        if token.text in stems and token.text not in names:
            names[token.text] = text[token.startchar : token.endchar].lower()
            if len(names) == len(stems):
                break
    return names
