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
from functools import cached_property
from typing import Generic, TypeVar

import numpy as np
from whoosh.reading import SegmentReader
from whoosh.searching import Searcher

from search.writing import decode_facets

T = TypeVar("T")


@dataclass(frozen=True)
class SegmentInfo:
    published: "array[int]"  # by local docnum
    author_ids: "array[int]"  # by local docnum, into DocInfoCache's table of authors
    tag_ids: "array[int]"  # by local docnum, into its table of tag sets
    by_time: "array[int]"  # local docnums in published order
    times: "array[int]"  # published values in that same order
    years: "array[int]"  # UTC year of publication, by local docnum (for the years facet)


@dataclass(frozen=True)
class Columns:
    """DocInfo's arrays by global docnum, for numpy."""

    published: np.ndarray
    author_ids: np.ndarray
    tag_ids: np.ndarray
    years: np.ndarray


def _int64(values: "array[int]") -> np.ndarray:
    return np.frombuffer(values, np.int64) if len(values) else np.zeros(0, np.int64)


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


@dataclass(frozen=True)
class TagTable:
    """The tags of each distinct tag set, as ids into `names`: the tags of set `s` are
    `tags[offsets[s]:offsets[s + 1]]`. An immutable snapshot (numpy arrays): readers use it
    while a new segment's sets are added to the next one."""

    offsets: np.ndarray
    tags: np.ndarray
    names: list[str]

    def count(self, set_ids: np.ndarray) -> np.ndarray:
        """How many of the tag sets `set_ids` hold each tag, by tag id."""
        if not len(set_ids):
            return np.zeros(0, np.int64)
        per_set = np.bincount(set_ids)
        sets = np.flatnonzero(per_set)
        starts = self.offsets[sets]
        lengths = self.offsets[sets + 1] - starts
        # positions of every tag of those sets, without a Python loop over the sets
        ends = np.cumsum(lengths)
        at = np.repeat(starts - (ends - lengths), lengths) + np.arange(int(ends[-1]) if len(ends) else 0)
        weights = np.repeat(per_set[sets], lengths)
        return np.bincount(self.tags[at], weights=weights, minlength=len(self.names)).astype(np.int64)


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


class DocInfo:
    """The per-document facts of one searcher, in global docnums."""

    def __init__(
        self, segments: list[tuple[SegmentInfo, int]], deleted: set[int],
        authors: Distinct[str], tag_sets: Distinct[tuple[str, ...]],
        tag_table: TagTable | None = None,
    ) -> None:
        self.segments = segments
        #: the tags of each tag set, for counting facets (None: built from `tag_sets`)
        self.tag_table = tag_table if tag_table is not None else _extend(None, tag_sets.values, Distinct())
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

    @cached_property
    def columns(self) -> "Columns":
        """The per-document arrays as numpy arrays over the same memory."""
        return Columns(
            published=_int64(self.published), author_ids=_int64(self.author_ids),
            tag_ids=_int64(self.tag_ids), years=_int64(self.years),
        )

    @property
    def published_at(self) -> np.ndarray:
        return self.columns.published

    @cached_property
    def live(self) -> np.ndarray:
        """A boolean mask over docnums: true where the document is not deleted."""
        mask = np.ones(len(self.published), bool)
        gone = np.fromiter(self.deleted, np.int64, len(self.deleted))
        mask[gone[gone < len(mask)]] = False
        return mask

    def outside(self, low: int | None, high: int) -> set[int]:
        """Docnums published before `low` or after `high` (which includes the meta doc)."""
        out: set[int] = set()
        for info, offset in self.segments:
            hi = bisect_right(info.times, high)
            out.update(d + offset for d in info.by_time[hi:])
            if low is not None:
                lo = bisect_left(info.times, low)
                out.update(d + offset for d in info.by_time[:lo])
        return out

    def inside(self, low: int | None, high: int) -> set[int]:
        """Docnums published within [low, high]."""
        out: set[int] = set()
        for info, offset in self.segments:
            lo = 0 if low is None else bisect_left(info.times, low)
            hi = bisect_right(info.times, high)
            out.update(d + offset for d in info.by_time[lo:hi])
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
        if len(docs) <= 5000:
            ordered = sorted(docs, key=lambda d: (published[d], d), reverse=newest)
            return ordered[:limit]
        # Large sets: walk the pre-sorted segment orders and stop after `limit` hits.
        streams = [
            ((t, d + offset) for t, d in zip(info.times, info.by_time, strict=True))
            for info, offset in self.segments
        ]
        if newest:
            streams = [
                (
                    (t, d + offset)
                    for t, d in zip(reversed(info.times), reversed(info.by_time), strict=True)
                )
                for info, offset in self.segments
            ]
        out: list[int] = []
        for _t, d in heapq.merge(*streams, reverse=newest):
            if d in docs:
                out.append(d)
                if len(out) >= limit:
                    break
        return out


def _extend(
    table: TagTable | None, sets: list[tuple[str, ...]], names: Distinct[str]
) -> TagTable:
    """`table` with the tag sets of `sets` it does not have yet (sets are only appended)."""
    done = len(table.offsets) - 1 if table is not None else 0
    new = sets[done:]
    lengths = np.fromiter((len(t) for t in new), np.int64, len(new))
    tags = np.array(names.ids_of([t for tags in new for t in tags]), np.int64)
    if table is None:
        offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        return TagTable(offsets, tags, names.values)
    offsets = np.concatenate((table.offsets, table.offsets[-1] + np.cumsum(lengths)))
    return TagTable(offsets, np.concatenate((table.tags, tags)), names.values)


class DocInfoCache:
    """SegmentInfo by segment id, shared by every searcher of one SearchIndex."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._segments: dict[str, SegmentInfo] = {}
        self._authors: Distinct[str] = Distinct()
        self._tag_sets: Distinct[tuple[str, ...]] = Distinct()
        self._tag_names: Distinct[str] = Distinct()
        self._tag_table: TagTable | None = None

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
        with self._lock:
            table = self._tag_table
            if table is None or len(table.offsets) - 1 < len(self._tag_sets.values):
                table = self._tag_table = _extend(table, self._tag_sets.values, self._tag_names)
        return DocInfo(result, deleted, self._authors, self._tag_sets, table)

    def _forget_except(self, live: Iterable[str]) -> None:
        keep = set(live)
        with self._lock:
            if len(self._segments) > 4 * max(len(keep), 8):
                for segid in [s for s in self._segments if s not in keep]:
                    del self._segments[segid]
