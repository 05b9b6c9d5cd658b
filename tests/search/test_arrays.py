"""Long posting lists kept as flat arrays beside each segment (search/arrays.py)."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from whoosh.codec.whoosh3 import W3Codec

from search import SearchIndex, SearchQuery, arrays
from search.scoring import SegmentCache, _read_postings
from tests.search.docs import NOW, make_doc
from tests.search.test_scoring import QUERIES, corpus

FIELDS = ("title", "content", "complete", "title_words", "tags", "author")


@pytest.fixture
def every_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every posting list goes into the arrays (the test corpus has no long ones)."""
    monkeypatch.setattr(arrays, "MIN_POSTINGS", 1)


def _build(path: Path | None, procs: int = 1) -> SearchIndex:
    """Several segments, deletions, and (on disk) a forked bulk load first."""
    if path is not None:
        ix = SearchIndex.rebuild(path, corpus(1, 150, 1), {}, procs=procs)
    else:
        ix = SearchIndex.open(None)
        ix.apply(corpus(1, 150, 1), [])
    ix.apply(corpus(151, 120, 2), [3, 160])
    ix.apply(corpus(271, 40, 3), [200])
    return ix


def _whoosh_lists(reader: Any) -> Iterator[tuple[str, str, Any]]:
    for fieldname in FIELDS:
        for raw in reader.lexicon(fieldname):
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            yield fieldname, text, _read_postings(reader.postings(fieldname, text))


@pytest.mark.usefixtures("every_list")
@pytest.mark.parametrize("procs", [1, 2])
def test_arrays_hold_whooshs_postings(tmp_path: Path, procs: int) -> None:
    ix = _build(tmp_path / "ix", procs)
    try:
        searcher, _ = ix._reading()
        cache = SegmentCache()
        segments = 0
        for reader, _ in searcher.reader().leaf_readers():
            kept = cache.arrays(reader)
            assert kept is not None and len(kept) > 0
            segments += 1
            for fieldname, text, (ids, weights) in _whoosh_lists(reader):
                found = cache._from_arrays(reader, fieldname, text)
                assert found is not None, (fieldname, text)
                assert list(found[0]) == list(ids) and list(found[1]) == list(weights)
                assert cache.postings(reader, fieldname, text) == found
                assert cache.cached_postings(reader, fieldname, text) == found
            # What the segments record is Whoosh's own codec: the index opens without ours.
            assert type(reader.segment().codec()) is W3Codec
        assert segments >= 3 + (procs > 1)
        assert cache._held == 0  # nothing decoded
    finally:
        ix.close()


def test_short_lists_stay_in_whooshs_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arrays, "MIN_POSTINGS", 10_000)
    ix = _build(tmp_path / "ix")
    try:
        searcher, _ = ix._reading()
        cache = SegmentCache()
        for reader, _ in searcher.reader().leaf_readers():
            kept = cache.arrays(reader)
            assert kept is not None and len(kept) == 0  # nothing here reaches MIN_POSTINGS
            ids, _ = cache.postings(reader, "content", "garden")
            assert len(ids) > 0
        assert cache._held > 0
    finally:
        ix.close()


def _answers(ix: SearchIndex) -> list[Any]:
    out: list[Any] = []
    for text in QUERIES:
        page = ix.search(SearchQuery(q=text, per_page=50, now=NOW))
        out.append((page.total, [(h.post_id, round(h.score, 9)) for h in page.hits], page.facets))
    out.append([(s.text, s.kind) for s in ix.suggest("ga", now=NOW)])
    out.append([(h.post_id, round(h.score, 9), h.terms, h.tags) for h in ix.related(5, now=NOW)])
    return out


