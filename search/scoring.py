# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""Term-at-a-time BM25F: each term's whole posting list scored in a few array operations.

Whoosh ranks a query by walking a tree of matchers one document at a time: several Python
method calls per posting and per tree node, about 2 us a posting and more for deep ORs. For
the queries blog search runs most (plain words with their typo corrections, prefix
expansions, all-words ANDs, exclusions, phrases, tag and author filters) the same BM25F
scores come out of reading each term's postings once (ids and term frequencies as arrays)
and adding them into one dense array of scores by docnum with numpy: a small fraction of the
cost, and every match is seen, so totals and facets stay exact. Anything else falls back to
Whoosh (`evaluate` returns None).

The arithmetic is Whoosh's: BM25F per field with the searcher's idf and average field
length, query boosts multiplied in, and the coordination bonus of `Or(scale=...)` (Whoosh's
CoordMatcher). Field lengths are Whoosh's one-byte approximations, decoded once per segment
(segments are immutable) into a table of BM25 length norms. tests/search/test_scoring.py
checks the scores against Whoosh's own on every query shape handled here.
"""

import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.query.compound import And, AndNot, Or
from whoosh.query.positional import Phrase
from whoosh.query.qcore import Query
from whoosh.query.terms import Term
from whoosh.reading import MultiReader, TermNotFound
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from search.arrays import SegmentArrays, open_arrays

#: A term's postings are looked up document by document (skipping blocks) rather than read
#: in full when there are this many times fewer candidates than postings.
LOOKUP_RATIO = 8
#: Fields whose term frequencies are combined per word before saturation (BM25F proper), with
#: their weights; empty: each field is scored on its own and the scores added (Whoosh's way,
#: which lets a word found in both title and body count nearly twice). A title occurrence
#: counts as two body ones (docs/benchmarks.md, "Search relevance").
FIELD_WEIGHTS: dict[str, float] = {"title": 2.0, "content": 1.0}
#: (local ids, term frequencies) of a term in one segment: arrays, or memoryviews of a
#: segment's `.ink` file (arrays.py); both index, slice, bisect and iterate alike.
Postings = tuple[Any, Any]
#: Decoded postings kept in memory per index (8 bytes each: 32 MB).
MAX_CACHED_POSTINGS = 4_000_000
#: Characters of stored documents (hits' titles and bodies) kept in memory per index.
MAX_CACHED_CHARS = 8_000_000


class SegmentCache:
    """What searches read from immutable segments, kept by segment: field-length bytes,
    decoded posting lists and stored documents. Shared by the threads of one index.

    A posting list is stored zlib-compressed and pickled, with the positions of every
    occurrence next to the ids and frequencies: decoding it was a fifth of a search's time,
    for the same few thousand common terms again and again. Decoded, a posting costs 8 bytes
    (an int32 id and a float32 frequency); at most `max_postings` are kept, least recently
    used first out.
    """

    def __init__(
        self,
        size: int = 64,
        max_postings: int = MAX_CACHED_POSTINGS,
        max_stored_chars: int = MAX_CACHED_CHARS,
    ) -> None:
        self.size = size
        self.max_postings = max_postings
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[Any, str], bytes] = OrderedDict()
        self._postings: OrderedDict[tuple[Any, str, str], Postings] = OrderedDict()
        self._held = 0  # postings in self._postings
        self.max_stored_chars = max_stored_chars
        self._stored: OrderedDict[tuple[Any, int], dict[str, Any]] = OrderedDict()
        self._stored_chars = 0
        self._norm_tables: dict[tuple[float, float, float], np.ndarray] = {}
        self._arrays: OrderedDict[Any, SegmentArrays | None] = OrderedDict()

    def lengths(self, reader: Any, fieldname: str) -> bytes:
        """One byte per local docnum: Whoosh's encoded length of `fieldname` in that doc."""
        key = (_segment_key(reader), fieldname)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        found = _read_lengths(reader, fieldname)
        with self._lock:
            self._items[key] = found
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return found

    def norms(self, K1: float, B: float, avg: float) -> np.ndarray:
        """K1 * ((1 - B) + B * length / `avg`) for each of the 256 length bytes (the average
        changes only with the index: the same few tables serve every search)."""
        key = (K1, B, avg)
        table = self._norm_tables.get(key)
        if table is None:
            if len(self._norm_tables) >= 64:
                self._norm_tables.clear()
            table = np.array([K1 * ((1 - B) + B * byte_to_length(b) / avg) for b in range(256)])
            self._norm_tables[key] = table
        return table

    def stored(self, reader: Any, docnum: int) -> dict[str, Any]:
        """The stored fields of global `docnum` of `reader` (a searcher's reader); do not
        change the dict. Documents are stored zlib-compressed: decompressing the ten hits of
        a page was a tenth of a search, and zlib lets go of the GIL mid-search, which under
        load makes the searching thread wait for it."""
        leaf, local = reader, docnum
        if isinstance(reader, MultiReader):
            n, local = reader._segment_and_docnum(docnum)
            leaf = reader.readers[n]
        key = (_segment_key(leaf), local)
        with self._lock:
            cached = self._stored.get(key)
            if cached is not None:
                self._stored.move_to_end(key)
                return cached
        found: dict[str, Any] = leaf.stored_fields(local)
        size = sum(len(v) for v in found.values() if isinstance(v, str))
        if size > self.max_stored_chars // 8:
            return found
        with self._lock:
            if key not in self._stored:
                self._stored[key] = found
                self._stored_chars += size
                while self._stored_chars > self.max_stored_chars:
                    _, old = self._stored.popitem(last=False)
                    self._stored_chars -= sum(len(v) for v in old.values() if isinstance(v, str))
        return found

    def arrays(self, reader: Any) -> SegmentArrays | None:
        """The `.ink` arrays of the segment of `reader` (see arrays.py), opened once."""
        key = _segment_key(reader)
        with self._lock:
            if key in self._arrays:
                self._arrays.move_to_end(key)
                return self._arrays[key]
        found = open_arrays(reader)
        with self._lock:
            self._arrays[key] = found
            while len(self._arrays) > self.size:
                self._arrays.popitem(last=False)
        return found

    def _from_arrays(self, reader: Any, fieldname: str, text: str) -> Postings | None:
        arrays = self.arrays(reader)
        if arrays is None or not len(arrays):
            return None
        try:
            info = reader.term_info(fieldname, text)
        except (KeyError, TermNotFound):
            return None
        offset = getattr(info, "_offset", None)
        return arrays.postings(offset) if offset is not None else None

    def cached_postings(self, reader: Any, fieldname: str, text: str) -> Postings | None:
        """The term's postings in the segment of `reader` if they are at hand (in the
        segment's arrays, or decoded and kept), else None."""
        found = self._from_arrays(reader, fieldname, text)
        if found is not None:
            return found
        key = (_segment_key(reader), fieldname, text)
        with self._lock:
            return self._postings.get(key)

    def postings(self, reader: Any, fieldname: str, text: str) -> Postings:
        """(local ids, term frequencies) of every posting of the term in the segment of
        `reader`, deleted documents included: from the segment's arrays for long lists,
        else decoded from Whoosh's blocks (and kept)."""
        found = self._from_arrays(reader, fieldname, text)
        if found is not None:
            return found
        key = (_segment_key(reader), fieldname, text)
        with self._lock:
            found = self._postings.get(key)
            if found is not None:
                self._postings.move_to_end(key)
                return found
        found = _read_postings(reader.postings(fieldname, text))
        size = len(found[0])
        if size > self.max_postings // 4:  # one huge list would flush everything else
            return found
        with self._lock:
            if key not in self._postings:
                self._postings[key] = found
                self._held += size
                while self._held > self.max_postings:
                    _, (ids, _) = self._postings.popitem(last=False)
                    self._held -= len(ids)
        return found


