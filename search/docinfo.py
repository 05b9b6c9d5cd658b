# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""Per-document facts (published time, author, tags) read once per segment.

Whoosh segments are immutable apart from deletions, so the columns of a segment are decoded
once and cached by segment id. A commit then only costs decoding its new, small segment.
Visibility (published_at <= now), date ranges, facet counts and date sorting all work from
these arrays instead of range queries or per-hit stored-field loads.

Everything is kept in `array`s of numbers, authors and tag sets as ids into tables of the
distinct values: Python's cyclic garbage collector walks every entry of every list on each
full collection, and as lists these tables were about a million entries at 100,000 posts (a
full collection took 110-180 ms in a worker); an array is one object to it, and a quarter of
the memory.
"""

import heapq
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from whoosh.reading import SegmentReader
from whoosh.searching import Searcher

from search.writing import decode_facets

T = TypeVar("T")
#: Sets of at most this many documents are ordered by a heap over the set itself; larger,
#: dense ones by walking the segments' time orders (DocInfo.by_time).
BY_TIME_WALK_MIN = 5000


@dataclass(frozen=True)
class SegmentInfo:
    published: "array[int]"  # by local docnum
    author_ids: "array[int]"  # by local docnum, into DocInfoCache's table of authors
    tag_ids: "array[int]"  # by local docnum, into its table of tag sets
    by_time: "array[int]"  # local docnums in published order
    times: "array[int]"  # published values in that same order
    years: "array[int]"  # UTC year of publication, by local docnum (for the years facet)


class Distinct(Generic[T]):
    """Distinct values numbered in order of arrival; only ever appended to, so readers may
    look ids up while a writer (holding DocInfoCache's lock) adds more."""

    def __init__(self) -> None:
        self.values: list[T] = []
        self._ids: dict[T, int] = {}

    def ids_of(self, items: list[T]) -> "array[int]":
        ids = self._ids
        for value in items:
            if value not in ids:
                ids[value] = len(self.values)
                self.values.append(value)
        return array("q", map(ids.__getitem__, items))


class ByDoc(Generic[T]):
    """`values[ids[docnum]]` by docnum, indexed like a list."""

    __slots__ = ("ids", "values")

    def __init__(self, ids: "array[int]", values: list[T]) -> None:
        self.ids, self.values = ids, values

    def __getitem__(self, docnum: int) -> T:
        return self.values[self.ids[docnum]]


def _load_segment(
    reader: object, authors: Distinct[str], tag_sets: Distinct[tuple[str, ...]],
    lock: threading.Lock,
) -> SegmentInfo:
    published = array("q", reader.column_reader("published"))  # type: ignore[attr-defined]
    if reader.has_column("facets"):  # type: ignore[attr-defined]
        pairs = [decode_facets(raw) for raw in reader.column_reader("facets")]  # type: ignore[attr-defined]
    else:
        pairs = [("", ())] * len(published)
    by_time = array("q", sorted(range(len(published)), key=published.__getitem__))
    with lock:
        author_ids = authors.ids_of([a for a, _ in pairs])
        tag_ids = tag_sets.ids_of([t for _, t in pairs])
    return SegmentInfo(
        published=published,
        author_ids=author_ids,
        tag_ids=tag_ids,
        by_time=by_time,
        times=array("q", (published[d] for d in by_time)),
        years=array("q", (_year(ts) for ts in published)),
    )


def _year(ts: int) -> int:
    try:
        return time.gmtime(ts).tm_year
    except (OverflowError, OSError, ValueError):  # the meta document's far-future time
        return 0


def _add(out: set[int], info: SegmentInfo, offset: int, lo: int, hi: int) -> None:
    """Add the global docnums of `info.by_time[lo:hi]` to `out`."""
    if lo >= hi:
        return
    if lo == 0 and hi == len(info.by_time):  # the whole segment (often): a range, in C
        out.update(range(offset, offset + hi))
    elif offset:
        out.update(d + offset for d in info.by_time[lo:hi])
    else:
        out.update(info.by_time[lo:hi])


class DocInfo:
    """The per-document facts of one searcher, in global docnums."""

    def __init__(
        self, segments: list[tuple[SegmentInfo, int]], deleted: set[int],
        authors: Distinct[str], tag_sets: Distinct[tuple[str, ...]],
    ) -> None:
        self.segments = segments
        #: deleted docnums: they never match queries, but the arrays above still hold them
        self.deleted = deleted
        self.published: array[int] = array("q")
        self.author_ids: array[int] = array("q")
        self.tag_ids: array[int] = array("q")
        self.years: array[int] = array("q")
        for info, _offset in segments:
            self.published.extend(info.published)
            self.author_ids.extend(info.author_ids)
            self.tag_ids.extend(info.tag_ids)
            self.years.extend(info.years)
        #: the tables the ids point into (shared by every searcher of the index)
        self.author_names, self.tag_sets = authors.values, tag_sets.values
        self.authors = ByDoc(self.author_ids, self.author_names)
        self.tags = ByDoc(self.tag_ids, self.tag_sets)

    def outside(self, low: int | None, high: int) -> set[int]:
        """Docnums published before `low` or after `high` (which includes the meta doc)."""
        out: set[int] = set()
        for info, offset in self.segments:
            hi = bisect_right(info.times, high)
            _add(out, info, offset, hi, len(info.times))
            if low is not None:
                _add(out, info, offset, 0, bisect_left(info.times, low))
        return out

    def inside(self, low: int | None, high: int) -> set[int]:
        """Docnums published within [low, high]."""
        out: set[int] = set()
        for info, offset in self.segments:
            lo = 0 if low is None else bisect_left(info.times, low)
            _add(out, info, offset, lo, bisect_right(info.times, high))
        return out

    def count_inside(self, low: int | None, high: int) -> int:
        n = 0
        for info, _offset in self.segments:
            lo = 0 if low is None else bisect_left(info.times, low)
            n += max(0, bisect_right(info.times, high) - lo)
        return n

    def by_time(self, docs: set[int], limit: int, newest: bool) -> list[int]:
        """The first `limit` of `docs` ordered by published time (ties by docnum)."""
        published = self.published

        def key(d: int) -> tuple[int, int]:
            return published[d], d

        pick = heapq.nlargest if newest else heapq.nsmallest
        size = len(self.published)
        # A walk down each segment's time order meets about `limit * size / len(docs)`
        # documents per segment before it has `limit` of `docs`: for dense sets that is far
        # fewer than the set, for sparse ones far more.
        if len(docs) <= BY_TIME_WALK_MIN or limit * size * len(self.segments) > len(docs) ** 2:
            return pick(limit, docs, key=key)
        found: list[int] = []
        for info, offset in self.segments:
            order = reversed(info.by_time) if newest else iter(info.by_time)
            kept = 0
            for d in order:
                if d + offset in docs:
                    found.append(d + offset)
                    kept += 1
                    if kept >= limit:
                        break
        # The first `limit` of the whole set are among the first `limit` of each segment.
        return pick(limit, found, key=key)


class DocInfoCache:
    """SegmentInfo by segment id, shared by every searcher of one SearchIndex."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._segments: dict[str, SegmentInfo] = {}
        self._authors: Distinct[str] = Distinct()
        self._tag_sets: Distinct[tuple[str, ...]] = Distinct()

    def for_searcher(self, searcher: Searcher) -> DocInfo:
        leaves = searcher.reader().leaf_readers()
        result: list[tuple[SegmentInfo, int]] = []
        deleted: set[int] = set()
        for reader, offset in leaves:
            if isinstance(reader, SegmentReader) and reader.has_deletions():
                deleted.update(d + offset for d in reader.deleted_docs_set)
            segment = reader.segment()
            if segment is None:  # an empty index has no segments
                continue
            segid = segment.segment_id()
            with self._lock:
                info = self._segments.get(segid)
            if info is None:
                info = _load_segment(reader, self._authors, self._tag_sets, self._lock)
                with self._lock:
                    self._segments[segid] = info
            result.append((info, offset))
        self._forget_except(seg.segment_id() for r, _ in leaves if (seg := r.segment()) is not None)
        return DocInfo(result, deleted, self._authors, self._tag_sets)

    def _forget_except(self, live: Iterable[str]) -> None:
        keep = set(live)
        with self._lock:
            if len(self._segments) > 4 * max(len(keep), 8):
                for segid in [s for s in self._segments if s not in keep]:
                    del self._segments[segid]
