# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""Typo correction: index terms within a small edit distance of a word the index lacks.

Whoosh's corrector walks a Levenshtein automaton over the term list in Python: 15-60 ms per
unknown word at 100,000 posts. Here the candidates are the terms sharing the word's first
letters (listed once per segment and cached: segments never change), cut to those of a
length within reach, and rapidfuzz computes the distances in C. Transposed letters count as
one edit ("teh" -> "the"). Corrections rank by distance, then by how many posts use them.
"""

import sys
import threading
from collections import OrderedDict
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA
from whoosh.searching import Searcher

from search.terms import ArraysOf, listing

#: Term lists kept, by (segment, field, first letters).
CACHE_SIZE = 512


class TermLists:
    """The terms of each segment by field and first letters; shared by an index's threads."""

    def __init__(self, size: int = CACHE_SIZE, arrays: ArraysOf | None = None) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._lists: OrderedDict[tuple[Any, str, str], tuple[str, ...]] = OrderedDict()
        self.arrays = arrays  # a segment's sorted terms, when it keeps them (arrays.py)

    def terms(self, searcher: Searcher, fieldname: str, head: str) -> set[str]:
        found: set[str] = set()
        for sub, _ in searcher.leaf_searchers():
            reader = sub.reader()
            segment = reader.segment()
            key = (segment.segment_id() if segment is not None else id(reader), fieldname, head)
            with self._lock:
                listed = self._lists.get(key)
                if listed is not None:
                    self._lists.move_to_end(key)
            if listed is None:
                table = listing(self.arrays(reader) if self.arrays else None, fieldname, head,
                                sys.maxsize)
                listed = tuple(t for t, _ in table) if table is not None else tuple(
                    t.decode("utf-8") if isinstance(t, bytes) else t
                    for t in reader.expand_prefix(fieldname, head)
                )
                with self._lock:
                    self._lists[key] = listed
                    while len(self._lists) > self.size:
                        self._lists.popitem(last=False)
            found.update(listed)
        return found


def corrections(
    searcher: Searcher,
    lists: TermLists,
    fieldname: str,
    word: str,
    maxdist: int,
    prefix: int,
    limit: int,
) -> list[str]:
    """Up to `limit` terms of `fieldname` within `maxdist` edits of `word` that start with
    its first `prefix` letters, closest first, then most used; never `word` itself."""
    if len(word) <= prefix:
        return []
    candidates = [
        t
        for t in lists.terms(searcher, fieldname, word[:prefix])
        if abs(len(t) - len(word)) <= maxdist and t != word
    ]
    if not candidates:
        return []
    close = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=maxdist, limit=None)
    reader = searcher.reader()
    ranked = sorted(
        ((distance, -reader.doc_frequency(fieldname, term), term) for term, distance, _ in close),
    )
    return [term for _, _, term in ranked[:limit]]
