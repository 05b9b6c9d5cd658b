# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""Pseudo-relevance feedback (RM3) for long plain-word queries.

The first search's best visible documents are taken as relevant: their terms, weighted by
how often each document uses them and by the document's score, form a relevance model
P(t|R). Its best terms are OR-ed with the original query as Term clauses (title and body,
as the words of a query), interpolated with weight FEEDBACK_WEIGHT against the original
query, and the search runs again. See docs/benchmarks.md, "Search relevance".

Only natural-language queries (at least FEEDBACK_MIN_WORDS words once query stop words are
gone) with no syntax at all: a blog search box's 1-3 words keep one search and their ranking.
The caller passes the feedback documents; they must be visible ones (run_search's window).
Expansion terms change the ranking only: highlights, "did you mean", totals and facets come
from the original query.
"""

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

from whoosh.analysis.analyzers import Analyzer
from whoosh.query.compound import Or
from whoosh.query.qcore import Query
from whoosh.query.terms import Term
from whoosh.searching import Searcher

from search.fields import TEXT_FIELDS
from search.querying import QueryBuilder, drop_query_stop_words, unshout

#: Query words (distinct stems, query stop words removed) a query needs to be expanded.
FEEDBACK_MIN_WORDS = 5
#: Feedback documents: the best this many visible matches of the first search.
FEEDBACK_DOCS = 10
#: Expansion terms, each found in at least FEEDBACK_MIN_DOCS feedback documents.
FEEDBACK_TERMS = 20
FEEDBACK_MIN_DOCS = 2
#: RM3 interpolation: the expansion's share of the final query's weight.
FEEDBACK_WEIGHT = 0.3
#: Expansion terms are chosen and weighted by P(t|R) * idf^FEEDBACK_IDF_EXPONENT: plain RM3
#: (0) favours words common everywhere, which say little about the topic.
FEEDBACK_IDF_EXPONENT = 0.5
#: Characters of each feedback document analysed (as related posts do).
MAX_TEXT_CHARS = 20_000

#: Query syntax that changes what plain words mean: quotes, field prefixes, exclusions and
#: requirements (as the parser reads them), OR/NOT, wildcards (`?` inside a word; a `?`
#: ending a word is a question). AND and parentheses only group words: allowed.
_SYNTAX = re.compile(
    r'"|\b(?:title|content|tags?|author|body):|(?<![^\s(])[-+](?=[\w"(])|\*|\w\?\w',
    re.IGNORECASE,
)
#: The parser reads OR/NOT as operators only in capitals; "or"/"not" are words.
_OPERATOR = re.compile(r"\b(?:OR|NOT)\b")


def is_plain(text: str) -> bool:
    """True when `text` is only words: no phrase, exclusion, field, OR/NOT, wildcard."""
    return _SYNTAX.search(text) is None and _OPERATOR.search(text) is None


def applies(builder: QueryBuilder, text: str) -> bool:
    """Whether a query gets feedback: plain words, at least FEEDBACK_MIN_WORDS distinct
    content words (stems left after query stop words and the analyser's stop words)."""
    text = unshout(text)
    if not is_plain(text):
        return False
    words = set(builder.stems(drop_query_stop_words(text, builder.stems)))
    return len(words) >= FEEDBACK_MIN_WORDS


def rerank(
    searcher: Searcher,
    builder: QueryBuilder,
    original: Query,
    top: Sequence[tuple[int, float]],
    search: Callable[[Query], list[tuple[int, float]]],
) -> list[tuple[int, float]] | None:
    """The ranking of `original` expanded with the relevance model of `top` (the first
    search's best visible documents), run through `search`; None when nothing to add."""
    words = len({text for _, text in original.iter_all_terms()})
    expanded = expand(searcher, original, words, relevance_model(searcher, builder.analyzer, top))
    return None if expanded is None else search(expanded)


def relevance_model(
    searcher: Searcher, analyzer: Analyzer, top: Sequence[tuple[int, float]]
) -> list[tuple[str, float]]:
    """(stemmed term, weight) of the relevance model of `top` (docnum, score), best first.

    P(t|R) = sum over documents of P(d|q) * tf(t, d) / |d|, with P(d|q) the document's share
    of the scores; kept: terms found in at least FEEDBACK_MIN_DOCS of them, the best
    FEEDBACK_TERMS, weights normalised to sum to 1. Terms are those the index holds: the
    stored title and body run through the index's analyser.
    """
    docs = top[:FEEDBACK_DOCS]
    total = sum(max(score, 0.0) for _, score in docs)
    if total <= 0:
        return []
    reader = searcher.reader()
    model: dict[str, float] = {}
    seen_in: Counter[str] = Counter()
    for docnum, score in docs:
        stored = reader.stored_fields(docnum)
        text = f"{stored.get('title', '')}\n{stored.get('content', '')[:MAX_TEXT_CHARS]}"
        tf = Counter(token.text for token in analyzer(text))
        length = sum(tf.values())
        if not length:
            continue
        share = max(score, 0.0) / total
        for term, n in tf.items():
            model[term] = model.get(term, 0.0) + share * n / length
        seen_in.update(tf.keys())
    n = max(1, reader.doc_count_all())

    def idf(term: str) -> float:
        df = max(1, *(reader.doc_frequency(f, term) for f in TEXT_FIELDS))
        return math.log((n - df + 0.5) / (df + 0.5) + 1)

    kept = [
        (t, w * idf(t) ** FEEDBACK_IDF_EXPONENT)
        for t, w in model.items()
        if seen_in[t] >= FEEDBACK_MIN_DOCS
    ]
    best = sorted(kept, key=lambda kv: (-kv[1], kv[0]))[:FEEDBACK_TERMS]
    norm = sum(w for _, w in best)
    return [(t, w / norm) for t, w in best] if norm > 0 else []


def expand(
    searcher: Searcher,
    original: Query,
    words: int,
    model: Sequence[tuple[str, float]],
) -> Query | None:
    """`original` OR-ed with the relevance model's terms, or None when there are none.

    RM3 gives each of the `words` original words (1 - w) / words of the weight and each
    expansion term w * P(t|R); the original query keeps its own scale here, so an expansion
    term's boost is w / (1 - w) * words * P(t|R), times its Robertson/Sparck Jones idf
    correction (as querying._IdfReweighter does for typed words).
    """
    if not model:
        return None
    reader = searcher.reader()
    n = max(1, reader.doc_count_all())
    scale = FEEDBACK_WEIGHT / (1 - FEEDBACK_WEIGHT) * words
    clauses: list[Query] = []
    for term, weight in model:
        leaves: list[Query] = []
        for fieldname in TEXT_FIELDS:
            df = reader.doc_frequency(fieldname, term)
            old = searcher.idf(fieldname, term)
            if not df or old <= 0:
                continue
            idf = math.log((n - df + 0.5) / (df + 0.5) + 1)
            leaves.append(Term(fieldname, term, boost=scale * weight * idf / old))
        if leaves:
            clauses.append(leaves[0] if len(leaves) == 1 else Or(leaves))
    if not clauses:
        return None
    return Or([original, *clauses])
