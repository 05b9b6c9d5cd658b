# mypy: disable-error-code="no-untyped-call"
# (whoosh3 ships py.typed but many of its functions are unannotated)
"""Posting lists written a second time, as flat arrays beside their segment.

Whoosh stores a posting list as blocks of 128 postings, each pickled with the positions of
every occurrence and zlib-compressed. Scoring needs only the document numbers and term
frequencies, and decoding the blocks of a common word (tens of thousands of postings at
100,000 posts) was the largest single cost of a search the first time the word was met:
every worker paid it again after each start and for each new segment.

So while Whoosh writes a segment, the writer also keeps the ids and frequencies of every
term with at least `MIN_POSTINGS` postings, and the sorted terms (with their document
counts) of the fields that prefix queries, typo correction and completion list
(`TERM_FIELDS`), and when the segment's files are closed, writes them to `<segment>.ink` in
the same folder:

    b"INK2" | toc length: uint32 | toc: JSON, padded to 8 bytes | the arrays the toc places:
    postings: n term offsets int64 (ascending), n + 1 starts int64, ids int32, freqs float32
    terms of each field: UTF-8 terms end to end, n ends int64, n document counts int32

A posting list is found by the offset of its postings in Whoosh's postings file (its
W3TermInfo knows it, and offsets are unique within a segment); a prefix's terms by bisection
in the field's sorted terms (Whoosh walks its term dictionary at ~36 us a term). Readers map the file and slice it
without copying: a long list costs nothing to "decode", and the pages are the OS page cache,
shared by every worker. Native byte order: an index folder belongs to one machine.

The file is named like the segment's own files, so Whoosh deletes it with the segment when
segments are merged. A segment without one (written before this existed) reads its lists
from Whoosh's blocks, as before.
"""

import json
import mmap
import os
import struct
from array import array
from bisect import bisect_left
from typing import Any

from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3PostingsWriter, W3Segment

EXT = ".ink"
MAGIC = b"INK2"
_HEADER = struct.Struct("=4sI")
#: Fields whose sorted terms are kept (prefix expansion, typo correction, completion words).
TERM_FIELDS = frozenset({"title", "content", "title_words"})
#: Terms with fewer postings are read from Whoosh's blocks. Every list of two or more: even a
#: one-block list costs ~20 us to open and decode through Whoosh (a matcher, a zlib block, a
#: pickle with every position), and the rare words that related posts' key terms and prefix
#: expansions are made of meet that cost dozens of times a request. At 100,000 posts this
#: made the files 39 -> 59 MB per 50,000-post segment and cut the library's CPU per query
#: ~8% (prefixes ~25%); terms used once stay out (half the terms, and their single posting
#: decodes cheaply).
MIN_POSTINGS = 2