def _segment_key(reader: Any) -> Any:
    segment = reader.segment()
    return segment.segment_id() if segment is not None else id(reader)


def _read_postings(matcher: Any) -> Postings:
    if isinstance(matcher, FilterMatcher):  # deletions: the caller filters them out
        matcher = matcher.child
    ids: array[int] = array("i")
    weights: array[float] = array("f")
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids or ())
            weights.extend(matcher._weights or ())
            matcher._next_block()
    else:
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
    return ids, weights


def _read_lengths(reader: Any, fieldname: str) -> bytes:
    count = reader.doc_count_all()
    perdoc = getattr(reader, "_perdoc", None)
    column = f"_{fieldname}_len"
    if perdoc is None or not perdoc.has_column(column):
        return bytes(count)
    values = perdoc.column_reader(column, LENGTHS_COLUMN)
    if getattr(values, "_typecode", None) == "B" and getattr(values, "_fixedlen", None) == 1:
        # One byte per document, stored in order: one slice of the mapped file (~0.3 ms for
        # 100,000 posts, against ~200 ms reading it value by value).
        raw = bytes(values._dbfile.get(values._basepos, min(values._doccount, count)))
        return raw + bytes(count - len(raw))
    return bytes(values[d] or 0 for d in range(count))


class Matches:
    """The documents a query (or part of one) matches: ascending global docnums, with each
    one's score and how many term clauses matched it, as aligned numpy arrays.

    A term's postings become one in a few vector operations (~0.01 us a posting, against
    ~0.1 us adding them into a dict one at a time), and parts combine through `merged` and
    searchsorted. Arrays proportional to the matches, not to the index: a rare word costs
    microseconds at any index size.
    """

    __slots__ = ("docs", "scores", "counts")

    def __init__(self, docs: np.ndarray, scores: np.ndarray, counts: np.ndarray) -> None:
        self.docs, self.scores, self.counts = docs, scores, counts

    @classmethod
    def empty(cls) -> "Matches":
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int32))

    def __len__(self) -> int:
        return len(self.docs)

    def as_dict(self) -> dict[int, float]:
        """docnum -> score (for tests and small results)."""
        return dict(zip(self.docs.tolist(), self.scores.tolist(), strict=True))

    def where(self, keep: np.ndarray) -> "Matches":
        """The matches where the boolean array `keep` (aligned with `docs`) is true."""
        return Matches(self.docs[keep], self.scores[keep], self.counts[keep])

    def boost(self, boost: float) -> "Matches":
        if boost != 1.0:
            self.scores = self.scores * boost
        return self


