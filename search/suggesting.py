# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""As-you-type completion from the edge n-grams of titles and the title vocabulary."""

from itertools import islice

from whoosh.query.compound import And
from whoosh.query.terms import Term
from whoosh.searching import Searcher

from search.documents import Suggestion
from search.fields import COMPLETE_MAXSIZE, fold_analyzer
from search.scoring import SegmentCache, TermAtATime, best_scored
from search.terms import Vocabulary

MAX_TERMS = 3
TERM_SCAN = 200


def suggestions(
    searcher: Searcher,
    prefix: str,
    limit: int,
    hidden: set[int],
    segments: SegmentCache | None = None,
    vocabulary: Vocabulary | None = None,
) -> list[Suggestion]:
    """Titles containing words starting with every typed word, then whole-word completions.

    Titles rank by BM25F on the n-gram field (shorter titles first for the same words),
    scored term at a time (scoring.py): a two-letter prefix matches thousands of titles.
    """
    words = [t.text for t in fold_analyzer()(prefix[:200])][:8]
    if not words or limit <= 0:
        return []
    terms = _terms(searcher, words[-1], hidden, min(MAX_TERMS, limit), vocabulary)
    q = And([Term("complete", w[:COMPLETE_MAXSIZE]) for w in words])
    segments = segments if segments is not None else SegmentCache()
    fast = TermAtATime(searcher, segments)
    found = fast.evaluate(q)
    scores = found[0] if found is not None else {}
    best = best_scored(scores, limit, [d for d in scores if d not in hidden])
    reader = searcher.reader()
    titles = []
    for docnum in best:
        stored = reader.stored_fields(docnum)
        titles.append(Suggestion(text=stored["title"], kind="title", slug=stored.get("slug")))
    room = max(limit - len(terms), 0)
    return titles[:room] + terms[: limit - len(titles[:room])]


def _terms(
    searcher: Searcher, last: str, hidden: set[int], limit: int, vocabulary: Vocabulary | None
) -> list[Suggestion]:
    reader = searcher.reader()
    if len(last) < 2:
        return []
    if vocabulary is not None:  # per segment, from the sorted terms of its arrays if it has them
        counts = vocabulary.prefixed(searcher, "title_words", last, TERM_SCAN)
    else:
        counts = {
            _text(t): reader.doc_frequency("title_words", t)
            for t in islice(reader.expand_prefix("title_words", last), TERM_SCAN)
        }
    found = sorted((t for t in counts if t != last), key=lambda t: (-counts[t], t))
    out: list[Suggestion] = []
    for term in found:
        # A word only used by scheduled (not yet visible) posts must not leak.
        if any(d not in hidden for d in reader.postings("title_words", term).all_ids()):
            out.append(Suggestion(text=term, kind="term", slug=None))
            if len(out) >= limit:
                break
    return out


def _text(term: str | bytes) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term