def test_searches_answer_the_same_from_arrays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Postings, prefix listings and typo candidates from the arrays, or from Whoosh."""
    monkeypatch.setattr(arrays, "TERM_FIELDS", frozenset())
    monkeypatch.setattr(arrays, "MIN_POSTINGS", 10_000)
    plain = _build(tmp_path / "plain")
    for reader, _ in plain._reading()[0].reader().leaf_readers():
        empty = plain._segment_cache.arrays(reader)
        assert empty is not None and len(empty) == 0 and not empty.terms
    monkeypatch.undo()
    monkeypatch.setattr(arrays, "MIN_POSTINGS", 1)
    with_arrays = _build(tmp_path / "arrays")
    try:
        searcher, _ = with_arrays._reading()
        assert all(len(with_arrays._segment_cache.arrays(r) or ()) > 0
                   for r, _ in searcher.reader().leaf_readers())
        assert _answers(with_arrays) == _answers(plain)
        assert with_arrays._segment_cache._held == 0
    finally:
        plain.close()
        with_arrays.close()


@pytest.mark.usefixtures("every_list")
def test_arrays_go_with_their_segments(tmp_path: Path) -> None:
    ix = _build(tmp_path / "ix")
    try:
        for n in range(8):  # enough small commits to compact
            ix.apply(corpus(400 + n, 1, n), [])
        assert ix.compact()
        folder = Path(ix._ix.storage.folder)
        live = {s.segment_id() for s in ix._ix._segments()}
        assert {p.stem for p in folder.glob("*.ink")} == live
    finally:
        ix.close()


@pytest.mark.usefixtures("every_list")
@pytest.mark.parametrize("damage", ["missing", "garbage", "empty"])
def test_unusable_arrays_fall_back_to_whooshs_blocks(tmp_path: Path, damage: str) -> None:
    ix = _build(tmp_path / "ix")
    expected = _answers(ix)
    ix.close()
    folder = Path(SearchIndex.open(tmp_path / "ix")._ix.storage.folder)
    for path in folder.glob("*.ink"):
        if damage == "missing":
            os.remove(path)
        else:
            path.write_bytes(b"" if damage == "empty" else b"not arrays at all" * 3)
    reopened = SearchIndex.open(tmp_path / "ix")
    try:
        assert reopened.rebuild_reason is None
        assert _answers(reopened) == expected
        assert reopened._segment_cache._held > 0  # read from the blocks
    finally:
        reopened.close()


def test_sorted_terms_are_whooshs_lexicon(tmp_path: Path) -> None:
    ix = _build(tmp_path / "ix")
    ix.apply([make_doc(900, "Café crème über alles", "naïve café façade ÿ")], [])
    try:
        searcher, _ = ix._reading()
        cache = SegmentCache()
        for reader, _ in searcher.reader().leaf_readers():
            kept = cache.arrays(reader)
            assert kept is not None and set(kept.terms) == set(arrays.TERM_FIELDS)
            for fieldname in arrays.TERM_FIELDS:
                table = kept.terms[fieldname]
                lexicon = list(reader.lexicon(fieldname))
                assert [table[i] for i in range(len(table))] == lexicon
                assert list(table.counts) == [reader.doc_frequency(fieldname, t) for t in lexicon]
                for prefix in ("", "g", "ga", "tom", "caf", "na", "zzz", "ü", "garden"):
                    whoosh = [(t.decode(), i.doc_frequency())
                              for t, i in reader.iter_prefix(fieldname, prefix)]
                    assert table.prefixed(prefix, 10_000) == whoosh, (fieldname, prefix)
                    assert table.prefixed(prefix, 2) == whoosh[:2]
    finally:
        ix.close()


def test_lists_of_two_or_more_postings_are_kept(tmp_path: Path) -> None:
    """With the shipped threshold, every list of two or more postings is in the arrays, and a
    list of one is read from Whoosh's blocks."""
    ix = _build(tmp_path / "ix")
    try:
        ix.apply([make_doc(900, "Zanzibar", "A quokka only here")], [])
        searcher, _ = ix._reading()
        cache = SegmentCache()
        sizes: set[int] = set()
        for reader, _ in searcher.reader().leaf_readers():
            for fieldname, text, (ids, _) in _whoosh_lists(reader):
                kept = cache._from_arrays(reader, fieldname, text)
                assert (kept is not None) == (len(ids) >= 2), (fieldname, text, len(ids))
                sizes.add(min(len(ids), 2))
        assert sizes == {1, 2}  # both kinds were seen
    finally:
        ix.close()