_scratch = threading.local()
_ONES = np.ones(1 << 16, np.int32)
_ONES.flags.writeable = False


def ones(n: int) -> np.ndarray:
    """`n` counts of one (read-only: match counts are never changed in place)."""
    return _ONES[:n] if n <= len(_ONES) else np.ones(n, np.int32)


def merged(parts: list[Matches], size: int) -> Matches:
    """The union of `parts` over docnums below `size`, scores and counts added up.

    Added into two dense arrays kept per thread (always left zeroed), then read back at the
    union's docnums: linear in the parts, plus one scan of the counts when the parts are
    large (a small union is sorted instead)."""
    parts = [part for part in parts if len(part)]
    if len(parts) <= 1:
        return parts[0] if parts else Matches.empty()
    held = getattr(_scratch, "arrays", None)
    if held is None or len(held[0]) != size:
        held = _scratch.arrays = (np.zeros(size), np.zeros(size, np.int32))
    total, counts = held
    _scratch.arrays = None  # in use: a failure below must not leave it dirty for later
    for part in parts:  # docnums are distinct within a part: no index repeats in a += here
        total[part.docs] += part.scores
        counts[part.docs] += part.counts
    if sum(len(part) for part in parts) * 8 < size:  # sorting beats scanning (~250 us)
        docs = np.sort(np.concatenate([part.docs for part in parts]))
        if len(docs) > 1:
            docs = docs[np.concatenate(([True], docs[1:] != docs[:-1]))]
    else:
        docs = np.flatnonzero(counts)
    out = Matches(docs, total[docs], counts[docs])
    total[docs] = 0.0
    counts[docs] = 0
    _scratch.arrays = held
    return out


def mask_of(docnums: Iterable[int] | np.ndarray, size: int) -> np.ndarray:
    """A boolean mask over `size` docnums, true at `docnums` (those below `size`)."""
    mask = np.zeros(size, bool)
    found = docnums if isinstance(docnums, np.ndarray) else np.fromiter(docnums, np.int64)
    mask[found[(found >= 0) & (found < size)]] = True
    return mask