class ArrayCodec(W3Codec):
    """Whoosh's codec, whose field writer also writes the segment's `.ink` arrays.

    Segments it creates record a plain W3Codec, so the index's table of contents does not
    name this class and opens without it.
    """

    def __init__(self, min_postings: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.min_postings = min_postings  # None: MIN_POSTINGS when the segment is written

    def new_segment(self, storage: Any, indexname: str) -> W3Segment:
        return W3Segment(W3Codec(self._blocklimit, self._compression, self._inlinelimit), indexname)

    def field_writer(self, storage: Any, segment: Any) -> "_ArrayFieldWriter":
        return _ArrayFieldWriter(self, storage, segment)


class _ArrayFieldWriter(W3FieldWriter):
    def __init__(self, codec: ArrayCodec, storage: Any, segment: Any) -> None:
        super().__init__(codec, storage, segment)
        self._min_postings = MIN_POSTINGS if codec.min_postings is None else codec.min_postings
        self._offsets: array[int] = array("q")
        self._starts: array[int] = array("q", [0])
        self._ids: array[int] = array("i")
        self._weights: array[float] = array("f")
        # fieldname -> (terms end to end, their ends, their document counts)
        self._terms: dict[str, tuple[bytearray, array[int], array[int]]] = {}
        self._listing: tuple[bytearray, array[int], array[int]] | None = None

    def start_field(self, fieldname: str, fieldobj: Any) -> None:
        super().start_field(fieldname, fieldobj)
        codec = self._codec
        self._postwriter = _RecordingPostingsWriter(
            self, self._postfile, codec._blocklimit, compression=codec._compression,
            inlinelimit=codec._inlinelimit,
        )
        self._listing = None
        if fieldname in TERM_FIELDS:
            self._listing = self._terms.setdefault(fieldname, (bytearray(), array("q"), array("i")))

    def add_postings(self, schema: Any, lengths: Any, items: Any) -> None:
        """Whoosh's loop over postings, a term at a time when the pool can give them so
        (search.pool.Postings): one call per block instead of several per posting."""
        groups = getattr(items, "groups", None)
        if groups is None or lengths is None:
            super().add_postings(schema, lengths, items)
            return
        doc_count = lengths.doc_count_all()
        lastfn = None
        table: list[int | None] = []
        for fieldname, btext, (ids, weights, values) in groups():
            if fieldname != lastfn:
                if lastfn is not None:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                lastfn = fieldname
                # Every document's length in this field, looked up once, not once a posting.
                length_of = lengths.doc_field_length_reader(fieldname)
                table = [length_of(n) for n in range(doc_count)]
            self.start_term(btext)
            self._postwriter.add_group(ids, weights, values, table)  # type: ignore[union-attr]
            self.finish_term()
        if lastfn is not None:
            self.finish_field()

    def keep(self, offset: int, ids: "array[int]", weights: "array[float]") -> None:
        if len(ids) >= self._min_postings:
            self._offsets.append(offset)
            self._ids.extend(ids)
            self._weights.extend(weights)
            self._starts.append(len(self._ids))
        if self._listing is not None:  # terms arrive in order, once each
            blob, ends, counts = self._listing
            blob += bytes(self._btext or b"")
            ends.append(len(blob))
            counts.append(len(ids))

    def close(self) -> None:
        super().close()
        sections: list[bytes] = []
        toc: dict[str, Any] = {}
        pos = 0

        def put(data: bytes) -> list[int]:
            nonlocal pos
            sections.append(data)
            sections.append(bytes(-len(data) % 8))  # every array starts 8-aligned
            start, pos = pos, pos + len(data) + (-len(data) % 8)
            return [start, len(data)]

        toc["postings"] = [put(a.tobytes()) for a in
                           (self._offsets, self._starts, self._ids, self._weights)]
        toc["terms"] = {
            name: [put(bytes(blob)), put(ends.tobytes()), put(counts.tobytes())]
            for name, (blob, ends, counts) in self._terms.items()
        }
        raw = json.dumps(toc).encode()
        raw += b" " * (-(len(raw) + _HEADER.size) % 8)
        f = self._segment.create_file(self._storage, EXT)
        f.write(_HEADER.pack(MAGIC, len(raw)) + raw)
        for part in sections:
            f.write(part)
        f.close()


class _RecordingPostingsWriter(W3PostingsWriter):
    """Whoosh's postings writer that also hands long lists' ids and frequencies over."""

    def __init__(self, owner: _ArrayFieldWriter, postfile: Any, blocklimit: int, **kwargs: Any):
        super().__init__(postfile, blocklimit, **kwargs)
        self._owner = owner
        self._all_ids: array[int] = array("i")
        self._all_weights: array[float] = array("f")

    def start_postings(self, format_: Any, terminfo: Any) -> None:
        super().start_postings(format_, terminfo)
        self._all_ids = array("i")
        self._all_weights = array("f")

    def add_posting(self, id_: int, weight: float, vbytes: bytes, length: int | None = None) -> None:
        super().add_posting(id_, weight, vbytes, length)
        self._all_ids.append(id_)
        self._all_weights.append(weight)

    def add_group(
        self, ids: "array[int]", weights: "array[float]", values: list[Any],
        lengths: list[int | None],
    ) -> None:
        """A whole posting list (docnums ascending), as add_posting one by one would buffer
        and write it: full blocks written, the last one left for finish_postings."""
        limit = self._blocklimit
        for start in range(0, len(ids), limit):
            if self._ids:
                self._write_block()
            block_ids = ids[start : start + limit]
            block_weights = weights[start : start + limit]
            self._ids = block_ids  # a slice: a new array("I"), as _new_block makes
            self._weights = array("f", block_weights)
            self._values = [v for v in values[start : start + limit] if v]
            self._maxweight = max(0, max(block_weights))
            present = [n for n in map(lengths.__getitem__, block_ids) if n]
            self._minlength = min(present) if present else None  # type: ignore[assignment]
            self._maxlength = max(present) if present else 0
        self._all_ids.frombytes(ids.tobytes())  # "I" into "i": docnums < 2**31
        self._all_weights.fromlist(weights.tolist())  # float64 into float32, as append does

    def finish_postings(self) -> Any:
        start = self._startoffset
        terminfo = super().finish_postings()
        if not terminfo.is_inlined():  # an inlined list has no offset of its own to key it
            self._owner.keep(start, self._all_ids, self._all_weights)
        return terminfo


class TermTable:
    """One field's terms in order, with their document counts, read in place."""

    def __init__(self, blob: memoryview, ends: memoryview, counts: memoryview) -> None:
        self._blob, self._ends, self.counts = blob, ends, counts

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i: int) -> bytes:
        start = self._ends[i - 1] if i else 0
        return bytes(self._blob[start : self._ends[i]])

    def prefixed(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """Up to `limit` (term, document count) starting with `prefix`, in order."""
        head = prefix.encode("utf-8")
        lo = bisect_left(self, head)
        hi = min(len(self._ends), lo + max(0, limit))
        after = _successor(head)
        if after is not None:
            hi = bisect_left(self, after, lo, hi)
        if lo >= hi:
            return []
        # The run of terms sliced and decoded at once (a term at a time cost ~3 us: 18 ms
        # for the 6,000 terms of a two-letter head in one segment of 50,000 posts).
        start = self._ends[lo - 1] if lo else 0
        bounds = self._ends[lo:hi].tolist()
        chunk = bytes(self._blob[start : bounds[-1]])
        starts = [start, *bounds[:-1]]
        if chunk.isascii():
            text = chunk.decode("ascii")
            terms = [text[a - start : b - start] for a, b in zip(starts, bounds, strict=True)]
        else:
            terms = [
                chunk[a - start : b - start].decode("utf-8")
                for a, b in zip(starts, bounds, strict=True)
            ]
        return list(zip(terms, self.counts[lo:hi].tolist(), strict=True))


def _successor(head: bytes) -> bytes | None:
    """The first byte string after every string that starts with `head` (None: none is)."""
    stripped = head.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


class SegmentArrays:
    """The `.ink` arrays of one segment, read in place."""

    def __init__(self, data: Any) -> None:
        view = memoryview(data)
        magic, size = _HEADER.unpack_from(view, 0)
        if magic != MAGIC:
            raise ValueError("not an .ink file")
        base = _HEADER.size + size
        toc = json.loads(bytes(view[_HEADER.size : base]))

        def part(at: list[int], fmt: Any = None) -> Any:
            start, length = at
            found = view[base + start : base + start + length]
            if len(found) != length:
                raise ValueError("truncated .ink file")
            return found.cast(fmt) if fmt else found

        offsets, starts, ids, weights = toc["postings"]
        self.offsets = part(offsets, "q")
        self.starts = part(starts, "q")
        self.ids = part(ids, "i")
        self.weights = part(weights, "f")
        self.terms = {
            name: TermTable(part(blob), part(ends, "q"), part(counts, "i"))
            for name, (blob, ends, counts) in toc["terms"].items()
        }
        self._data = data  # keeps the map open as long as the views live

    def __len__(self) -> int:
        return len(self.offsets)

    def postings(self, offset: int) -> tuple[Any, Any] | None:
        """(ids, frequencies) of the term whose Whoosh postings start at `offset`, as
        memoryviews, or None when the term is not kept here."""
        i = bisect_left(self.offsets, offset)
        if i == len(self.offsets) or self.offsets[i] != offset:
            return None
        start, end = self.starts[i], self.starts[i + 1]
        return self.ids[start:end], self.weights[start:end]


def open_arrays(reader: Any) -> SegmentArrays | None:
    """The arrays of a SegmentReader's segment, or None if it has none (or they are unusable:
    the lists are then read from Whoosh's blocks)."""
    storage = getattr(reader, "_storage", None)
    segment = reader.segment() if hasattr(reader, "segment") else None
    if storage is None or segment is None:
        return None
    name = segment.make_filename(EXT)
    try:
        folder = getattr(storage, "folder", None)
        if folder is not None:
            with open(os.path.join(folder, name), "rb") as f:
                data: Any = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        elif storage.file_exists(name):  # in memory (tests): a copy is fine
            f = storage.open_file(name)
            data = bytes(f.read())
            f.close()
        else:
            return None
        return SegmentArrays(data)
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return None
