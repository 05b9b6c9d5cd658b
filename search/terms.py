# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""Term dictionary lookups kept in memory, per segment.

Every search asks the term dictionary the same questions many times: is the word there, how
many posts use it (for the idf, for estimates, for typo checks), where its postings start.
Whoosh answers each from the segment's on-disk hash table, about 20 us a lookup in Python,
and a search at 10,000 posts made ~130 of them per segment: a third of its time. Segments
never change once written, so the answers are kept, per segment, for as long as the segment
lives: `Vocabulary.install` puts a memoising front on each segment reader of a new searcher.
Prefix listings (`word*` queries) are kept the same way.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable
from itertools import islice
from typing import Any

from whoosh.codec.whoosh3 import W3TermsReader
from whoosh.reading import MultiReader, SegmentReader, TermNotFound
from whoosh.searching import Searcher

from search.arrays import SegmentArrays

#: Term lookups remembered per segment; past this the segment's memo starts over (a crude
#: bound: each entry is ~200 bytes, so at most ~40 MB per segment).
MAX_TERMS = 200_000
#: Segments whose memos are kept (an index has at most search.index.MAX_SEGMENTS live ones).
MAX_SEGMENTS = 64
#: Prefix listings remembered, by (segment, field, prefix).
MAX_PREFIXES = 4096
#: Segments of at most this many documents (each commit of a post adds one) have their whole
#: term dictionary read into the memo when first opened (a few hundred terms a post, ~5 us
#: each): a word they lack, the usual answer, is then known absent without asking Whoosh.
PRELOAD_DOCS = 64


class _Memo:
    """One segment's remembered lookups."""

    def __init__(self) -> None:
        self.infos: dict[tuple[str, bytes], Any] = {}
        self.complete = False  # infos holds every term of the segment
        self.prefixes: OrderedDict[tuple[str, str, int], tuple[tuple[str, int], ...]] = (
            OrderedDict()
        )


class MemoTerms:
    """A segment's terms reader (W3TermsReader) that remembers every term lookup."""

    def __init__(self, terms: W3TermsReader, memo: _Memo) -> None:
        self._inner = terms
        self._infos = memo.infos
        self._complete = memo.complete

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _info(self, fieldname: str, tbytes: bytes) -> Any:
        key = (fieldname, tbytes)
        try:
            return self._infos[key]
        except KeyError:
            if self._complete:
                return None
        try:
            info = self._inner.term_info(fieldname, tbytes)
        except (KeyError, TermNotFound):
            info = None
        if len(self._infos) >= MAX_TERMS:
            self._infos.clear()
        self._infos[key] = info
        return info

    def __contains__(self, term: tuple[str, bytes]) -> bool:
        return self._info(*term) is not None

    def term_info(self, fieldname: str, tbytes: bytes) -> Any:
        info = self._info(fieldname, tbytes)
        if info is None:
            raise TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return info

    def doc_frequency(self, fieldname: str, tbytes: bytes) -> int:
        info = self._info(fieldname, tbytes)
        if info is None:
            raise KeyError((fieldname, tbytes))
        return int(info.doc_frequency())

    def frequency(self, fieldname: str, tbytes: bytes) -> float:
        info = self._info(fieldname, tbytes)
        if info is None:
            raise KeyError((fieldname, tbytes))
        return float(info.weight())

    def matcher(self, fieldname: str, tbytes: bytes, format_: Any, scorer: Any = None) -> Any:
        inner = self._inner
        return inner._codec.postings_reader(
            inner._postfile,
            self.term_info(fieldname, tbytes),
            format_,
            term=(fieldname, tbytes),
            scorer=scorer,
        )


class _Memoised:
    """`count(fieldname, text)` remembered (the frequencies of a MultiReader)."""

    def __init__(self, count: Callable[[str, Any], Any]) -> None:
        self.count = count
        self.known: dict[tuple[str, Any], Any] = {}

    def __call__(self, fieldname: str, text: Any) -> Any:
        key = (fieldname, text)
        found = self.known.get(key)
        if found is None:
            if len(self.known) >= MAX_TERMS:
                self.known.clear()
            found = self.known[key] = self.count(fieldname, text)
        return found

    def seed(self, fieldname: str, text: str, value: Any) -> None:
        """Remember a value found another way (exactly what `count` would answer)."""
        if len(self.known) < MAX_TERMS:
            self.known.setdefault((fieldname, text), value)


#: A segment reader's `.ink` arrays (SegmentCache.arrays), or None.
ArraysOf = Callable[[Any], SegmentArrays | None]