class TermAtATime:
    """Evaluates supported query trees over one searcher; `evaluate` -> None if unsupported."""

    def __init__(
        self,
        searcher: Searcher,
        segments: SegmentCache,
        field_weights: dict[str, float] | None = None,
    ) -> None:
        self.searcher = searcher
        self.field_weights = FIELD_WEIGHTS if field_weights is None else field_weights
        self.segments = segments
        weighting = searcher.weighting
        if not isinstance(weighting, BM25F):
            raise TypeError("term-at-a-time scoring needs BM25F weighting")
        self.B, self.K1 = weighting.B, weighting.K1
        self.field_B: dict[str, float] = weighting._field_B
        self.reader = searcher.reader()
        self.size: int = self.reader.doc_count_all()
        self._norms: dict[str, np.ndarray] = {}

    def evaluate(self, q: Query, within: np.ndarray | None = None) -> Matches | None:
        """Every matching document, deleted ones included, with its score and matched term
        clauses; only documents in `within` (a boolean mask over docnums) when given."""
        if isinstance(q, Term):
            return self._term(q, within)
        if isinstance(q, AndNot):
            return self._and_not(q, within)
        if type(q) is Or:
            return self._or(q, within)
        if type(q) is And:
            return self._and(q, within)
        if type(q) is Phrase:
            return self._phrase(q, within)
        return None

    def _phrase(self, q: Phrase, within: np.ndarray | None) -> Matches | None:
        """Words next to each other, in order (slop 1): the AND of the words, kept where their
        positions line up. Whoosh scores a phrase as the AND of its words, so do we; it reads
        positions for every document that has all the words, so do we, but only for those."""
        fieldname = q.fieldname
        field = self.searcher.schema[fieldname] if fieldname in self.searcher.schema else None
        if q.slop != 1 or len(q.words) < 2 or field is None or not field.format.supports(
            "positions"
        ):
            return None
        words = [str(w) for w in q.words]
        found = self._and(And([Term(fieldname, w) for w in words]), within)
        if found is None:
            return None
        if len(found):
            docs = found.docs
            kept: list[int] = []
            for sub, offset in self.searcher.leaf_searchers():
                end = offset + sub.reader().doc_count_all()
                local = (docs[(docs >= offset) & (docs < end)] - offset).tolist()
                if local:
                    kept.extend(d + offset for d in _phrase_docs(sub.reader(), fieldname, words, local))
            found = found.where(np.isin(docs, np.array(kept, np.int64)))
        return found.boost(q.boost)

    def _or(self, q: Or, within: np.ndarray | None) -> Matches | None:
        parts: list[Matches | None] = []
        children = list(q.children())
        if self.field_weights:
            words: dict[str, list[Term]] = {}
            for child in children:
                if isinstance(child, Term) and child.fieldname in self.field_weights:
                    words.setdefault(str(child.text), []).append(child)
            grouped = {id(t) for terms in words.values() if len(terms) > 1 for t in terms}
            children = [c for c in children if id(c) not in grouped]
            parts += [self._word(terms, within) for terms in words.values() if len(terms) > 1]
        parts += [self.evaluate(child, within) for child in children]
        found = [part for part in parts if part is not None]
        if len(found) < len(parts):
            return None
        total = merged(found, self.size)
        if q.scale and len(total):
            terms = sum(1 for f, t in q.iter_all_terms() if self.reader.doc_frequency(f, t))
            scale = q.scale
            if terms > 1 and terms != scale:
                bonus = 1.0 / (terms - scale) ** 2
                factor = (terms - 1) / terms
                total.scores = (total.scores + (total.counts - 1) * bonus) * factor
        return total.boost(q.boost)

    def _word(self, terms: list[Term], within: np.ndarray | None) -> Matches:
        """BM25F proper for one word in several fields: each field's length-normalised term
        frequency, weighted by field, added up and saturated once; the idf is that of the
        field where the word is most common (its boost carries the query's word weight)."""
        K1 = self.K1
        best = max(terms, key=lambda t: self.reader.doc_frequency(t.fieldname, t.text))
        factor = best.boost * self.searcher.idf(best.fieldname, best.text) * (K1 + 1)
        parts = [
            self._term_parts(
                Term(term.fieldname, term.text, boost=self.field_weights[term.fieldname]),
                within, saturate=False,
            )
            for term in terms
        ]
        total = merged(parts, self.size)
        tf = total.scores
        total.scores = factor * tf / (K1 + tf)
        return total

    def _and(self, q: And, within: np.ndarray | None) -> Matches | None:
        """Rarest part first; the others only look up the documents still in the running."""
        children = sorted(q.children(), key=lambda c: c.estimate_size(self.reader))
        total: Matches | None = None
        for child in children:
            part = self.evaluate(child, within)
            if part is None:
                return None
            if total is None:
                total = part
            else:  # `part` only holds documents of `total`
                at = np.searchsorted(total.docs, part.docs)
                total = Matches(
                    part.docs, total.scores[at] + part.scores, total.counts[at] + part.counts
                )
            if not len(total):
                break
            within = mask_of(total.docs, self.size)
        return (total or Matches.empty()).boost(q.boost)

    def _and_not(self, q: AndNot, within: np.ndarray | None) -> Matches | None:
        kept = self.evaluate(q.a, within)
        if kept is None:
            return None
        if not len(kept):
            return kept
        excluded = self.evaluate(q.b, mask_of(kept.docs, self.size))
        if excluded is None:
            return None
        keep = np.ones(len(kept), bool)
        keep[np.searchsorted(kept.docs, excluded.docs)] = False
        return kept.where(keep).boost(q.boost)

    def _term(self, q: Term, within: np.ndarray | None) -> Matches | None:
        if q.fieldname not in self.searcher.schema or not isinstance(q.text, str):
            return None
        return self._term_parts(q, within)

    def _term_parts(
        self, q: Term, within: np.ndarray | None, saturate: bool = True
    ) -> Matches:
        df = self.reader.doc_frequency(q.fieldname, q.text)
        if not df:
            return Matches.empty()
        # A few candidates against a long posting list: skip to each instead of reading all.
        lookup = within is not None and int(np.count_nonzero(within)) * LOOKUP_RATIO < df
        found = [
            self.segment_matches(sub.reader(), offset, q, within, lookup, saturate)
            for sub, offset in self.searcher.leaf_searchers()
        ]
        found = [part for part in found if len(part)]
        if len(found) <= 1:
            return found[0] if found else Matches.empty()
        return Matches(
            np.concatenate([part.docs for part in found]),  # segments follow each other
            np.concatenate([part.scores for part in found]),
            np.concatenate([part.counts for part in found]),
        )

    def segment_matches(
        self,
        reader: Any,
        offset: int,
        q: Term,
        within: np.ndarray | None = None,
        lookup: bool = False,
        saturate: bool = True,
    ) -> Matches:
        """The matches of term `q` in one segment's `reader`, at local docnum + `offset`; only
        documents in `within` (a mask over global docnums) when given. Without `saturate`,
        each scores boost * tf / ((1 - B) + B * length / average length) instead (BM25F's
        per-field part)."""
        fieldname, text = q.fieldname, q.text
        if (fieldname, text) not in reader:
            return Matches.empty()
        if within is not None and lookup:
            local = np.flatnonzero(within[offset : offset + reader.doc_count_all()])
            cached = self.segments.cached_postings(reader, fieldname, text)
            if cached is None:
                # A few candidates against a long list that is not decoded yet: decode only
                # the blocks that can hold them.
                ids, weights = _lookups(reader.postings(fieldname, text), local.tolist())
            else:
                all_ids, all_weights = _as_arrays(cached)
                at = np.searchsorted(all_ids, local)
                hit = at < len(all_ids)
                hit[hit] = all_ids[at[hit]] == local[hit]
                ids, weights = local[hit], all_weights[at[hit]]
        else:
            ids, weights = _as_arrays(self.segments.postings(reader, fieldname, text))
            if within is not None:
                wanted = within[offset : offset + reader.doc_count_all()][ids]
                ids, weights = ids[wanted], weights[wanted]
        if not len(ids):
            return Matches.empty()
        tf = weights.astype(np.float64)
        if self.searcher.schema[fieldname].scorable:
            norms = self._norm_table(fieldname)
            lengths = np.frombuffer(self.segments.lengths(reader, fieldname), np.uint8)
            norm = norms[lengths[ids]]
            if saturate:
                factor = q.boost * self.searcher.idf(fieldname, text) * (self.K1 + 1)
                scores = factor * tf / (tf + norm)
            else:  # norms hold K1 * ((1 - B) + B * length / average)
                scores = q.boost * self.K1 * tf / norm
        else:  # unscored fields (author) score their term frequency, as Whoosh does
            scores = tf * q.boost
        return Matches(np.add(ids, offset, dtype=np.int64), scores, ones(len(ids)))

    def _norm_table(self, fieldname: str) -> np.ndarray:
        """K1 * ((1 - B) + B * length / average length), for each of the 256 length bytes."""
        table = self._norms.get(fieldname)
        if table is None:
            B = self.field_B.get(fieldname, self.B)
            avg = self.searcher.avg_field_length(fieldname) or 1
            table = self._norms[fieldname] = self.segments.norms(self.K1, B, avg)
        return table


