# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""Term-at-a-time BM25F: scores of whole posting blocks added into a dict.

Whoosh ranks a query by walking a tree of matchers one document at a time: several Python
method calls per posting and per tree node, about 2 us a posting and more for deep ORs. For
the queries blog search runs most (plain words with their typo corrections, prefix
expansions, all-words ANDs, exclusions, tag and author filters) the same BM25F scores come
out of reading each term's posting blocks once (ids and term frequencies as arrays) and
adding up one dict per term: a fraction of the cost, and every match is seen, so totals and
facets stay exact. Phrases and anything else fall back to Whoosh (`evaluate` returns None).

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
from collections.abc import Callable, Iterable
from heapq import nlargest
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

#: Scores by global docnum, and how many term clauses matched each document.
Scores = dict[int, float]
Counts = dict[int, int]
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
#: Whole posting lists at least this long are scored as arrays (numpy) and then added into
#: the scores dict, about twice as fast as term by term in Python. Not shorter ones: numpy lets
#: go of the GIL in its larger gathers, and a search thread that does so dozens of times a
#: search waits on a busy event loop each time (docs/benchmarks.md, run 18).
ARRAY_POSTINGS = 2048
#: Phrases read with a budget (TermAtATime.phrase_top) read positions for up to this many
#: documents in their first round, best-scored first.
PHRASE_CHECK = 64
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
        self._norm_tables: dict[tuple[float, float, float], list[float]] = {}
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

    def norms(self, K1: float, B: float, avg: float) -> list[float]:
        """K1 * ((1 - B) + B * length / `avg`) for each of the 256 length bytes (the average
        changes only with the index: the same few tables serve every search)."""
        key = (K1, B, avg)
        table = self._norm_tables.get(key)
        if table is None:
            if len(self._norm_tables) >= 64:
                self._norm_tables.clear()
            table = [K1 * ((1 - B) + B * byte_to_length(b) / avg) for b in range(256)]
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
        self._norms: dict[str, list[float]] = {}
        #: Phrases: when set, positions are read only for the best-scored documents that
        #: have every word, enough of them for this many phrase matches (see _phrase);
        #: None reads them for every such document (an exact matching set).
        self.phrase_top: int | None = None
        #: Matches estimated among the documents a phrase did not read (0.0: none skipped).
        self.unseen = 0.0

    def evaluate(self, q: Query, within: set[int] | None = None) -> tuple[Scores, Counts] | None:
        """(score, matched term clauses) per matching global docnum, deleted docs included;
        only documents in `within` when given."""
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

    def _phrase(self, q: Phrase, within: set[int] | None) -> tuple[Scores, Counts] | None:
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
        scores, counts = found
        if scores:
            if self.phrase_top is not None and len(scores) > PHRASE_CHECK:
                kept = self._phrase_in_best(scores, fieldname, words, self.phrase_top)
            else:
                kept = self._phrase_in(scores, fieldname, words)
            scores = {d: s for d, s in scores.items() if d in kept}
            counts = {d: counts[d] for d in scores}
        return _boosted(scores, q.boost), counts

    def _phrase_in(self, docs: Iterable[int], fieldname: str, words: list[str]) -> set[int]:
        """The global docnums among `docs` where `words` occur in a row."""
        docs = set(docs)
        kept: set[int] = set()
        for sub, offset in self.searcher.leaf_searchers():
            end = offset + sub.reader().doc_count_all()
            local = sorted(d - offset for d in docs if offset <= d < end)
            if local:
                kept.update(d + offset for d in _phrase_docs(sub.reader(), fieldname, words, local))
        return kept

    def _phrase_in_best(
        self, scores: Scores, fieldname: str, words: list[str], wanted: int
    ) -> set[int]:
        """Phrase matches among the documents with every word, read best score first in
        rounds (PHRASE_CHECK, then as many as the matches found so far say are needed)
        until `wanted` are found or every document was read. A phrase of two common words
        ("development files") has every word in ~10,000 posts of 100,000, and reading their
        positions took 200 ms.

        A phrase scores as the AND of its words, so the best `wanted` matches are among
        those read: any document not read scores below every one that was. The matches
        among the rest are estimated from the share found so far (`unseen`)."""
        kept: set[int] = set()
        read, step = 0, PHRASE_CHECK
        while read < len(scores) and len(kept) < wanted:
            batch = best_scored(scores, read + step)[read:]  # the next best, ties by docnum
            kept |= self._phrase_in(batch, fieldname, words)
            read += len(batch)
            # The next round: what the share found so far says is missing, and half again;
            # everything left at once when that is most of it (each round reads blocks anew).
            missing = (wanted - len(kept)) * read / max(len(kept), 1) * 1.5
            step = len(scores) if missing * 2 > len(scores) - read else int(missing) + 1
        if read < len(scores):
            self.unseen += (len(scores) - read) * len(kept) / read
        return kept

    def _or(self, q: Or, within: set[int] | None) -> tuple[Scores, Counts] | None:
        scores: Scores = {}
        counts: Counts = {}
        parts: list[tuple[Scores, Counts] | None] = []
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
        if found:
            # The largest part is the base (its dicts are fresh, never shared): only the
            # others are added in, one posting at a time.
            found.sort(key=lambda part: len(part[0]), reverse=True)
            scores, counts = found[0]
        for part_scores, part_counts in found[1:]:
            get = scores.get
            for d, s in part_scores.items():
                scores[d] = get(d, 0.0) + s
            cget = counts.get
            for d, n in part_counts.items():
                counts[d] = cget(d, 0) + n
        if q.scale:
            terms = sum(1 for f, t in q.iter_all_terms() if self.reader.doc_frequency(f, t))
            scale = q.scale
            if terms > 1 and terms != scale:
                bonus = 1.0 / (terms - scale) ** 2
                factor = (terms - 1) / terms
                for d, s in scores.items():
                    scores[d] = (s + (counts[d] - 1) * bonus) * factor
        return _boosted(scores, q.boost), counts

    def _word(self, terms: list[Term], within: set[int] | None) -> tuple[Scores, Counts]:
        """BM25F proper for one word in several fields: each field's length-normalised term
        frequency, weighted by field, added up and saturated once; the idf is that of the
        field where the word is most common (its boost carries the query's word weight)."""
        K1 = self.K1
        best = max(terms, key=lambda t: self.reader.doc_frequency(t.fieldname, t.text))
        factor = best.boost * self.searcher.idf(best.fieldname, best.text) * (K1 + 1)
        parts: list[Scores] = []
        for term in terms:
            unit = Term(term.fieldname, term.text, boost=self.field_weights[term.fieldname])
            part = self._term(unit, within, saturate=False)
            if part is not None:
                parts.append(part[0])
        parts.sort(key=len, reverse=True)  # the largest (fresh) dict is the base
        total: Scores = parts[0] if parts else {}
        counts: Counts = dict.fromkeys(total, 1)
        for part_scores in parts[1:]:
            get = total.get
            for d, x in part_scores.items():
                total[d] = get(d, 0.0) + x
                counts[d] = counts.get(d, 0) + 1
        return {d: factor * t / (K1 + t) for d, t in total.items()}, counts

    def _and(self, q: And, within: set[int] | None) -> tuple[Scores, Counts] | None:
        """Rarest part first; the others only look up the documents still in the running."""
        children = sorted(q.children(), key=lambda c: c.estimate_size(self.reader))
        scores: Scores = {}
        counts: Counts = {}
        for n, child in enumerate(children):
            part = self.evaluate(child, within)
            if part is None:
                return None
            if n == 0:
                scores, counts = dict(part[0]), dict(part[1])
            else:
                other, other_counts = part
                scores = {d: s + other[d] for d, s in scores.items() if d in other}
                counts = {d: counts[d] + other_counts[d] for d in scores}
            within = set(scores)
            if not within:
                break
        return _boosted(scores, q.boost), counts

    def _and_not(self, q: AndNot, within: set[int] | None) -> tuple[Scores, Counts] | None:
        kept = self.evaluate(q.a, within)
        if kept is None:
            return None
        # What is excluded must be found in full: a phrase read in part would let through
        # documents that hold it.
        top, self.phrase_top = self.phrase_top, None
        try:
            excluded = self.evaluate(q.b, set(kept[0]))
        finally:
            self.phrase_top = top
        if excluded is None:
            return None
        scores, counts = kept
        out = excluded[0]
        scores = {d: s for d, s in scores.items() if d not in out}
        return _boosted(scores, q.boost), {d: counts[d] for d in scores}

    def _term(
        self, q: Term, within: set[int] | None, saturate: bool = True
    ) -> tuple[Scores, Counts] | None:
        fieldname, text = q.fieldname, q.text
        if fieldname not in self.searcher.schema or not isinstance(text, str):
            return None
        scores: Scores = {}
        df = self.reader.doc_frequency(fieldname, text)
        if not df or within is not None and not within:
            return scores, {}
        # A few candidates against a long posting list: skip to each instead of reading all.
        lookup = within is not None and len(within) * LOOKUP_RATIO < df
        for sub, offset in self.searcher.leaf_searchers():
            self.add_segment(scores, sub.reader(), offset, q, within, lookup, saturate)
        return scores, dict.fromkeys(scores, 1)

    def add_segment(
        self,
        scores: Scores,
        reader: Any,
        offset: int,
        q: Term,
        within: set[int] | None = None,
        lookup: bool = False,
        saturate: bool = True,
    ) -> None:
        """Add the scores of term `q` in one segment's `reader` to `scores`, keyed by local
        docnum + `offset`; only for documents in `within` when given. Without `saturate`,
        add boost * tf / ((1 - B) + B * length / average length) instead (BM25F's
        per-field part)."""
        fieldname, text = q.fieldname, q.text
        if (fieldname, text) not in reader:
            return
        get = scores.get
        if self.searcher.schema[fieldname].scorable:
            norms = self._norm_table(fieldname)
            factor = q.boost * self.searcher.idf(fieldname, text) * (self.K1 + 1)
            lengths = self.segments.lengths(reader, fieldname)

            def add(ids: Any, weights: Any) -> None:
                for d, w in zip(ids, weights, strict=True):
                    g = d + offset
                    scores[g] = get(g, 0.0) + factor * w / (w + norms[lengths[d]])

            if not saturate:  # norms hold K1 * ((1 - B) + B * length / average)
                factor = q.boost * self.K1

                def add(ids: Any, weights: Any) -> None:
                    for d, w in zip(ids, weights, strict=True):
                        g = d + offset
                        scores[g] = get(g, 0.0) + factor * w / norms[lengths[d]]

        else:  # unscored fields (author) score their term frequency, as Whoosh does

            def add(ids: Any, weights: Any) -> None:
                for d, w in zip(ids, weights, strict=True):
                    scores[d + offset] = get(d + offset, 0.0) + w * q.boost

        if within is not None and lookup:
            end = offset + reader.doc_count_all()
            local = sorted(d - offset for d in within if offset <= d < end)
            cached = self.segments.cached_postings(reader, fieldname, text)
            if cached is None:
                # A few candidates against a long list that is not decoded yet: decode only
                # the blocks that can hold them.
                _lookups(reader.postings(fieldname, text), local, add)
                return
            ids, weights = cached
            found_ids: list[int] = []
            found_weights: list[float] = []
            for d in local:  # find each by bisection
                i = bisect_left(ids, d)
                if i < len(ids) and ids[i] == d:
                    found_ids.append(d)
                    found_weights.append(weights[i])
            add(found_ids, found_weights)
            return
        ids, weights = self.segments.postings(reader, fieldname, text)
        end = offset + reader.doc_count_all()
        if len(ids) >= ARRAY_POSTINGS and self.searcher.schema[fieldname].scorable:
            if within is not None:
                # The documents still in the running found in the list by bisection, in C:
                # a Python walk of the whole list was most of a common two-word query.
                ids, weights = _array_select(ids, weights, within, offset, end)
            docs, found = _array_scores(ids, weights, lengths, norms, factor, saturate)
            keys, values = (docs.astype(np.int64) + offset).tolist(), found.tolist()
            if not scores:  # the first part: built in C
                scores.update(zip(keys, values, strict=True))
                return
            for g, value in zip(keys, values, strict=True):
                scores[g] = get(g, 0.0) + value
            return
        if within is None:
            add(ids, weights)
            return
        local = sorted(d - offset for d in within if offset <= d < end)
        wanted = set(local)
        pairs = [(d, w) for d, w in zip(ids, weights, strict=True) if d in wanted]
        add([d for d, _ in pairs], [w for _, w in pairs])

    def best_in_segment(self, reader: Any, q: Term, limit: int) -> list[tuple[int, float]]:
        """The `limit` best (local docnum, score) of term `q` alone in one segment, ties to the
        lower docnum: what `add_segment` then `best_scored` give, computed as arrays.

        For champion lists (champions.py), made once per common term and segment: tens of
        thousands of postings, ~15 ms one at a time in Python, ~1 ms with numpy. Only here:
        numpy lets go of the GIL in its sorts and large gathers, and dozens of such calls in
        every search made a worker's search thread wait on its event loop under load (see
        docs/benchmarks.md), where one list made once costs nothing.
        """
        fieldname, text = q.fieldname, q.text
        if (fieldname, text) not in reader:
            return []
        if not self.searcher.schema[fieldname].scorable:
            scores: Scores = {}
            self.add_segment(scores, reader, 0, q)
            return [(d, scores[d]) for d in best_scored(scores, limit)]
        ids, weights = self.segments.postings(reader, fieldname, text)
        docs, found = _array_scores(
            ids, weights, self.segments.lengths(reader, fieldname), self._norm_table(fieldname),
            q.boost * self.searcher.idf(fieldname, text) * (self.K1 + 1), saturate=True,
        )
        if len(found) > limit > 0:
            cut = len(found) - limit
            above = found >= np.partition(found, cut)[cut]
            docs, found = docs[above], found[above]
        order = np.lexsort((docs, -found))[: max(limit, 0)]
        return list(zip(docs[order].tolist(), found[order].tolist(), strict=True))

    def _norm_table(self, fieldname: str) -> list[float]:
        """K1 * ((1 - B) + B * length / average length), for each of the 256 length bytes."""
        table = self._norms.get(fieldname)
        if table is None:
            B = self.field_B.get(fieldname, self.B)
            avg = self.searcher.avg_field_length(fieldname) or 1
            table = self._norms[fieldname] = self.segments.norms(self.K1, B, avg)
        return table