def _no_arrays(reader: Any) -> SegmentArrays | None:
    return None


class Vocabulary:
    """The term memos of one index's segments, shared by its reading threads.

    `arrays` gives a segment's `.ink` arrays: prefix listings come from their sorted terms
    when the segment has them (search/arrays.py)."""

    def __init__(self, arrays: ArraysOf | None = None) -> None:
        self._lock = threading.Lock()
        self._memos: OrderedDict[str, _Memo] = OrderedDict()
        self.arrays: ArraysOf = arrays or _no_arrays

    def _memo(self, reader: SegmentReader) -> _Memo:
        segment = reader.segment()
        key = segment.segment_id() if segment is not None else str(id(reader))
        with self._lock:
            memo = self._memos.get(key)
            if memo is None:
                memo = self._memos[key] = _Memo()
                while len(self._memos) > MAX_SEGMENTS:
                    self._memos.popitem(last=False)
            else:
                self._memos.move_to_end(key)
            return memo

    def install(self, searcher: Searcher) -> None:
        """Put a memo in front of the term dictionary of each of `searcher`'s segments, and
        one in front of its document and term frequencies summed over segments."""
        top = searcher.reader()
        for reader, _ in top.leaf_readers():
            terms = getattr(reader, "_terms", None)
            if isinstance(reader, SegmentReader) and isinstance(terms, W3TermsReader):
                memo = self._memo(reader)
                if not memo.complete and reader.doc_count_all() <= PRELOAD_DOCS:
                    found = dict(islice(terms.items(), MAX_TERMS))
                    if len(found) < MAX_TERMS:  # else it would not stay whole in the memo
                        with self._lock:
                            memo.infos.update(found)
                            memo.complete = True
                reader._terms = MemoTerms(terms, memo)
        if isinstance(top, MultiReader):
            # Instance attributes in front of the methods: the sum over segments costs ~2 us
            # a segment, and a search asks for the same few terms' frequencies ~50 times
            # (related posts: the frequency of every word of the post).
            top.doc_frequency = _Memoised(top.doc_frequency)  # type: ignore[method-assign]
            top.frequency = _Memoised(top.frequency)  # type: ignore[method-assign]
            # The searcher copied its reader's methods when it was made (Whoosh's idf asks
            # `searcher.doc_frequency`): point those copies at the memos too.
            searcher.doc_frequency = top.doc_frequency  # type: ignore[attr-defined]
            searcher.frequency = top.frequency  # type: ignore[attr-defined]

    def prefixed(
        self, searcher: Searcher, fieldname: str, prefix: str, limit: int
    ) -> dict[str, int]:
        """Up to `limit` terms (per segment, in order) of `fieldname` that start with `prefix`,
        with the number of documents using each, summed over the segments."""
        found: dict[str, int] = {}
        whole = True  # no segment's listing was cut at `limit`
        for reader, _ in searcher.reader().leaf_readers():
            listed: tuple[tuple[str, int], ...] | None = None
            memo = self._memo(reader) if isinstance(reader, SegmentReader) else None
            key = (fieldname, prefix, limit)
            if memo is not None:
                with self._lock:
                    listed = memo.prefixes.get(key)
            if listed is None:
                listed = listing(self.arrays(reader), fieldname, prefix, limit)
            if listed is None:
                listed = tuple(
                    (t.decode("utf-8") if isinstance(t, bytes) else t, info.doc_frequency())
                    for t, info in islice(reader.iter_prefix(fieldname, prefix), limit)
                )
                if memo is not None:
                    with self._lock:
                        memo.prefixes[key] = listed
                        while len(memo.prefixes) > MAX_PREFIXES:
                            memo.prefixes.popitem(last=False)
            whole = whole and len(listed) < limit
            for term, df in listed:
                found[term] = found.get(term, 0) + df
        seed = getattr(searcher.reader().doc_frequency, "seed", None)
        if whole and seed is not None:
            # Each listed term's count over every segment: what doc_frequency would sum up
            # by asking each segment's term dictionary (a prefix has dozens of terms).
            for term, df in found.items():
                seed(fieldname, term, df)
        return found


def listing(
    arrays: SegmentArrays | None, fieldname: str, prefix: str, limit: int
) -> tuple[tuple[str, int], ...] | None:
    """Up to `limit` (term, document count) of the field starting with `prefix`, from a
    segment's sorted terms; None when the segment does not keep this field's terms."""
    table = arrays.terms.get(fieldname) if arrays is not None else None
    return None if table is None else tuple(table.prefixed(prefix, limit))