def _as_arrays(postings: Postings) -> tuple[np.ndarray, np.ndarray]:
    """(ids, frequencies) as numpy arrays over the same memory (no copy)."""
    ids, weights = postings
    return np.frombuffer(ids, np.int32), np.frombuffer(weights, np.float32)


def _lookups(matcher: Any, docs: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The postings (ids, frequencies) of the (sorted, local) `docs` the term has.

    Blocks whose last id is below the next wanted document are passed over on their header
    alone; within a block the id is found by bisection.
    """
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    ids: list[int] = []
    weights: list[float] = []
    if not isinstance(matcher, W3LeafMatcher):
        for d in docs:
            if not matcher.is_active():
                break
            matcher.skip_to(d)
            if matcher.is_active() and matcher.id() == d:
                ids.append(d)
                weights.append(matcher.weight())
        return np.array(ids, np.int64), np.array(weights, np.float32)
    block_ids: Any = None
    block_weights: Any = None
    for d in docs:
        while matcher.is_active() and matcher.block_max_id() < d:
            matcher._next_block()
            block_ids = None
        if not matcher.is_active():
            break
        if block_ids is None:
            matcher._read_ids()
            matcher._read_weights()
            block_ids, block_weights = matcher._ids, matcher._weights
        i = bisect_left(block_ids, d)
        if i < len(block_ids) and block_ids[i] == d:
            ids.append(d)
            weights.append(block_weights[i])
    return np.array(ids, np.int64), np.array(weights, np.float32)


def best_scored(found: Matches, limit: int) -> list[int]:
    """The `limit` docnums of `found` with the highest scores, ties to the lower docnum
    (Whoosh's order): the `limit`-th best score is found by partitioning the scores, and
    only those at or above it are sorted."""
    if limit <= 0 or not len(found):
        return []
    docs, values = found.docs, found.scores
    if len(docs) > limit:
        cut = len(docs) - limit
        floor = np.partition(values, cut)[cut]
        above = values >= floor
        docs, values = docs[above], values[above]
    order = np.lexsort((docs, -values))[:limit]
    return [int(d) for d in docs[order]]


def _positions(reader: Any, fieldname: str, text: str, docs: list[int]) -> dict[int, Any]:
    """Positions of the term in each of the (sorted, local) `docs` that has it."""
    matcher = reader.postings(fieldname, text)
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    decode = matcher.format.decode_positions
    out: dict[int, Any] = {}
    if not isinstance(matcher, W3LeafMatcher):
        for d in docs:
            if not matcher.is_active():
                break
            matcher.skip_to(d)
            if matcher.is_active() and matcher.id() == d:
                out[d] = decode(matcher.value())
        return out
    block_ids: Any = None
    block_values: Any = None
    for d in docs:
        while matcher.is_active() and matcher.block_max_id() < d:
            matcher._next_block()
            block_ids = None
        if not matcher.is_active():
            break
        if block_ids is None:
            matcher._read_ids()
            matcher._read_values()
            block_ids, block_values = matcher._ids, matcher._values
        i = bisect_left(block_ids, d)
        if i < len(block_ids) and block_ids[i] == d:
            out[d] = decode(block_values[i])
    return out


def _phrase_docs(reader: Any, fieldname: str, words: list[str], docs: list[int]) -> list[int]:
    """The (local, sorted) `docs` where `words` occur one right after another. Word by word,
    the positions where the phrase so far ends; only documents still in the running are
    read for the next word."""
    ends = {d: set(p) for d, p in _positions(reader, fieldname, words[0], docs).items()}
    for word in words[1:]:
        if not ends:
            break
        found = _positions(reader, fieldname, word, sorted(ends))
        ends = {
            d: after
            for d, positions in found.items()
            if (after := {p for p in positions if p - 1 in ends[d]})
        }
    return sorted(ends)