def _array_scores(
    ids: Any, weights: Any, lengths: bytes, norms: list[float], factor: float, saturate: bool
) -> tuple[Any, Any]:
    """`add_segment`'s per-posting scores of a whole list, as numpy arrays (docnums, scores):
    the same arithmetic in the same order, so the same floats."""
    docs = np.frombuffer(ids, np.int32)
    tf = np.frombuffer(weights, np.float32).astype(np.float64)
    norm = np.asarray(norms)[np.frombuffer(lengths, np.uint8)[docs]]
    return docs, (factor * tf / (tf + norm) if saturate else factor * tf / norm)


def _array_select(
    ids: Any, weights: Any, within: set[int], offset: int, end: int
) -> tuple[Any, Any]:
    """The postings (ids, frequencies as float32) of a whole list whose global docnum
    (id + `offset`) is in `within`, in id order."""
    wanted = np.fromiter(within, np.int64, len(within))
    wanted = np.sort(wanted[(wanted >= offset) & (wanted < end)] - offset)
    all_ids = np.frombuffer(ids, np.int32)
    at = np.searchsorted(all_ids, wanted)
    at = at[at < len(all_ids)]
    at = at[all_ids[at] == wanted[: len(at)]]
    return all_ids[at], np.frombuffer(weights, np.float32)[at]


def _lookups(matcher: Any, docs: list[int], add: Callable[[Any, Any], None]) -> None:
    """Feed `add` the postings of the (sorted, local) `docs` the term has.

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
        add(ids, weights)
        return
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
    add(ids, weights)


def best_scored(scores: Scores, limit: int, docs: Iterable[int] | None = None) -> list[int]:
    """The `limit` docnums of `docs` (all of `scores` by default) with the highest scores,
    ties to the lower docnum: `nlargest(limit, docs, key=lambda d: (scores[d], -d))`, without
    a Python key call and a tuple per document. The `limit`-th best score is found among the
    bare floats, and only the documents at or above it are sorted."""
    pool = list(scores) if docs is None else docs if isinstance(docs, list) else list(docs)
    if limit <= 0 or not pool:
        return []
    if len(pool) > limit:
        values = scores.values() if docs is None else map(scores.__getitem__, pool)
        floor = nlargest(limit, values)[-1]
        pool = [d for d in pool if scores[d] >= floor]
    pool.sort(key=lambda d: (-scores[d], d))
    return pool[:limit]


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


def _boosted(scores: Scores, boost: float) -> Scores:
    if boost == 1.0:
        return scores
    return {d: s * boost for d, s in scores.items()}
