# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""Champion lists: the best-scoring posts of each very common term, for ranking big ORs fast.

Ranking an OR that contains a term found in tens of thousands of posts means scoring every one
of them (Whoosh's block-quality skipping barely skips with BM25's loose block bounds): about
2 us a posting, 100+ ms for one common word at 100,000 posts. Instead, the candidates are all
posts of the query's rarer terms plus the top CHAMPIONS posts of each common term (its
"champion list", computed once per term and segment and cached), and only those
candidates are scored, exactly, with the whole query. A post outside every list can only rank
if it scores well on several common terms at once without being a champion of any: rare
enough at page-one depths to accept, and the reason the total is reported as an estimate.
"""

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from whoosh.matching.mcore import ListMatcher, NullMatcher
from whoosh.query.qcore import Query
from whoosh.query.terms import Term
from whoosh.searching import Searcher

from search.scoring import TermAtATime

#: Posts kept per common term.
CHAMPIONS = 100
#: All postings of the rarer terms are candidates, up to this many postings in all.
RARE_POSTINGS = 3000
#: Candidates (by approximate score) re-scored exactly with the whole query, beyond the page.
RERANK_EXTRA = 40
CACHE_SIZE = 4096


class ChampionCache:
    """Champion lists by (segment, field, term); shared by the threads of one index."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._lists: OrderedDict[tuple[Any, ...], list[tuple[int, float]]] = OrderedDict()

    def champions(
        self, searcher: Searcher, fast: TermAtATime, fieldname: str, text: str
    ) -> list[tuple[int, float]]:
        """(global docnum, score) of the best CHAMPIONS posts of each segment for the bare term.

        Kept per segment: segments never change (apart from deletions, which the caller
        filters out), so a commit only costs the lists of its new, small segment.
        """
        out: list[tuple[int, float]] = []
        for sub, offset in searcher.leaf_searchers():
            segment = sub.reader().segment()
            if segment is None or (fieldname, text) not in sub.reader():
                continue
            key = (segment.segment_id(), fieldname, text)
            with self._lock:
                found = self._lists.get(key)
                if found is not None:
                    self._lists.move_to_end(key)
            if found is None:
                found = fast.best_in_segment(sub.reader(), Term(fieldname, text), CHAMPIONS)
                with self._lock:
                    self._lists[key] = found
                    while len(self._lists) > self.size:
                        self._lists.popitem(last=False)
            out.extend((d + offset, score) for d, score in found)
        return out

    def candidates(
        self, searcher: Searcher, fast: TermAtATime, terms: Iterable[Term]
    ) -> dict[int, float]:
        """docnum -> approximate score: exact for the rarer terms (all their postings, within
        RARE_POSTINGS), champion scores only for the common ones."""
        reader = searcher.reader()
        by_df = sorted(
            ((reader.doc_frequency(t.fieldname, t.text), t) for t in terms),
            key=lambda pair: pair[0],
        )
        budget = RARE_POSTINGS
        scores: dict[int, float] = {}
        get = scores.get
        for df, term in by_df:
            if not df:
                continue
            if df <= budget:
                budget -= df
                for sub, offset in searcher.leaf_searchers():
                    fast.add_segment(scores, sub.reader(), offset, term)
            else:
                for d, score in self.champions(searcher, fast, term.fieldname, term.text):
                    scores[d] = get(d, 0.0) + score * term.boost
        return scores


class Docnums(Query):
    """Matches a fixed set of (global) docnums with score 0: AND it with a query to score only
    those documents. Whoosh leapfrogs the other side's postings with skip_to."""

    def __init__(self, docnums: Iterable[int]) -> None:
        self.docnums = sorted(set(docnums))
        self.boost = 1.0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Docnums) and other.docnums == self.docnums

    def __hash__(self) -> int:
        return hash(tuple(self.docnums))

    def __repr__(self) -> str:
        return f"Docnums({len(self.docnums)})"

    def estimate_size(self, ixreader: Any) -> int:
        return len(self.docnums)

    def matcher(self, searcher: Searcher, context: Any = None) -> Any:
        parent = searcher.get_parent()
        offset = (parent._offset_for_subsearcher(searcher) or 0) if parent is not None else 0
        end = offset + searcher.doc_count_all()
        local = [d - offset for d in self.docnums if offset <= d < end]
        if not local:
            return NullMatcher()
        return ListMatcher(local, weights=[0.0] * len(local))
